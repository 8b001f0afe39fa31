package bot

import (
	"context"
	"strings"

	"github.com/hallwayhq/hallway/store"
)

// Channels beyond the event's own: a channel per room from the config
// (Event.RoomChannels), and channels an organizer invited the bot to,
// remembered in the store. Notes run per channel, so parallel rooms take
// notes at once, each in its own channel.

// channels maps a channel (RFC 1459 folded) the bot was invited to to its
// event. It is loaded at Init and grows with each invitation.
type channels struct {
	byName map[string]*Event
}

// foldChannel folds a channel name as girc's ToRFC1459 does for ASCII (A-Z
// and [\]^ up by 32), the form channels invited to are stored in; other
// bytes stay as they are (girc garbles them).
func foldChannel(ch string) string {
	b := []byte(ch)
	for i, c := range b {
		if c >= 'A' && c <= '^' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// loadChannels reads the channels invited to, at start.
func (b *Bot) loadChannels(tx *store.Tx) error {
	rows, err := tx.Channels()
	if err != nil {
		return err
	}
	b.meetings.mu.Lock()
	defer b.meetings.mu.Unlock()
	b.invited.byName = map[string]*Event{}
	for _, r := range rows {
		if ev := b.eventByID(r.EventID); ev != nil {
			b.invited.byName[r.Name] = ev
		}
	}
	return nil
}

// Invited is an INVITE to channel from a person logged in to account:
// an organizer's is remembered (the bot joins the channel again after a
// restart) and reported true; anyone else's is not taken up, so that
// nobody can pull the bot into channels.
func (b *Bot) Invited(ctx context.Context, account, channel string) (bool, error) {
	account = FoldAccount(account)
	var ev *Event
	for _, e := range b.events {
		if e.isOrganizer(IRCIdentity(account)) {
			ev = e
			break
		}
	}
	if ev == nil {
		return false, nil
	}
	key := foldChannel(channel)
	err := b.store.Do(ctx, func(tx *store.Tx) error {
		_, err := tx.AddChannel(key, store.InvitedChannel{EventID: ev.id, InvitedBy: account})
		return err
	})
	if err != nil {
		return false, err
	}
	b.meetings.mu.Lock()
	if _, ok := b.invited.byName[key]; !ok {
		b.invited.byName[key] = ev
	}
	b.meetings.mu.Unlock()
	b.log.Info("invited to a channel by an organizer", "channel", channel, "account", account, "event", ev.Slug)
	return true, nil
}

// Channels are the channels the bot joins besides the configured ones:
// the rooms' channels and those it was invited to.
func (b *Bot) Channels() []string {
	var out []string
	for _, e := range b.events {
		for _, ch := range e.RoomChannels {
			out = append(out, ch)
		}
	}
	b.meetings.mu.Lock()
	defer b.meetings.mu.Unlock()
	for ch := range b.invited.byName {
		out = append(out, ch)
	}
	return out
}

// eventOfChannel is the event a channel belongs to: its own channel, one
// of its rooms', or one an organizer of it invited the bot to.
func (b *Bot) eventOfChannel(ch string) *Event {
	for _, e := range b.events {
		if strings.EqualFold(e.Channel, ch) {
			return e
		}
		for _, rc := range e.RoomChannels {
			if foldChannel(rc) == foldChannel(ch) {
				return e
			}
		}
	}
	b.meetings.mu.Lock()
	defer b.meetings.mu.Unlock()
	return b.invited.byName[foldChannel(ch)]
}

// roomOfChannel is the room whose channel ch is, or "".
func (e *Event) roomOfChannel(ch string) string {
	for room, rc := range e.RoomChannels {
		if foldChannel(rc) == foldChannel(ch) {
			return room
		}
	}
	return ""
}
