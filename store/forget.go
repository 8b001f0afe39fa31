package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

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
		{"link_code", `DELETE FROM link_code WHERE person_id = ? OR lower(email) IN ` + eIn, append([]any{personID}, eArgs...)},
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
