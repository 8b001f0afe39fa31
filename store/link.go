package store

import (
	"database/sql"
	"fmt"
	"time"
)

// LinkCode is a one-time code that joins two identities into one person:
// given to the identity that asked (Kind, Value), it is said from the
// other. For an address (Email set) the code went to that address by
// mail, and is said back from the identity that asked.
type LinkCode struct {
	Code      string
	PersonID  int64
	Kind      IdentityKind
	Value     string
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
}

// AddLinkCode records a link code for a person's identity, valid until
// now+ttl. A new chat code replaces the person's unused ones, so only the
// latest works: they expire now (and stay, counted by LinkCodesSince).
func (tx *Tx) AddLinkCode(c LinkCode, ttl time.Duration) error {
	if c.Email == "" {
		if _, err := tx.exec(`UPDATE link_code SET expires_at = ? WHERE person_id = ? AND email = '' AND used_at IS NULL AND expires_at > ?`,
			tx.now, c.PersonID, tx.now); err != nil {
			return fmt.Errorf("replace link codes: %w", err)
		}
	}
	if _, err := tx.exec(`INSERT INTO link_code (code, person_id, kind, value, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.Code, c.PersonID, c.Kind, c.Value, c.Email, tx.now, tx.now.Add(ttl)); err != nil {
		return fmt.Errorf("add link code: %w", err)
	}
	return nil
}

// LinkCodeByCode returns a link code as it is, used or not, or
// ErrNotFound.
func (tx *Tx) LinkCodeByCode(code string) (LinkCode, error) {
	c := LinkCode{Code: code}
	var used sql.NullTime
	err := tx.queryRow(`SELECT person_id, kind, value, email, created_at, expires_at, used_at FROM link_code WHERE code = ?`, code).
		Scan(&c.PersonID, &c.Kind, &c.Value, &c.Email, &c.CreatedAt, &c.ExpiresAt, &used)
	c.UsedAt = used.Time
	return c, notFound(err)
}

// UseLinkCode marks a link code used; it reports false if it was already.
func (tx *Tx) UseLinkCode(code string) (bool, error) {
	res, err := tx.exec(`UPDATE link_code SET used_at = ? WHERE code = ? AND used_at IS NULL`, tx.now, code)
	if err != nil {
		return false, fmt.Errorf("use link code: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// LinkCodesSince lists when a person was given link codes since since,
// oldest first: what their rate limit counts.
func (tx *Tx) LinkCodesSince(personID int64, since time.Time) ([]time.Time, error) {
	return tx.times(`SELECT created_at FROM link_code WHERE person_id = ? AND created_at > ? ORDER BY created_at`, personID, since.UTC())
}

// Unlink makes an identity a person of its own again, with nothing: what
// was done through it stays with the person it leaves. It returns the new
// person's id.
func (tx *Tx) Unlink(kind IdentityKind, value string) (int64, error) {
	if _, err := tx.IdentityOf(kind, value); err != nil {
		return 0, err
	}
	name := "" // an address's owner gives a name by mail
	if kind != Email {
		name = value
	}
	pid, err := tx.insert(`INSERT INTO person (display_name, created_at) VALUES (?, ?)`, name, tx.now)
	if err != nil {
		return 0, fmt.Errorf("unlink: %w", err)
	}
	if _, err := tx.exec(`UPDATE identity SET person_id = ? WHERE kind = ? AND value = ?`, pid, kind, value); err != nil {
		return 0, fmt.Errorf("unlink: %w", err)
	}
	return pid, nil
}
