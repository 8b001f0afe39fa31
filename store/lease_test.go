package store

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// twoInstances opens one database twice, as two hallway processes do,
// with one clock the test moves.
func twoInstances(t *testing.T) (a, b *Store, clock *atomic.Int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shared.db")
	clock = &atomic.Int64{}
	clock.Store(time.Date(2027, 3, 4, 9, 0, 0, 0, time.UTC).UnixNano())
	open := func() *Store {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		s.Now = func() time.Time { return time.Unix(0, clock.Load()).UTC() }
		return s
	}
	return open(), open(), clock
}

func TestLeaseTakeoverOnlyAfterLapse(t *testing.T) {
	ctx := context.Background()
	a, b, clock := twoInstances(t)
	advance := func(d time.Duration) { clock.Add(int64(d)) }
	const ttl = 6 * time.Second

	if _, err := b.ReadLease(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lease before anyone took it: %v, want ErrNotFound", err)
	}
	la, err := a.AcquireLease(ctx, "a", ttl, "")
	if err != nil || la.Term != 1 || la.Holder != "a" {
		t.Fatalf("first acquire: %+v %v, want a's, term 1", la, err)
	}
	lb, err := b.AcquireLease(ctx, "b", ttl, "")
	if !errors.Is(err, ErrLeaseHeld) || lb.Holder != "a" || lb.Term != 1 {
		t.Fatalf("acquire of a held lease: %+v %v, want ErrLeaseHeld with a's lease", lb, err)
	}
	// Renewed by a, the lease outlives the first TTL.
	advance(4 * time.Second)
	if la, err = a.RenewLease(ctx, "a", 1, ttl); err != nil {
		t.Fatalf("renew: %v", err)
	}
	advance(ttl - time.Millisecond)
	if _, err := b.AcquireLease(ctx, "b", ttl, ""); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("acquire 1 ms before the renewed lease lapses: %v, want ErrLeaseHeld", err)
	}
	advance(time.Millisecond)
	lb, err = b.AcquireLease(ctx, "b", ttl, "")
	if err != nil || lb.Term != 2 || lb.Holder != "b" {
		t.Fatalf("acquire of a lapsed lease: %+v %v, want b's, term 2", lb, err)
	}
	if got, err := a.ReadLease(ctx); err != nil || got != lb {
		t.Fatalf("lease read by a: %+v %v, want %+v", got, err, lb)
	}

	// Deposed, a can neither renew nor claim nor run a fenced
	// transaction; b can.
	var ids []int64
	do(t, b, func(tx *Tx) error {
		for _, body := range []string{"one", "two", "three"} {
			if err := tx.Enqueue(Message{Channel: IRC, Target: "#c", Body: body}); err != nil {
				return err
			}
		}
		var err error
		ids, err = tx.int64s(`SELECT id FROM outbox ORDER BY id`)
		return err
	})
	if err := b.MarkSent(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RenewLease(ctx, "a", 1, ttl); !errors.Is(err, ErrDeposed) {
		t.Errorf("renew by the deposed holder: %v, want ErrDeposed", err)
	}
	if got, err := a.ClaimOutbox(LeaderContext(ctx, 1), ids...); !errors.Is(err, ErrDeposed) || len(got) != 0 {
		t.Errorf("claim by the deposed holder: %v %v, want ErrDeposed and nothing", got, err)
	}
	if err := a.Do(LeaderContext(ctx, 1), func(tx *Tx) error { return tx.FenceLeader() }); !errors.Is(err, ErrDeposed) {
		t.Errorf("fenced transaction of the deposed holder: %v, want ErrDeposed", err)
	}
	if err := a.Do(ctx, func(tx *Tx) error { return tx.FenceLeader() }); err != nil {
		t.Errorf("fenced transaction outside a leader's context: %v, want none", err)
	}
	got, err := b.ClaimOutbox(LeaderContext(ctx, 2), ids...)
	if err != nil || len(got) != 2 || got[0] != ids[0] || got[1] != ids[1] {
		t.Errorf("claim by the leader: %v %v, want the two unsent rows %v", got, err, ids[:2])
	}
	var terms []int64
	do(t, b, func(tx *Tx) error {
		var err error
		terms, err = tx.int64s(`SELECT claimed_term FROM outbox ORDER BY id`)
		return err
	})
	if len(terms) != 3 || terms[0] != 2 || terms[1] != 2 || terms[2] != 0 {
		t.Errorf("claimed terms %v, want [2 2 0]", terms)
	}
	// A release after the deposed holder's is a no-op: b keeps it.
	if err := a.ReleaseLease(ctx, "a", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AcquireLease(ctx, "a", ttl, ""); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("acquire after the deposed holder's release: %v, want ErrLeaseHeld", err)
	}

	// Released, the lease is taken over at once, term 3.
	if err := b.ReleaseLease(ctx, "b", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ClaimOutbox(LeaderContext(ctx, 2), ids[0]); !errors.Is(err, ErrDeposed) {
		t.Errorf("claim after releasing: %v, want ErrDeposed", err)
	}
	la, err = a.AcquireLease(ctx, "a", ttl, "")
	if err != nil || la.Term != 3 {
		t.Fatalf("acquire of a released lease: %+v %v, want term 3", la, err)
	}

	// A lapsed lease refuses claims; nobody took it, so its holder may
	// renew it, and claim again.
	advance(ttl)
	if _, err := a.ClaimOutbox(LeaderContext(ctx, 3), ids[0]); !errors.Is(err, ErrDeposed) {
		t.Errorf("claim on a lapsed lease: %v, want ErrDeposed", err)
	}
	if la, err = a.RenewLease(ctx, "a", 3, ttl); err != nil || la.Term != 3 {
		t.Errorf("renew of a lapsed lease nobody took: %+v %v, want term 3 again", la, err)
	}
	if got, err := a.ClaimOutbox(LeaderContext(ctx, 3), ids[0]); err != nil || len(got) != 1 {
		t.Errorf("claim after renewing: %v %v", got, err)
	}
	// Released, it cannot be renewed.
	if err := a.ReleaseLease(ctx, "a", 3); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RenewLease(ctx, "a", 3, ttl); !errors.Is(err, ErrDeposed) {
		t.Errorf("renew of a released lease: %v, want ErrDeposed", err)
	}
}

func TestLeaseRestartAndStaleHolder(t *testing.T) {
	ctx := context.Background()
	a, b, _ := twoInstances(t)
	const ttl = 6 * time.Second
	if _, err := a.AcquireLease(ctx, "host:100", ttl, ""); err != nil {
		t.Fatal(err)
	}
	// An instance restarted under its name takes its lease at once.
	l, err := b.AcquireLease(ctx, "host:100", ttl, "")
	if err != nil || l.Term != 2 {
		t.Fatalf("acquire by the same name: %+v %v, want term 2", l, err)
	}
	// A holder named stale by the caller (known dead) is replaced at
	// once; another is not.
	if _, err := a.AcquireLease(ctx, "host:200", ttl, "host:999"); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("acquire naming another holder stale: %v, want ErrLeaseHeld", err)
	}
	l, err = a.AcquireLease(ctx, "host:200", ttl, "host:100")
	if err != nil || l.Term != 3 || l.Holder != "host:200" {
		t.Fatalf("acquire from a stale holder: %+v %v, want host:200's, term 3", l, err)
	}
}

// TestLeaseOneWinner races two instances' goroutines for a lapsed lease,
// round after round: each round exactly one takes it, with the next term.
func TestLeaseOneWinner(t *testing.T) {
	ctx := context.Background()
	a, b, clock := twoInstances(t)
	const ttl = time.Second
	for round := 1; round <= 20; round++ {
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				_, err := s.AcquireLease(ctx, string(rune('a'+i)), ttl, "")
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, ErrLeaseHeld):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		l, err := a.ReadLease(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if wins.Load() != 1 || l.Term != int64(round) {
			t.Fatalf("round %d: %d winners, term %d; want 1 and %d", round, wins.Load(), l.Term, round)
		}
		clock.Add(int64(ttl))
	}
}
