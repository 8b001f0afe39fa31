package matrix

import (
	"context"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// storeBox is what StoreOutbox needs of the store.
type storeBox interface {
	Pending(ctx context.Context, channel string, after int64, limit int) ([]store.Message, error)
	ClaimOutbox(ctx context.Context, ids ...int64) ([]int64, error)
	MarkSent(ctx context.Context, ids ...int64) error
	MarkFailed(ctx context.Context, id int64, cause error, retryAt time.Time) error
}

// StoreOutbox is the store's outbox (its 'matrix' rows) as the sender's.
// Rows are claimed as they are read: under a leader's context a deposed
// leader gets none (store.ClaimOutbox).
func StoreOutbox(s storeBox) Outbox { return storeOutbox{s} }

type storeOutbox struct{ s storeBox }

func (b storeOutbox) Pending(ctx context.Context, after int64, limit int) ([]Outgoing, error) {
	msgs, err := b.s.Pending(ctx, store.Matrix, after, limit)
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	claimed, err := b.s.ClaimOutbox(ctx, ids...)
	if err != nil {
		return nil, err
	}
	ok := make(map[int64]bool, len(claimed))
	for _, id := range claimed {
		ok[id] = true
	}
	var out []Outgoing
	for _, m := range msgs {
		if !ok[m.ID] {
			continue
		}
		o := Outgoing{
			ID: m.ID, CreatedAt: m.CreatedAt, Attempts: m.Attempts, RoomID: m.Target,
			Reply:   Reply{Text: m.Body, HTML: m.HTML},
			ReplyTo: m.ReplyTo, Thread: m.Thread, Mention: m.Addressee,
		}
		if m.Kind == store.ReactionKind {
			o.Reply, o.Reaction = Reply{}, m.Body
		}
		out = append(out, o)
	}
	return out, nil
}

func (b storeOutbox) MarkSent(ctx context.Context, id int64, _ string) error {
	return b.s.MarkSent(ctx, id)
}

func (b storeOutbox) MarkFailed(ctx context.Context, id int64, cause error, retryAt time.Time) error {
	return b.s.MarkFailed(ctx, id, cause, retryAt)
}
