package store

import (
	"fmt"
	"time"
)

// PendingRelease is a schedule release asked for and not made yet.
type PendingRelease struct {
	ID       int64
	EventID  int64
	PersonID int64 // the organizer who asked
	Note     string
	// ReplyTo is the caller's record of whom to answer, kept as it is.
	ReplyTo []byte
	// Attempts counts the starts that took it up after a crash.
	Attempts  int
	CreatedAt time.Time
}

// AddPendingRelease records a release asked for, in the transaction of
// the command that asked, and returns its id.
func (tx *Tx) AddPendingRelease(p PendingRelease) (int64, error) {
	id, err := tx.insert(`INSERT INTO pending_release (event_id, person_id, note, reply_to, created_at) VALUES (?, ?, ?, ?, ?)`,
		p.EventID, p.PersonID, p.Note, string(p.ReplyTo), tx.now)
	if err != nil {
		return 0, fmt.Errorf("record pending release: %w", err)
	}
	return id, nil
}

// PendingReleases lists the releases not made yet, oldest first.
func (tx *Tx) PendingReleases() ([]PendingRelease, error) {
	rows, err := tx.query(`SELECT id, event_id, person_id, note, reply_to, attempts, created_at FROM pending_release ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list pending releases: %w", err)
	}
	defer rows.Close()
	var out []PendingRelease
	for rows.Next() {
		var p PendingRelease
		var replyTo string
		if err := rows.Scan(&p.ID, &p.EventID, &p.PersonID, &p.Note, &replyTo, &p.Attempts, &p.CreatedAt); err != nil {
			return nil, fmt.Errorf("list pending releases: %w", err)
		}
		p.ReplyTo = []byte(replyTo)
		out = append(out, p)
	}
	return out, rows.Err()
}

// RetryPendingRelease counts one more attempt at a pending release and
// returns how many there were, this one included.
func (tx *Tx) RetryPendingRelease(id int64) (int, error) {
	var n int
	err := tx.queryRow(`UPDATE pending_release SET attempts = attempts + 1 WHERE id = ? RETURNING attempts`, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count attempt at pending release %d: %w", id, notFound(err))
	}
	return n, nil
}

// DonePendingRelease removes a pending release, made or given up, and
// reports whether it was still there: false means another attempt
// finished it first.
func (tx *Tx) DonePendingRelease(id int64) (bool, error) {
	res, err := tx.exec(`DELETE FROM pending_release WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("remove pending release: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
