package store

import (
	"database/sql"
	"fmt"
	"strings"
	"time"
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

// castVote is one of a person's votes as remembered: the proposal's
// number and when the vote was cast, the order VotesOf lists them in.
type castVote struct {
	number int64
	at     time.Time
}

// memo is what a write transaction remembers.
type memo struct {
	phases     map[phaseKey]phaseRead
	proposals  map[proposalKey]Proposal
	identities map[identityKey]Person // a zero Person: there is none
	votes      map[votesKey][]castVote
	// received holds message keys known to be in the inbox (true) or
	// not (false).
	received map[string]bool
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
	if m.received != nil && strings.Contains(query, "FROM inbox") {
		m.received = nil
	}
	if m.votes != nil && (strings.Contains(query, "vote") || strings.Contains(query, "proposal ")) &&
		query != addVote && query != addNewVote && query != removeVote { // these keep their own person right (vote.go)
		m.votes = nil
	}
}

// Ahead is what the commands of a batch will ask of one event: the people
// behind IRC accounts, their votes, the manual changes of phases,
// proposals by number, and whether their messages' keys were seen.
type Ahead struct {
	Event    int64
	Accounts []string
	Phases   []string
	Numbers  []int64
	Keys     []string
}

// ReadAhead reads what the commands to come will ask for, so that they
// need not ask. It changes nothing the transaction sees: it is only
// sooner. On PostgreSQL, where every read is a round trip, the reads go
// in one message, with BEGIN when it has not gone yet; on SQLite, where
// a read costs microseconds, only a batch's people and votes are read
// (each then in one query rather than one per command).
func (tx *Tx) ReadAhead(a Ahead) error {
	if !tx.writing {
		return nil
	}
	if tx.store.engine != PostgreSQL {
		if len(a.Accounts) < 2 {
			return nil
		}
		a.Phases, a.Numbers, a.Keys = nil, nil, nil
	}
	var reads []read
	reads = append(reads, tx.readIdentities(a.Event, a.Accounts)...)
	reads = append(reads, tx.readVotes(a.Event, a.Accounts)...)
	reads = append(reads, tx.readPhases(a.Event, a.Phases)...)
	reads = append(reads, tx.readProposals(a.Event, a.Numbers)...)
	reads = append(reads, tx.readReceived(a.Keys)...)
	if len(reads) == 0 {
		return nil
	}
	if err := tx.readAll(reads); err != nil {
		// Half-read is not known: ask again when needed.
		tx.memo = memo{}
		return fmt.Errorf("read ahead: %w", err)
	}
	return nil
}

// readAll runs reads: on PostgreSQL in one message with what waits to be
// sent, on SQLite one after the other.
func (tx *Tx) readAll(reads []read) error {
	if tx.pg != nil {
		_, err := tx.pg.send(tx.ctx, "", nil, reads...)
		return err
	}
	for _, r := range reads {
		rows, err := tx.query(r.query, r.args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := r.scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// readIdentities reads the people behind accounts; each found starts
// with no votes in event, until readVotes' rows come.
func (tx *Tx) readIdentities(event int64, accounts []string) []read {
	if len(accounts) == 0 {
		return nil
	}
	if tx.memo.identities == nil {
		tx.memo.identities = map[identityKey]Person{}
	}
	if tx.memo.votes == nil {
		tx.memo.votes = map[votesKey][]castVote{}
	}
	args := []any{IRCAccount}
	for _, a := range accounts {
		args = append(args, a)
		tx.memo.identities[identityKey{IRCAccount, a}] = Person{} // none, unless found
	}
	return []read{{
		query: `SELECT i.value, p.id, p.display_name FROM identity i JOIN person p ON p.id = i.person_id
		WHERE i.kind = ? AND i.value IN (` + list(len(accounts)) + `)`,
		args: args,
		scan: func(row scanner) error {
			var value string
			var p Person
			if err := row.Scan(&value, &p.ID, &p.DisplayName); err != nil {
				return err
			}
			tx.memo.identities[identityKey{IRCAccount, value}] = p
			tx.memo.votes[votesKey{event, p.ID}] = []castVote{}
			return nil
		},
	}}
}

// readVotes reads the votes in event of the people behind accounts, after
// readIdentities.
func (tx *Tx) readVotes(event int64, accounts []string) []read {
	if len(accounts) == 0 {
		return nil
	}
	args := []any{event, IRCAccount}
	for _, a := range accounts {
		args = append(args, a)
	}
	votes := read{
		// The people by a subquery, so that both engines look their
		// votes up by (event, person) rather than go through the event's.
		query: `SELECT v.person_id, p.number, v.created_at FROM vote v JOIN proposal p ON p.id = v.proposal_id
		WHERE v.event_id = ? AND v.person_id IN (SELECT person_id FROM identity WHERE kind = ? AND value IN (` + list(len(accounts)) + `))
		ORDER BY v.person_id, v.created_at, p.number`,
		args: args,
		scan: func(row scanner) error {
			var person int64
			var v castVote
			if err := row.Scan(&person, &v.number, &v.at); err != nil {
				return err
			}
			k := votesKey{event, person}
			tx.memo.votes[k] = append(tx.memo.votes[k], v)
			return nil
		},
	}
	return []read{votes}
}

// readPhases reads the latest manual change of each of phases.
func (tx *Tx) readPhases(event int64, phases []string) []read {
	if len(phases) == 0 {
		return nil
	}
	if tx.memo.phases == nil {
		tx.memo.phases = map[phaseKey]phaseRead{}
	}
	args := []any{event}
	for _, ph := range phases {
		args = append(args, ph)
		tx.memo.phases[phaseKey{event, ph}] = phaseRead{PhaseChange{Phase: ph}, ErrNotFound}
	}
	seen := map[string]bool{}
	return []read{{
		query: `SELECT phase, open, person_id, changed_at FROM phase_change
		WHERE event_id = ? AND phase IN (` + list(len(phases)) + `) ORDER BY changed_at DESC, id DESC`,
		args: args,
		scan: func(row scanner) error {
			var c PhaseChange
			var open int
			var person sql.NullInt64
			if err := row.Scan(&c.Phase, &open, &person, &c.ChangedAt); err != nil {
				return err
			}
			if seen[c.Phase] {
				return nil // an older change
			}
			seen[c.Phase] = true
			c.Open, c.PersonID = open != 0, person.Int64
			tx.memo.phases[phaseKey{event, c.Phase}] = phaseRead{c, nil}
			return nil
		},
	}}
}

// readProposals reads an event's proposals by number; those not found
// are left to be asked for (and not found) again.
func (tx *Tx) readProposals(event int64, numbers []int64) []read {
	if len(numbers) == 0 {
		return nil
	}
	if tx.memo.proposals == nil {
		tx.memo.proposals = map[proposalKey]Proposal{}
	}
	args := []any{event}
	for _, n := range numbers {
		args = append(args, n)
	}
	return []read{{
		query: `SELECT ` + proposalFields + `, 0 FROM proposal p WHERE p.event_id = ? AND p.number IN (` + list(len(numbers)) + `)`,
		args:  args,
		scan: func(row scanner) error {
			p, err := scanProposal(row)
			if err != nil {
				return err
			}
			tx.memo.proposals[proposalKey{event, p.Number}] = p
			return nil
		},
	}}
}

// readReceived reads which of keys were taken in before.
func (tx *Tx) readReceived(keys []string) []read {
	if len(keys) == 0 {
		return nil
	}
	if tx.memo.received == nil {
		tx.memo.received = map[string]bool{}
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
		tx.memo.received[k] = false
	}
	return []read{{
		query: `SELECT key FROM inbox WHERE key IN (` + list(len(keys)) + `)`,
		args:  args,
		scan: func(row scanner) error {
			var key string
			if err := row.Scan(&key); err != nil {
				return err
			}
			tx.memo.received[key] = true
			return nil
		},
	}}
}

// list is "?, ?, ?" for n values.
func list(n int) string {
	return strings.Repeat("?, ", n-1) + "?"
}
