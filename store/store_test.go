package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store/storetest"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), storetest.Source(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Now = func() time.Time { return time.Date(2027, 3, 4, 9, 0, 0, 0, time.UTC) }
	return s
}

func do(t *testing.T, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Do(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerDatabase(t *testing.T) {
	path := storetest.Source(t)
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	bump := "PRAGMA user_version = 99"
	if s.Engine() == PostgreSQL {
		bump = "UPDATE hallway_schema SET version = 99"
	}
	if _, err := s.db.Exec(bump); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(context.Background(), path)
	if !errors.Is(err, ErrTooNew) {
		t.Fatalf("Open of a newer database: got %v, want ErrTooNew", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := storetest.Source(t)
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	do(t, s, func(tx *Tx) error {
		ev, err := tx.EnsureEvent("ev", "Ev")
		if err != nil {
			return err
		}
		p, err := tx.PersonByIdentity(IRCAccount, "alice", "")
		if err != nil {
			return err
		}
		_, err = tx.AddProposal(Proposal{EventID: ev.ID, Kind: Session, Title: "T", AuthorID: p.ID})
		return err
	})
	s.Close()
	s, err = Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	do(t, s, func(tx *Tx) error {
		ev, _ := tx.EnsureEvent("ev", "Ev")
		p, err := tx.Proposal(ev.ID, 1)
		if err != nil || p.Title != "T" {
			t.Errorf("after reopen: %+v, %v", p, err)
		}
		return nil
	})
}

func TestProposalsAndVotes(t *testing.T) {
	s := openTest(t)
	do(t, s, func(tx *Tx) error {
		ev, err := tx.EnsureEvent("ev", "Ev")
		if err != nil {
			return err
		}
		alice, _ := tx.PersonByIdentity(IRCAccount, "alice", "")
		bob, _ := tx.PersonByIdentity(IRCAccount, "bob", "")
		again, _ := tx.PersonByIdentity(IRCAccount, "alice", "")
		if again.ID != alice.ID {
			t.Errorf("same account gave persons %d and %d", alice.ID, again.ID)
		}
		p1, _ := tx.AddProposal(Proposal{EventID: ev.ID, Kind: Session, Title: "One", AuthorID: alice.ID})
		p2, _ := tx.AddProposal(Proposal{EventID: ev.ID, Kind: Talk, Title: "Two", AuthorID: bob.ID})
		if p1.Number != 1 || p2.Number != 2 {
			t.Errorf("numbers %d, %d; want 1, 2", p1.Number, p2.Number)
		}
		for _, c := range []struct {
			prop, person int64
			want         bool
		}{{p2.ID, alice.ID, true}, {p2.ID, alice.ID, false}, {p2.ID, bob.ID, true}, {p1.ID, bob.ID, true}} {
			got, err := tx.AddVote(ev.ID, c.prop, c.person)
			if err != nil || got != c.want {
				t.Errorf("AddVote(%d, %d) = %v, %v; want %v", c.prop, c.person, got, err, c.want)
			}
		}
		top, err := tx.TopProposals(ev.ID, "", 10)
		if err != nil {
			return err
		}
		if len(top) != 2 || top[0].Number != 2 || top[0].Votes != 2 || top[1].Votes != 1 {
			t.Errorf("top = %+v", top)
		}
		n, _ := tx.VoteCount(ev.ID, bob.ID)
		if n != 2 {
			t.Errorf("bob's votes = %d, want 2", n)
		}
		if ok, _ := tx.RemoveVote(p2.ID, bob.ID); !ok {
			t.Error("RemoveVote found no vote")
		}
		nums, _ := tx.VotesOf(ev.ID, bob.ID)
		if len(nums) != 1 || nums[0] != 1 {
			t.Errorf("bob's votes after unvote = %v", nums)
		}
		if _, err := tx.Proposal(ev.ID, 99); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing proposal: %v", err)
		}
		return nil
	})
}

func TestOutboxDedupeAndInboxOnce(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	do(t, s, func(tx *Tx) error {
		for i := 0; i < 2; i++ {
			if err := tx.Enqueue(Message{Channel: Mail, Target: "a@example.org", Body: "hi", DedupeKey: "confirm:1"}); err != nil {
				return err
			}
		}
		return tx.Enqueue(Message{Channel: IRC, Target: "#c", Body: "x"})
	})
	mails, err := s.Pending(ctx, Mail, 0, 10)
	if err != nil || len(mails) != 1 {
		t.Fatalf("pending mail = %v, %v; want one", mails, err)
	}
	if err := s.MarkSent(ctx, mails[0].ID); err != nil {
		t.Fatal(err)
	}
	if mails, _ := s.Pending(ctx, Mail, 0, 10); len(mails) != 0 {
		t.Errorf("sent mail still pending: %v", mails)
	}
	// Marked again (the sender's journal folded after a crash): it stays
	// one attempt, sent when it was first marked.
	var before, after string
	attempts := 0
	read := func(at *string) {
		t.Helper()
		if err := s.View(ctx, func(tx *Tx) error {
			return tx.queryRow(`SELECT attempts, sent_at FROM outbox WHERE id = ?`, mails[0].ID).Scan(&attempts, at)
		}); err != nil {
			t.Fatal(err)
		}
	}
	read(&before)
	if err := s.MarkSent(ctx, mails[0].ID); err != nil {
		t.Fatal(err)
	}
	read(&after)
	if attempts != 1 || after != before {
		t.Errorf("marked sent twice: %d attempts, sent at %s then %s", attempts, before, after)
	}
	do(t, s, func(tx *Tx) error {
		first, err := tx.MarkReceived(Received{Channel: IRC, Key: "msgid:abc"})
		if err != nil {
			return err
		}
		second, err := tx.MarkReceived(Received{Channel: IRC, Key: "msgid:abc"})
		if !first || second {
			t.Errorf("MarkReceived twice = %v, %v; want true, false", first, second)
		}
		return err
	})
}

// TestViewDoesNotWaitForWriter: a reader runs while a write transaction
// holds the write lock.
func TestViewDoesNotWaitForWriter(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	do(t, s, func(tx *Tx) error { _, err := tx.EnsureEvent("ev", "Ev"); return err })
	inWrite, release := make(chan struct{}), make(chan struct{})
	go s.Do(ctx, func(tx *Tx) error {
		tx.AddPhaseChange(1, "voting", false, 0)
		close(inWrite)
		<-release
		return nil
	})
	<-inWrite
	defer close(release)
	readCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.View(readCtx, func(tx *Tx) error { _, err := tx.EventBySlug("ev"); return err }); err != nil {
		t.Fatalf("View while a write is open: %v", err)
	}
}

// TestConcurrentFirstQueries: more writers at once than the pool has
// connections, all running a query not prepared yet. Preparing it must not
// need a second connection while the transaction holds one: with every
// connection held by a writer waiting for the lock, that waited until
// busy_timeout failed them.
func TestConcurrentFirstQueries(t *testing.T) {
	s := openTest(t)
	var msgs []Message
	for i := range 8 {
		msgs = append(msgs, Message{Channel: Mail, Target: "a@test.local", Body: "x", DedupeKey: string(rune('a' + i))})
	}
	do(t, s, func(tx *Tx) error {
		for _, m := range msgs {
			if err := tx.Enqueue(m); err != nil {
				return err
			}
		}
		return nil
	})
	ids, err := s.Pending(context.Background(), Mail, 0, 100)
	if err != nil || len(ids) != len(msgs) {
		t.Fatalf("pending: %d, %v", len(ids), err)
	}
	start := time.Now()
	errs := make(chan error, len(ids))
	for _, m := range ids {
		go func() { errs <- s.MarkSent(context.Background(), m.ID) }()
	}
	for range ids {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("%d concurrent first MarkSent took %v", len(ids), d)
	}
}

// TestSavepoints: a failed savepoint undoes only its own writes, on its
// own or nested in another, and what succeeded is committed; a batch of
// savepoints in a row (PostgreSQL releases each with the next) ends as
// each said.
func TestSavepoints(t *testing.T) {
	s := openTest(t)
	fail := errors.New("refused")
	mark := func(tx *Tx, key string) error {
		_, err := tx.MarkReceived(Received{Channel: IRC, Key: key})
		return err
	}
	do(t, s, func(tx *Tx) error {
		for i := range 5 {
			err := tx.Savepoint(func() error {
				if err := mark(tx, fmt.Sprintf("row%d", i)); err != nil {
					return err
				}
				if i%2 == 1 {
					return fail
				}
				return nil
			})
			if (err != nil) != (i%2 == 1) {
				t.Errorf("savepoint %d: %v", i, err)
			}
		}
		// Nested: the inner fails, the outer goes on and succeeds.
		if err := tx.Savepoint(func() error {
			if err := mark(tx, "outer"); err != nil {
				return err
			}
			if err := tx.Savepoint(func() error {
				if err := mark(tx, "inner"); err != nil {
					return err
				}
				return fail
			}); !errors.Is(err, fail) {
				t.Errorf("inner savepoint: %v", err)
			}
			return mark(tx, "outer-after")
		}); err != nil {
			t.Errorf("outer savepoint: %v", err)
		}
		// Nested: the inner succeeds, the outer fails: both undone.
		if err := tx.Savepoint(func() error {
			if err := tx.Savepoint(func() error { return mark(tx, "inner2") }); err != nil {
				return err
			}
			return fail
		}); !errors.Is(err, fail) {
			t.Errorf("outer savepoint 2: %v", err)
		}
		return mark(tx, "last")
	})
	var got []string
	s.View(context.Background(), func(tx *Tx) error {
		rows, err := tx.query(`SELECT key FROM inbox ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			rows.Scan(&k)
			got = append(got, k)
		}
		return rows.Err()
	})
	want := []string{"row0", "row2", "row4", "outer", "outer-after", "last"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("committed %v, want %v", got, want)
	}
}

// TestNULInText: raw input with a NUL byte (a mail's body kept for the
// organizers) is stored on either engine; PostgreSQL, whose text holds
// no NUL, keeps U+FFFD in its place.
func TestNULInText(t *testing.T) {
	s := openTest(t)
	do(t, s, func(tx *Tx) error {
		_, err := tx.MarkReceived(Received{Channel: Mail, Key: "msgid:nul", Raw: "before\x00after"})
		return err
	})
	var raw string
	s.View(context.Background(), func(tx *Tx) error {
		return tx.queryRow(`SELECT raw FROM inbox WHERE key = 'msgid:nul'`).Scan(&raw)
	})
	want := "before\x00after"
	if s.Engine() == PostgreSQL {
		want = "before\uFFFDafter"
	}
	if raw != want {
		t.Errorf("stored %q, want %q", raw, want)
	}
}

// TestSavepointsKeepTheirMessages: a message queued before a savepoint
// stays when the savepoint fails, one queued inside it goes with it, and
// one queued inside a savepoint that wrote nothing else follows the same
// rule (PostgreSQL sends queued messages late, with the next statement).
func TestSavepointsKeepTheirMessages(t *testing.T) {
	s := openTest(t)
	fail := errors.New("refused")
	q := func(tx *Tx, body string) error {
		return tx.Enqueue(Message{Channel: IRC, Target: "#c", Body: body})
	}
	do(t, s, func(tx *Tx) error {
		q(tx, "before")
		tx.Savepoint(func() error { q(tx, "in failed, no write"); return fail })
		tx.Savepoint(func() error { q(tx, "in kept, no write"); return nil })
		tx.Savepoint(func() error {
			tx.MarkReceived(Received{Channel: IRC, Key: "k1"})
			q(tx, "in failed, wrote")
			return fail
		})
		q(tx, "between")
		tx.Savepoint(func() error {
			q(tx, "in kept, wrote first")
			_, err := tx.MarkReceived(Received{Channel: IRC, Key: "k2"})
			return err
		})
		tx.Savepoint(func() error {
			tx.Savepoint(func() error { q(tx, "nested failed"); return fail })
			return q(tx, "outer kept")
		})
		return q(tx, "last")
	})
	msgs, err := s.Pending(context.Background(), IRC, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Body)
	}
	want := []string{"before", "in kept, no write", "between", "in kept, wrote first", "outer kept", "last"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("queued %q, want %q", got, want)
	}
}

// TestRememberedReadsFollowWrites: a write transaction remembers the
// proposals and phases it read, and forgets them when it writes them or
// when a savepoint that may have written them is undone.
func TestRememberedReadsFollowWrites(t *testing.T) {
	s := openTest(t)
	do(t, s, func(tx *Tx) error {
		ev, err := tx.EnsureEvent("ev", "Ev")
		if err != nil {
			return err
		}
		p, err := tx.PersonByIdentity(IRCAccount, "alice", "")
		if err != nil {
			return err
		}
		if _, err := tx.AddProposal(Proposal{EventID: ev.ID, Kind: Session, Title: "T", AuthorID: p.ID}); err != nil {
			return err
		}
		status := func(want string) {
			t.Helper()
			got, err := tx.Proposal(ev.ID, 1)
			if err != nil || got.Status != want {
				t.Errorf("status %q (%v), want %q", got.Status, err, want)
			}
		}
		status(Proposed)
		got, _ := tx.Proposal(ev.ID, 1)
		got.Status = Accepted
		if err := tx.UpdateProposal(got); err != nil {
			return err
		}
		status(Accepted)
		tx.Savepoint(func() error {
			got.Status = Rejected
			if err := tx.UpdateProposal(got); err != nil {
				return err
			}
			status(Rejected)
			return errors.New("undo")
		})
		status(Accepted)
		open := func(want bool) {
			t.Helper()
			c, err := tx.LastPhaseChange(ev.ID, "voting")
			if (err == nil && c.Open != want) || (err != nil && want) {
				t.Errorf("voting open %v (%v), want %v", c.Open, err, want)
			}
		}
		open(false)
		if err := tx.AddPhaseChange(ev.ID, "voting", true, p.ID); err != nil {
			return err
		}
		open(true)
		tx.Savepoint(func() error {
			tx.AddPhaseChange(ev.ID, "voting", false, p.ID)
			open(false)
			return errors.New("undo")
		})
		open(true)
		return nil
	})
}

// TestReadAhead: what a batch read ahead is what it would have read, and
// stays so as the batch votes, takes votes back and adds people.
func TestReadAhead(t *testing.T) {
	s := openTest(t)
	var ev Event
	do(t, s, func(tx *Tx) error {
		var err error
		if ev, err = tx.EnsureEvent("ev", "Ev"); err != nil {
			return err
		}
		a, _ := tx.PersonByIdentity(IRCAccount, "alice", "")
		for i := range 3 {
			p, err := tx.AddProposal(Proposal{EventID: ev.ID, Kind: Session, Title: fmt.Sprint("T", i), AuthorID: a.ID})
			if err != nil {
				return err
			}
			if i < 2 {
				tx.AddVote(ev.ID, p.ID, a.ID)
			}
		}
		return nil
	})
	do(t, s, func(tx *Tx) error {
		if err := tx.ReadAhead(Ahead{Event: ev.ID, Accounts: []string{"alice", "bob"}, Phases: []string{"voting"}, Numbers: []int64{1, 2, 3, 99}}); err != nil {
			return err
		}
		a, err := tx.PersonByIdentity(IRCAccount, "alice", "")
		if err != nil || a.ID == 0 {
			t.Fatalf("alice: %+v, %v", a, err)
		}
		check := func(person int64, want string) {
			t.Helper()
			got, err := tx.VotesOf(ev.ID, person)
			if err != nil || fmt.Sprint(got) != want {
				t.Errorf("votes %v (%v), want %s", got, err, want)
			}
		}
		check(a.ID, "[1 2]")
		p3, _ := tx.Proposal(ev.ID, 3)
		tx.AddVote(ev.ID, p3.ID, a.ID)
		check(a.ID, "[1 2 3]")
		p1, _ := tx.Proposal(ev.ID, 1)
		tx.RemoveVote(p1.ID, a.ID)
		check(a.ID, "[2 3]")
		b, err := tx.PersonByIdentity(IRCAccount, "bob", "")
		if err != nil || b.ID == 0 || b.ID == a.ID {
			t.Fatalf("bob: %+v, %v", b, err)
		}
		again, _ := tx.PersonByIdentity(IRCAccount, "bob", "")
		if again.ID != b.ID {
			t.Errorf("bob is %d, then %d", b.ID, again.ID)
		}
		check(b.ID, "[]")
		tx.AddVote(ev.ID, p1.ID, b.ID)
		check(b.ID, "[1]")
		return nil
	})
	var people int
	s.View(context.Background(), func(tx *Tx) error {
		return tx.queryRow(`SELECT count(*) FROM identity WHERE value = 'bob'`).Scan(&people)
	})
	if people != 1 {
		t.Errorf("%d identities for bob, want 1", people)
	}
}

// TestVotesKnownAhead: a vote whose outcome the transaction knows from
// what it read ahead (on PostgreSQL, sent later with the commit) is
// stored as if asked for, listed in the database's order, undone with its
// savepoint, and a transaction that remembered wrongly fails rather than
// answer wrongly.
func TestVotesKnownAhead(t *testing.T) {
	s := openTest(t)
	var ev Event
	var alice Person
	var props []Proposal
	do(t, s, func(tx *Tx) error {
		var err error
		if ev, err = tx.EnsureEvent("ev", "Ev"); err != nil {
			return err
		}
		alice, _ = tx.PersonByIdentity(IRCAccount, "alice", "")
		for i := range 4 {
			p, err := tx.AddProposal(Proposal{EventID: ev.ID, Kind: Session, Title: fmt.Sprint("T", i), AuthorID: alice.ID})
			if err != nil {
				return err
			}
			props = append(props, p)
		}
		_, err = tx.AddVote(ev.ID, props[3].ID, alice.ID) // #4, at 09:00
		return err
	})
	s.Now = func() time.Time { return time.Date(2027, 3, 4, 9, 0, 0, 1500, time.UTC) }
	ahead := Ahead{Event: ev.ID, Accounts: []string{"alice"}, Phases: []string{"voting"}, Numbers: []int64{1, 2, 3, 4}}
	var inTx []int64
	do(t, s, func(tx *Tx) error {
		if err := tx.ReadAhead(ahead); err != nil {
			return err
		}
		for _, i := range []int{2, 0, 3} { // #3, #1, then #4 again
			added, err := tx.AddVote(ev.ID, props[i].ID, alice.ID)
			if err != nil {
				return err
			}
			if added != (i != 3) {
				t.Errorf("vote for #%d: added %v", i+1, added)
			}
		}
		var err error
		if inTx, err = tx.VotesOf(ev.ID, alice.ID); err != nil {
			return err
		}
		err = tx.Savepoint(func() error {
			if _, err := tx.AddVote(ev.ID, props[1].ID, alice.ID); err != nil {
				return err
			}
			return errors.New("undo #2")
		})
		if err == nil {
			t.Error("the savepoint did not fail")
		}
		after, err := tx.VotesOf(ev.ID, alice.ID)
		if fmt.Sprint(after) != fmt.Sprint(inTx) {
			t.Errorf("votes after the savepoint %v, before %v", after, inTx)
		}
		return err
	})
	var stored []int64
	s.View(context.Background(), func(tx *Tx) error {
		var err error
		stored, err = tx.VotesOf(ev.ID, alice.ID)
		return err
	})
	if fmt.Sprint(stored) != "[4 1 3]" || fmt.Sprint(inTx) != fmt.Sprint(stored) {
		t.Errorf("votes in the transaction %v, stored %v, want [4 1 3] both", inTx, stored)
	}

	// A memory that lies (no votes, where #1 is there) must not pass.
	err := s.Do(context.Background(), func(tx *Tx) error {
		if err := tx.ReadAhead(ahead); err != nil {
			return err
		}
		if tx.memo.votes != nil {
			tx.memo.votes[votesKey{ev.ID, alice.ID}] = []castVote{}
		}
		_, err := tx.AddVote(ev.ID, props[0].ID, alice.ID)
		return err
	})
	if s.Engine() == PostgreSQL && err == nil {
		t.Error("a vote made on a wrong memory was committed without complaint")
	}
}

// TestReceivedKnownAhead: whether a message was taken in before, read
// ahead, answers MarkReceived as the database would.
func TestReceivedKnownAhead(t *testing.T) {
	s := openTest(t)
	do(t, s, func(tx *Tx) error {
		_, err := tx.MarkReceived(Received{Channel: IRC, Key: "old"})
		return err
	})
	do(t, s, func(tx *Tx) error {
		if err := tx.ReadAhead(Ahead{Keys: []string{"old", "new", "new"}}); err != nil {
			return err
		}
		for _, c := range []struct {
			key   string
			first bool
		}{{"old", false}, {"new", true}, {"new", false}} {
			first, err := tx.MarkReceived(Received{Channel: IRC, Key: c.key})
			if err != nil {
				return err
			}
			if first != c.first {
				t.Errorf("%s: first %v, want %v", c.key, first, c.first)
			}
		}
		return tx.NoteOutcome("new", "noted", "raw")
	})
	var keys []string
	s.View(context.Background(), func(tx *Tx) error {
		rows, err := tx.query(`SELECT key || ':' || outcome FROM inbox ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			rows.Scan(&k)
			keys = append(keys, k)
		}
		return rows.Err()
	})
	if fmt.Sprint(keys) != "[old: new:noted]" {
		t.Errorf("inbox %v, want [old: new:noted]", keys)
	}
}
