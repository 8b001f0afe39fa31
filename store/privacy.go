package store

import (
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
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

// Kept is something that stays after a person was forgotten, and why.
type Kept struct {
	What string
	N    int64
	Why  string
}

// Forgotten is what Forget did.
type Forgotten struct {
	// Deleted counts the rows deleted (outbox: emptied), by table.
	Deleted map[string]int64
	// Kept is what stays, anonymised, for the event to make sense.
	Kept []Kept
}

// Forget deletes a person's personal data: their identities, addresses,
// tokens, mail, messages to them and the lines they said outside the
// minutes; their accounts and addresses are blotted out of every text
// column that names them. What the event needs stays, under no name:
// votes (counted), proposals and talks (given by ForgottenSpeaker),
// pledges (in totals, as anonymous), check-ins (counted), seats taken,
// minutes lines, and reports to the code-of-conduct team (without the
// means to answer). The person's row stays as an empty shell the kept
// rows refer to; nothing in it or them leads back to them.
func (tx *Tx) Forget(personID int64) (Forgotten, error) {
	f := Forgotten{Deleted: map[string]int64{}}
	w, err := tx.who(personID)
	if err != nil {
		return f, err
	}
	count := func(q string, args ...any) (int64, error) {
		var n int64
		err := tx.queryRow(q, args...).Scan(&n)
		return n, err
	}
	emails := []string{}
	for _, s := range w.words {
		if strings.Contains(s, "@") {
			emails = append(emails, s)
		}
	}
	in := func(vals []string) (string, []any) {
		if len(vals) == 0 {
			return "(NULL)", nil
		}
		args := make([]any, len(vals))
		for i, v := range vals {
			args[i] = v
		}
		return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ") + ")", args
	}
	eIn, eArgs := in(emails)
	wIn, wArgs := in(w.words)
	senders := slices.Clone(w.words)
	for _, e := range emails {
		senders = append(senders, "email:"+e)
	}
	sIn, sArgs := in(senders)

	// What is kept, counted before it is anonymised.
	keep := []struct {
		what, why, q string
	}{
		{"votes", "counted in the results the schedule was made from", `SELECT count(*) FROM vote WHERE person_id = ?`},
		{"proposals", "part of the event's programme, now given by " + ForgottenSpeaker, `SELECT count(*) FROM proposal WHERE author_id = ?`},
		{"pledges", "counted in the campaigns' totals, shown as anonymous", `SELECT count(*) FROM pledge WHERE person_id = ?`},
		{"check-ins", "counted in the attendance", `SELECT count(*) FROM checkin WHERE person_id = ?`},
		{"seats", "counted as taken, without a name or address; cancel first if you will not come", `SELECT count(*) FROM registration WHERE person_id = ? AND status = 'registered'`},
		{"lines in published minutes", "the session's record, now saying " + forgottenWord + " for you", ""},
		{"code-of-conduct reports", "kept for the team to act on, without a way to reach you", `SELECT count(*) FROM coc_report WHERE reporter_id = ?`},
	}
	var minutesLines int64
	if len(w.words) > 0 {
		if minutesLines, err = count(`SELECT count(*) FROM meeting_line WHERE lower(account) IN `+wIn+` AND text LIKE '#%'`, wArgs...); err != nil {
			return f, err
		}
	}
	for _, k := range keep {
		n := minutesLines
		if k.q != "" {
			if n, err = count(k.q, personID); err != nil {
				return f, fmt.Errorf("forget: count %s: %w", k.what, err)
			}
		}
		if n > 0 {
			f.Kept = append(f.Kept, Kept{What: k.what, N: n, Why: k.why})
		}
	}

	isSpeaker, err := count(`SELECT count(*) FROM proposal WHERE author_id = ?`, personID)
	if err != nil {
		return f, err
	}
	if n, err := count(`SELECT count(*) FROM speaker WHERE person_id = ?`, personID); err != nil {
		return f, err
	} else {
		isSpeaker += n
	}
	if err := tx.forgetInReleases(w); err != nil {
		return f, err
	}

	del := []struct {
		table, q string
		args     []any
	}{
		{"identity", `DELETE FROM identity WHERE person_id = ?`, []any{personID}},
		{"privacy_token", `DELETE FROM privacy_token WHERE person_id = ?`, []any{personID}},
		{"feed_token", `DELETE FROM feed_token WHERE person_id = ?`, []any{personID}},
		{"confirmation_mail", `DELETE FROM confirmation_mail WHERE person_id = ? OR lower(email) IN ` + eIn, append([]any{personID}, eArgs...)},
		{"mail_refusal", `DELETE FROM mail_refusal WHERE lower(email) IN ` + eIn, eArgs},
		{"mail_answers", `DELETE FROM mail_answers WHERE lower(email) IN ` + eIn, eArgs},
		{"registration", `DELETE FROM registration WHERE person_id = ? AND status != 'registered'`, []any{personID}},
		{"meeting_line", `DELETE FROM meeting_line WHERE lower(account) IN ` + wIn + ` AND text NOT LIKE '#%'`, wArgs},
	}
	for _, d := range del {
		res, err := tx.exec(d.q, d.args...)
		if err != nil {
			return f, fmt.Errorf("forget: %s: %w", d.table, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			f.Deleted[d.table] += n
		}
	}
	// Messages to them are emptied, not deleted: senders read the outbox
	// by id, and SQLite gives a deleted last id to the next row. One not
	// sent yet is dropped.
	res, err := tx.exec(`UPDATE outbox SET `+blankOutbox+`, sent_at = COALESCE(sent_at, ?),
		last_error = CASE WHEN sent_at IS NULL THEN 'dropped: the addressee asked to be forgotten' ELSE last_error END
		WHERE (channel = 'mail' AND lower(target) IN `+eIn+`) OR lower(account) IN `+wIn, append(append([]any{tx.now}, eArgs...), wArgs...)...)
	if err != nil {
		return f, fmt.Errorf("forget: outbox: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		f.Deleted["outbox"] += n
	}
	name := ForgottenPerson
	if isSpeaker > 0 {
		name = ForgottenSpeaker
	}
	for _, u := range []struct {
		q    string
		args []any
	}{
		{`UPDATE person SET display_name = ? WHERE id = ?`, []any{name, personID}},
		{`UPDATE registration SET email = '', bounce = '', token = 'forgotten-' || CAST(id AS TEXT) WHERE person_id = ?`, []any{personID}},
		{`UPDATE pledge SET display_name = 'anonymous' WHERE person_id = ?`, []any{personID}},
		{`UPDATE meeting_line SET nick = ?, account = '' WHERE lower(account) IN ` + wIn, append([]any{forgottenWord}, wArgs...)},
		{`UPDATE inbox SET sender = '', raw = '' WHERE lower(sender) IN ` + sIn, sArgs},
		{`UPDATE coc_report SET contact = '' WHERE reporter_id = ?`, []any{personID}},
	} {
		if _, err := tx.exec(u.q, u.args...); err != nil {
			return f, fmt.Errorf("forget: %w", err)
		}
	}
	// Whatever else names them (a line in the channel's log, a reply
	// queued to someone else that quotes them) keeps its sense without it.
	if err := tx.scrubEverywhere(w); err != nil {
		return f, err
	}
	return f, nil
}

// scrubEverywhere blots the person's words out of every text column of
// every table but the code-of-conduct reports' texts.
func (tx *Tx) scrubEverywhere(w who) error {
	if len(w.words) == 0 {
		return nil
	}
	for _, t := range Tables {
		if t == "coc_report" {
			// Only contact names the reporter, cleared by Forget; the
			// text names whom it is about, and stays for the team.
			continue
		}
		cols, err := tx.textColumns(t)
		if err != nil {
			return err
		}
		for _, c := range cols {
			var conds []string
			var args []any
			for _, s := range w.words {
				conds = append(conds, "lower("+quoteIdent(c)+`) LIKE ? ESCAPE '\'`)
				args = append(args, likeEscape(s))
			}
			rows, err := tx.query(`SELECT DISTINCT `+quoteIdent(c)+` FROM `+quoteIdent(t)+` WHERE `+strings.Join(conds, " OR "), args...)
			if err != nil {
				return fmt.Errorf("forget: read %s.%s: %w", t, c, err)
			}
			var found []string
			for rows.Next() {
				var v string
				if err := rows.Scan(&v); err != nil {
					rows.Close()
					return err
				}
				found = append(found, v)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, v := range found {
				if s := w.scrub(v); s != v {
					if _, err := tx.exec(`UPDATE `+quoteIdent(t)+` SET `+quoteIdent(c)+` = ? WHERE `+quoteIdent(c)+` = ?`, s, v); err != nil {
						return fmt.Errorf("forget: %s.%s: %w", t, c, err)
					}
				}
			}
		}
	}
	return nil
}

// forgetInReleases names the person ForgottenSpeaker wherever a released
// schedule lists them as a speaker: a release stays what was announced,
// less their name.
func (tx *Tx) forgetInReleases(w who) error {
	if len(w.names) == 0 {
		return nil
	}
	rows, err := tx.query(`SELECT id, schedule FROM release`)
	if err != nil {
		return fmt.Errorf("forget: read releases: %w", err)
	}
	type rel struct {
		id  int64
		doc string
	}
	var changed []rel
	for rows.Next() {
		var r rel
		if err := rows.Scan(&r.id, &r.doc); err != nil {
			rows.Close()
			return err
		}
		dec := json.NewDecoder(strings.NewReader(r.doc))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			continue // not ours to repair
		}
		if renameSpeakers(v, w.names) {
			b, err := json.Marshal(v)
			if err != nil {
				rows.Close()
				return err
			}
			r.doc = string(b)
			changed = append(changed, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range changed {
		if _, err := tx.exec(`UPDATE release SET schedule = ? WHERE id = ?`, r.doc, r.id); err != nil {
			return fmt.Errorf("forget: release: %w", err)
		}
	}
	return nil
}

// renameSpeakers replaces names in every "speakers" list inside v.
func renameSpeakers(v any, names []string) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if list, ok := e.([]any); ok && k == "speakers" {
				for i, s := range list {
					if str, ok := s.(string); ok && slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, str) }) {
						list[i] = ForgottenSpeaker
						changed = true
					}
				}
				continue
			}
			changed = renameSpeakers(e, names) || changed
		}
	case []any:
		for _, e := range x {
			changed = renameSpeakers(e, names) || changed
		}
	}
	return changed
}

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
		{"delivery_failure", `DELETE FROM delivery_failure`, nil},
		{"coc_report", `UPDATE coc_report SET contact = '' WHERE contact LIKE '%@%'`, nil},
	} {
		if err := run(s.table, s.q, s.args...); err != nil {
			return out, err
		}
	}
	return out, nil
}
