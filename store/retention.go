package store

import (
	"fmt"
	"strings"
	"time"
)

// blankOutbox empties an outbox row of what it said and to whom. Rows
// are emptied rather than deleted: the senders read the outbox by id,
// and SQLite would give a deleted last id to the next message.
const blankOutbox = `target = '', addressee = '', account = '', body = '', short = ''`

// Purge is what a retention run purges.
type Purge struct {
	// Events are the events whose retention ran out: their registrations'
	// addresses, confirmation mails, personal feed tokens and the lines
	// of notes outside the minutes go.
	Events []int64
	// All is set once every event's retention ran out: then every
	// address, the mail kept for organizers and the mail sent to people
	// go too, but for mail to Keep (the list: the wrap-up stays).
	All  bool
	Keep []string
}

// Purge runs a retention purge and returns how many rows it changed or
// deleted, by table. Running it again changes nothing more.
func (tx *Tx) Purge(p Purge) (map[string]int64, error) {
	out := map[string]int64{}
	run := func(table, q string, args ...any) error {
		res, err := tx.exec(q, args...)
		if err != nil {
			return fmt.Errorf("purge %s: %w", table, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			out[table] += n
		}
		return nil
	}
	if err := run("privacy_token", `DELETE FROM privacy_token WHERE expires_at < ?`, tx.now.Add(-24*time.Hour)); err != nil {
		return out, err
	}
	if err := run("link_code", `DELETE FROM link_code WHERE expires_at < ?`, tx.now.Add(-24*time.Hour)); err != nil {
		return out, err
	}
	// The answer to a forget names where it went; once sent, it goes too.
	if err := run("outbox", `UPDATE outbox SET `+blankOutbox+` WHERE dedupe_key >= ? AND dedupe_key < ? AND sent_at IS NOT NULL AND target != ''`,
		ForgottenKeyPrefix, ForgottenKeyPrefix[:len(ForgottenKeyPrefix)-1]+";"); err != nil {
		return out, err
	}
	for _, ev := range p.Events {
		for _, s := range []struct{ table, q string }{
			{"registration", `UPDATE registration SET email = '', bounce = '' WHERE event_id = ? AND (email != '' OR bounce != '')`},
			{"confirmation_mail", `DELETE FROM confirmation_mail WHERE event_id = ?`},
			{"feed_token", `DELETE FROM feed_token WHERE event_id = ?`},
			{"meeting_line", `DELETE FROM meeting_line WHERE text NOT LIKE '#%' AND meeting_id IN (SELECT id FROM meeting WHERE event_id = ?)`},
		} {
			if err := run(s.table, s.q, ev); err != nil {
				return out, err
			}
		}
	}
	if !p.All {
		return out, nil
	}
	keep := []any{""}
	for _, k := range p.Keep {
		keep = append(keep, strings.ToLower(k))
	}
	keepIn := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(keep)), ", ") + ")"
	for _, s := range []struct {
		table, q string
		args     []any
	}{
		{"identity", `DELETE FROM identity WHERE kind = 'email'`, nil},
		{"inbox", `UPDATE inbox SET sender = '', raw = '' WHERE sender != '' OR raw != ''`, nil},
		{"outbox", `UPDATE outbox SET ` + blankOutbox + ` WHERE channel = 'mail' AND sent_at IS NOT NULL AND lower(target) NOT IN ` + keepIn, keep},
		{"mail_refusal", `DELETE FROM mail_refusal`, nil},
		{"mail_answers", `DELETE FROM mail_answers`, nil},
		{"link_code", `DELETE FROM link_code`, nil},
		{"delivery_failure", `DELETE FROM delivery_failure`, nil},
		{"coc_report", `UPDATE coc_report SET contact = '' WHERE contact LIKE '%@%'`, nil},
	} {
		if err := run(s.table, s.q, s.args...); err != nil {
			return out, err
		}
	}
	return out, nil
}
