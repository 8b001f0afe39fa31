package matrix

import (
	"context"
	"errors"
	"fmt"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Message is a text message someone sent to a room the bot is in.
type Message struct {
	// EventID identifies the message for ever: the inbox key.
	EventID string
	RoomID  string
	// Sender is the user ID the homeserver vouches for; display names
	// play no part.
	Sender string
	// Body is the text as written (an old client's quoted reply removed).
	Body string
	// Command is what the message asks of the bot ("vote 3"), "" when it
	// is not addressed to the bot.
	Command string
	// Direct is true in a room with the bot and one other person.
	Direct bool
	// Thread is the root event of the thread the message is in ("" if
	// none); InReplyTo the event it replies to.
	Thread    string
	InReplyTo string
	Time      time.Time
}

// Handler takes the messages. HandleMessage may see a message again after
// a crash or a failed batch: it makes the second time a no-op by the event
// ID. An error makes the client hand the batch again later.
type Handler interface {
	HandleMessage(ctx context.Context, m Message) error
}

// BatchHandler is a Handler that takes the messages of one /sync answer
// together (in order within each room): under load they are carried out
// in a few transactions instead of one each.
type BatchHandler interface {
	Handler
	HandleMessages(ctx context.Context, ms []Message) error
}

// SyncTokens keeps the position in the stream of events (next_batch)
// across restarts, per account.
type SyncTokens interface {
	SyncToken(ctx context.Context, userID string) (string, error)
	SetSyncToken(ctx context.Context, userID, token string) error
}

// Run joins the configured rooms and syncs until ctx is done, handing
// messages to h and keeping its position in tokens.
func (c *Client) Run(ctx context.Context, h Handler, tokens SyncTokens) error {
	since, err := tokens.SyncToken(ctx, c.UserID())
	if err != nil {
		return fmt.Errorf("matrix: read sync token: %w", err)
	}
	var filterID string
	for {
		filterID, err = c.setup(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("matrix setup failed; retrying", "err", err)
		if !sleep(ctx, 5*time.Second) {
			return nil
		}
	}
	backoff := time.Second
	for ctx.Err() == nil {
		var resp *mautrix.RespSync
		err := c.limited(ctx, "sync", func() (err error) {
			resp, err = c.cli.SyncRequest(ctx, int(c.cfg.SyncTimeout.Milliseconds()), since, filterID, false, event.PresenceOffline)
			return err
		})
		if err == nil {
			err = c.process(ctx, resp, since == "", h)
		}
		if err == nil {
			err = tokens.SetSyncToken(ctx, c.UserID(), resp.NextBatch)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.log.Warn("matrix sync failed; retrying", "err", err, "retry_in", backoff)
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		since = resp.NextBatch
		c.once.Do(func() { close(c.ready) })
	}
	return nil
}

// setup learns the bot's display name, joins the configured rooms and
// makes the sync filter.
func (c *Client) setup(ctx context.Context) (string, error) {
	if dn, err := c.cli.GetOwnDisplayName(ctx); err == nil {
		c.addName(dn.DisplayName)
	} else if !errors.Is(err, mautrix.MNotFound) {
		return "", fmt.Errorf("read own display name: %w", err)
	}
	if err := c.joinConfigured(ctx); err != nil {
		return "", err
	}
	// Every event of a busy room between two syncs: a limited timeline
	// would leave a gap of messages never handed on.
	f, err := c.cli.CreateFilter(ctx, &mautrix.Filter{
		Presence:    &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		AccountData: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		Room: &mautrix.RoomFilter{
			Timeline:  &mautrix.FilterPart{Limit: 1000},
			Ephemeral: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("create sync filter: %w", err)
	}
	return f.FilterID, nil
}

// process handles one /sync answer. initial is the first sync of an
// account: what its timelines hold happened before the bot was there.
func (c *Client) process(ctx context.Context, resp *mautrix.RespSync, initial bool, h Handler) error {
	for roomID, inv := range resp.Rooms.Invite {
		if err := c.invited(ctx, roomID, inv); err != nil {
			return err
		}
	}
	var msgs []Message
	for roomID, jr := range resp.Rooms.Join {
		if err := c.joined(ctx, roomID, jr, initial, &msgs); err != nil {
			return err
		}
	}
	if err := hand(ctx, h, msgs); err != nil {
		return err
	}
	for roomID := range resp.Rooms.Leave {
		c.mu.Lock()
		delete(c.rooms, roomID)
		c.mu.Unlock()
	}
	return nil
}

// invited accepts an organizer's invite and refuses anyone else's.
func (c *Client) invited(ctx context.Context, roomID id.RoomID, inv *mautrix.SyncInvitedRoom) error {
	var inviter id.UserID
	for _, evt := range inv.State.Events {
		if evt.Type == event.StateMember && evt.StateKey != nil && id.UserID(*evt.StateKey) == c.self {
			inviter = evt.Sender
		}
	}
	if c.orgs[inviter] {
		err := c.limited(ctx, "join", func() error {
			_, err := c.cli.JoinRoomByID(ctx, roomID)
			return err
		})
		if err != nil {
			return fmt.Errorf("accept invite to %s: %w", roomID, err)
		}
		c.log.Info("accepted invite", "room", roomID, "inviter", inviter)
		return nil
	}
	err := c.limited(ctx, "leave", func() error {
		_, err := c.cli.LeaveRoom(ctx, roomID, &mautrix.ReqLeave{Reason: "hallway joins rooms when an organizer invites it"})
		return err
	})
	if err != nil {
		return fmt.Errorf("refuse invite to %s: %w", roomID, err)
	}
	c.log.Info("refused invite from a non-organizer", "room", roomID, "inviter", inviter)
	return nil
}

// hand gives the handler a sync's messages: all at once if it takes
// batches.
func hand(ctx context.Context, h Handler, msgs []Message) error {
	if bh, ok := h.(BatchHandler); ok && len(msgs) > 0 {
		return bh.HandleMessages(ctx, msgs)
	}
	for _, m := range msgs {
		if err := h.HandleMessage(ctx, m); err != nil {
			return fmt.Errorf("handle %s: %w", m.EventID, err)
		}
	}
	return nil
}

// joined handles a joined room's news, state first, then the timeline,
// whose messages it adds to msgs.
func (c *Client) joined(ctx context.Context, roomID id.RoomID, jr *mautrix.SyncJoinedRoom, initial bool, msgs *[]Message) error {
	c.mu.Lock()
	r := c.rooms[roomID]
	if r == nil {
		r = &room{members: map[id.UserID]bool{}}
		c.rooms[roomID] = r
	}
	// A room's whole state comes with the first sync and with a room just
	// joined (its timeline then holds the bot's join).
	if initial || joinedIn(jr.Timeline.Events, c.self) {
		r.known = true
	}
	c.mu.Unlock()
	for _, evt := range jr.State.Events {
		c.apply(r, evt)
	}
	// Events up to the bot's own join are history: commands from before it
	// was there are not for it; so is everything in the first sync.
	history := -1
	for i, evt := range jr.Timeline.Events {
		if isJoin(evt, c.self) {
			history = i
		}
	}
	if initial {
		history = len(jr.Timeline.Events)
	}
	if jr.Timeline.Limited && !initial && history < 0 {
		c.log.Warn("sync timeline limited: some events were not seen", "room", roomID, "events", len(jr.Timeline.Events))
	}
	for i, evt := range jr.Timeline.Events {
		c.apply(r, evt)
		if i <= history {
			continue
		}
		if c.isEncrypted(r) {
			continue // said once, after the loop
		}
		if m, ok := c.message(ctx, roomID, evt); ok {
			*msgs = append(*msgs, m)
		}
	}
	if c.isEncrypted(r) {
		return c.warnEncrypted(ctx, roomID, r)
	}
	return nil
}

func (c *Client) isEncrypted(r *room) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return r.encrypted
}

// apply keeps a room's members and encryption up to date with a state
// event.
func (c *Client) apply(r *room, evt *event.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch evt.Type {
	case event.StateMember:
		if evt.StateKey == nil {
			return
		}
		_ = evt.Content.ParseRaw(evt.Type)
		u := id.UserID(*evt.StateKey)
		if evt.Content.AsMember().Membership == event.MembershipJoin {
			r.members[u] = true
		} else {
			delete(r.members, u)
		}
	case event.StateEncryption, event.EventEncrypted:
		r.encrypted = true
	}
}

func joinedIn(events []*event.Event, self id.UserID) bool {
	for _, evt := range events {
		if isJoin(evt, self) {
			return true
		}
	}
	return false
}

func isJoin(evt *event.Event, self id.UserID) bool {
	if evt.Type != event.StateMember || evt.StateKey == nil || id.UserID(*evt.StateKey) != self {
		return false
	}
	_ = evt.Content.ParseRaw(evt.Type)
	return evt.Content.AsMember().Membership == event.MembershipJoin
}

// message turns a timeline event into a Message if it is a text message
// from someone else: not a notice (bots answer notices never, so two bots
// cannot talk for ever), not an edit.
func (c *Client) message(ctx context.Context, roomID id.RoomID, evt *event.Event) (Message, bool) {
	if evt.Type != event.EventMessage || evt.Sender == c.self || evt.Sender == "" {
		return Message{}, false
	}
	if err := evt.Content.ParseRaw(evt.Type); err != nil {
		c.log.Debug("unreadable message", "event", evt.ID, "err", err)
		return Message{}, false
	}
	mc := evt.Content.AsMessage()
	if mc.MsgType != event.MsgText || mc.RelatesTo.GetReplaceID() != "" {
		return Message{}, false
	}
	r := c.room(ctx, roomID)
	c.mu.Lock()
	direct := r.known && len(r.members) == 2 && r.members[c.self] && !c.public[roomID]
	if direct {
		// Private answers to this person go here, where they chose to
		// talk to the bot alone.
		c.targets[string(evt.Sender)] = roomID
	}
	names := c.names
	c.mu.Unlock()
	m := Message{
		EventID:   string(evt.ID),
		RoomID:    string(roomID),
		Sender:    string(evt.Sender),
		Body:      stripReplyFallback(mc.Body),
		Direct:    direct,
		Thread:    string(mc.RelatesTo.GetThreadParent()),
		InReplyTo: string(mc.RelatesTo.GetNonFallbackReplyTo()),
		Time:      time.UnixMilli(evt.Timestamp),
	}
	m.Command, _ = command(mc.Body, c.prefix, names, direct)
	return m, true
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
