package store

import (
	"fmt"
	"time"
)

// Pin is where an organizer pinned a proposal.
type Pin struct {
	Number int64 // the proposal's number
	Room   string
	Start  time.Time
}

// SetPin pins a proposal to a room and slot start, replacing any pin.
func (tx *Tx) SetPin(proposalID int64, room string, start time.Time, personID int64) error {
	if _, err := tx.exec(`INSERT INTO pin (proposal_id, room, slot_start, person_id, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (proposal_id) DO UPDATE SET room = excluded.room, slot_start = excluded.slot_start,
		person_id = excluded.person_id, created_at = excluded.created_at`, proposalID, room, start.UTC(), personID, tx.now); err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	return nil
}

// RemovePin unpins a proposal, reporting whether it was pinned.
func (tx *Tx) RemovePin(proposalID int64) (bool, error) {
	res, err := tx.exec(`DELETE FROM pin WHERE proposal_id = ?`, proposalID)
	if err != nil {
		return false, fmt.Errorf("unpin: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Pins lists an event's pins.
func (tx *Tx) Pins(eventID int64) ([]Pin, error) {
	rows, err := tx.query(`SELECT p.number, pin.room, pin.slot_start FROM pin JOIN proposal p ON p.id = pin.proposal_id
		WHERE p.event_id = ? ORDER BY p.number`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list pins: %w", err)
	}
	defer rows.Close()
	var pins []Pin
	for rows.Next() {
		var p Pin
		if err := rows.Scan(&p.Number, &p.Room, &p.Start); err != nil {
			return nil, err
		}
		pins = append(pins, p)
	}
	return pins, rows.Err()
}

// Ballots returns, per person, the numbers of the proposals they voted for
// that can still be scheduled, ordered by person.
func (tx *Tx) Ballots(eventID int64) ([][]int64, error) {
	rows, err := tx.query(`SELECT v.person_id, p.number FROM vote v JOIN proposal p ON p.id = v.proposal_id
		WHERE v.event_id = ? AND p.status IN ('proposed', 'accepted') ORDER BY v.person_id, p.number`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list ballots: %w", err)
	}
	defer rows.Close()
	var ballots [][]int64
	last := int64(-1)
	for rows.Next() {
		var person, number int64
		if err := rows.Scan(&person, &number); err != nil {
			return nil, err
		}
		if person != last {
			ballots = append(ballots, nil)
			last = person
		}
		ballots[len(ballots)-1] = append(ballots[len(ballots)-1], number)
	}
	return ballots, rows.Err()
}

// Release is a frozen version of an event's schedule.
type Release struct {
	Version   int
	Note      string
	Schedule  []byte // JSON of schedule.Release
	CreatedAt time.Time
}

// NextReleaseVersion is the version the next release of an event gets.
func (tx *Tx) NextReleaseVersion(eventID int64) (int, error) {
	var v int
	err := tx.queryRow(`SELECT COALESCE(MAX(version), 0) + 1 FROM release WHERE event_id = ?`, eventID).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("next release version: %w", err)
	}
	return v, nil
}

// AddRelease stores a release; its version must be NextReleaseVersion's.
func (tx *Tx) AddRelease(eventID int64, r Release, personID int64) error {
	if _, err := tx.exec(`INSERT INTO release (event_id, version, note, schedule, person_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		eventID, r.Version, r.Note, string(r.Schedule), personID, tx.now); err != nil {
		return fmt.Errorf("add release: %w", err)
	}
	return nil
}

// LatestRelease returns an event's newest release, or ErrNotFound.
func (tx *Tx) LatestRelease(eventID int64) (Release, error) {
	var r Release
	var sched string
	err := tx.queryRow(`SELECT version, note, schedule, created_at FROM release WHERE event_id = ? ORDER BY version DESC LIMIT 1`, eventID).
		Scan(&r.Version, &r.Note, &sched, &r.CreatedAt)
	r.Schedule = []byte(sched)
	return r, notFound(err)
}
