package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

func TestCheckLine(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{in: "Renting Macs for CI"},
		{in: "Café ünd Straße — 日本語の発表"},
		{in: "👩‍💻 at work, 🏳️‍🌈 flags"},             // ZWJ inside emoji sequences
		{in: "می‌خواهم کار کنم"},                    // ZWNJ inside a Persian word
		{in: "עברית and العربية mixed, ‎marks‎ ok"}, // LRM is a mark, not an override
		{in: "Renting \u202eIC rof scaM", err: `"Renting \u202eIC rof scaM" has an invisible right-to-left override (U+202E), which reorders the text shown after it, at character 9: type it again without it`},
		{in: "a\u2066b", err: `left-to-right isolate (U+2066), which reorders the text shown after it, at character 2`},
		{in: "pay\u200bpal", err: `"pay\u200bpal" has an invisible zero width space (U+200B) at character 4`},
		{in: "vo\u200dte", err: `zero width joiner (U+200D) at character 3`},
		{in: "x\u200c", err: `zero width non-joiner (U+200C) at character 2`},
		{in: "\ufeffTitle", err: `zero width no-break space (U+FEFF) at character 1`},
		{in: "a\u2060b", err: `word joiner (U+2060) at character 2`},
		{in: "\x0304red\x03 title", err: `"\x0304red\x03 title" has IRC formatting (colour, \x03) at character 1: turn colours and formatting off in your client and send it again as plain text.`},
		{in: "\x02bold\x02", err: `IRC formatting (bold, \x02) at character 1`},
		{in: "x\x1dy", err: `IRC formatting (italics, \x1d) at character 2`},
		{in: "x\x1fy", err: `IRC formatting (underline, \x1f)`},
		{in: "x\x16y", err: `IRC formatting (reverse, \x16)`},
		{in: "x\x1ey", err: `IRC formatting (strikethrough, \x1e)`},
		{in: "x\x11y", err: `IRC formatting (monospace, \x11)`},
		{in: "x\x0fy", err: `IRC formatting (reset, \x0f)`},
		{in: "\x01DCC SEND x 2130706433 6667 1\x01", err: `has a CTCP marker (\x01) at character 1: send it again as plain text, without it.`},
		{in: "nul\x00here", err: `a control character (U+0000) at character 4`},
		{in: "esc\x1b[31m", err: `a control character (U+001B) at character 4`},
		{in: "c1\u0085x", err: `a control character (U+0085) at character 3`},
		{in: "del\x7f", err: `a control character (U+007F) at character 4`},
		{in: "two\nlines", err: `a line break at character 4: write it on one line, with spaces.`},
		{in: "tab\tbed", err: `a tab at character 4`},
		{in: "para\u2029graph", err: `a line break at character 5`},
		{in: "caf\xe9", err: `"caf\xe9" has a byte that is not UTF-8 (\xe9) at character 4: set your client's encoding to UTF-8 and send it again.`},
		{in: strings.Repeat("long ", 20) + "\u202e" + strings.Repeat(" tail", 20), err: `"…long long long long long long \u202e tail tail tail tail tail t…" has an invisible right-to-left override (U+202E)`},
	} {
		err := checkLine(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("checkLine(%q) = %v, want nil", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("checkLine(%q) = %v\nwant it to contain %s", tc.in, err, tc.err)
		case err != nil && !isUserErr(err):
			t.Errorf("checkLine(%q) = %T, want a *Error", tc.in, err)
		}
	}
}

func isUserErr(err error) bool { _, ok := err.(*Error); return ok }

