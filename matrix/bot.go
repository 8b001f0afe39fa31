package matrix

import (
	"context"
	"errors"
	"strings"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/store"
)

// BotHandler hands the messages addressed to the bot to a bot.Bot, a
// request each: the event ID is the inbox key, the sender's user ID the
// identity.
type BotHandler struct {
	Bot *bot.Bot
}

// maxBatch bounds how many commands share one transaction (as on IRC).
const maxBatch = 64

// HandleMessage carries out m's command, if it has one.
func (h BotHandler) HandleMessage(ctx context.Context, m Message) error {
	return h.HandleMessages(ctx, []Message{m})
}

// HandleMessages carries out the commands of ms, in order, up to maxBatch
// in one transaction: a storm of votes is a few commits, not one each.
// Lines not addressed to the bot are not read (notes in Matrix rooms are
// not taken yet).
func (h BotHandler) HandleMessages(ctx context.Context, ms []Message) error {
	reqs := make([]bot.Request, 0, len(ms))
	for _, m := range ms {
		if m.Command != "" {
			reqs = append(reqs, Request(m))
		}
	}
	for len(reqs) > 0 {
		n := min(len(reqs), maxBatch)
		err := h.Bot.HandleBatch(ctx, reqs[:n])
		var answered *bot.CommandError
		if err != nil && (!errors.As(err, &answered) || errors.Is(err, store.ErrUnwritable)) {
			// A database that cannot be written: the sync's messages are
			// handed again later (the inbox makes the done ones no-ops).
			// A command that failed inside was logged and apologized for:
			// a second try would fail the same way.
			return err
		}
		reqs = reqs[n:]
	}
	return nil
}

// Request is the bot.Request of a message. In a direct chat the request is
// private (no Where): the answer goes to the person, and secrets may be
// said. In a room the bot can still answer privately (Replier opens a
// direct chat), so the request may be told to use one next time.
func Request(m Message) bot.Request {
	req := bot.Request{
		Transport: bot.Matrix,
		Keys:      []string{m.EventID},
		Who:       bot.MatrixIdentity(m.Sender),
		Can:       bot.ChatCapabilities,
		Nick:      m.Sender,
		Where:     m.RoomID,
		Text:      m.Command,
		At:        m.Time,
		Mail:      replyTo{event: m.EventID, thread: m.Thread},
	}
	if m.Direct {
		req.Where = ""
	}
	return req
}

// replyTo is what a reply needs of the message it answers, carried in the
// request (bot.Request.Mail: the transport's own record).
type replyTo struct{ event, thread string }

// Replier turns the bot's answers into outbox rows for Matrix (channel
// 'matrix'), in the command's transaction; the Sender sends them. A reply
// in a room is a Matrix reply to the message (in its thread) mentioning
// the person; a private answer goes to the person's user ID, which the
// Sender turns into a direct chat with them alone.
type Replier struct{}

// Reply queues an answer to Matrix.
func (Replier) Reply(tx *store.Tx, req bot.Request, r bot.Reply) error {
	if len(r.Lines) == 0 {
		return nil
	}
	rt, _ := req.Mail.(replyTo)
	person := req.Who.Value
	if req.Who.Kind != bot.MatrixUser {
		person = ""
	}
	room := req.Where
	if r.Private && room != "" {
		if err := tx.Enqueue(store.Message{Channel: store.Matrix, Target: room, Addressee: person,
			Body: "sent you a private message.", ReplyTo: rt.event, Thread: rt.thread}); err != nil {
			return err
		}
		room = ""
	}
	m := store.Message{Channel: store.Matrix, Body: strings.Join(r.Lines, "\n")}
	switch {
	case room == "":
		if person == "" {
			return nil // nobody to say it to
		}
		// A direct chat with the person, found or opened by the sender.
		m.Target = person
	case r.Public:
		m.Target = room
	default:
		m.Target, m.Addressee, m.ReplyTo, m.Thread = room, person, rt.event, rt.thread
	}
	if r.Key != "" {
		m.DedupeKey = r.Key + ":0" // one row, numbered as a chat's rows are
	}
	return tx.Enqueue(m)
}

// Reaches tells that Matrix can say things privately to Matrix users.
func (Replier) Reaches(kind bot.IdentityKind) bool { return kind == bot.MatrixUser }
