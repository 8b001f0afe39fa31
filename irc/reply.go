package irc

import (
	"fmt"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/store"
)

// Reply queues an answer to IRC (the Client is the bot's bot.Replier for
// IRC): in the channel addressed to the nick ("bob: voted for #7"), or
// privately to the nick. A private answer to someone logged in is bound to
// their account: it goes out only to a nick logged in to it, never to
// whoever holds the nick by then.
func (c *Client) Reply(tx *store.Tx, req bot.Request, reply bot.Reply) error {
	return Replier{}.Reply(tx, req, reply)
}

// Replier queues answers to IRC as the Client does, for a process that
// does not hold the IRC connection ("hallway ingest", a standby): the
// leader's sender sends them.
type Replier struct{}

// Reply queues an answer to IRC; see Client.Reply.
func (Replier) Reply(tx *store.Tx, req bot.Request, reply bot.Reply) error {
	for _, m := range messages(req, reply) {
		if err := tx.Enqueue(m); err != nil {
			return err
		}
	}
	return nil
}

// Reaches tells that IRC can say things privately to IRC accounts.
func (c *Client) Reaches(kind bot.IdentityKind) bool { return Replier{}.Reaches(kind) }

// Reaches tells that IRC can say things privately to IRC accounts.
func (Replier) Reaches(kind bot.IdentityKind) bool { return kind == bot.IRCAccount }

// ReplyNow says the answer at once, without the outbox, when there is a
// connection to say it on; it is not kept. It is for answers that carry
// no secret (the apology when the outbox cannot be written).
func (c *Client) ReplyNow(req bot.Request, reply bot.Reply) {
	for _, m := range messages(req, reply) {
		c.send.sayNow(m.Target, m.Body)
	}
}

// messages are the outbox messages of an answer.
func messages(req bot.Request, r bot.Reply) []store.Message {
	var out []store.Message
	target, addressee := req.Where, req.Nick
	if r.Private && target != "" {
		out = append(out, store.Message{Channel: store.IRC, Target: target, Addressee: addressee,
			Body: addressee + ": sent you a private message."})
		target = ""
	}
	account := ""
	if r.Public && target != "" {
		addressee = ""
	}
	if target == "" {
		target, addressee, account = req.Nick, "", ""
		if req.Who.Kind == bot.IRCAccount {
			account = req.Who.Value
		}
	}
	for i, line := range r.Lines {
		m := store.Message{Channel: store.IRC, Target: target, Addressee: addressee, Account: account, Body: line}
		if r.Key != "" {
			m.DedupeKey = fmt.Sprintf("%s:%d", r.Key, i)
		}
		if addressee != "" {
			m.Body = addressee + ": " + line
		}
		if len(r.Lines) == 1 {
			m.Short = r.Short
		}
		out = append(out, m)
	}
	return out
}
