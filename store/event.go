package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Event is an event's row; the rest of an event lives in the config.
type Event struct {
	ID   int64
	Slug string
	Name string
}

// EnsureEvent returns the event with this slug, creating it or updating its
// name from the config.
func (tx *Tx) EnsureEvent(slug, name string) (Event, error) {
	if _, err := tx.exec(`INSERT INTO event (slug, name, created_at) VALUES (?, ?, ?)
		ON CONFLICT (slug) DO UPDATE SET name = excluded.name`, slug, name, tx.now); err != nil {
		return Event{}, fmt.Errorf("ensure event %s: %w", slug, err)
	}
	e := Event{Slug: slug, Name: name}
	if err := tx.queryRow(`SELECT id FROM event WHERE slug = ?`, slug).Scan(&e.ID); err != nil {
		return Event{}, fmt.Errorf("ensure event %s: %w", slug, err)
	}
	return e, nil
}

// PhaseChange is an organizer opening or closing a phase by hand.
type PhaseChange struct {
	Phase     string
	Open      bool
	PersonID  int64
	ChangedAt time.Time
}

// AddPhaseChange records an organizer opening or closing a phase.
func (tx *Tx) AddPhaseChange(eventID int64, phase string, open bool, personID int64) error {
	delete(tx.memo.phases, phaseKey{eventID, phase})
	if _, err := tx.exec(`INSERT INTO phase_change (event_id, phase, open, person_id, changed_at) VALUES (?, ?, ?, ?, ?)`,
		eventID, phase, open, personID, tx.now); err != nil {
		return fmt.Errorf("record phase change: %w", err)
	}
	return nil
}

// LastPhaseChange returns the latest manual change of a phase, or
// ErrNotFound.
//
// A transaction reads each phase from the database once: nothing else
// writes while it runs (the write lock; a view's snapshot), so the
// commands of a batch share the answer.
func (tx *Tx) LastPhaseChange(eventID int64, phase string) (PhaseChange, error) {
	key := phaseKey{eventID, phase}
	if got, ok := tx.memo.phases[key]; ok {
		return got.change, got.err
	}
	c := PhaseChange{Phase: phase}
	var person sql.NullInt64
	err := tx.queryRow(`SELECT open, person_id, changed_at FROM phase_change
		WHERE event_id = ? AND phase = ? ORDER BY changed_at DESC, id DESC LIMIT 1`, eventID, phase).
		Scan(&c.Open, &person, &c.ChangedAt)
	c.PersonID = person.Int64
	err = notFound(err)
	if tx.writing && (err == nil || errors.Is(err, ErrNotFound)) {
		if tx.memo.phases == nil {
			tx.memo.phases = map[phaseKey]phaseRead{}
		}
		tx.memo.phases[key] = phaseRead{c, err}
	}
	return c, err
}

type phaseKey struct {
	event int64
	phase string
}

type phaseRead struct {
	change PhaseChange
	err    error
}
