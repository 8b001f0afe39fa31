package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Outbox (and inbox) channels.
const (
	IRC    = "irc"
	Mail   = "mail"
	Matrix = "matrix"
)

// TopicKind marks an IRC outbox message that sets its channel's topic.
const TopicKind = "topic"

// ReactionKind marks a Matrix outbox message that is a reaction: Body is
// its key (an emoji), on the event ReplyTo.
const ReactionKind = "reaction"

// Message is one message waiting in (or sent from) the outbox.
type Message struct {
	ID      int64
	Channel string // IRC, Mail or Matrix
	Target  string // IRC channel or nick, an email address, or a Matrix room ID
	// Addressee is the nick an IRC reply in a channel is for; Body then
	// starts with it.
	Addressee string
	// Account, for a message to a nick, is the services account it is for:
	// it goes out only while that nick is logged in to it (a secret must
	// not reach whoever took the nick since).
	Account string
	// Kind is "" (a message) or TopicKind (set the channel's topic).
	Kind string
	Body string
	// Short is a compact form of Body without the addressee, used when
	// several acknowledgements to one target are coalesced into one line.
	Short string
	// HTML is a Matrix message's formatted body ("" for the plain one only).
	HTML string
	// ReplyTo and Thread make a Matrix message a reply to an event, in a
	// thread with that root (Kind ReactionKind: the event reacted to).
	ReplyTo string
	Thread  string
	// DedupeKey, if set, makes a second message with the same key a no-op.
	DedupeKey string
	NotBefore time.Time
	Attempts  int
	CreatedAt time.Time
}

// outboxColumns are what EnqueueOnce writes, in its arguments' order.
const outboxColumns = `(channel, target, addressee, account, kind, body, short, html, reply_to, thread, dedupe_key, created_at, not_before)`

// Enqueue adds a message to the outbox. A message whose DedupeKey is already
// there is dropped, so retried work never sends twice.
func (tx *Tx) Enqueue(m Message) error {
	_, err := tx.EnqueueOnce(m)
	return err
}

// EnqueueOnce is Enqueue, reporting whether the message was new.
func (tx *Tx) EnqueueOnce(m Message) (bool, error) {
	var key, notBefore any
	if m.DedupeKey != "" {
		key = m.DedupeKey
	}
	if !m.NotBefore.IsZero() {
		notBefore = m.NotBefore.UTC()
	}
	kind := m.Kind
	if kind == "" {
		kind = "privmsg"
	}
	if tx.pg != nil && key == nil {
		// Nothing can make it a duplicate: it goes with the next message
		// to the server (postgres.go).
		tx.wrote = true
		tx.pg.defer_(m.Channel, m.Target, m.Addressee, m.Account, kind, m.Body, m.Short, m.HTML, m.ReplyTo, m.Thread, key, tx.now, notBefore)
		return true, nil
	}
	res, err := tx.exec(`INSERT INTO outbox `+outboxColumns+` VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`,
		m.Channel, m.Target, m.Addressee, m.Account, kind, m.Body, m.Short, m.HTML, m.ReplyTo, m.Thread, key, tx.now, notBefore)
	if err != nil {
		return false, fmt.Errorf("enqueue %s message: %w", m.Channel, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Pending returns up to limit unsent messages of a channel that are due,
// oldest first, with ids above after.
func (s *Store) Pending(ctx context.Context, channel string, after int64, limit int) ([]Message, error) {
	now := s.Now().UTC()
	var out []Message
	// A read: it must not take the write lock from the intake.
	err := s.View(ctx, func(tx *Tx) error {
		rows, err := tx.query(`SELECT id, channel, target, addressee, account, CASE kind WHEN 'privmsg' THEN '' ELSE kind END, body, short,
			html, reply_to, thread, COALESCE(dedupe_key, ''), not_before, attempts, created_at
			FROM outbox WHERE channel = ? AND sent_at IS NULL AND id > ? AND (not_before IS NULL OR not_before <= ?)
			ORDER BY id LIMIT ?`, channel, after, now, limit)
		if err != nil {
			return fmt.Errorf("list outbox: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var m Message
			var nb sql.NullTime
			if err := rows.Scan(&m.ID, &m.Channel, &m.Target, &m.Addressee, &m.Account, &m.Kind, &m.Body, &m.Short, &m.HTML, &m.ReplyTo, &m.Thread, &m.DedupeKey, &nb, &m.Attempts, &m.CreatedAt); err != nil {
				return err
			}
			m.NotBefore = nb.Time
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}

// MarkSent marks messages as sent; one marked already is left as it is.
//
// On PostgreSQL it is one statement outside the write lock: marking rows
// sent touches no rule of the bot, and the rows' own locks order it
// against a claim (which rechecks sent_at). A sender's mark then does not
// wait for a batch of commands to commit, so the window in which a kill
// makes a line go out twice is this one round trip.
func (s *Store) MarkSent(ctx context.Context, ids ...int64) error {
	if s.engine == PostgreSQL {
		ctx, cancel := context.WithTimeout(ctx, queryTimeout)
		defer cancel()
		if _, err := s.db.ExecContext(ctx, `UPDATE outbox SET sent_at = $1, attempts = attempts + 1 WHERE id = ANY($2) AND sent_at IS NULL`,
			s.Now().UTC(), ids); err != nil {
			return s.checkWrite(fmt.Errorf("mark sent: %w", err))
		}
		s.health.ok()
		return nil
	}
	return s.Do(ctx, func(tx *Tx) error {
		for _, id := range ids {
			if _, err := tx.exec(`UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ? AND sent_at IS NULL`, tx.now, id); err != nil {
				return fmt.Errorf("mark sent: %w", err)
			}
		}
		return nil
	})
}

// MarkDropped gives up on a message for good, recording why.
func (s *Store) MarkDropped(ctx context.Context, id int64, reason string) error {
	return s.Do(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`UPDATE outbox SET sent_at = ?, last_error = ? WHERE id = ? AND sent_at IS NULL`, tx.now, "dropped: "+reason, id); err != nil {
			return fmt.Errorf("mark dropped: %w", err)
		}
		return nil
	})
}

// MarkFailed records a failed attempt and when to try again.
func (s *Store) MarkFailed(ctx context.Context, id int64, cause error, retryAt time.Time) error {
	return s.Do(ctx, func(tx *Tx) error {
		_, err := tx.exec(`UPDATE outbox SET attempts = attempts + 1, last_error = ?, not_before = ? WHERE id = ?`,
			cause.Error(), retryAt.UTC(), id)
		if err != nil {
			return fmt.Errorf("mark failed: %w", err)
		}
		return nil
	})
}

// SetOutboxBody replaces what is left to send of a message sent in parts.
func (tx *Tx) SetOutboxBody(id int64, body string) error {
	if _, err := tx.exec(`UPDATE outbox SET body = ?, short = '' WHERE id = ?`, body, id); err != nil {
		return fmt.Errorf("update outbox body: %w", err)
	}
	return nil
}
