package matrix

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// EncryptedNotice is what the bot says, once, in an encrypted room.
const EncryptedNotice = "hallway does not read encrypted rooms: messages here are end-to-end encrypted, so hallway cannot see your commands. " +
	"Talk to it in a room without encryption, or in a direct chat started without encryption."

// Reply is a message for a room: a plain body and, if HTML is set, a
// formatted one (clients show the HTML, and the plain body where they
// cannot).
type Reply struct {
	Text string
	HTML string
}

// content makes an m.room.message: a notice, as bots send (other bots do
// not answer notices), a reply to replyTo if set, in thread if set.
func content(r Reply, replyTo, thread, mention string) *event.MessageEventContent {
	mc := &event.MessageEventContent{MsgType: event.MsgNotice, Body: r.Text}
	h := r.HTML
	if h == "" {
		h = strings.ReplaceAll(html.EscapeString(r.Text), "\n", "<br>")
	}
	mc.Format = event.FormatHTML
	mc.FormattedBody = h
	switch {
	case thread != "":
		// In a thread, replying to the message itself (not a fallback):
		// clients show it under the thread, quoting the message.
		mc.RelatesTo = &event.RelatesTo{
			Type:      event.RelThread,
			EventID:   id.EventID(thread),
			InReplyTo: &event.InReplyTo{EventID: id.EventID(replyTo)},
		}
		if replyTo == "" {
			mc.RelatesTo.InReplyTo = nil
		}
	case replyTo != "":
		mc.RelatesTo = &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: id.EventID(replyTo)}}
	}
	if mention != "" {
		mc.Mentions = &event.Mentions{UserIDs: []id.UserID{id.UserID(mention)}}
	} else {
		mc.Mentions = &event.Mentions{}
	}
	return mc
}

// send sends one event with txnID as its transaction ID: sent again with
// the same ID (after a crash), the homeserver answers with the first
// event's ID and makes no second one. One try: M_LIMIT_EXCEEDED comes back
// to the caller (see retryAfter).
func (c *Client) send(ctx context.Context, roomID id.RoomID, t event.Type, body any, txnID string) (id.EventID, error) {
	resp, err := c.cli.SendMessageEvent(ctx, roomID, t, body, mautrix.ReqSendEvent{TransactionID: txnID})
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// barrierType is an event type clients do not show: the sender's
// barrier in a room (see sentTxns).
const barrierType = "org.hallwayhq.barrier"

// sentTxns returns the transaction IDs (txnField) of the bot's latest
// events in a room, with their event IDs: the sender sends one row at a
// time, so what a stopped process may have sent is among them. A PUT cut
// off by a kill may still be on its way through the homeserver (Dendrite
// makes the event after the request is gone), so first a barrier goes to
// the room and the events are read once it shows: a homeserver makes a
// room's events in order, so what was sent before is there by then.
func (c *Client) sentTxns(ctx context.Context, roomID id.RoomID) (map[string]string, error) {
	var barrier id.EventID
	err := c.limited(ctx, "send", func() (err error) {
		barrier, err = c.send(ctx, roomID, event.Type{Type: barrierType, Class: event.MessageEventType}, map[string]any{},
			stableTxn("barrier", string(roomID), strconv.FormatInt(time.Now().UnixNano(), 10)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("barrier: %w", err)
	}
	filter := &mautrix.FilterPart{Senders: []id.UserID{c.self}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := map[string]string{}
		seen := false
		from := ""
		for page := 0; page < 3; page++ {
			var resp *mautrix.RespMessages
			err := c.limited(ctx, "messages", func() (err error) {
				resp, err = c.cli.Messages(ctx, roomID, from, "", mautrix.DirectionBackward, filter, 100)
				return err
			})
			if err != nil {
				return nil, err
			}
			for _, evt := range resp.Chunk {
				if evt.Sender != c.self {
					continue
				}
				seen = seen || evt.ID == barrier
				if txn, ok := evt.Content.Raw[txnField].(string); ok {
					out[txn] = string(evt.ID)
				}
			}
			if len(resp.Chunk) == 0 || resp.End == "" || resp.End == from {
				break
			}
			from = resp.End
		}
		if seen {
			return out, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the barrier %s did not show in %s within 30 s", barrier, roomID)
		}
		if !sleep(ctx, 100*time.Millisecond) {
			return nil, ctx.Err()
		}
	}
}

// Reply answers m in its room as a Matrix reply (in m's thread if it was in
// one), with txnID as the transaction ID, waiting out rate limits.
func (c *Client) Reply(ctx context.Context, m Message, r Reply, txnID string) (string, error) {
	var eid id.EventID
	err := c.limited(ctx, "send", func() (err error) {
		eid, err = c.send(ctx, id.RoomID(m.RoomID), event.EventMessage, content(r, m.EventID, m.Thread, m.Sender), txnID)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("matrix: reply in %s: %w", m.RoomID, err)
	}
	return string(eid), nil
}

// React puts an m.annotation reaction (key, e.g. "✅") on an event, once:
// its transaction ID is made from room, event and key.
func (c *Client) React(ctx context.Context, roomID, eventID, key string) error {
	err := c.limited(ctx, "react", func() error {
		_, err := c.send(ctx, id.RoomID(roomID), event.EventReaction, reaction(eventID, key), stableTxn("react", roomID, eventID, key))
		return err
	})
	if err != nil {
		return fmt.Errorf("matrix: react in %s: %w", roomID, err)
	}
	return nil
}

func reaction(eventID, key string) *event.ReactionEventContent {
	return &event.ReactionEventContent{RelatesTo: event.RelatesTo{Type: event.RelAnnotation, EventID: id.EventID(eventID), Key: key}}
}

// stableTxn is a transaction ID made from what a message is about, for
// messages that have no outbox row.
func stableTxn(kind string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "hallway-" + kind + "-" + hex.EncodeToString(h[:12])
}

// warnEncrypted says once in an encrypted room that hallway does not read
// it: once per process, and not again after a restart if the room's recent
// history has the notice already.
func (c *Client) warnEncrypted(ctx context.Context, roomID id.RoomID, r *room) error {
	c.mu.Lock()
	warned := r.warned
	c.mu.Unlock()
	if warned {
		return nil
	}
	said := false
	err := c.limited(ctx, "messages", func() error {
		resp, err := c.cli.Messages(ctx, roomID, "", "", mautrix.DirectionBackward, nil, 50)
		if err != nil {
			return err
		}
		for _, evt := range resp.Chunk {
			if evt.Sender == c.self && evt.Type == event.EventMessage {
				_ = evt.Content.ParseRaw(evt.Type)
				if evt.Content.AsMessage().Body == EncryptedNotice {
					said = true
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s before warning: %w", roomID, err)
	}
	if !said {
		notice := &event.MessageEventContent{MsgType: event.MsgNotice, Body: EncryptedNotice}
		err = c.limited(ctx, "send", func() error {
			_, err := c.send(ctx, roomID, event.EventMessage, notice, stableTxn("e2ee", string(roomID)))
			return err
		})
		if err != nil {
			return fmt.Errorf("warn in encrypted room %s: %w", roomID, err)
		}
		c.log.Info("said in an encrypted room that hallway does not read it", "room", roomID)
	}
	c.mu.Lock()
	r.warned = true
	c.mu.Unlock()
	return nil
}
