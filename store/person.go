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
	var p Person
	err := tx.queryRow(`SELECT p.id, p.display_name FROM identity i JOIN person p ON p.id = i.person_id
		WHERE i.kind = ? AND i.value = ?`, kind, value).Scan(&p.ID, &p.DisplayName)
	if err == nil {
		return p, nil
	}
	if err != sql.ErrNoRows {
		return Person{}, fmt.Errorf("look up %s identity: %w", kind, err)
	}
	res, err := tx.exec(`INSERT INTO person (display_name, created_at) VALUES (?, ?)`, displayName, tx.now)
	if err != nil {
		return Person{}, fmt.Errorf("create person: %w", err)
	}
	p = Person{DisplayName: displayName}
	if p.ID, err = res.LastInsertId(); err != nil {
		return Person{}, err
	}
	var confirmed any
	if kind == IRCAccount {
		confirmed = tx.now
	}
	if _, err := tx.exec(`INSERT INTO identity (person_id, kind, value, confirmed_at, created_at) VALUES (?, ?, ?, ?, ?)`,
		p.ID, kind, value, confirmed, tx.now); err != nil {
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
