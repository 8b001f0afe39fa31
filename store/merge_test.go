package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMergeRulesCoverPersonColumns: every column that refers to a person
// (PersonColumns, which TestPersonColumns holds to the schema) has a
// merge rule, and no rule is left for a column that is gone. A new table
// with a person column fails here until MergePerson knows what to do
// with it.
func TestMergeRulesCoverPersonColumns(t *testing.T) {
	want := map[string]bool{}
	for _, table := range Tables {
		for _, col := range PersonColumns[table] {
			key := table + "." + col
			want[key] = true
			if _, ok := mergeRules[key]; !ok {
				t.Errorf("no merge rule for %s: MergePerson would leave the person merged away there", key)
			}
		}
	}
	for key := range mergeRules {
		if !want[key] {
			t.Errorf("merge rule for %s, which is not a person column", key)
		}
	}
}

// TestMergePerson merges zed (a Matrix user with a row in every table
// that can hold a person) into zelda (populatePrivacy's), who did much
// the same: afterwards nothing refers to zed, and what both did counts
// once.
func TestMergePerson(t *testing.T) {
	s := openTest(t)
	zelda, _ := populatePrivacy(t, s)
	var zed, ev int64
	var shared, other Proposal
	do(t, s, func(tx *Tx) error {
		e, err := tx.EventBySlug("copy-day")
		if err != nil {
			return err
		}
		ev = e.ID
		p, err := tx.PersonByIdentity(MatrixUser, "@zed:example.org", "@zed:example.org")
		if err != nil {
			return err
		}
		zed = p.ID
		props, err := tx.Proposals(ev, ProposalFilter{})
		if err != nil {
			return err
		}
		for _, p := range props {
			if p.AuthorID == zelda {
				shared = p
			} else if p.Status != Rejected {
				other = p
			}
		}
		if shared.ID == 0 || other.ID == 0 {
			return fmt.Errorf("no proposals to vote for in %+v", props)
		}
		steps := []func() error{
			func() error { return tx.AddPhaseChange(ev, "cfp", true, zed) },
			func() error {
				_, err := tx.AddProposal(Proposal{EventID: ev, Kind: Session, Title: "Linking identities", AuthorID: zed})
				return err
			},
			// zed speaks in zelda's talk too: one speaker after the merge.
			func() error {
				_, err := tx.exec(`INSERT INTO speaker (proposal_id, person_id) VALUES (?, ?)`, shared.ID, zed)
				return err
			},
			func() error { _, err := tx.AddVote(ev, shared.ID, zed); return err },
			func() error { _, err := tx.AddVote(ev, other.ID, zed); return err },
			func() error {
				return tx.SaveRegistration(&Registration{EventID: ev, PersonID: zed, Email: "zed@example.org", Status: Registered, Number: 3, Token: "tok-zed"})
			},
			func() error {
				return tx.SavePledge(&Pledge{EventID: ev, PersonID: zed, Kind: PledgeMoney, Amount: 1_000, Currency: "EUR", Status: Pledged})
			},
			func() error {
				return tx.StartMeeting(&Meeting{EventID: ev, Series: "zed", Title: "zed's", Channel: "!zed:example.org", StartedBy: zed, StartedAt: tx.Now()})
			},
			func() error { _, err := tx.CheckIn(ev, zed, zed); return err },
			func() error { return tx.SetPin(other.ID, "Room B", tx.Now(), zed) },
			func() error {
				return tx.AddRelease(ev, Release{Version: 3, Schedule: []byte(`{"items":[]}`)}, zed)
			},
			func() error {
				_, err := tx.AddPendingRelease(PendingRelease{EventID: ev, PersonID: zed, ReplyTo: []byte(`{}`)})
				return err
			},
			func() error { _, err := tx.FeedToken(ev, zed); return err },
			func() error {
				return tx.AddConfirmationMail(ConfirmationMail{EventID: ev, Email: "zed@example.org", PersonID: zed, Token: "tok-zed"})
			},
			func() error { return tx.MarkRoom(ev, "Room B", RoomFull, zed) },
			func() error { _, err := tx.NewPrivacyToken(TokenMyData, zed, time.Hour); return err },
			func() error {
				return tx.AddReport(&Report{EventID: ev, ReporterID: zed, Via: Matrix, Contact: "@zed:example.org", Text: "a noisy room"})
			},
			func() error {
				return tx.AddLinkCode(LinkCode{Code: "ZED0-0001", PersonID: zed, Kind: MatrixUser, Value: "@zed:example.org"}, 10*time.Minute)
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	refs := func(person int64) map[string]int64 {
		n := map[string]int64{}
		do(t, s, func(tx *Tx) error {
			for _, table := range Tables {
				for _, col := range PersonColumns[table] {
					var c int64
					if err := tx.queryRow(`SELECT count(*) FROM `+quoteIdent(table)+` WHERE `+quoteIdent(col)+` = ?`, person).Scan(&c); err != nil {
						return err
					}
					n[table+"."+col] = c
				}
			}
			return nil
		})
		return n
	}
	// The fixture is only as good as its reach: zed has a row wherever a
	// person can be referred to.
	before := refs(zed)
	for key, n := range before {
		if n == 0 {
			t.Errorf("zed has no row in %s: give him one here, so the merge is tested there", key)
		}
	}
	zeldaBefore := refs(zelda)
	type tally struct{ votesShared, votes, registered, pledged, checkins, speakersShared int64 }
	read := func() (n tally) {
		do(t, s, func(tx *Tx) error {
			return tx.queryRow(`SELECT (SELECT count(*) FROM vote WHERE proposal_id = ?), (SELECT count(*) FROM vote),
				(SELECT count(*) FROM registration WHERE status = 'registered'), (SELECT CAST(COALESCE(sum(amount), 0) AS BIGINT) FROM pledge),
				(SELECT count(*) FROM checkin), (SELECT count(*) FROM speaker WHERE proposal_id = ?)`, shared.ID, shared.ID).
				Scan(&n.votesShared, &n.votes, &n.registered, &n.pledged, &n.checkins, &n.speakersShared)
		})
		return n
	}
	was := read()

	var m Merged
	do(t, s, func(tx *Tx) (err error) { m, err = tx.MergePerson(zed, zelda); return err })

	for key, n := range refs(zed) {
		if n != 0 {
			t.Errorf("%s still refers to zed %d times after the merge", key, n)
		}
	}
	after := refs(zelda)
	for key, n := range zeldaBefore {
		if after[key] < n {
			t.Errorf("zelda lost rows in %s: %d, had %d", key, after[key], n)
		}
	}
	now := read()
	// Each of the two voted for zelda's talk: one vote. zed's other
	// vote is now zelda's. Two seats become one; both pledges stand.
	want := tally{votesShared: was.votesShared - 1, votes: was.votes - 1, registered: was.registered - 1,
		pledged: was.pledged, checkins: was.checkins - 1, speakersShared: was.speakersShared - 1}
	if now != want {
		t.Errorf("after the merge %+v, want %+v (before %+v)", now, want, was)
	}
	if !slices.Equal(m.FreedSeats, []int64{ev}) {
		t.Errorf("freed seats %v, want [%d]", m.FreedSeats, ev)
	}
	for table, n := range map[string]int64{"vote": 1, "registration": 1, "checkin": 1, "speaker": 1} {
		if m.Dropped[table] != n {
			t.Errorf("dropped %d %s rows, want %d (%v)", m.Dropped[table], table, n, m.Dropped)
		}
	}
	do(t, s, func(tx *Tx) error {
		id, err := tx.IdentityOf(MatrixUser, "@zed:example.org")
		if err != nil || id.PersonID != zelda {
			t.Errorf("@zed is person %d (%v), want zelda %d", id.PersonID, err, zelda)
		}
		if _, err := tx.PersonByID(zed); err != ErrNotFound {
			t.Errorf("zed's person is still there: %v", err)
		}
		votes, err := tx.VotesOf(ev, zelda)
		if err != nil || !slices.Contains(votes, other.Number) || !slices.Contains(votes, shared.Number) || len(votes) != 2 {
			t.Errorf("zelda's votes %v (%v), want #%d and #%d", votes, err, shared.Number, other.Number)
		}
		r, err := tx.Registration(ev, zelda)
		if err != nil || r.Status != Registered || !strings.HasPrefix(r.Token, "tok-z") {
			t.Errorf("zelda's registration %+v (%v)", r, err)
		}
		return nil
	})
	// A link to zed's data does not open zelda's.
	if after["privacy_token.person_id"] != zeldaBefore["privacy_token.person_id"] {
		t.Errorf("zelda has %d privacy tokens after the merge, had %d: zed's came along", after["privacy_token.person_id"], zeldaBefore["privacy_token.person_id"])
	}
}
