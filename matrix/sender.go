package matrix

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Outgoing is an outbox row for a Matrix room.
type Outgoing struct {
	ID        int64
	CreatedAt time.Time
	Attempts  int
	RoomID    string
	Reply
	// ReplyTo and Thread make the message a reply (in a thread); Mention is
	// the user the reply is for, notified.
	ReplyTo string
	Thread  string
	Mention string
	// Reaction, if set, makes the row an m.annotation with this key on
	// ReplyTo instead of a message (acknowledging a line of notes).
	Reaction string
}

// txnID is the row's transaction ID: the same on every try, different for
// another row, and for a row of another database that reuses the number.
func (o Outgoing) txnID() string {
	return fmt.Sprintf("hallway-%d-%d", o.ID, o.CreatedAt.Unix())
}

// txnField carries a message's transaction ID in its content too: the
// homeserver forgets a transaction ID whose PUT was cut off (a SIGKILL
// mid-request: Dendrite makes the event and does not record the ID), and
// /messages does not show transaction IDs; the content does, so a row a
// process before may have sent is looked for in the room before it is
// sent again.
const txnField = "org.hallwayhq.txn"

// Outbox is where the sender takes its rows from.
type Outbox interface {
	// Pending returns up to limit rows due now with IDs above after,
	// oldest first.
	Pending(ctx context.Context, after int64, limit int) ([]Outgoing, error)
	MarkSent(ctx context.Context, id int64, eventID string) error
	MarkFailed(ctx context.Context, id int64, cause error, retryAt time.Time) error
}

// SenderOptions tune the sender; nil means the defaults.
type SenderOptions struct {
	// Burst messages go to a room at once, then one every Every (10 and
	// 1 s by default: Synapse's default rc_message allows 10, then one
	// every 5 s per user, so a busy bot needs an exemption on its server).
	Burst int
	Every time.Duration
	// Poll is how often the outbox is looked at without a Wake (5 s).
	Poll time.Duration
	// MaxAttempts before a row is given up (10).
	MaxAttempts int
}

// Sender sends outbox rows, each exactly once.
type Sender struct {
	c     *Client
	ob    Outbox
	opt   SenderOptions
	log   *slog.Logger
	wake  chan struct{}
	rooms map[string]*bucket // owned by Run
	now   func() time.Time
	// started is when the sender began: a row older than that, or one
	// tried before, may be in its room already.
	started time.Time
}

