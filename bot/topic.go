package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/hallwayhq/hallway/store"
)

// TopicRefused is called by the IRC transport when the server refused to
// set a channel's topic (ERR_CHANOPRIVSNEEDED: the channel is +t and the
// bot has no op). The organizers of each event that keeps that channel's
// topic are told privately, once a day, why and what to do; me is the
// bot's services account (or nick), for the ChanServ command.
func (b *Bot) TopicRefused(ctx context.Context, channel, me, serverSays string) error {
	err := b.store.Do(ctx, func(tx *store.Tx) error {
		for _, ev := range b.events {
			if !ev.KeepTopic || !strings.EqualFold(ev.Channel, channel) {
				continue
			}
			key := fmt.Sprintf("topic-refused:%s:%s", ev.Slug, b.now().In(ev.zone()).Format("2006-01-02"))
			first, err := tx.MarkReceived(store.Received{Channel: store.IRC, Key: key, Sender: "server",
				Outcome: "topic refused: " + serverSays})
			if err != nil || !first {
				return err
			}
			msg := fmt.Sprintf("I cannot keep the topic of %s (event.keep_topic): the server says %q. "+
				"Give me op there and keep it across restarts (with Anope: /msg ChanServ AOP %s ADD %s), "+
				"or let everyone set the topic (/mode %s -t), or set keep_topic = false.",
				ev.Channel, oneLineReason(serverSays), ev.Channel, me, ev.Channel)
			if err := b.tellOrganizers(tx, ev, msg); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		b.wake()
	}
	return err
}
