package matrix

import (
	"context"
	"errors"
	"strings"

	"maunium.net/go/mautrix/id"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/store"
)

// BotHandler hands the messages addressed to the bot to a bot.Bot, a
// request each, a sync's messages together: the event ID is the inbox key, the sender's user ID the
// identity. Where notes are being taken, every line said in the room goes
// to the bot's notes too.
type BotHandler struct {
	Bot *bot.Bot
}

// maxBatch bounds how many requests share one transaction (as on IRC).
const maxBatch = 64

// HandleMessage carries out m's command, if it has one, and hands m to the
// notes if they are being taken in its room (or it starts them).
func (h BotHandler) HandleMessage(ctx context.Context, m Message) error {
	return h.HandleMessages(ctx, []Message{m})
}

// HandleMessages carries out the commands of ms, in order, up to maxBatch
// in one transaction: a storm of votes is a few commits, not one each.
// Each message also goes to the notes when they are being taken in its
// room or it starts them; other lines cost nothing: no transaction, no
// answer. Within a batch a room counts as taking notes from a
// #startmeeting on and not after an #endmeeting (the bot has the last
// word: a line where no meeting runs is only noted as seen).
func (h BotHandler) HandleMessages(ctx context.Context, ms []Message) error {
	reqs := make([]bot.Request, 0, len(ms))
	taking := map[string]bool{} // rooms whose notes this batch starts or ends
	for _, m := range ms {
		if !m.Direct {
			on, known := taking[m.RoomID]
			if !known {
				on = h.Bot.TakingNotes(bot.Matrix, m.RoomID)
			}
			switch word := meetingWord(m.Body); {
			case word == "#startmeeting":
				on = true
				taking[m.RoomID] = true
			case word == "#endmeeting" && on:
				taking[m.RoomID] = false
			}
			if on {
				reqs = append(reqs, Line(m))
			}
		}
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

// Line is the bot.Request of a message as a line of a room's notes (a
// meeting command or anything said while notes are taken), as written. A
// line that is also a command to the bot has a key of its own, so the
// line and the command are each carried out once.
func Line(m Message) bot.Request {
	req := Request(m)
	req.Raw, req.Text = true, m.Body
	req.Resolve = resolve
	if m.Command != "" {
		req.Keys = []string{m.EventID + ":line"}
	}
	return req
}

// meetingWord is a line's first word, lower-cased: "#startmeeting" and
// "#endmeeting" start and end notes.
func meetingWord(body string) string {
	word, _, _ := strings.Cut(strings.TrimSpace(body), " ")
	return strings.ToLower(word)
}

// resolve names people in notes (#chair @bob:example.org) by Matrix user
// ID only: a display name is anyone's to take.
func resolve(name string) bot.Identity {
	if _, _, err := id.UserID(name).ParseAndValidateRelaxed(); err != nil {
		return bot.Identity{}
	}
	return bot.MatrixIdentity(name)
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

// Reply queues an answer to Matrix. An acknowledgement (r.Ack) is a
// reaction on the message answered.
func (Replier) Reply(tx *store.Tx, req bot.Request, r bot.Reply) error {
	rt, _ := req.Mail.(replyTo)
	if r.Ack != "" && rt.event != "" && req.Where != "" {
		if err := tx.Enqueue(store.Message{Channel: store.Matrix, Kind: store.ReactionKind, Target: req.Where,
			Body: r.Ack, ReplyTo: rt.event}); err != nil {
			return err
		}
	}
	if len(r.Lines) == 0 {
		return nil
	}
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
