package store

import (
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// What a person's data says once they asked to be forgotten.
const (
	// ForgottenSpeaker names a speaker in the schedule and in proposals.
	ForgottenSpeaker = "a speaker who asked to be forgotten"
	// ForgottenPerson names anyone else who asked.
	ForgottenPerson = "someone who asked to be forgotten"
	// forgottenWord takes the place of an account or address in text.
	forgottenWord = "(forgotten)"
)

// Kinds of privacy tokens.
const (
	TokenMyData = "mydata"
	TokenForget = "forget"
)

// ForgottenKeyPrefix starts the dedupe key of the answer to a forget:
// Purge deletes such answers once sent, and with them the last mention
// of where they went.
const ForgottenKeyPrefix = "forgotten:"

// ErrTokenUsed is returned for a one-time token already used or expired.
var ErrTokenUsed = errors.New("the link was used already or has expired")

// NewPrivacyToken makes a one-time secret of a kind for a person, valid
// until now+ttl. A forget code is short enough to type (8 characters); a
// mydata token is a link's unguessable part.
func (tx *Tx) NewPrivacyToken(kind string, personID int64, ttl time.Duration) (string, error) {
	n := 20 // 160 bits
	if kind == TokenForget {
		n = 5
	}
	b := make([]byte, n)
	rand.Read(b)
	token := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	if kind == TokenForget {
		// A forget code is only good for the person it was given to.
		token = fmt.Sprintf("%d-%s", personID, token)
	}
	if _, err := tx.exec(`INSERT INTO privacy_token (token, kind, person_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		token, kind, personID, tx.now, tx.now.Add(ttl)); err != nil {
		return "", fmt.Errorf("add privacy token: %w", err)
	}
	if kind == TokenForget {
		return token[strings.IndexByte(token, '-')+1:], nil
	}
	return token, nil
}

// UsePrivacyToken spends a one-time token of a kind and returns whose it
// is: ErrNotFound for none, ErrTokenUsed for one used or expired. For a
// forget code personID must be the asker's (codes are per person); for a
// mydata link it is 0.
func (tx *Tx) UsePrivacyToken(kind, token string, personID int64) (int64, error) {
	if kind == TokenForget {
		token = fmt.Sprintf("%d-%s", personID, strings.ToLower(token))
	}
	var owner int64
	var expires time.Time
	var used sql.NullTime
	err := tx.queryRow(`SELECT person_id, expires_at, used_at FROM privacy_token WHERE token = ? AND kind = ?`, token, kind).
		Scan(&owner, &expires, &used)
	if err != nil {
		return 0, notFound(err)
	}
	if used.Valid || !tx.now.Before(expires) {
		return 0, ErrTokenUsed
	}
	if _, err := tx.exec(`UPDATE privacy_token SET used_at = ? WHERE token = ?`, tx.now, token); err != nil {
		return 0, fmt.Errorf("use privacy token: %w", err)
	}
	return owner, nil
}

// PeekPrivacyToken reports whether a one-time token of a kind is still
// good, without spending it: ErrNotFound or ErrTokenUsed if not.
func (tx *Tx) PeekPrivacyToken(kind, token string) error {
	var expires time.Time
	var used sql.NullTime
	err := tx.queryRow(`SELECT expires_at, used_at FROM privacy_token WHERE token = ? AND kind = ?`, token, kind).Scan(&expires, &used)
	if err != nil {
		return notFound(err)
	}
	if used.Valid || !tx.now.Before(expires) {
		return ErrTokenUsed
	}
	return nil
}

// PersonData is everything hallway keeps about one person, as !mydata
// hands it over. Its JSON shape:
//
//	{
//	  "format": "hallway-mydata/1",
//	  "generated_at": "2027-03-04T09:00:00Z",
//	  "person_id": 12,
//	  "identities": [{"kind": "irc", "value": "alice", "confirmed": true}],
//	  "tables": {
//	    "vote": [{"proposal_id": 3, "person_id": 12, "event_id": 1, "created_at": "…"}],
//	    "outbox": [{"channel": "mail", "target": "alice@example.org", "body": "…", …}]
//	  }
//	}
//
// tables holds, for each table of the schema (see schema.sql for what its
// columns mean), every row that refers to the person by id or names one
// of their accounts or addresses, with all its columns as stored; a table
// with none is left out. Code-of-conduct reports are there only as their
// reporter filed them: a report naming someone is not that person's.
type PersonData struct {
	Format      string                      `json:"format"`
	GeneratedAt time.Time                   `json:"generated_at"`
	PersonID    int64                       `json:"person_id"`
	Identities  []DataIdentity              `json:"identities"`
	Tables      map[string][]map[string]any `json:"tables"`
}

// DataIdentity is an identity in PersonData.
type DataIdentity struct {
	Kind      IdentityKind `json:"kind"`
	Value     string       `json:"value"`
	Confirmed bool         `json:"confirmed"`
}

// PersonColumns are, per table, the columns that hold a person's id.
var PersonColumns = map[string][]string{
	"person": {"id"}, "identity": {"person_id"}, "phase_change": {"person_id"}, "proposal": {"author_id"},
	"speaker": {"person_id"}, "vote": {"person_id"}, "registration": {"person_id"}, "pledge": {"person_id"},
	"meeting": {"started_by"}, "checkin": {"person_id", "by_id"}, "pin": {"person_id"}, "release": {"person_id"},
	"pending_release": {"person_id"}, "feed_token": {"person_id"}, "confirmation_mail": {"person_id"},
	"room_mark": {"person_id"}, "privacy_token": {"person_id"}, "coc_report": {"reporter_id"},
	"link_code": {"person_id"},
}

// byIdOnly are tables whose text is not searched for a person's names:
// a code-of-conduct report names the people it is about, and is theirs
// neither to read nor to erase; its audit log is found by actor.
var byIDOnly = []string{"coc_report", "coc_audit"}

// who is what identifies a person in the database.
type who struct {
	id int64
	// words are their accounts and addresses, lower case, as they may
	// appear in text.
	words []string
	re    *regexp.Regexp
	names []string // display names, for the schedule's speakers
}

// nameChars are the characters of an account or address: a word is
// found only where none of them borders it.
const nameChars = "A-Za-z0-9_\\-\\[\\]\\\\^{|}`"

func (tx *Tx) who(personID int64) (who, error) {
	w := who{id: personID}
	ids, err := tx.Identities(personID)
	if err != nil {
		return w, err
	}
	for _, id := range ids {
		v := strings.ToLower(strings.TrimPrefix(id.Value, "nick:"))
		if v != "" && !slices.Contains(w.words, v) {
			w.words = append(w.words, v)
		}
	}
	p, err := tx.PersonByID(personID)
	if err != nil {
		return w, err
	}
	if p.DisplayName != "" {
		w.names = append(w.names, p.DisplayName)
	}
	w.names = append(w.names, w.words...)
	if len(w.words) > 0 {
		quoted := make([]string, len(w.words))
		for i, s := range w.words {
			quoted[i] = regexp.QuoteMeta(s)
		}
		w.re = regexp.MustCompile(`(?i)(^|[^` + nameChars + `])(` + strings.Join(quoted, "|") + `)($|[^` + nameChars + `])`)
	}
	return w, nil
}

// mentions reports whether text names one of the person's words.
func (w who) mentions(text string) bool { return w.re != nil && w.re.MatchString(text) }

// scrub replaces every one of the person's words in text.
func (w who) scrub(text string) string {
	for w.mentions(text) {
		text = w.re.ReplaceAllString(text, "${1}"+forgottenWord+"${3}")
	}
	return text
}

// textColumns lists a table's text columns.
func (tx *Tx) textColumns(table string) ([]string, error) {
	q := `SELECT name FROM pragma_table_info(?) WHERE upper(type) = 'TEXT'`
	if tx.store.engine == PostgreSQL {
		q = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND data_type = 'text'`
	}
	rows, err := tx.query(q, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return out, rows.Err()
}

// likeEscape makes s a LIKE pattern matching it anywhere.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// aboutRows returns, with their columns, the rows of table that refer to
// the person: by id, or (outside byIDOnly) naming one of their words in
// a text column. coc_audit rows are theirs by actor.
func (tx *Tx) aboutRows(table string, w who) ([]map[string]any, error) {
	var conds []string
	var args []any
	for _, c := range PersonColumns[table] {
		conds = append(conds, quoteIdent(c)+" = ?")
		args = append(args, w.id)
	}
	var text []string
	if table == "coc_audit" {
		for _, s := range w.words {
			conds = append(conds, "lower(actor) = ?")
			args = append(args, s)
		}
	} else if !slices.Contains(byIDOnly, table) && len(w.words) > 0 {
		var err error
		if text, err = tx.textColumns(table); err != nil {
			return nil, err
		}
		for _, c := range text {
			for _, s := range w.words {
				conds = append(conds, "lower("+quoteIdent(c)+`) LIKE ? ESCAPE '\'`)
				args = append(args, likeEscape(s))
			}
		}
	}
	if len(conds) == 0 {
		return nil, nil
	}
	rows, err := tx.query(`SELECT * FROM `+quoteIdent(table)+` WHERE `+strings.Join(conds, " OR "), args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		row := map[string]any{}
		byID, named := false, false
		for i, c := range cols {
			v := vals[i]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if t, ok := v.(time.Time); ok {
				v = t.UTC()
			}
			if c == "rowid" { // PostgreSQL's stand-in for SQLite's hidden one
				continue
			}
			row[c] = v
			if slices.Contains(PersonColumns[table], c) && fmt.Sprint(v) == fmt.Sprint(w.id) {
				byID = true
			}
			if s, ok := v.(string); ok && (slices.Contains(text, c) || table == "coc_audit" && c == "actor") && w.mentions(s) {
				named = true
			}
		}
		// LIKE found a word inside a longer one ("al" in "malice"): not theirs.
		if byID || named {
			out = append(out, row)
		}
	}
	return out, rows.Err()
}

// PersonData gathers everything kept about a person.
func (tx *Tx) PersonData(personID int64) (PersonData, error) {
	d := PersonData{Format: "hallway-mydata/1", GeneratedAt: tx.now, PersonID: personID, Tables: map[string][]map[string]any{}}
	w, err := tx.who(personID)
	if err != nil {
		return d, err
	}
	ids, err := tx.Identities(personID)
	if err != nil {
		return d, err
	}
	for _, id := range ids {
		d.Identities = append(d.Identities, DataIdentity{Kind: id.Kind, Value: id.Value, Confirmed: !id.ConfirmedAt.IsZero()})
	}
	for _, t := range Tables {
		rows, err := tx.aboutRows(t, w)
		if err != nil {
			return d, err
		}
		if len(rows) > 0 {
			d.Tables[t] = rows
		}
	}
	return d, nil
}
