package store

import (
	"fmt"
	"slices"
	"strings"
)

// Merged is what MergePerson did beyond moving rows.
type Merged struct {
	// Dropped counts, by table, the rows of the person merged away that
	// were dropped as the same as one the other person had (a vote for
	// the same proposal, a second registration for one event).
	Dropped map[string]int64
	// FreedSeats are the events where both people held a seat: one is
	// kept, the other is free for the waitlist.
	FreedSeats []int64
}

// mergeRule is how MergePerson moves one person column: the statements
// run in order, each with (into, from) as its arguments, then the
// arguments listed by extra. A statement starting with DELETE counts
// what it drops.
type mergeRule []string

// mergeRules hold a rule for every column of PersonColumns
// ("table.column"). TestMergeRulesCoverPersonColumns fails for a person
// column without one, and MergePerson refuses to run.
var mergeRules = map[string]mergeRule{
	// Deleted last, once nothing refers to it.
	"person.id":              nil,
	"identity.person_id":     {`UPDATE identity SET person_id = ? WHERE person_id = ?`},
	"phase_change.person_id": {`UPDATE phase_change SET person_id = ? WHERE person_id = ?`},
	"proposal.author_id":     {`UPDATE proposal SET author_id = ? WHERE author_id = ?`},
	// One speaker per proposal, one vote per proposal, one check-in per
	// event: what both had is kept once.
	"speaker.person_id": {
		`UPDATE speaker SET person_id = ? WHERE person_id = ? AND NOT EXISTS
			(SELECT 1 FROM speaker s WHERE s.proposal_id = speaker.proposal_id AND s.person_id = ?)`,
		`DELETE FROM speaker WHERE person_id = ?`},
	"vote.person_id": {
		`UPDATE vote SET person_id = ? WHERE person_id = ? AND NOT EXISTS
			(SELECT 1 FROM vote v WHERE v.proposal_id = vote.proposal_id AND v.person_id = ?)`,
		`DELETE FROM vote WHERE person_id = ?`},
	"checkin.person_id": {
		`UPDATE checkin SET person_id = ? WHERE person_id = ? AND NOT EXISTS
			(SELECT 1 FROM checkin c WHERE c.event_id = checkin.event_id AND c.person_id = ?)`,
		`DELETE FROM checkin WHERE person_id = ?`},
	"checkin.by_id": {`UPDATE checkin SET by_id = ? WHERE by_id = ?`},
	// Registrations are merged by mergeRegistrations first; what is left
	// is one per event.
	"registration.person_id": {`UPDATE registration SET person_id = ? WHERE person_id = ?`},
	// Two pledges are two promises: both stay.
	"pledge.person_id":          {`UPDATE pledge SET person_id = ? WHERE person_id = ?`},
	"meeting.started_by":        {`UPDATE meeting SET started_by = ? WHERE started_by = ?`},
	"pin.person_id":             {`UPDATE pin SET person_id = ? WHERE person_id = ?`},
	"release.person_id":         {`UPDATE release SET person_id = ? WHERE person_id = ?`},
	"pending_release.person_id": {`UPDATE pending_release SET person_id = ? WHERE person_id = ?`},
	// Both calendar links keep working, and show the one person's sessions.
	"feed_token.person_id":        {`UPDATE feed_token SET person_id = ? WHERE person_id = ?`},
	"confirmation_mail.person_id": {`UPDATE confirmation_mail SET person_id = ? WHERE person_id = ?`},
	"room_mark.person_id":         {`UPDATE room_mark SET person_id = ? WHERE person_id = ?`},
	// A code to forget, or a link to one's data, was given to one
	// identity for what it was then: it must not reach the other's data.
	"privacy_token.person_id": {`DELETE FROM privacy_token WHERE person_id = ?`},
	"coc_report.reporter_id":  {`UPDATE coc_report SET reporter_id = ? WHERE reporter_id = ?`},
	// The other identity's codes were for a person that is no more.
	"link_code.person_id": {`DELETE FROM link_code WHERE person_id = ? AND used_at IS NULL`,
		`UPDATE link_code SET person_id = ? WHERE person_id = ?`},
}

// MergePerson moves everything of person from onto person into and
// deletes from: one person, whichever way they came. Where both have a
// row that must be unique (a vote for one proposal, a registration for
// one event, a check-in) into keeps one; nothing is counted twice.
func (tx *Tx) MergePerson(from, into int64) (Merged, error) {
	m := Merged{Dropped: map[string]int64{}}
	if from == into {
		return m, nil
	}
	if err := tx.mergeRegistrations(from, into, &m); err != nil {
		return m, err
	}
	for _, table := range Tables {
		for _, col := range PersonColumns[table] {
			rule, ok := mergeRules[table+"."+col]
			if !ok {
				return m, fmt.Errorf("merge person %d into %d: no rule for %s.%s", from, into, table, col)
			}
			for _, q := range rule {
				args := []any{into, from}
				switch {
				case strings.HasPrefix(q, "DELETE"):
					args = []any{from}
				case strings.Contains(q, "NOT EXISTS"):
					args = append(args, into)
				}
				res, err := tx.exec(q, args...)
				if err != nil {
					return m, fmt.Errorf("merge person %d into %d: %s.%s: %w", from, into, table, col, err)
				}
				if n, _ := res.RowsAffected(); n > 0 && strings.HasPrefix(q, "DELETE") {
					m.Dropped[table] += n
				}
			}
		}
	}
	if _, err := tx.exec(`DELETE FROM person WHERE id = ?`, from); err != nil {
		return m, fmt.Errorf("merge person %d into %d: %w", from, into, err)
	}
	return m, nil
}

// registrationRank orders statuses when two registrations of one event
// meet in a merge: the better one is kept.
var registrationRank = map[string]int{Registered: 5, Offered: 4, Waitlisted: 3, Pending: 2, Cancelled: 1}

// mergeRegistrations leaves one registration per event between from and
// into: the better by status, into's when they are alike. A second seat
// is freed.
func (tx *Tx) mergeRegistrations(from, into int64, m *Merged) error {
	regs, err := tx.registrations(`SELECT `+registrationColumns+` FROM registration WHERE person_id = ?`, from)
	if err != nil {
		return err
	}
	for _, r := range regs {
		mine, err := tx.Registration(r.EventID, into)
		if err == ErrNotFound {
			continue // moved with the rest
		} else if err != nil {
			return err
		}
		drop := r
		if registrationRank[r.Status] > registrationRank[mine.Status] {
			drop = mine
		}
		if _, err := tx.exec(`DELETE FROM registration WHERE id = ?`, drop.ID); err != nil {
			return fmt.Errorf("merge registration: %w", err)
		}
		m.Dropped["registration"]++
		if (drop.Status == Registered || drop.Status == Offered) && !slices.Contains(m.FreedSeats, drop.EventID) {
			m.FreedSeats = append(m.FreedSeats, drop.EventID)
		}
	}
	return nil
}
