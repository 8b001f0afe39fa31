package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// leaderLease names the one lease there is: who runs the IRC connection,
// the mail intake, the senders and the clock.
const leaderLease = "leader"

// Lease is the leadership of several instances sharing a database: held
// by Holder until ExpiresAt unless renewed, under Term, which rises by one
// at every takeover.
type Lease struct {
	Holder    string
	Term      int64
	ExpiresAt time.Time
}

// Valid says whether the lease is held at now.
func (l Lease) Valid(now time.Time) bool { return now.Before(l.ExpiresAt) }

// ErrLeaseHeld is returned by AcquireLease while another instance holds
// the lease.
var ErrLeaseHeld = errors.New("the lease is held by another instance")

// ErrDeposed is returned by what only the leader may do (renew, claim
// outbox rows, fenced transactions) when the term given is not the
// current, valid lease: another instance took over, or the lease lapsed.
var ErrDeposed = errors.New("not the leader: the lease lapsed or passed to another instance")

// lease reads the lease row; ErrNotFound if it was never taken.
func (tx *Tx) lease() (Lease, error) {
	var l Lease
	err := tx.queryRow(`SELECT holder, term, expires_at FROM lease WHERE name = ?`, leaderLease).Scan(&l.Holder, &l.Term, &l.ExpiresAt)
	if err != nil {
		return Lease{}, fmt.Errorf("read the lease: %w", notFound(err))
	}
	l.ExpiresAt = l.ExpiresAt.UTC()
	return l, nil
}

// ReadLease returns the lease as it is; ErrNotFound if no instance ever
// took it.
func (s *Store) ReadLease(ctx context.Context) (Lease, error) {
	var l Lease
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		l, err = tx.lease()
		return err
	})
	return l, err
}

