package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ConfirmationMail is a confirmation mail sent to an address.
type ConfirmationMail struct {
	EventID  int64
	Email    string
	PersonID int64 // who asked
	// Account and Nick are the IRC account and nick the request came
	// from ("" by mail): the requester is told there if the mail bounces.
	Account, Nick string
	Token         string
	SentAt        time.Time
}

// AddConfirmationMail records a confirmation mail being sent now.
func (tx *Tx) AddConfirmationMail(c ConfirmationMail) error {
	_, err := tx.exec(`INSERT INTO confirmation_mail (event_id, email, person_id, account, nick, token, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.EventID, c.Email, c.PersonID, c.Account, c.Nick, c.Token, tx.now)
	if err != nil {
		return fmt.Errorf("record confirmation mail: %w", err)
	}
	return nil
}

// LastConfirmationMail returns the latest confirmation mail sent to email
// for an event since since, or ErrNotFound.
func (tx *Tx) LastConfirmationMail(eventID int64, email string, since time.Time) (ConfirmationMail, error) {
	var c ConfirmationMail
	err := tx.queryRow(`SELECT event_id, email, person_id, account, nick, token, sent_at FROM confirmation_mail
		WHERE email = ? AND event_id = ? AND sent_at > ? ORDER BY sent_at DESC, id DESC LIMIT 1`, email, eventID, since.UTC()).
		Scan(&c.EventID, &c.Email, &c.PersonID, &c.Account, &c.Nick, &c.Token, &c.SentAt)
	return c, notFound(err)
}

// ConfirmationMailsBy lists the times of the confirmation mails a person
// asked for since since, oldest first.
func (tx *Tx) ConfirmationMailsBy(personID int64, since time.Time) ([]time.Time, error) {
	return tx.times(`SELECT sent_at FROM confirmation_mail WHERE person_id = ? AND sent_at > ? ORDER BY sent_at`, personID, since.UTC())
}

// ConfirmationMailByToken returns who asked for the confirmation mail
// carrying token, or ErrNotFound.
func (tx *Tx) ConfirmationMailByToken(token string) (ConfirmationMail, error) {
	var c ConfirmationMail
	err := tx.queryRow(`SELECT event_id, email, person_id, account, nick, token, sent_at FROM confirmation_mail
		WHERE token = ? ORDER BY sent_at DESC, id DESC LIMIT 1`, token).
		Scan(&c.EventID, &c.Email, &c.PersonID, &c.Account, &c.Nick, &c.Token, &c.SentAt)
	return c, notFound(err)
}

// RefuseMail records that the owner of email wants no more confirmation
// mails.
func (tx *Tx) RefuseMail(email string) error {
	if _, err := tx.exec(`INSERT INTO mail_refusal (email, at) VALUES (?, ?) ON CONFLICT (email) DO NOTHING`, email, tx.now); err != nil {
		return fmt.Errorf("record refusal of %s: %w", email, err)
	}
	return nil
}

// AllowMail lifts a refusal: the address itself asked for mail again.
func (tx *Tx) AllowMail(email string) error {
	if _, err := tx.exec(`DELETE FROM mail_refusal WHERE email = ?`, email); err != nil {
		return fmt.Errorf("lift refusal of %s: %w", email, err)
	}
	return nil
}

// MailRefused reports when the owner of email refused confirmation mails,
// or the zero time.
func (tx *Tx) MailRefused(email string) (time.Time, error) {
	var at time.Time
	err := tx.queryRow(`SELECT at FROM mail_refusal WHERE email = ?`, email).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return at, err
}

// SetBounce records why mail to a pending registration's address could
// not be delivered, for every pending registration with that address (or
// only the one with token, if given).
func (tx *Tx) SetBounce(email, token, reason string) ([]Registration, error) {
	q := `SELECT ` + registrationColumns + ` FROM registration WHERE email = ? AND status = 'pending'`
	args := []any{email}
	if token != "" {
		q += ` AND token = ?`
		args = append(args, token)
	}
	regs, err := tx.registrations(q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	for i := range regs {
		if _, err := tx.exec(`UPDATE registration SET bounce = ?, updated_at = ? WHERE id = ?`, reason, tx.now, regs[i].ID); err != nil {
			return nil, fmt.Errorf("record bounce: %w", err)
		}
		regs[i].Bounce = reason
	}
	return regs, nil
}

// ConfirmationMailsTo lists the times of the confirmation mails sent to
// email for an event since since, oldest first.
func (tx *Tx) ConfirmationMailsTo(eventID int64, email string, since time.Time) ([]time.Time, error) {
	return tx.times(`SELECT sent_at FROM confirmation_mail WHERE email = ? AND event_id = ? AND sent_at > ? ORDER BY sent_at`, email, eventID, since.UTC())
}

// times runs a query of one time column.
func (tx *Tx) times(query string, args ...any) ([]time.Time, error) {
	rows, err := tx.query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("list confirmation mails: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		out = append(out, at)
	}
	return out, rows.Err()
}

// BouncedRegistrations counts an event's pending registrations whose
// confirmation mail bounced.
func (tx *Tx) BouncedRegistrations(eventID int64) (int, error) {
	var n int
	err := tx.queryRow(`SELECT count(*) FROM registration WHERE event_id = ? AND status = 'pending' AND bounce != ''`, eventID).Scan(&n)
	return n, err
}