func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		in, multi, single string
		removed           int
	}{
		{in: "plain text", multi: "plain text", single: "plain text"},
		{in: "line one\r\nline two\rthree\u2028four", multi: "line one\nline two\nthree\nfour", single: "line one line two three four"},
		{in: "a\tb", multi: "a\tb", single: "a b"},
		{in: "see \x01DCC SEND evil 2130706433 6667 1\x01 now", multi: "see DCC SEND evil 2130706433 6667 1 now", removed: 2},
		{in: "\x0304,12red\x03 \x031x\x0f\x1dy\x02", multi: "red xy", removed: 6},
		{in: "\x03,5comma \x0312,x", multi: ",5comma ,x", removed: 2},
		{in: "\x04ff00ffhex \x04FF00FF,00ff00bg", multi: "hex bg", removed: 2},
		{in: "nul\x00 esc\x1b c1\u0085 del\x7f", multi: "nul esc c1 del", removed: 4},
		{in: "evil\u202egnp.exe \u2066iso\u2069", multi: "evilgnp.exe iso", removed: 3},
		{in: "zero\u200bwidth\ufeff \u2060j", multi: "zerowidth j", removed: 3},
		{in: "👩‍💻 keeps its joiner; x\u200dy loses it", multi: "👩‍💻 keeps its joiner; xy loses it", removed: 1},
		{in: "caf\xe9 \xff", multi: "caf ", removed: 2},
	} {
		if tc.single == "" {
			tc.single = tc.multi
		}
		got, n := cleanText(tc.in, true)
		if got != tc.multi || n != tc.removed {
			t.Errorf("cleanText(%q, multiline) = %q, %d; want %q, %d", tc.in, got, n, tc.multi, tc.removed)
		}
		if got := cleanLine(tc.in); got != tc.single {
			t.Errorf("cleanLine(%q) = %q; want %q", tc.in, got, tc.single)
		}
	}
}

// hostile is what a hostile attendee types into free text.
var hostile = []string{
	"\x01DCC SEND evil.exe 2130706433 6667 1337\x01",
	"\x01VERSION\x01",
	"nul\x00byte",
	"\x0304,12colour\x03 \x02bold\x02 \x1ditalic\x1d \x1funder\x1f \x16rev\x16 \x1estrike\x1e \x11mono\x11 \x0freset",
	"\x04ff0000hex",
	"evil\u202egnp.exe",
	"\u2066isolate\u2069 \u2067rtl\u2069 \u2068fsi\u2069 \u202aLRE\u202c \u202bRLE\u202c \u202dLRO\u202c",
	"zero\u200bwidth\u200cnon\u200djoiner\u2060joiner\ufeffbom",
	"esc\x1b[2J\x1b]0;title\x07",
	"c1\u0085\u009b31m",
	"caf\xe9 latin-1",
	"line\rbreak\nQUIT :bye",
}

// badStored reports a character no stored text may hold.
func badStored(s string) (int, rune, bool) {
	var at int
	var bad rune
	found := false
	runes(s, func(i int, r rune, _ int) {
		if !found && fault(s, i, r, true) != nil {
			at, bad, found = i, r, true
		}
	})
	return at, bad, found
}

// checkStore looks at every text column of every table of the database:
// none may hold what the rule forbids. The raw mail kept for organizers
// (received.raw) is the message as it came, on purpose.
func checkStore(t *testing.T, path string) (cells int) {
	t.Helper()
	db := storetest.OpenDB(t, path)
	tables := db.Tables(t)
	for _, table := range tables {
		rows, err := db.Query("SELECT * FROM " + table)
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
			for i, v := range vals {
				s, ok := v.(string)
				if b, isBytes := v.([]byte); isBytes {
					s, ok = string(b), true
				}
				if !ok || table == "received" && cols[i] == "raw" {
					continue
				}
				cells++
				if at, r, bad := badStored(s); bad {
					t.Errorf("%s.%s holds %U at byte %d: %q", table, cols[i], r, at, s)
				}
			}
		}
		rows.Close()
	}
	return cells
}

