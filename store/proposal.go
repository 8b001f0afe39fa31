package store

import (
	"fmt"
	"strings"
	"time"
)

// Proposal kinds.
const (
	Talk    = "talk"
	Session = "session"
)

// Proposal statuses.
const (
	Proposed  = "proposed"
	Accepted  = "accepted"
	Rejected  = "rejected"
	Withdrawn = "withdrawn"
)

// Proposal is a talk or an unconference session someone proposed.
type Proposal struct {
	ID        int64
	EventID   int64
	Number    int64 // what people type: #7
	Kind      string
	Title     string
	Abstract  string
	AuthorID  int64
	Status    string
	Reason    string // why it was rejected
	Votes     int    // filled by the listing methods and ProposalWithVotes
	CreatedAt time.Time
	UpdatedAt time.Time
}

// proposalColumns select a proposal with its vote count; counting walks
// the proposal's votes, so the single lookup on the hot path (a vote)
// selects 0 instead.
const (
	proposalFields  = `p.id, p.event_id, p.number, p.kind, p.title, p.abstract, p.author_id, p.status, p.reason, p.created_at, p.updated_at`
	proposalColumns = proposalFields + `, (SELECT count(*) FROM vote v WHERE v.proposal_id = p.id)`
)

type scanner interface{ Scan(dest ...any) error }

func scanProposal(row scanner) (Proposal, error) {
	var p Proposal
	err := row.Scan(&p.ID, &p.EventID, &p.Number, &p.Kind, &p.Title, &p.Abstract, &p.AuthorID, &p.Status, &p.Reason,
		&p.CreatedAt, &p.UpdatedAt, &p.Votes)
	return p, err
}

// AddProposal creates a proposal with the event's next number, its author
// as its first speaker.
func (tx *Tx) AddProposal(p Proposal) (Proposal, error) {
	if err := tx.queryRow(`SELECT COALESCE(MAX(number), 0) + 1 FROM proposal WHERE event_id = ?`, p.EventID).Scan(&p.Number); err != nil {
		return Proposal{}, fmt.Errorf("number proposal: %w", err)
	}
	p.Status, p.CreatedAt, p.UpdatedAt = Proposed, tx.now, tx.now
	id, err := tx.insert(`INSERT INTO proposal (event_id, number, kind, title, abstract, author_id, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.EventID, p.Number, p.Kind, p.Title, p.Abstract, p.AuthorID, p.Status, tx.now, tx.now)
	if err != nil {
		return Proposal{}, fmt.Errorf("add proposal: %w", err)
	}
	p.ID = id
	if _, err := tx.exec(`INSERT INTO speaker (proposal_id, person_id) VALUES (?, ?)`, p.ID, p.AuthorID); err != nil {
		return Proposal{}, fmt.Errorf("add speaker: %w", err)
	}
	return p, nil
}

// Proposal returns an event's proposal by number, or ErrNotFound. Its
// Votes is not counted: see ProposalWithVotes.
//
// A write transaction reads each proposal once until one is written (the
// commands of a batch vote for the same few); a view reads it every time.
func (tx *Tx) Proposal(eventID, number int64) (Proposal, error) {
	key := proposalKey{eventID, number}
	if p, ok := tx.memo.proposals[key]; ok {
		return p, nil
	}
	p, err := scanProposal(tx.queryRow(`SELECT `+proposalFields+`, 0 FROM proposal p WHERE p.event_id = ? AND p.number = ?`, eventID, number))
	if err == nil && tx.writing {
		if tx.memo.proposals == nil {
			tx.memo.proposals = map[proposalKey]Proposal{}
		}
		tx.memo.proposals[key] = p
	}
	return p, notFound(err)
}

type proposalKey struct{ event, number int64 }

// ProposalWithVotes is Proposal with its votes counted.
func (tx *Tx) ProposalWithVotes(eventID, number int64) (Proposal, error) {
	p, err := scanProposal(tx.queryRow(`SELECT `+proposalColumns+` FROM proposal p WHERE p.event_id = ? AND p.number = ?`, eventID, number))
	return p, notFound(err)
}

// ProposalFilter selects proposals for a listing.
type ProposalFilter struct {
	Kind     string   // "" for all
	AuthorID int64    // 0 for all
	Statuses []string // nil for all
}

// Proposals lists an event's proposals by number.
func (tx *Tx) Proposals(eventID int64, f ProposalFilter) ([]Proposal, error) {
	q := `SELECT ` + proposalColumns + ` FROM proposal p WHERE p.event_id = ?`
	args := []any{eventID}
	if f.Kind != "" {
		q += ` AND p.kind = ?`
		args = append(args, f.Kind)
	}
	if f.AuthorID != 0 {
		q += ` AND p.author_id = ?`
		args = append(args, f.AuthorID)
	}
	if len(f.Statuses) > 0 {
		q += ` AND p.status IN (?` + strings.Repeat(`, ?`, len(f.Statuses)-1) + `)`
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	return tx.listProposals(q+` ORDER BY p.number`, args...)
}

// TopProposals lists an event's proposals that can still be scheduled
// (proposed or accepted), most votes first, ties by lower number.
func (tx *Tx) TopProposals(eventID int64, kind string, limit int) ([]Proposal, error) {
	q := `SELECT ` + proposalColumns + ` FROM proposal p WHERE p.event_id = ? AND p.status IN ('proposed', 'accepted')`
	args := []any{eventID}
	if kind != "" {
		q += ` AND p.kind = ?`
		args = append(args, kind)
	}
	q += ` ORDER BY 12 DESC, p.number LIMIT ?`
	return tx.listProposals(q, append(args, limit)...)
}

func (tx *Tx) listProposals(q string, args ...any) ([]Proposal, error) {
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("list proposals: %w", err)
	}
	defer rows.Close()
	var ps []Proposal
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, fmt.Errorf("list proposals: %w", err)
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// UpdateProposal writes a proposal's title, abstract, status and reason.
func (tx *Tx) UpdateProposal(p Proposal) error {
	_, err := tx.exec(`UPDATE proposal SET title = ?, abstract = ?, status = ?, reason = ?, updated_at = ? WHERE id = ?`,
		p.Title, p.Abstract, p.Status, p.Reason, tx.now, p.ID)
	if err != nil {
		return fmt.Errorf("update proposal #%d: %w", p.Number, err)
	}
	return nil
}

// Speaker is a person speaking in a proposal, with the name to show.
type Speaker struct {
	PersonID int64
	Name     string
}

// SpeakersByNumber returns the speakers of every proposal of an event,
// keyed by proposal number.
func (tx *Tx) SpeakersByNumber(eventID int64) (map[int64][]Speaker, error) {
	rows, err := tx.query(`SELECT p.number, s.person_id, CASE WHEN pe.display_name != '' THEN pe.display_name
		ELSE COALESCE((SELECT value FROM identity WHERE person_id = pe.id AND kind = 'irc' ORDER BY id LIMIT 1), 'someone') END
		FROM speaker s JOIN proposal p ON p.id = s.proposal_id JOIN person pe ON pe.id = s.person_id
		WHERE p.event_id = ? ORDER BY p.number, s.rowid`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list speakers: %w", err)
	}
	defer rows.Close()
	out := map[int64][]Speaker{}
	for rows.Next() {
		var n int64
		var s Speaker
		if err := rows.Scan(&n, &s.PersonID, &s.Name); err != nil {
			return nil, err
		}
		out[n] = append(out[n], s)
	}
	return out, rows.Err()
}
