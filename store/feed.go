package store

import (
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"fmt"
	"strings"
)

// FeedToken returns a person's personal feed token for an event, making
// one if they have none (or revoked theirs).
func (tx *Tx) FeedToken(eventID, personID int64) (string, error) {
	var token string
	err := tx.queryRow(`SELECT token FROM feed_token WHERE event_id = ? AND person_id = ? AND revoked_at IS NULL
		ORDER BY created_at DESC LIMIT 1`, eventID, personID).Scan(&token)
	if err == nil {
		return token, nil
	}
	if err != sql.ErrNoRows {
		return "", fmt.Errorf("look up feed token: %w", err)
	}
	return tx.newFeedToken(eventID, personID)
}

// RevokeFeedToken revokes a person's feed tokens for an event and returns
// a new one: the old address stops working.
func (tx *Tx) RevokeFeedToken(eventID, personID int64) (string, error) {
	if _, err := tx.exec(`UPDATE feed_token SET revoked_at = ? WHERE event_id = ? AND person_id = ? AND revoked_at IS NULL`,
		tx.now, eventID, personID); err != nil {
		return "", fmt.Errorf("revoke feed token: %w", err)
	}
	return tx.newFeedToken(eventID, personID)
}

func (tx *Tx) newFeedToken(eventID, personID int64) (string, error) {
	b := make([]byte, 20) // 160 bits: unguessable
	rand.Read(b)
	token := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	if _, err := tx.exec(`INSERT INTO feed_token (token, event_id, person_id, created_at) VALUES (?, ?, ?, ?)`,
		token, eventID, personID, tx.now); err != nil {
		return "", fmt.Errorf("add feed token: %w", err)
	}
	return token, nil
}

// FeedOwner returns the person and event a live feed token belongs to, or
// ErrNotFound (also for a revoked token).
func (tx *Tx) FeedOwner(token string) (eventID, personID int64, err error) {
	err = tx.queryRow(`SELECT event_id, person_id FROM feed_token WHERE token = ? AND revoked_at IS NULL`, token).
		Scan(&eventID, &personID)
	return eventID, personID, notFound(err)
}

// PersonalNumbers returns the proposal numbers that belong in a person's
// feed: those they voted for, speak in, or pinned.
func (tx *Tx) PersonalNumbers(eventID, personID int64) ([]int64, error) {
	nums, err := tx.int64s(`SELECT p.number FROM proposal p WHERE p.event_id = ? AND (
			EXISTS (SELECT 1 FROM vote v WHERE v.proposal_id = p.id AND v.person_id = ?)
			OR EXISTS (SELECT 1 FROM speaker s WHERE s.proposal_id = p.id AND s.person_id = ?)
			OR EXISTS (SELECT 1 FROM pin WHERE pin.proposal_id = p.id AND pin.person_id = ?))
		ORDER BY p.number`, eventID, personID, personID, personID)
	if err != nil {
		return nil, fmt.Errorf("list personal feed: %w", err)
	}
	return nums, nil
}

// Releases returns every release of an event, oldest first.
func (tx *Tx) Releases(eventID int64) ([]Release, error) {
	rows, err := tx.query(`SELECT version, note, schedule, created_at FROM release WHERE event_id = ? ORDER BY version`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	defer rows.Close()
	var out []Release
	for rows.Next() {
		var r Release
		var sched string
		if err := rows.Scan(&r.Version, &r.Note, &sched, &r.CreatedAt); err != nil {
			return nil, err
		}
		r.Schedule = []byte(sched)
		out = append(out, r)
	}
	return out, rows.Err()
}

// EventBySlug returns the event with a slug, or ErrNotFound.
func (tx *Tx) EventBySlug(slug string) (Event, error) {
	e := Event{Slug: slug}
	err := tx.queryRow(`SELECT id, name FROM event WHERE slug = ?`, slug).Scan(&e.ID, &e.Name)
	return e, notFound(err)
}
