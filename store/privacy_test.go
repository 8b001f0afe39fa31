package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// zelda is the person the privacy tests gather and forget; populate's
// alice and bob are the others around her.
const (
	zeldaAccount = "zelda9"
	zeldaEmail   = "zelda9@example.org"
)

// populatePrivacy fills every table (populate) and gives zelda a row in
// each table that can hold one of hers, and mentions of her in others'.
func populatePrivacy(t *testing.T, s *Store) (zelda, bob int64) {
	t.Helper()
	populate(t, s)
	ctx := context.Background()
	do(t, s, func(tx *Tx) error {
		ev, err := tx.EventBySlug("copy-day")
		if err != nil {
			return err
		}
		z, err := tx.PersonByIdentity(IRCAccount, zeldaAccount, "Zelda Nine")
		if err != nil {
			return err
		}
		zelda = z.ID
		b, err := tx.IdentityOf(Email, "bob@example.org")
		if err != nil {
			return err
		}
		bob = b.PersonID
		if err := tx.ConfirmEmail(zelda, zeldaEmail); err != nil {
			return err
		}
		p, err := tx.AddProposal(Proposal{EventID: ev.ID, Kind: Talk, Title: "Forgetting, by design", Abstract: "GDPR in practice", AuthorID: zelda})
		if err != nil {
			return err
		}
		if _, err := tx.AddVote(ev.ID, p.ID, zelda); err != nil {
			return err
		}
		if _, err := tx.AddVote(ev.ID, p.ID, bob); err != nil {
			return err
		}
		if err := tx.SaveRegistration(&Registration{EventID: ev.ID, PersonID: zelda, Email: zeldaEmail, Status: Registered, Number: 2, Token: "tok-z"}); err != nil {
			return err
		}
		if err := tx.SavePledge(&Pledge{EventID: ev.ID, Campaign: "ci-macs", PersonID: zelda, Kind: PledgeMoney,
			Amount: 5_000, Currency: "EUR", DisplayName: "Zelda Nine", Status: Pledged}); err != nil {
			return err
		}
		if _, err := tx.CheckIn(ev.ID, zelda, zelda); err != nil {
			return err
		}
		ms, err := tx.Meetings(ev.ID)
		if err != nil || len(ms) == 0 {
			return fmt.Errorf("no meeting: %v", err)
		}
		for _, text := range []string{"#info zelda9 wrote the tool", "I think so too, says zelda9", "#action zelda9 writes docs"} {
			if err := tx.AddLine(ms[0].ID, Line{At: tx.Now(), Nick: "zel", Account: zeldaAccount, Text: text}); err != nil {
				return err
			}
		}
		if err := tx.AddLine(ms[0].ID, Line{At: tx.Now(), Nick: "bobby", Text: "thanks zelda9!"}); err != nil {
			return err
		}
		sched := fmt.Sprintf(`{"version":2,"items":[{"number":%d,"title":"Forgetting, by design","speakers":["Zelda Nine","alice"]}]}`, p.Number)
		if err := tx.AddRelease(ev.ID, Release{Version: 2, Schedule: []byte(sched)}, bob); err != nil {
			return err
		}
		if _, err := tx.FeedToken(ev.ID, zelda); err != nil {
			return err
		}
		if _, err := tx.NewPrivacyToken(TokenMyData, zelda, time.Hour); err != nil {
			return err
		}
		if err := tx.AddLinkCode(LinkCode{Code: "ZLD0-0001", PersonID: zelda, Kind: IRCAccount, Value: zeldaAccount, Email: zeldaEmail}, time.Hour); err != nil {
			return err
		}
		for _, m := range []Message{
			{Channel: Mail, Target: zeldaEmail, Body: "Subject: confirm\r\n\r\nHello Zelda Nine"},
			{Channel: IRC, Target: "zel", Account: zeldaAccount, Body: "your feed: secret"},
			{Channel: IRC, Target: "#copy-day", Body: "zelda9 proposed #4 Forgetting, by design"},
		} {
			if err := tx.Enqueue(m); err != nil {
				return err
			}
		}
		if _, err := tx.MarkReceived(Received{Channel: Mail, Key: "<z1@example.org>", Sender: zeldaEmail, Outcome: "not understood", Raw: "From: " + zeldaEmail + "\r\n\r\nhelp?"}); err != nil {
			return err
		}
		if _, err := tx.MarkReceived(Received{Channel: IRC, Key: "msgid-z", Sender: zeldaAccount}); err != nil {
			return err
		}
		if err := tx.AddConfirmationMail(ConfirmationMail{EventID: ev.ID, Email: zeldaEmail, PersonID: zelda, Account: zeldaAccount, Nick: "zel", Token: "tok-z"}); err != nil {
			return err
		}
		if err := tx.RefuseMail(zeldaEmail); err != nil {
			return err
		}
		if _, _, err := tx.CountAnswer(zeldaEmail, 5); err != nil {
			return err
		}
		if _, err := tx.AddChannel("#zelda-extra", InvitedChannel{EventID: ev.ID, InvitedBy: zeldaAccount}); err != nil {
			return err
		}
		mine := &Report{EventID: ev.ID, ReporterID: zelda, Via: IRC, Contact: zeldaAccount, Text: "someone was rude in room 2"}
		if err := tx.AddReport(mine); err != nil {
			return err
		}
		about := &Report{EventID: ev.ID, ReporterID: bob, Via: Mail, Contact: "bob@example.org", Text: "zelda9 shouted at me"}
		if err := tx.AddReport(about); err != nil {
			return err
		}
		_, err = tx.SetReportStatus(ev.ID, about.ID, ReportAcknowledged, "alice", "talking to both")
		return err
	})
	if _, err := s.NoteDeliveryFailure(ctx, "mail/9/9", fmt.Errorf("451 %s: try later", zeldaEmail)); err != nil {
		t.Fatal(err)
	}
	return zelda, bob
}

