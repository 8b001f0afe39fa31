package store

import (
	"fmt"
	"strings"
)

// A write transaction remembers what it read of a few tables, so that
// the commands of a batch (a vote storm: 64 commands in one transaction)
// do not each ask the database again: nothing else writes while it runs
// (the write lock). What it remembers goes when a statement writes to
// the table, or when a savepoint that may have written it is undone.
// On PostgreSQL every read is a round trip; ReadAhead fetches what the
// batch's commands will ask for in one.

// identityKey is an identity as looked up.
type identityKey struct {
	kind  IdentityKind
	value string
}

// votesKey is a person's votes in an event.
type votesKey struct{ event, person int64 }

// memo is what a write transaction remembers.
type memo struct {
	phases     map[phaseKey]phaseRead
	proposals  map[proposalKey]Proposal
	identities map[identityKey]Person // a zero Person: there is none
	votes      map[votesKey][]int64
}

// forget drops what the transaction remembers of the tables a write
// statement names.
func (tx *Tx) forget(query string) {
	m := &tx.memo
	if m.proposals != nil && (strings.Contains(query, "INTO proposal ") || strings.Contains(query, "UPDATE proposal ") ||
		strings.Contains(query, "FROM proposal ")) {
		m.proposals = nil
	}
	if m.phases != nil && strings.Contains(query, "phase_change") {
		m.phases = nil
	}
	if m.identities != nil && (strings.Contains(query, "identity") || strings.Contains(query, "person ")) {
		m.identities = nil
	}
	if m.votes != nil && (strings.Contains(query, "vote") || strings.Contains(query, "proposal ")) &&
		query != addVote && query != removeVote { // these forget their own person (vote.go)
		m.votes = nil
	}
}

// ReadAhead reads, in one round trip each, the people behind accounts
// (IRC) and their votes in event, for the commands of a batch to come.
// It changes nothing the transaction sees: it is only sooner.
func (tx *Tx) ReadAhead(event int64, accounts []string) error {
	if !tx.writing || len(accounts) < 2 {
		return nil
	}
	if tx.memo.identities == nil {
		tx.memo.identities = map[identityKey]Person{}
	}
	args := []any{IRCAccount}
	for _, a := range accounts {
		args = append(args, a)
		tx.memo.identities[identityKey{IRCAccount, a}] = Person{} // none, unless found
	}
	list := strings.Repeat("?, ", len(accounts)-1) + "?"
	rows, err := tx.query(`SELECT i.value, p.id, p.display_name FROM identity i JOIN person p ON p.id = i.person_id
		WHERE i.kind = ? AND i.value IN (`+list+`)`, args...)
	if err != nil {
		tx.memo.identities = nil
		return fmt.Errorf("read ahead: %w", err)
	}
	var people []any
	for rows.Next() {
		var value string
		var p Person
		if err := rows.Scan(&value, &p.ID, &p.DisplayName); err != nil {
			rows.Close()
			tx.memo.identities = nil
			return fmt.Errorf("read ahead: %w", err)
		}
		tx.memo.identities[identityKey{IRCAccount, value}] = p
		people = append(people, p.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		tx.memo.identities = nil
		return fmt.Errorf("read ahead: %w", err)
	}
	if len(people) == 0 {
		return nil
	}
	if tx.memo.votes == nil {
		tx.memo.votes = map[votesKey][]int64{}
	}
	for _, id := range people {
		tx.memo.votes[votesKey{event, id.(int64)}] = []int64{}
	}
	list = strings.Repeat("?, ", len(people)-1) + "?"
	rows, err = tx.query(`SELECT v.person_id, p.number FROM vote v JOIN proposal p ON p.id = v.proposal_id
		WHERE v.event_id = ? AND v.person_id IN (`+list+`) ORDER BY v.person_id, v.created_at, p.number`, append([]any{event}, people...)...)
	if err != nil {
		tx.memo.votes = nil
		return fmt.Errorf("read ahead: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var person, number int64
		if err := rows.Scan(&person, &number); err != nil {
			tx.memo.votes = nil
			return fmt.Errorf("read ahead: %w", err)
		}
		k := votesKey{event, person}
		tx.memo.votes[k] = append(tx.memo.votes[k], number)
	}
	if err := rows.Err(); err != nil {
		tx.memo.votes = nil
		return fmt.Errorf("read ahead: %w", err)
	}
	return nil
}
