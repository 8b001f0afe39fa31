package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// leadership takes, keeps and gives up the lease that makes this instance
// the one running the IRC connection, the mail intake, the senders and
// the clock. Every instance serves the web; one at a time leads.
//
// A standby reads the lease every poll and takes it once it lapsed (or
// was released). The leader renews it every ttl/3; when it has not
// renewed for ttl-guard it stops its parts at once and becomes a standby,
// before the lease can lapse and another instance take over. What the
// leader claims in the store carries its term (store.LeaderContext), so a
// deposed leader that still runs sends nothing new.
type leadership struct {
	store  *store.Store
	holder string
	// ownName: holder was configured, not made of host and pid.
	ownName bool
	ttl     time.Duration
	log     *slog.Logger

	takeovers atomic.Uint64
	mu        sync.Mutex
	leading   bool
	seen      store.Lease // the lease as last seen
}

func newLeadership(s *store.Store, instance string, ttl time.Duration, log *slog.Logger) *leadership {
	l := &leadership{store: s, holder: instance, ownName: instance != "", ttl: ttl, log: log.With("component", "lease")}
	if instance == "" {
		host, _ := os.Hostname()
		l.holder = host + ":" + strconv.Itoa(os.Getpid())
	}
	if l.ttl <= 0 {
		l.ttl = 6 * time.Second
	}
	return l
}

// Role says whether this instance leads, the term of the lease as last
// seen, its holder, and how many times this instance took the lease.
func (l *leadership) Role() (leading bool, term int64, holder string, takeovers uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leading, l.seen.Term, l.seen.Holder, l.takeovers.Load()
}

func (l *leadership) set(leading bool, seen store.Lease) {
	l.mu.Lock()
	l.leading, l.seen = leading, seen
	l.mu.Unlock()
}

// guard is how long before the lease's end the leader steps down when it
// could not renew: room for a send claimed just before, and for the
// clocks of two machines to differ.
func (l *leadership) guard() time.Duration { return l.ttl / 4 }

// errStepDown ends a term whose lease could not be kept.
var errStepDown = errors.New("stepped down: the lease could not be renewed")

