package store

import (
	"database/sql"
	"fmt"
	"time"
)

// IdentityKind says how a person was recognised.
type IdentityKind string

const (
	// IRCAccount is a services account, case-folded by the caller.
	IRCAccount IdentityKind = "irc"
	// Email is an email address, lower-cased by the caller.
	Email IdentityKind = "email"
	// MatrixUser is a Matrix user ID, "@localpart:server", as given.
	MatrixUser IdentityKind = "matrix"
)

// Person is someone who does things in hallway.
type Person struct {
	ID          int64
	DisplayName string
}

// Identity is one way a person is recognised.
type Identity struct {
	PersonID    int64
	Kind        IdentityKind
	Value       string
	ConfirmedAt time.Time // zero for an unconfirmed email address
}

// PersonByIdentity returns the person behind an identity, creating the person
// and the identity if needed. An IRC account is confirmed by the services
// that vouched for it; an email address created here starts unconfirmed.
func (tx *Tx) PersonByIdentity(kind IdentityKind, value, displayName string) (Person, error) {
	key := identityKey{kind, value}
	p, known := tx.memo.identities[key]
	if known && p.ID != 0 {
		return p, nil
	}
	if !known {
		err := tx.queryRow(`SELECT p.id, p.display_name FROM identity i JOIN person p ON p.id = i.person_id
			WHERE i.kind = ? AND i.value = ?`, kind, value).Scan(&p.ID, &p.DisplayName)
		if err == nil {
			return p, nil
		}
		if err != sql.ErrNoRows {
			return Person{}, fmt.Errorf("look up %s identity: %w", kind, err)
		}
	}
	// Creating one changes nothing else remembered: keep the memo.
	kept := tx.memo.identities
	defer func() {
		if kept != nil {
			kept[key] = p
			tx.memo.identities = kept
		}
	}()
	id, err := tx.insert(`INSERT INTO person (display_name, created_at) VALUES (?, ?)`, displayName, tx.now)
	if err != nil {
		kept = nil
		return Person{}, fmt.Errorf("create person: %w", err)
	}
	p = Person{ID: id, DisplayName: displayName}
	var confirmed any
	if kind != Email {
		confirmed = tx.now // the network vouches for it
	}
	if _, err := tx.exec(`INSERT INTO identity (person_id, kind, value, confirmed_at, created_at) VALUES (?, ?, ?, ?, ?)`,
		p.ID, kind, value, confirmed, tx.now); err != nil {
		kept = nil
		return Person{}, fmt.Errorf("create %s identity: %w", kind, err)
	}
	return p, nil
}

// Identities returns a person's identities.
func (tx *Tx) Identities(personID int64) ([]Identity, error) {
	rows, err := tx.query(`SELECT person_id, kind, value, confirmed_at FROM identity WHERE person_id = ? ORDER BY id`, personID)
	if err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	defer rows.Close()
	var ids []Identity
	for rows.Next() {
		var id Identity
		var confirmed sql.NullTime
		if err := rows.Scan(&id.PersonID, &id.Kind, &id.Value, &confirmed); err != nil {
			return nil, err
		}
		id.ConfirmedAt = confirmed.Time
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// PersonName returns the name to show for a person: the display name if
// set, else their IRC account, else "someone". Email addresses are never
// shown.
func (tx *Tx) PersonName(personID int64) (string, error) {
	var name string
	err := tx.queryRow(`SELECT CASE WHEN p.display_name != '' THEN p.display_name
		ELSE COALESCE((SELECT value FROM identity WHERE person_id = p.id AND kind = 'irc' ORDER BY id LIMIT 1), 'someone') END
		FROM person p WHERE p.id = ?`, personID).Scan(&name)
	return name, notFound(err)
}

// IdentityOf returns the identity of a kind and value, or ErrNotFound.
func (tx *Tx) IdentityOf(kind IdentityKind, value string) (Identity, error) {
	id := Identity{Kind: kind, Value: value}
	var confirmed sql.NullTime
	err := tx.queryRow(`SELECT person_id, confirmed_at FROM identity WHERE kind = ? AND value = ?`, kind, value).
		Scan(&id.PersonID, &confirmed)
	id.ConfirmedAt = confirmed.Time
	return id, notFound(err)
}

// ConfirmedEmail returns a person's first confirmed email address, or
// ErrNotFound.
func (tx *Tx) ConfirmedEmail(personID int64) (string, error) {
	var email string
	err := tx.queryRow(`SELECT value FROM identity WHERE person_id = ? AND kind = 'email' AND confirmed_at IS NOT NULL
		ORDER BY confirmed_at, id LIMIT 1`, personID).Scan(&email)
	return email, notFound(err)
}

// ConfirmEmail makes a confirmed email address one of a person's
// identities. If the address was another person's (someone who wrote by
// mail before logging in on IRC), that person is merged into this one: one
// person, whichever way they came.
func (tx *Tx) ConfirmEmail(personID int64, email string) error {
	id, err := tx.IdentityOf(Email, email)
	switch {
	case err == ErrNotFound:
		_, err = tx.exec(`INSERT INTO identity (person_id, kind, value, confirmed_at, created_at) VALUES (?, 'email', ?, ?, ?)`,
			personID, email, tx.now, tx.now)
		return err
	case err != nil:
		return err
	}
	if id.PersonID != personID {
		if _, err := tx.MergePerson(id.PersonID, personID); err != nil {
			return err
		}
	}
	_, err = tx.exec(`UPDATE identity SET confirmed_at = COALESCE(confirmed_at, ?) WHERE kind = 'email' AND value = ?`, tx.now, email)
	return err
}

// PersonByID returns a person, or ErrNotFound.
func (tx *Tx) PersonByID(id int64) (Person, error) {
	p := Person{ID: id}
	err := tx.queryRow(`SELECT display_name FROM person WHERE id = ?`, id).Scan(&p.DisplayName)
	return p, notFound(err)
}

// NameIfNone gives a person the display name they gave (a mail's From)
// unless they have one: the first name a person gave stays.
func (tx *Tx) NameIfNone(personID int64, name string) error {
	if name == "" {
		return nil
	}
	_, err := tx.exec(`UPDATE person SET display_name = ? WHERE id = ? AND display_name = ''`, name, personID)
	return err
}
