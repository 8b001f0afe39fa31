package store

import (
	"fmt"
	"time"
)

// Amendment is a change to an event's latest release made without a new
// release: a released proposal taken out (withdrawn or rejected) or put
// back (accepted again).
type Amendment struct {
	ID      int64
	EventID int64
	Version int   // the release it changes
	Number  int64 // the proposal's number
	Out     bool  // taken out; false: put back
	Reason  string
	At      time.Time
}

// AddAmendment records an amendment of the release a.Version, made now.
func (tx *Tx) AddAmendment(a Amendment) error {
	if _, err := tx.exec(`INSERT INTO amendment (event_id, version, number, out, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		a.EventID, a.Version, a.Number, a.Out, a.Reason, tx.now); err != nil {
		return fmt.Errorf("add amendment: %w", err)
	}
	return nil
}

// Amendments lists the amendments of an event's releases, in the order
// they were made; version 0 means of every release.
func (tx *Tx) Amendments(eventID int64, version int) ([]Amendment, error) {
	rows, err := tx.query(`SELECT id, event_id, version, number, out, reason, created_at FROM amendment
		WHERE event_id = ? AND (? = 0 OR version = ?) ORDER BY id`, eventID, version, version)
	if err != nil {
		return nil, fmt.Errorf("list amendments: %w", err)
	}
	defer rows.Close()
	var out []Amendment
	for rows.Next() {
		var a Amendment
		if err := rows.Scan(&a.ID, &a.EventID, &a.Version, &a.Number, &a.Out, &a.Reason, &a.At); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ScheduleRevision names the state of an event's published schedule: the
// latest release version (0: none) and the latest amendment's id (0:
// none). Either changes whenever what the schedule shows does.
func (tx *Tx) ScheduleRevision(eventID int64) (version int, amendment int64, err error) {
	err = tx.queryRow(`SELECT (SELECT COALESCE(MAX(version), 0) FROM release WHERE event_id = ?),
		(SELECT COALESCE(MAX(id), 0) FROM amendment WHERE event_id = ?)`, eventID, eventID).Scan(&version, &amendment)
	if err != nil {
		return 0, 0, fmt.Errorf("schedule revision: %w", err)
	}
	return version, amendment, nil
}