// run leads whenever this instance holds the lease, running lead under a
// leader's context that is cancelled when the lease is lost, until ctx is
// done; then it releases the lease, so a standby takes over at once. An
// error of lead's own (a part failed) ends run with it, as it ends a
// single hallway.
func (l *leadership) run(ctx context.Context, lead func(ctx context.Context) error) error {
	for {
		lease, renewed, err := l.acquire(ctx)
		if err != nil {
			return nil // ctx done
		}
		l.takeovers.Add(1)
		l.set(true, lease)
		l.log.Info("took the lease: leading", "instance", l.holder, "term", lease.Term, "expires_at", lease.ExpiresAt)
		err = l.lead(ctx, lease, renewed, lead)
		l.set(false, lease)
		if ctx.Err() != nil || !errors.Is(err, errStepDown) {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if rerr := l.store.ReleaseLease(rctx, l.holder, lease.Term); rerr != nil {
				l.log.Warn("releasing the lease", "term", lease.Term, "err", rerr)
			} else {
				l.log.Info("released the lease", "term", lease.Term)
			}
			cancel()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		l.log.Warn("standing by: the lease was lost", "term", lease.Term, "err", err)
	}
}

// acquire waits until this instance holds the lease, and returns it with
// the local time its taking began (the lease runs ttl from a moment no
// earlier). It fails only when ctx is done.
func (l *leadership) acquire(ctx context.Context) (store.Lease, time.Time, error) {
	poll := max(l.ttl/6, 100*time.Millisecond)
	waiting := false
	for {
		cur, err := l.store.ReadLease(ctx)
		free := errors.Is(err, store.ErrNotFound)
		if err == nil {
			l.set(false, cur)
			free = !cur.Valid(l.store.Now()) || cur.Holder == l.holder || l.stale(cur.Holder)
		} else if !free && ctx.Err() == nil {
			l.log.Warn("reading the lease", "err", err)
		}
		if free {
			start := time.Now()
			got, err := l.store.AcquireLease(ctx, l.holder, l.ttl, l.staleName(cur.Holder))
			if err == nil {
				return got, start, nil
			}
			if !errors.Is(err, store.ErrLeaseHeld) && ctx.Err() == nil {
				l.log.Warn("taking the lease", "err", err)
			}
		} else if !waiting {
			waiting = true
			l.log.Info("standing by: another instance leads", "instance", l.holder, "leader", cur.Holder, "term", cur.Term)
		}
		select {
		case <-ctx.Done():
			return store.Lease{}, time.Time{}, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// lead runs lead under a leader's context for lease, renewing it every
// ttl/3, and cancels that context when the lease is lost (ErrDeposed) or
// was not renewed for ttl-guard since the last renewal began.
func (l *leadership) lead(ctx context.Context, lease store.Lease, renewed time.Time, lead func(context.Context) error) error {
	lctx, cancel := context.WithCancelCause(store.LeaderContext(ctx, lease.Term))
	defer cancel(nil)
	done := make(chan error, 1)
	go func() { done <- lead(lctx) }()
	stop := func(cause error) error {
		cancel(cause)
		<-done
		return cause
	}
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	stepDown := time.NewTimer(time.Until(renewed.Add(l.ttl - l.guard())))
	defer stepDown.Stop()
	var renewErr error // of the last renewal
	holding := false   // leading on while the database cannot be written
	for {
		select {
		case err := <-done:
			if err == nil && ctx.Err() == nil {
				err = errors.New("the leader's parts ended by themselves")
			}
			return err
		case <-ctx.Done():
			return stop(ctx.Err())
		case <-stepDown.C:
			// A database nobody can write is no reason to stop: no
			// instance can take the lease either (that is a write), and
			// what only the leader may do is refused meanwhile. The
			// people on IRC are then told hallway can't save.
			if errors.Is(renewErr, store.ErrUnwritable) && l.stillOurs(ctx, lease.Term) {
				if !holding {
					holding = true
					l.log.Warn("the lease cannot be renewed: the database cannot be written; leading on, as no instance can take the lease meanwhile", "term", lease.Term)
				}
				stepDown.Reset(l.ttl / 3)
				continue
			}
			l.log.Error("the lease could not be renewed in time: stepping down", "term", lease.Term, "err", renewErr)
			return stop(errStepDown)
		case <-tick.C:
			start := time.Now()
			rctx, rcancel := context.WithTimeout(ctx, l.ttl/3)
			got, err := l.store.RenewLease(rctx, l.holder, lease.Term, l.ttl)
			rcancel()
			renewErr = err
			switch {
			case err == nil:
				l.set(true, got)
				stepDown.Reset(time.Until(start.Add(l.ttl - l.guard())))
				if holding {
					holding = false
					l.log.Info("the lease is renewed again", "term", lease.Term)
				}
			case errors.Is(err, store.ErrDeposed):
				l.log.Error("the lease passed to another instance: stepping down", "term", lease.Term)
				return stop(fmt.Errorf("%w: %w", errStepDown, err))
			case ctx.Err() == nil:
				l.log.Warn("renewing the lease", "term", lease.Term, "err", err)
			}
		}
	}
}

// stillOurs says whether the lease, as read, is still this instance's of
// term.
func (l *leadership) stillOurs(ctx context.Context, term int64) bool {
	cur, err := l.store.ReadLease(ctx)
	return err == nil && cur.Holder == l.holder && cur.Term == term
}

// stale says whether holder is a default-named instance of this host
// whose process is gone: a restarted single hallway takes its lease at
// once instead of waiting for it to lapse.
func (l *leadership) stale(holder string) bool {
	if l.ownName {
		return false
	}
	host, pidText, ok := strings.Cut(holder, ":")
	myHost, _ := os.Hostname()
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil || host != myHost || pid == os.Getpid() {
		return false
	}
	return !processAlive(pid)
}

// staleName is holder if it is stale, else "".
func (l *leadership) staleName(holder string) string {
	if holder != "" && l.stale(holder) {
		return holder
	}
	return ""
}