// TestHostileTextIsNeverStored types each hostile string into every field
// the bot keeps (titles, abstracts, edits, reasons, pledges and their
// names, notes, mail notes, release notes, a mail's display name) and then
// looks at every text cell of the database and every line queued for IRC.
func TestHostileTextIsNeverStored(t *testing.T) {
	f := newFixture(t)
	mail := &fakeMail{}
	f.bot.SetMailer(mail)
	f.bot.SetReplier(Mail, mail)
	f.ev.Campaigns = []Campaign{{Slug: "ci-macs", Title: "Macs for CI testing", GoalHours: 10}}
	if got := f.say("alice", "alice", `propose "Clean title" -- clean`); !strings.HasPrefix(got, "alice: proposed #1") {
		t.Fatalf("propose: %s", got)
	}
	var irc []string
	refusedWords, cleanedText := 0, 0
	for i, h := range hostile {
		// Words are refused, saying which character is where.
		// Unquoted, line breaks and tabs only separate words.
		quotedBad, unquotedBad := checkLine(h) != nil, checkLine(strings.Join(strings.Fields(h), " ")) != nil
		for _, cmd := range []string{
			`propose "%s"`, `propose talk T%s -- x`, `edit 1 title "%s"`, `edit 1 "x%s"`,
			`pledge "%s" for ci-macs`, `pledge 2h for ci-macs as "%s"`, `register "%s@example.org"`, `checkin %s`,
		} {
			got := f.say("alice", "alice", fmt.Sprintf(cmd, h))
			want := quotedBad
			if !strings.Contains(cmd, `"`) {
				want = unquotedBad
			}
			if refused := strings.Contains(got, " at character "); refused != want {
				t.Errorf("%s: %q\n  answered %q; want refused %v", cmd, h, got, want)
			}
			if want {
				refusedWords++
			}
		}
		// Free text is cleaned, and the answer says so.
		for _, cmd := range []string{
			`propose "Hostile %d" -- before %s after`, `edit 1 abstract -- %[2]s`, `edit 1 "Edited %[1]d" -- %[2]s`,
			`reject %[1]d -- %[2]s`,
		} {
			who := "alice"
			if strings.HasPrefix(cmd, "reject") {
				who = "pleia2"
			}
			got := f.say(who, who, fmt.Sprintf(cmd, i+2, h))
			_, removed := cleanText(h, true)
			if noted := strings.Contains(got, fmt.Sprintf("(Removed %d ", removed)); noted != (removed > 0) {
				t.Errorf("%s: %q\n  answered %q; want a note of %d removed", cmd, h, got, removed)
			}
			if removed > 0 {
				cleanedText++
			}
		}
		irc = append(irc, f.sayIn("#openinfra", "bob", "bob", fmt.Sprintf("show %d", i+2))...)
		irc = append(irc, f.sayIn("", "bob", "bob", "proposals")...)
		// By mail: the subject's words, the body's text, the sender's name.
		mail.replies = nil
		req := Request{Transport: Mail, Who: AddressIdentity("m@example.org"), Name: h + " Smith", Text: "help -- " + h, Keys: []string{fmt.Sprintf("mail:%d", i)}}
		if err := f.bot.Handle(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if _, removed := cleanText(h, true); removed > 0 && !strings.Contains(strings.Join(mail.replies, "\n"), fmt.Sprintf("(Removed %d control, formatting or invisible ", removed)) {
			t.Errorf("by mail, %q: answered %q; want a note of %d removed from the mail's text", h, mail.replies, removed)
		}
	}
	// Notes: lines said in the channel, and a mail answering the minutes.
	f.line("alice", "alice", "#startmeeting "+hostile[0]+hostile[5], nil)
	for _, h := range hostile {
		f.line("alice", "alice", "#topic "+h, nil)
		f.line("alice", "alice", "#info "+h, nil)
		f.line("bob", "bob", h, nil)
	}
	var meeting int64
	f.store.View(context.Background(), func(tx *store.Tx) error {
		ms, err := tx.Meetings(0)
		if err == nil && len(ms) > 0 {
			meeting = ms[0].ID
		}
		return err
	})
	for i, h := range hostile {
		if err := f.bot.AddMailNote(context.Background(), meeting, h+"Jane", "note "+h, []string{fmt.Sprintf("note:%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	f.line("alice", "alice", "#endmeeting", nil)
	msgs, err := f.store.Pending(context.Background(), store.IRC, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		irc = append(irc, m.Body)
	}
	for _, line := range irc {
		if _, r, bad := badStored(line); bad {
			t.Errorf("queued for IRC with %U: %q", r, line)
		}
	}
	cells := checkStore(t, f.path)
	t.Logf("%d hostile strings: %d words refused, %d free texts cleaned; %d IRC lines and %d stored text cells checked",
		len(hostile), refusedWords, cleanedText, len(irc), cells)
}

// FuzzText checks the rule on any input: cleaned text holds nothing the
// rule forbids and does not change when cleaned again; a line checkLine
// accepts is left as it is by cleaning.
func FuzzText(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	f.Add("👩‍💻 می‌خواهم \x0312,04x\x03,")
	f.Fuzz(func(t *testing.T, s string) {
		for _, multi := range []bool{true, false} {
			c, n := cleanText(s, multi)
			if _, r, bad := badStored(c); bad {
				t.Errorf("cleanText(%q, %v) = %q holds %U", s, multi, c, r)
			}
			if !multi && strings.ContainsAny(c, "\r\n\t") {
				t.Errorf("cleanLine(%q) = %q holds a line break or tab", s, c)
			}
			if c2, n2 := cleanText(c, multi); c2 != c || n2 != 0 {
				t.Errorf("cleanText not idempotent: %q -> %q -> %q", s, c, c2)
			}
			if n == 0 && multi && c != strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n").Replace(s) {
				t.Errorf("cleanText(%q) = %q removed nothing, yet changed the text", s, c)
			}
			if !utf8.ValidString(c) {
				t.Errorf("cleanText(%q) = %q is not UTF-8", s, c)
			}
		}
		if checkLine(s) == nil {
			if c := cleanLine(s); c != s {
				t.Errorf("checkLine accepts %q but cleanLine makes it %q", s, c)
			}
		}
	})
}

// FuzzHandle types anything into the commands that keep text, and into a
// meeting's notes, and reads every line the bot queues for IRC: none may
// hold a control character, IRC formatting or an invisible character,
// whatever was typed.
func FuzzHandle(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	fx := newFixture(f)
	ctx := context.Background()
	handle := func(account, text string, raw bool) error {
		return fx.bot.Handle(ctx, Request{Transport: IRC, Can: ChatCapabilities, Who: IRCIdentity(account), Nick: account, Where: "#openinfra", Text: text, Raw: raw, At: fx.now})
	}
	if err := handle("pleia2", "#startmeeting fuzz", true); err != nil {
		f.Fatal(err)
	}
	if err := handle("alice", `propose "Fuzzed"`, false); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fx.now = fx.now.Add(time.Minute) // past the rate limit
		for _, line := range []string{
			`propose "` + s + `" -- ` + s, "propose " + s, "edit 1 abstract -- " + s, `edit 1 "` + s + `"`,
			`pledge "` + s + `"`, "pledge 1h as " + s, "reject 2 -- " + s, s, "show 1", "proposals", "show 2",
		} {
			who := "alice"
			if strings.HasPrefix(line, "reject") {
				who = "pleia2"
			}
			if err := handle(who, line, false); err != nil {
				t.Fatalf("Handle(%q): %v", line, err)
			}
		}
		if err := handle("bob", s, true); err != nil {
			t.Fatalf("line %q: %v", s, err)
		}
		msgs, err := fx.store.Pending(ctx, store.IRC, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if _, r, bad := badStored(m.Body); bad {
				t.Errorf("typed %q, the bot queued %U: %q", s, r, m.Body)
			}
		}
		// Keep the outbox small: what was checked is sent.
		ids := make([]int64, len(msgs))
		for i, m := range msgs {
			ids[i] = m.ID
		}
		if err := fx.store.MarkSent(ctx, ids...); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSplitLine(t *testing.T) {
	tests := []struct {
		in        string
		max       int
		head, rst string
	}{
		{"short", 10, "short", ""},
		{"hello world again", 12, "hello world", "again"},
		{"aaaaaaaaaaaaaaaa", 5, "aaaaa", "aaaaaaaaaaa"},
		{"ééééé", 5, "éé", "ééé"}, // é is two bytes: never cut inside a rune
		{"a ébc", 3, "a", "ébc"},
	}
	for _, tt := range tests {
		h, r := SplitLine(tt.in, tt.max)
		if h != tt.head || r != tt.rst {
			t.Errorf("SplitLine(%q, %d) = %q, %q; want %q, %q", tt.in, tt.max, h, r, tt.head, tt.rst)
		}
	}
}

func FuzzSplitLine(f *testing.F) {
	f.Add("hello world", 5)
	f.Add("ééééé ü", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 4 || max > 1000 || !utf8.ValidString(s) {
			return
		}
		rest := s
		for i := 0; rest != "" && i < len(s)+1; i++ {
			var h string
			h, rest = SplitLine(rest, max)
			if len(h) > max || !utf8.ValidString(h) {
				t.Fatalf("head %q: %d bytes (max %d), valid %v", h, len(h), max, utf8.ValidString(h))
			}
		}
	})
}