// scanRows reads every row of every table as column → value, values
// normalised as PersonData gives them.
func scanRows(t *testing.T, s *Store) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, table := range Tables {
		rows, err := s.db.QueryContext(context.Background(), "SELECT * FROM "+quoteIdent(table))
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row := map[string]any{}
			for i, c := range cols {
				v := vals[i]
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC()
				}
				if c != "rowid" {
					row[c] = v
				}
			}
			out[table] = append(out[table], row)
		}
		rows.Close()
	}
	return out
}

// rowKey prints a row the same whichever way it was read (and through JSON).
func rowKey(row map[string]any) string {
	keys := make([]string, 0, len(row))
	for k := range row {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := row[k]
		if tm, ok := v.(time.Time); ok {
			v = tm.Format(time.RFC3339Nano)
		}
		fmt.Fprintf(&b, "%s=%v;", k, v)
	}
	return b.String()
}

// names reports whether any text value of row holds word.
func names(row map[string]any, word string) (string, bool) {
	for c, v := range row {
		if s, ok := v.(string); ok && strings.Contains(strings.ToLower(s), word) {
			return c, true
		}
	}
	return "", false
}

// TestPersonColumns checks PersonColumns against the schema's foreign
// keys: every column that refers to a person is listed.
func TestPersonColumns(t *testing.T) {
	s := liteStore(t)
	for _, table := range Tables {
		rows, err := s.db.Query(`SELECT "from" FROM pragma_foreign_key_list(?) WHERE "table" = 'person'`, table)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for rows.Next() {
			var c string
			rows.Scan(&c)
			want = append(want, c)
		}
		rows.Close()
		if table == "person" {
			want = []string{"id"}
		}
		got := slices.Clone(PersonColumns[table])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("PersonColumns[%q] = %v, the schema's references to person are %v", table, got, want)
		}
	}
}

