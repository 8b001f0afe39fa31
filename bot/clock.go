package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// startWindow is how late a slot's start may still be announced: after a
// longer outage the bot stays quiet about what started long ago.
const startWindow = 2 * time.Minute

// RunClock says in each event's rooms what is starting where, as each
// slot of the released schedule starts (PTGbot's now/next, one line per
// slot), and does what is due at a time: phases, seat offers, pledge
// reminders, notes of sessions that ended. After each round it wakes every
// sender (OnQueued), mail as much as IRC: what it queued goes out at once.
// It first finishes the releases a crash left pending.
//
// Under a leader's context (store.LeaderContext) every transaction of the
// clock is fenced: once another instance took over, a deposed leader
// announces, expires and reminds nothing.
func (b *Bot) RunClock(ctx context.Context) {
	if err := b.ResumeReleases(ctx); err != nil {
		b.log.Error("finishing releases left pending", "err", err)
	}
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		if _, err := b.AnnounceStarts(ctx, b.now()); err != nil {
			b.log.Error("announcing slot starts", "err", err)
		}
		if err := b.store.Do(ctx, func(tx *store.Tx) error { return fenced(tx, b.ExpireOffers) }); err != nil {
			b.log.Error("expiring seat offers", "err", err)
		}
		if err := b.store.Do(ctx, func(tx *store.Tx) error { return fenced(tx, b.RemindPledges) }); err != nil {
			b.log.Error("reminding of pledges", "err", err)
		}
		if _, err := b.CloseMeetings(ctx, b.now()); err != nil {
			b.log.Error("closing notes of sessions that ended", "err", err)
		}
		if err := b.retainIfDue(ctx, b.now()); err != nil {
			b.log.Error("retention purge", "err", err)
		}
		if _, err := b.AnnouncePhases(ctx, b.now()); err != nil {
			b.log.Error("announcing phases", "err", err)
		}
		// Offers and reminders do not count what they queue: every sender
		// looks, which costs one read of the outbox each.
		b.wake()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// fenced runs one of the clock's steps in tx once the leader's term is
// checked.
func fenced(tx *store.Tx, step func(tx *store.Tx, now time.Time) error) error {
	if err := tx.FenceLeader(); err != nil {
		return err
	}
	return step(tx, tx.Now())
}

// AnnounceStarts queues, for every event, the announcement of the items
// of its latest release that started within startWindow before now. Each
// slot is announced once, even across restarts (the outbox's dedupe key).
// It returns how many lines it queued.
func (b *Bot) AnnounceStarts(ctx context.Context, now time.Time) (int, error) {
	queued := 0
	err := b.store.Do(ctx, func(tx *store.Tx) error {
		if err := tx.FenceLeader(); err != nil {
			return err
		}
		for _, ev := range b.events {
			if len(ev.rooms()) == 0 {
				continue
			}
			row, err := tx.LatestRelease(ev.id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			amended, err := releaseWithAmendments(tx, ev.id, row)
			if err != nil {
				return err
			}
			r := amended.Current() // what was taken out does not start
			starting := map[time.Time][]string{}
			var starts []time.Time
			for _, it := range r.Items {
				if it.Start.After(now) || now.Sub(it.Start) > startWindow {
					continue
				}
				if _, ok := starting[it.Start]; !ok {
					starts = append(starts, it.Start)
				}
				starting[it.Start] = append(starting[it.Start], fmt.Sprintf("%s: #%d %s", it.Room, it.Number, it.Title))
			}
			for _, st := range starts {
				if ev.KeepTopic {
					if err := keepTopic(tx, ev, r, st); err != nil {
						return err
					}
				}
				head := fmt.Sprintf("Starting now (%s-%s): ", st.In(ev.zone()).Format("15:04"), endOf(r.Items, st).In(ev.zone()).Format("15:04"))
				for i, line := range packLines(head, starting[st], " · ", 380) {
					key := fmt.Sprintf("start:%s:%d:%d", ev.Slug, st.Unix(), i)
					n, err := sayToEvent(tx, ev, line, key, "", "")
					if err != nil {
						return err
					}
					queued += n
				}
			}
		}
		return nil
	})
	return queued, err
}

// endOf is when the items starting at st end (the latest of them).
func endOf(items []schedule.Item, st time.Time) time.Time {
	end := st
	for _, it := range items {
		if it.Start.Equal(st) && it.End.After(end) {
			end = it.End
		}
	}
	return end
}

// AnnouncePhases tells each event's channel and list when a phase opens or
// closes on its own at a time the config set, once, if that time passed
// within startWindow before now. It returns how many it announced.
func (b *Bot) AnnouncePhases(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := b.store.Do(ctx, func(tx *store.Tx) error {
		if err := tx.FenceLeader(); err != nil {
			return err
		}
		for _, ev := range b.events {
			for _, phase := range phaseNames {
				sched, ok := ev.Phases[phase]
				if !ok {
					continue
				}
				for _, edge := range []struct {
					at   time.Time
					open bool
				}{{sched.Open, true}, {sched.Close, false}} {
					if edge.at.IsZero() || edge.at.After(now) || now.Sub(edge.at) > startWindow {
						continue
					}
					c := &call{ctx: ctx, tx: tx, bot: b, ev: ev}
					open, err := c.phaseOpen(phase)
					if err != nil {
						return err
					}
					if open != edge.open {
						continue // an organizer overrode it by hand
					}
					line := fmt.Sprintf("%s is now %s for %s.", capitalize(phaseTitle(phase)), map[bool]string{true: "open", false: "closed"}[edge.open], ev.Name)
					key := fmt.Sprintf("phase:%s:%s:%d", ev.Slug, phase, edge.at.Unix())
					said, err := sayToEvent(tx, ev, line, key, "", "")
					if err != nil {
						return err
					}
					if said == 0 && len(ev.rooms()) > 0 {
						continue // announced before
					}
					n++
					if b.announcer != nil {
						if _, err := b.announcer.Announce(tx, ev.Slug, key, line, phaseBody(c, phase, edge.open)); err != nil {
							return err
						}
					}
				}
			}
		}
		return nil
	})
	return n, err
}

// keepTopic sets the channel's topic to what is on now and next, as a slot
// starts (PTGbot does the same); once per slot.
func keepTopic(tx *store.Tx, ev *Event, r *schedule.Release, at time.Time) error {
	now, next := r.At(at)
	var parts []string
	for _, it := range now {
		parts = append(parts, fmt.Sprintf("%s: #%d %s", it.Room, it.Number, it.Title))
	}
	topic := "Now: " + strings.Join(parts, " · ")
	if len(next) > 0 {
		topic += fmt.Sprintf(" | Next at %s", next[0].Start.In(ev.zone()).Format("15:04"))
	}
	if ev.URL != "" {
		topic += " | " + ev.URL + "/"
	}
	_, err := tx.EnqueueOnce(store.Message{Channel: store.IRC, Kind: store.TopicKind, Target: ev.Channel, Body: topic,
		DedupeKey: fmt.Sprintf("topic:%s:%d", ev.Slug, at.Unix())})
	return err
}
