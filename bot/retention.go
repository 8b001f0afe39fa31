package bot

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// retainEvery is how often the clock runs the retention purge; a forget's
// answer, once sent, is cleaned up at the next tick instead.
const retainEvery = time.Hour

// retention is the clock's memory of its purges.
type retention struct {
	mu   sync.Mutex
	last time.Time
	// forgot is when a person was last forgotten: the answer to it is
	// cleaned up at the first tick after it was sent.
	forgot time.Time
}

// forgetCleanup is how long after a forget the clock looks every tick for
// its answer having been sent.
const forgetCleanup = 10 * time.Minute

// forgotten notes a forget for the clock.
func (b *Bot) forgotten(at time.Time) {
	b.retention.mu.Lock()
	b.retention.forgot = at
	b.retention.mu.Unlock()
}

// end is when the event's last slot ends; zero without slots.
func (e *Event) end() time.Time {
	var end time.Time
	for _, s := range e.Grid.Slots {
		if s.End.After(end) {
			end = s.End
		}
	}
	return end
}

// RetentionDue returns, for each event, when its retention runs out
// (zero: never, for an event without slots or retention).
func (b *Bot) RetentionDue() map[string]time.Time {
	out := map[string]time.Time{}
	for _, e := range b.events {
		if end := e.end(); !end.IsZero() && e.Retention > 0 {
			out[e.Slug] = end.Add(e.Retention)
		}
	}
	return out
}

// Retain purges what the events whose retention ran out by now no longer
// need (store.Purge says what), and the answers to forgets already sent.
// It returns what it changed, by table. Under a leader's context it is
// fenced like the rest of the clock.
func (b *Bot) Retain(ctx context.Context, now time.Time) (map[string]int64, error) {
	p := store.Purge{All: len(b.events) > 0, Keep: b.opts.KeepMailTo}
	due := b.RetentionDue()
	for _, e := range b.events {
		if at, ok := due[e.Slug]; ok && !now.Before(at) {
			p.Events = append(p.Events, e.id)
		} else {
			p.All = false
		}
	}
	var out map[string]int64
	err := b.store.Do(ctx, func(tx *store.Tx) error {
		if err := tx.FenceLeader(); err != nil {
			return err
		}
		var err error
		out, err = tx.Purge(p)
		return err
	})
	if err == nil && len(out) > 0 {
		tables := make([]string, 0, len(out))
		for t := range out {
			tables = append(tables, t)
		}
		sort.Strings(tables)
		b.log.Info("retention purge", "events", len(p.Events), "all", p.All, "tables", strings.Join(tables, ","))
	}
	return out, err
}

// retainIfDue is the clock's step: a purge every retainEvery, and one at
// the first tick after a forget.
func (b *Bot) retainIfDue(ctx context.Context, now time.Time) error {
	b.retention.mu.Lock()
	due := b.retention.last.IsZero() || now.Sub(b.retention.last) >= retainEvery ||
		!b.retention.forgot.IsZero() && now.Sub(b.retention.forgot) < forgetCleanup
	b.retention.mu.Unlock()
	if !due {
		return nil
	}
	if _, err := b.Retain(ctx, now); err != nil {
		return err
	}
	b.retention.mu.Lock()
	b.retention.last = now
	b.retention.mu.Unlock()
	return nil
}