// TestPersonDataHasEveryRow checks !mydata against the database: every
// row of every table that refers to the person by id, or names their
// account or address, is in the document (and through JSON too).
func TestPersonDataHasEveryRow(t *testing.T) {
	s := openTest(t)
	zelda, _ := populatePrivacy(t, s)
	var d PersonData
	do(t, s, func(tx *Tx) (err error) { d, err = tx.PersonData(zelda); return err })
	got := map[string]bool{}
	for table, rows := range d.Tables {
		for _, r := range rows {
			got[table+":"+rowKey(r)] = true
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for table, rows := range scanRows(t, s) {
		for _, r := range rows {
			about := false
			for _, c := range PersonColumns[table] {
				if fmt.Sprint(r[c]) == fmt.Sprint(zelda) {
					about = true
				}
			}
			switch table {
			case "coc_report": // by reporter only: a report naming her is not hers
			case "coc_audit":
				about = about || r["actor"] == zeldaAccount
			default:
				for _, w := range []string{zeldaAccount, zeldaEmail} {
					if _, ok := names(r, w); ok {
						about = true
					}
				}
			}
			if !about {
				continue
			}
			want++
			if !got[table+":"+rowKey(r)] {
				t.Errorf("%s row about zelda missing from her data: %v", table, r)
			}
			// The JSON holds every text value of it.
			for _, v := range r {
				if sv, ok := v.(string); ok && sv != "" {
					q, _ := json.Marshal(sv)
					if !strings.Contains(string(b), string(q)) {
						t.Errorf("%s value %s missing from the JSON", table, q)
					}
				}
			}
		}
	}
	if want < 25 {
		t.Fatalf("only %d rows about zelda in the database: the fixture is too thin to prove anything", want)
	}
	// Nothing of anyone else: rows in the document are all about her.
	n := 0
	for _, rows := range d.Tables {
		n += len(rows)
	}
	if n != want {
		t.Errorf("the document has %d rows, the database %d about zelda", n, want)
	}
	if strings.Contains(string(b), "zelda9 shouted at me") {
		t.Error("a report about zelda is in her data")
	}
	if !strings.Contains(string(b), "someone was rude in room 2") {
		t.Error("zelda's own report is missing from her data")
	}
}

// TestForgetLeavesNoTrace forgets zelda and scans every table and column
// for her account and address; what the event needs stays, anonymised.
func TestForgetLeavesNoTrace(t *testing.T) {
	s := openTest(t)
	zelda, bob := populatePrivacy(t, s)
	type tally struct{ votes, pledged, checkins, proposals, registered int64 }
	read := func() (n tally) {
		do(t, s, func(tx *Tx) error {
			return tx.queryRow(`SELECT (SELECT count(*) FROM vote), (SELECT CAST(COALESCE(sum(amount), 0) AS BIGINT) FROM pledge),
				(SELECT count(*) FROM checkin), (SELECT count(*) FROM proposal), (SELECT count(*) FROM registration WHERE status = 'registered')`).
				Scan(&n.votes, &n.pledged, &n.checkins, &n.proposals, &n.registered)
		})
		return n
	}
	before := read()
	var f Forgotten
	do(t, s, func(tx *Tx) (err error) { f, err = tx.Forget(zelda); return err })
	if after := read(); after != before {
		t.Errorf("forgetting changed the event's numbers: %+v, was %+v", after, before)
	}
	for table, rows := range scanRows(t, s) {
		for _, r := range rows {
			for _, w := range []string{zeldaAccount, zeldaEmail, "zelda nine"} {
				if c, ok := names(r, w); ok {
					if table == "coc_report" && c == "text" && r["reporter_id"] == bob {
						continue // a report about her stays with the team
					}
					t.Errorf("%s.%s still names %q: %v", table, c, w, r)
				}
			}
		}
	}
	kept := map[string]int64{}
	for _, k := range f.Kept {
		if k.Why == "" {
			t.Errorf("kept %s without saying why", k.What)
		}
		kept[k.What] = k.N
	}
	want := map[string]int64{"votes": 1, "proposals": 1, "pledges": 1, "check-ins": 1, "seats": 1,
		"lines in published minutes": 2, "code-of-conduct reports": 1}
	for k, n := range want {
		if kept[k] != n {
			t.Errorf("kept %s = %d, want %d (all: %+v)", k, kept[k], n, f.Kept)
		}
	}
	// Her secrets (links, codes) are gone, not just blotted out.
	for _, table := range []string{"privacy_token", "feed_token", "link_code"} {
		for _, r := range scanRows(t, s)[table] {
			if fmt.Sprint(r["person_id"]) == fmt.Sprint(zelda) {
				t.Errorf("%s keeps a row of hers: %v", table, r)
			}
		}
	}
	do(t, s, func(tx *Tx) error {
		name, err := tx.PersonName(zelda)
		if err != nil || name != ForgottenSpeaker {
			t.Errorf("her name is %q (%v), want %q", name, err, ForgottenSpeaker)
		}
		r, err := tx.LatestRelease(1)
		if err != nil || !strings.Contains(string(r.Schedule), ForgottenSpeaker) || !strings.Contains(string(r.Schedule), `"alice"`) {
			t.Errorf("release after forgetting: %s (%v)", r.Schedule, err)
		}
		// She can come back as someone new.
		p, err := tx.PersonByIdentity(IRCAccount, zeldaAccount, zeldaAccount)
		if err != nil || p.ID == zelda {
			t.Errorf("coming back: person %d (%v), the forgotten one is %d", p.ID, err, zelda)
		}
		return nil
	})
}

func TestPrivacyTokens(t *testing.T) {
	s := openTest(t)
	now := time.Date(2027, 3, 4, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	var link, code string
	var pid int64
	do(t, s, func(tx *Tx) (err error) {
		p, err := tx.PersonByIdentity(IRCAccount, "tok", "tok")
		pid = p.ID
		if link, err = tx.NewPrivacyToken(TokenMyData, p.ID, time.Hour); err != nil {
			return err
		}
		code, err = tx.NewPrivacyToken(TokenForget, p.ID, 10*time.Minute)
		return err
	})
	if len(code) != 8 || len(link) < 30 {
		t.Fatalf("code %q, link %q", code, link)
	}
	tests := []struct {
		name  string
		at    time.Duration
		kind  string
		token string
		who   int64
		want  error
	}{
		{"forget code of another person", 0, TokenForget, code, pid + 1, ErrNotFound},
		{"link used as a code", 0, TokenForget, link, pid, ErrNotFound},
		{"link after an hour", time.Hour, TokenMyData, link, 0, ErrTokenUsed},
		{"link within the hour", 59 * time.Minute, TokenMyData, link, 0, nil},
		{"link a second time", 59 * time.Minute, TokenMyData, link, 0, ErrTokenUsed},
		{"code in capitals", 0, TokenForget, strings.ToUpper(code), pid, nil},
		{"code again", 0, TokenForget, code, pid, ErrTokenUsed},
	}
	for _, tt := range tests {
		s.Now = func() time.Time { return now.Add(tt.at) }
		err := s.Do(context.Background(), func(tx *Tx) error {
			owner, err := tx.UsePrivacyToken(tt.kind, tt.token, tt.who)
			if err == nil && owner != pid {
				t.Errorf("%s: owner %d, want %d", tt.name, owner, pid)
			}
			return err
		})
		if err != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestPurge runs a retention purge: addresses, kept mail, feed tokens and
// lines outside the minutes go; the minutes and the list's mail stay.
func TestPurge(t *testing.T) {
	s := openTest(t)
	populatePrivacy(t, s)
	do(t, s, func(tx *Tx) error {
		return tx.Enqueue(Message{Channel: Mail, Target: "list@example.org", Body: "Subject: wrap-up\r\n\r\nthanks all"})
	})
	ctx := context.Background()
	var ids []int64
	do(t, s, func(tx *Tx) (err error) {
		ids, err = tx.int64s(`SELECT id FROM outbox WHERE channel = 'mail'`)
		return err
	})
	if err := s.MarkSent(ctx, ids...); err != nil {
		t.Fatal(err)
	}
	for _, all := range []bool{false, true, true} {
		var n map[string]int64
		do(t, s, func(tx *Tx) (err error) {
			n, err = tx.Purge(Purge{Events: []int64{1}, All: all, Keep: []string{"List@example.org"}})
			return err
		})
		t.Logf("all=%v: %v", all, n)
	}
	rows := scanRows(t, s)
	for table, rs := range rows {
		for _, r := range rs {
			if table == "outbox" && r["target"] == "list@example.org" {
				continue // the wrap-up stays
			}
			if table == "coc_report" || table == "coc_audit" {
				continue // the team's: kept until resolved by hand
			}
			for _, addr := range []string{"alice@example.org", "bob@example.org", "carol@example.org", zeldaEmail} {
				if c, ok := names(r, addr); ok {
					t.Errorf("%s.%s keeps an address after the purge: %v", table, c, r)
				}
			}
		}
	}
	for _, r := range rows["meeting_line"] {
		if !strings.HasPrefix(r["text"].(string), "#") {
			t.Errorf("a line outside the minutes stays: %v", r)
		}
	}
	if len(rows["meeting_line"]) != 3 {
		t.Errorf("%d minutes lines, want 3", len(rows["meeting_line"]))
	}
	if len(rows["feed_token"]) != 0 || len(rows["outbox"]) == 0 {
		t.Errorf("%d feed tokens, %d outbox rows", len(rows["feed_token"]), len(rows["outbox"]))
	}
}

// TestForgetAnswerPurged: the answer to a forget (its dedupe key) is
// emptied by the next purge once sent, not before; other rows stay.
func TestForgetAnswerPurged(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	do(t, s, func(tx *Tx) error {
		for i, m := range []Message{
			{Channel: IRC, Target: "zel", Account: zeldaAccount, Body: "Done: hallway has forgotten you.", DedupeKey: ForgottenKeyPrefix + "7:1:0"},
			{Channel: Mail, Target: zeldaEmail, Body: "Subject: You are forgotten", DedupeKey: ForgottenKeyPrefix + "7:2"},
			{Channel: IRC, Target: "#chan", Body: "unrelated", DedupeKey: "forgotten;not-this"},
		} {
			if err := tx.Enqueue(m); err != nil {
				return fmt.Errorf("message %d: %w", i, err)
			}
		}
		return nil
	})
	purge := func() {
		do(t, s, func(tx *Tx) error { _, err := tx.Purge(Purge{}); return err })
	}
	named := func() (n int) {
		for _, r := range scanRows(t, s)["outbox"] {
			if r["target"] != "" {
				n++
			}
		}
		return n
	}
	purge()
	if n := named(); n != 3 {
		t.Fatalf("%d rows with a target before sending, want 3", n)
	}
	if err := s.MarkSent(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	purge()
	if n := named(); n != 1 {
		t.Errorf("%d rows with a target after sending, want 1 (the unrelated one)", n)
	}
	var max int64
	do(t, s, func(tx *Tx) error { return tx.queryRow(`SELECT max(id) FROM outbox`).Scan(&max) })
	if max != 3 {
		t.Errorf("outbox ids end at %d: rows were deleted, and their ids would be given again", max)
	}
}
