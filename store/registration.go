package store

import (
	"database/sql"
	"fmt"
	"time"
)

// Registration statuses.
const (
	Pending    = "pending"    // waiting for the address to be confirmed
	Registered = "registered" // has a seat
	Waitlisted = "waitlisted" // waiting for a seat
	Offered    = "offered"    // offered a freed seat until OfferedUntil
	Cancelled  = "cancelled"
)

// Registration is a person's registration for an event.
type Registration struct {
	ID           int64
	EventID      int64
	PersonID     int64
	Email        string
	Status       string
	Number       int64 // place in the registration order; 0 until registered
	Token        string
	OfferedUntil time.Time
	// Bounce is why the confirmation mail could not be delivered; ""
	// unless it bounced. Asking again clears it.
	Bounce string
	// WaitSeq is the registration's ticket in the waitlist queue, taken
	// (NextWaitSeq) when it joins the waitlist; 0 before.
	WaitSeq   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

const registrationColumns = `id, event_id, person_id, email, status, COALESCE(number, 0), token, offered_until, bounce, created_at, updated_at, COALESCE(wait_seq, 0)`

func scanRegistration(row scanner) (Registration, error) {
	var r Registration
	var until sql.NullTime
	err := row.Scan(&r.ID, &r.EventID, &r.PersonID, &r.Email, &r.Status, &r.Number, &r.Token, &until, &r.Bounce, &r.CreatedAt, &r.UpdatedAt, &r.WaitSeq)
	r.OfferedUntil = until.Time
	return r, notFound(err)
}

// Registration returns a person's registration for an event, or
// ErrNotFound.
func (tx *Tx) Registration(eventID, personID int64) (Registration, error) {
	return scanRegistration(tx.queryRow(`SELECT `+registrationColumns+` FROM registration WHERE event_id = ? AND person_id = ?`, eventID, personID))
}

// RegistrationByToken returns the registration a confirmation token is
// for, or ErrNotFound.
func (tx *Tx) RegistrationByToken(token string) (Registration, error) {
	return scanRegistration(tx.queryRow(`SELECT `+registrationColumns+` FROM registration WHERE token = ?`, token))
}

// SaveRegistration creates a registration (ID 0) or updates it.
func (tx *Tx) SaveRegistration(r *Registration) error {
	var until any
	if !r.OfferedUntil.IsZero() {
		until = r.OfferedUntil.UTC()
	}
	var number, waitSeq any
	if r.Number != 0 {
		number = r.Number
	}
	if r.WaitSeq != 0 {
		waitSeq = r.WaitSeq
	}
	if r.ID == 0 {
		r.CreatedAt = tx.now
		var err error
		r.ID, err = tx.insert(`INSERT INTO registration (event_id, person_id, email, status, number, token, offered_until, bounce, created_at, updated_at, wait_seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.EventID, r.PersonID, r.Email, r.Status, number, r.Token, until, r.Bounce, tx.now, tx.now, waitSeq)
		if err != nil {
			return fmt.Errorf("add registration: %w", err)
		}
		return nil
	}
	r.UpdatedAt = tx.now
	if _, err := tx.exec(`UPDATE registration SET person_id = ?, email = ?, status = ?, number = ?, token = ?, offered_until = ?, bounce = ?, updated_at = ?, wait_seq = ?
		WHERE id = ?`, r.PersonID, r.Email, r.Status, number, r.Token, until, r.Bounce, tx.now, waitSeq, r.ID); err != nil {
		return fmt.Errorf("update registration: %w", err)
	}
	return nil
}

// NextRegistrationNumber is the number the next seat of an event gets.
func (tx *Tx) NextRegistrationNumber(eventID int64) (int64, error) {
	var n int64
	err := tx.queryRow(`SELECT COALESCE(MAX(number), 0) + 1 FROM registration WHERE event_id = ?`, eventID).Scan(&n)
	return n, err
}

// RegistrationCounts counts an event's registrations by status.
func (tx *Tx) RegistrationCounts(eventID int64) (map[string]int, error) {
	rows, err := tx.query(`SELECT status, count(*) FROM registration WHERE event_id = ? GROUP BY status`, eventID)
	if err != nil {
		return nil, fmt.Errorf("count registrations: %w", err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		counts[s] = n
	}
	return counts, rows.Err()
}

// NextWaitSeq is the ticket the next registration to join an event's
// waitlist takes: after every ticket given, so it queues last.
func (tx *Tx) NextWaitSeq(eventID int64) (int64, error) {
	var n int64
	err := tx.queryRow(`SELECT COALESCE(MAX(wait_seq), 0) + 1 FROM registration WHERE event_id = ?`, eventID).Scan(&n)
	return n, err
}

// WaitlistPosition is where a waiting registration stands in its event's
// waitlist: 1 for the next to be offered a seat.
func (tx *Tx) WaitlistPosition(r Registration) (int, error) {
	var n int
	err := tx.queryRow(`SELECT count(*) + 1 FROM registration WHERE event_id = ? AND status = 'waitlisted'
		AND (wait_seq < ? OR (wait_seq = ? AND id < ?))`, r.EventID, r.WaitSeq, r.WaitSeq, r.ID).Scan(&n)
	return n, err
}

// FirstWaitlisted returns the first in an event's waitlist queue, or
// ErrNotFound.
func (tx *Tx) FirstWaitlisted(eventID int64) (Registration, error) {
	return scanRegistration(tx.queryRow(`SELECT `+registrationColumns+` FROM registration
		WHERE event_id = ? AND status = 'waitlisted' ORDER BY wait_seq, id LIMIT 1`, eventID))
}

// RegistrationByNumber returns an event's registration with a seat
// number, or ErrNotFound.
func (tx *Tx) RegistrationByNumber(eventID, number int64) (Registration, error) {
	return scanRegistration(tx.queryRow(`SELECT `+registrationColumns+` FROM registration WHERE event_id = ? AND number = ?`, eventID, number))
}

// ExpiredOffers lists an event's offers whose time ran out by now.
func (tx *Tx) ExpiredOffers(eventID int64, now time.Time) ([]Registration, error) {
	return tx.registrations(`SELECT `+registrationColumns+` FROM registration
		WHERE event_id = ? AND status = 'offered' AND offered_until <= ? ORDER BY offered_until, id`, eventID, now.UTC())
}

// Registrations lists an event's registrations in the order they came.
func (tx *Tx) Registrations(eventID int64) ([]Registration, error) {
	return tx.registrations(`SELECT `+registrationColumns+` FROM registration WHERE event_id = ? ORDER BY created_at, id`, eventID)
}

func (tx *Tx) registrations(q string, args ...any) ([]Registration, error) {
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("list registrations: %w", err)
	}
	defer rows.Close()
	var out []Registration
	for rows.Next() {
		r, err := scanRegistration(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
