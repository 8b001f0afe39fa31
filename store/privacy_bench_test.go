package store

import (
	"context"
	"fmt"
	"testing"
)

// benchPeople fills a store with n people, each with an account, a
// confirmed address, a vote and a registration, and 4n outbox rows (a
// reply to each, and channel lines naming them): the size of a large
// event's database for what PersonData and Forget scan.
func benchPeople(b *testing.B, n int) (*Store, []int64) {
	b.Helper()
	s, err := Open(context.Background(), b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var ids []int64
	for start := 0; start < n; start += 500 {
		err := s.Do(context.Background(), func(tx *Tx) error {
			ev, err := tx.EnsureEvent("bench", "Bench")
			if err != nil {
				return err
			}
			prop, err := tx.Proposal(ev.ID, 1)
			if err == ErrNotFound {
				p, err := tx.PersonByIdentity(IRCAccount, "author", "author")
				if err != nil {
					return err
				}
				prop, err = tx.AddProposal(Proposal{EventID: ev.ID, Kind: Talk, Title: "t", AuthorID: p.ID})
				if err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			for i := start; i < min(start+500, n); i++ {
				acct := fmt.Sprintf("person%05d", i)
				p, err := tx.PersonByIdentity(IRCAccount, acct, acct)
				if err != nil {
					return err
				}
				ids = append(ids, p.ID)
				addr := acct + "@example.org"
				if err := tx.ConfirmEmail(p.ID, addr); err != nil {
					return err
				}
				if _, err := tx.AddVote(ev.ID, prop.ID, p.ID); err != nil {
					return err
				}
				if err := tx.SaveRegistration(&Registration{EventID: ev.ID, PersonID: p.ID, Email: addr, Status: Pending, Token: "tok-" + acct}); err != nil {
					return err
				}
				for _, m := range []Message{
					{Channel: IRC, Target: acct, Account: acct, Body: "voted for #1"},
					{Channel: Mail, Target: addr, Body: "Subject: confirm\r\n\r\nhello"},
					{Channel: IRC, Target: "#bench", Body: acct + ": voted for #1 (3 left)"},
					{Channel: IRC, Target: "#bench", Body: "welcome " + acct},
				} {
					if err := tx.Enqueue(m); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s, ids
}

func BenchmarkPersonData(b *testing.B) {
	s, ids := benchPeople(b, 5000)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		err := s.View(context.Background(), func(tx *Tx) error {
			_, err := tx.PersonData(ids[i%len(ids)])
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForget(b *testing.B) {
	s, ids := benchPeople(b, 5000)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i >= len(ids) {
			b.Fatal("ran out of people to forget")
		}
		err := s.Do(context.Background(), func(tx *Tx) error {
			_, err := tx.Forget(ids[i])
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
