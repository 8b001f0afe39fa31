package store

import "fmt"

// Received is a message taken in: an IRC command or a mail.
type Received struct {
	Channel string // IRC or Mail
	// Key identifies the message across redeliveries: an IRC msgid, an IMAP
	// UIDVALIDITY/UID, a Message-ID.
	Key     string
	Sender  string
	Outcome string // what came of it, for organizers
	Raw     string // kept for bad input only
}

// MarkReceived records that a message was processed, in the transaction
// that carries out its effect. It reports false if the key was processed
// before: the caller then rolls back and does nothing.
func (tx *Tx) MarkReceived(r Received) (bool, error) {
	res, err := tx.exec(`INSERT INTO inbox (channel, key, sender, outcome, raw, processed_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, r.Channel, r.Key, r.Sender, r.Outcome, r.Raw, tx.now)
	if err != nil {
		return false, fmt.Errorf("record received message: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