// NewSender makes a sender; it does no I/O.
func NewSender(c *Client, ob Outbox, opt *SenderOptions) *Sender {
	var o SenderOptions
	if opt != nil {
		o = *opt
	}
	if o.Burst <= 0 {
		o.Burst = 10
	}
	if o.Every <= 0 {
		o.Every = time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	return &Sender{c: c, ob: ob, opt: o, log: c.log.With("part", "sender"), wake: make(chan struct{}, 1), rooms: map[string]*bucket{}, now: time.Now, started: time.Now()}
}

// Wake makes the sender look at the outbox now.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx is done.
func (s *Sender) Run(ctx context.Context) error {
	for {
		next, err := s.round(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("matrix sender round failed", "err", err)
		}
		wait := s.opt.Poll
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(s.now()), time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// round sends what is due and returns when a paced or rate-limited room
// may send again (zero if none waits).
func (s *Sender) round(ctx context.Context) (time.Time, error) {
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	blocked := map[string]bool{}           // keeps each room's order
	sent := map[string]map[string]string{} // room → what is in it already: txn ID → event
	var after int64
	for {
		rows, err := s.ob.Pending(ctx, after, 100)
		if err != nil {
			return next, fmt.Errorf("read outbox: %w", err)
		}
		for _, o := range rows {
			after = o.ID
			if blocked[o.RoomID] {
				continue
			}
			b := s.bucket(o.RoomID)
			now := s.now()
			if at := b.take(now); at.After(now) {
				blocked[o.RoomID] = true
				later(at)
				continue
			}
			// A send begun is finished, and marked, even when hallway is
			// stopping: a PUT cut off mid-way may leave the event made
			// without the homeserver remembering its transaction ID (so
			// the resend after a restart would make a second one).
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			eid, err := s.sendRow(sctx, o, sent)
			if d, ok := retryAfter(err); ok {
				cancel()
				// Not a failure: the room waits as asked, the row is kept.
				b.refund()
				b.hold(now.Add(d))
				blocked[o.RoomID] = true
				later(now.Add(d))
				s.log.Debug("rate limited", "room", o.RoomID, "retry_after", d)
				continue
			}
			if err != nil {
				cancel()
				if ctx.Err() != nil {
					return next, ctx.Err()
				}
				blocked[o.RoomID] = true
				retry := now.Add(backoff(o.Attempts))
				if o.Attempts+1 >= s.opt.MaxAttempts {
					retry = now.Add(100 * 365 * 24 * time.Hour)
					s.log.Error("matrix message given up", "id", o.ID, "room", o.RoomID, "err", err)
				}
				if err := s.ob.MarkFailed(ctx, o.ID, err, retry); err != nil {
					return next, fmt.Errorf("mark failed: %w", err)
				}
				continue
			}
			err = s.ob.MarkSent(sctx, o.ID, eid)
			cancel()
			if err != nil {
				// Sent again next round with the same transaction ID:
				// the homeserver makes no second event.
				return next, fmt.Errorf("mark sent: %w", err)
			}
		}
		if len(rows) < 100 {
			return next, nil
		}
	}
}

// sendRow sends o, unless it is in its room already: a row that a
// process before this one, or an earlier try, may have sent is looked
// for first (sent caches what each room holds, for the round).
func (s *Sender) sendRow(ctx context.Context, o Outgoing, sent map[string]map[string]string) (string, error) {
	var t event.Type
	var parsed any
	if o.Reaction != "" {
		t, parsed = event.EventReaction, reaction(o.ReplyTo, o.Reaction)
	} else {
		t, parsed = event.EventMessage, content(o.Reply, o.ReplyTo, o.Thread, o.Mention)
	}
	room, err := s.c.RoomID(ctx, o.RoomID)
	if err != nil {
		return "", err
	}
	txn := o.txnID()
	if o.Attempts > 0 || o.CreatedAt.Before(s.started) {
		in, ok := sent[room]
		if !ok {
			if in, err = s.c.sentTxns(ctx, id.RoomID(room)); err != nil {
				return "", fmt.Errorf("look for messages sent before: %w", err)
			}
			sent[room] = in
		}
		if eid, ok := in[txn]; ok {
			s.log.Info("message sent before a restart found in its room: not sent again", "id", o.ID, "room", room, "event", eid)
			return eid, nil
		}
	}
	body := &event.Content{Parsed: parsed, Raw: map[string]any{txnField: txn}}
	eid, err := s.c.send(ctx, id.RoomID(room), t, body, txn)
	return string(eid), err
}

func (s *Sender) bucket(room string) *bucket {
	b := s.rooms[room]
	if b == nil {
		b = &bucket{burst: float64(s.opt.Burst), every: s.opt.Every, tokens: float64(s.opt.Burst)}
		s.rooms[room] = b
	}
	return b
}

// backoff after attempts failed tries: 2 s doubling, at most 10 min.
func backoff(attempts int) time.Duration {
	d := 2 * time.Second
	for i := 0; i < attempts && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

// bucket paces one room: burst messages at once, then one every every.
type bucket struct {
	burst, tokens float64
	every         time.Duration
	last          time.Time
	until         time.Time // held by the homeserver's retry_after_ms
}

// take spends a token if there is one and returns now; otherwise it
// returns when there will be one.
func (b *bucket) take(now time.Time) time.Time {
	if now.Before(b.until) {
		return b.until
	}
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+float64(now.Sub(b.last))/float64(b.every))
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return now
	}
	return now.Add(time.Duration((1 - b.tokens) * float64(b.every)))
}

func (b *bucket) refund()              { b.tokens = min(b.burst, b.tokens+1) }
func (b *bucket) hold(until time.Time) { b.until = until }
