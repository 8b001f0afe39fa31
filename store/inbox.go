package store

import (
	"fmt"
	"time"
)

// Received is a message taken in: an IRC command or a mail.
type Received struct {
	Channel string // IRC, Mail or Matrix
	// Key identifies the message across redeliveries: an IRC msgid, an IMAP
	// UIDVALIDITY/UID, a Message-ID.
	Key     string
	Sender  string
	Outcome string // what came of it, for organizers; "" when carried out
	Raw     string // kept for bad input only
	// ProcessedAt is set when read back.
	ProcessedAt time.Time
}

// MarkReceived records that a message was processed, in the transaction
// that carries out its effect. It reports false if the key was processed
// before: the caller then rolls back and does nothing.
//
// On PostgreSQL, when the transaction read ahead whether the key was
// seen, the answer is known and the INSERT goes with the next message.
func (tx *Tx) MarkReceived(r Received) (bool, error) {
	if seen, ok := tx.memo.received[r.Key]; ok && tx.pg != nil {
		if seen {
			return false, nil
		}
		tx.wrote = true
		tx.memo.received[r.Key] = true
		tx.pg.deferExec(1, "inbox", `INSERT INTO inbox (channel, key, sender, outcome, raw, processed_at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.Channel, r.Key, r.Sender, r.Outcome, r.Raw, tx.now)
		return true, nil
	}
	res, err := tx.exec(`INSERT INTO inbox (channel, key, sender, outcome, raw, processed_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, r.Channel, r.Key, r.Sender, r.Outcome, r.Raw, tx.now)
	if err != nil {
		return false, fmt.Errorf("record received message: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// NoteOutcome records what came of a message already marked received
// whose command failed, and the message itself, for the organizers.
func (tx *Tx) NoteOutcome(key, outcome, raw string) error {
	if _, err := tx.exec(`UPDATE inbox SET outcome = ?, raw = ? WHERE key = ?`, outcome, raw, key); err != nil {
		return fmt.Errorf("record outcome of a message: %w", err)
	}
	return nil
}

// Mails lists the mail taken in, oldest first, once each (not under its
// Message-ID as well); with problems, only the mail that was not carried
// out (kept with its text).
func (tx *Tx) Mails(problems bool) ([]Received, error) {
	q := `SELECT channel, key, sender, outcome, raw, processed_at FROM inbox
		WHERE channel = 'mail' AND key NOT LIKE 'msgid:%'`
	if problems {
		q += ` AND raw != ''`
	}
	rows, err := tx.query(q + ` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list mail received: %w", err)
	}
	defer rows.Close()
	var out []Received
	for rows.Next() {
		var r Received
		if err := rows.Scan(&r.Channel, &r.Key, &r.Sender, &r.Outcome, &r.Raw, &r.ProcessedAt); err != nil {
			return nil, fmt.Errorf("list mail received: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