// AcquireLease makes holder the leader until ttl from now if the lease is
// free: never taken, released or lapsed, or held by holder itself (an
// instance restarted under its name) or by stale (a holder the caller
// knows is dead; "" for none). A takeover raises the term by one. While
// another holder has it, it returns ErrLeaseHeld with the lease as it is.
func (s *Store) AcquireLease(ctx context.Context, holder string, ttl time.Duration, stale string) (Lease, error) {
	var out Lease
	err := s.Do(ctx, func(tx *Tx) error {
		cur, err := tx.lease()
		expires := tx.now.Add(ttl)
		if errors.Is(err, ErrNotFound) {
			out = Lease{Holder: holder, Term: 1, ExpiresAt: expires}
			_, err := tx.exec(`INSERT INTO lease (name, holder, term, expires_at) VALUES (?, ?, ?, ?)`,
				leaderLease, holder, out.Term, expires)
			return err
		} else if err != nil {
			return err
		}
		if cur.Valid(tx.now) && cur.Holder != holder && (stale == "" || cur.Holder != stale) {
			out = cur
			return ErrLeaseHeld
		}
		out = Lease{Holder: holder, Term: cur.Term + 1, ExpiresAt: expires}
		// The term in the WHERE makes it a compare-and-set even where
		// the engine did not serialize this transaction.
		res, err := tx.exec(`UPDATE lease SET holder = ?, term = ?, expires_at = ? WHERE name = ? AND term = ?`,
			holder, out.Term, expires, leaderLease, cur.Term)
		if err != nil {
			return fmt.Errorf("take the lease: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			out = cur
			return ErrLeaseHeld
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrLeaseHeld) {
		return Lease{}, fmt.Errorf("acquire the lease: %w", err)
	}
	return out, err
}

// RenewLease extends holder's lease of term until ttl from now. Once
// another instance took it (or it was released), ErrDeposed. A lease that
// lapsed and that nobody took is renewed: no other instance led meanwhile,
// as taking it raises the term, and what only the leader may do was
// refused while it had lapsed (a database that could not be written for
// longer than the lease does not cost the leadership).
func (s *Store) RenewLease(ctx context.Context, holder string, term int64, ttl time.Duration) (Lease, error) {
	var out Lease
	err := s.Do(ctx, func(tx *Tx) error {
		cur, err := tx.lease()
		if errors.Is(err, ErrNotFound) {
			return ErrDeposed
		} else if err != nil {
			return err
		}
		if cur.Holder != holder || cur.Term != term {
			return ErrDeposed
		}
		out = Lease{Holder: holder, Term: term, ExpiresAt: tx.now.Add(ttl)}
		res, err := tx.exec(`UPDATE lease SET expires_at = ? WHERE name = ? AND holder = ? AND term = ?`,
			out.ExpiresAt, leaderLease, holder, term)
		if err != nil {
			return fmt.Errorf("renew the lease: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrDeposed
		}
		return nil
	})
	return out, err
}

// ReleaseLease ends holder's lease of term now, so that a standby takes
// over at once instead of waiting for it to lapse; it is left with no
// holder. A lease already lost is left as it is.
func (s *Store) ReleaseLease(ctx context.Context, holder string, term int64) error {
	return s.Do(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`UPDATE lease SET holder = '', expires_at = ? WHERE name = ? AND holder = ? AND term = ?`,
			tx.now, leaderLease, holder, term); err != nil {
			return fmt.Errorf("release the lease: %w", err)
		}
		return nil
	})
}

// Fence fails with ErrDeposed unless term is the current lease's and the
// lease has not lapsed. Called first in a write transaction, it makes what
// the transaction does the leader's alone: the write lock (SQLite's, or
// the advisory lock every write transaction takes on PostgreSQL) keeps a
// takeover from committing between the check and the commit.
func (tx *Tx) Fence(term int64) error {
	l, err := tx.lease()
	if errors.Is(err, ErrNotFound) {
		return ErrDeposed
	} else if err != nil {
		return err
	}
	if l.Term != term || !l.Valid(tx.now) {
		return ErrDeposed
	}
	return nil
}

// termKey is the context key of a leader's term.
type termKey struct{}

// LeaderContext returns ctx carrying term: the context an instance runs
// its leader's parts under (IRC, mail, senders, clock) while it holds the
// lease of that term, and cancels when it steps down. What only the leader
// may do ([Store.ClaimOutbox], [Tx.FenceLeader]) checks the term against
// the lease.
func LeaderContext(ctx context.Context, term int64) context.Context {
	return context.WithValue(ctx, termKey{}, term)
}

// LeaderTerm is the term ctx carries, if it is a leader's.
func LeaderTerm(ctx context.Context) (int64, bool) {
	t, ok := ctx.Value(termKey{}).(int64)
	return t, ok
}

// FenceLeader is Fence with the term of the leader's context the
// transaction runs under. Outside one (no lease in use: a test, "hallway
// ingest") it checks nothing.
func (tx *Tx) FenceLeader() error {
	if term, ok := LeaderTerm(tx.ctx); ok {
		return tx.Fence(term)
	}
	return nil
}

// ClaimOutbox claims outbox rows for sending and returns the ids it
// claimed: those not sent yet. Under a leader's context (LeaderContext)
// the rows record its term, and a term that is not the current, valid
// lease claims nothing and fails with ErrDeposed: a deposed leader sends
// nothing new. A row claimed by an earlier term and never marked sent
// (its leader died between the two) is claimed again: sending is at
// least once, as across a restart.
//
// When the database cannot be written (ErrUnwritable), no instance can take
// the lease either: the claim is then only the fence, checked by a read,
// and the rows are returned unclaimed, so that what waits still goes out.
func (s *Store) ClaimOutbox(ctx context.Context, ids ...int64) ([]int64, error) {
	claimed, err := s.claimOutbox(ctx, ids)
	if errors.Is(err, ErrUnwritable) {
		err = s.View(ctx, func(tx *Tx) error { return tx.FenceLeader() })
		if err == nil {
			return ids, nil
		}
	}
	return claimed, err
}

func (s *Store) claimOutbox(ctx context.Context, ids []int64) ([]int64, error) {
	term, _ := LeaderTerm(ctx)
	var claimed []int64
	err := s.Do(ctx, func(tx *Tx) error {
		claimed = claimed[:0]
		if err := tx.FenceLeader(); err != nil {
			return err
		}
		for _, id := range ids {
			res, err := tx.exec(`UPDATE outbox SET claimed_term = ? WHERE id = ? AND sent_at IS NULL`, term, id)
			if err != nil {
				return fmt.Errorf("claim outbox row: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				claimed = append(claimed, id)
			}
		}
		return nil
	})
	return claimed, err
}
