package irc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

// dccOffer is what a hostile attendee hides in an abstract: said back by
// the bot as is, it would be the bot offering a file.
const dccOffer = "\x01DCC SEND evil.exe 2130706433 6667 1337\x01"

// wireFault tells what no line from the bot may hold: NUL, CR, LF, a CTCP
// marker, other control characters or IRC formatting, bidi overrides and
// isolates, zero-width characters, or bytes that are not UTF-8.
func wireFault(s string) string {
	if !utf8.ValidString(s) {
		return "not UTF-8"
	}
	for i, r := range s {
		switch {
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			return fmt.Sprintf("%U at byte %d", r, i)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r >= 0x200b && r <= 0x200d, r == 0x2060, r == 0xfeff:
			return fmt.Sprintf("%U at byte %d", r, i)
		}
	}
	return ""
}

// botLines collects what c receives from the bot until final matches one
// of its lines, and fails the test on any line holding a wire fault. It
// returns the texts of the bot's lines.
func botLines(t *testing.T, ctx context.Context, c *irctest.Client, botNick string, final func(string) bool) []string {
	t.Helper()
	var texts []string
	_, err := c.Expect(ctx, func(m irctest.Message) bool {
		if !strings.EqualFold(m.Prefix.Nick, botNick) {
			return false
		}
		if why := wireFault(m.Raw); why != "" {
			t.Errorf("%s received from the bot a line with %s: %q", c.Nick(), why, m.Raw)
		}
		if m.Command != "PRIVMSG" && m.Command != "NOTICE" {
			return false
		}
		texts = append(texts, m.Last())
		return final(m.Last())
	})
	if err != nil {
		t.Fatalf("waiting for the bot: %v", err)
	}
	return texts
}

// TestIRCHostileText: through the real InspIRCd, a hostile attendee puts a
// DCC offer, IRC colours, bidi overrides and zero-width characters in
// titles and abstracts, and a proposal stored before the rule holds a NUL
// and a DCC offer. Titles are refused saying which character is where;
// abstracts are kept cleaned, with a note; and the watcher, reading every
// answer, !show and !proposals in the channel and in private, never gets a
// CTCP or a control character from the bot.
func TestIRCHostileText(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 3*time.Minute)
	channel := "#" + unique("text")
	botNick := unique("hw")
	mallory, bob := unique("mal"), unique("bob")
	account(t, ctx, addr, botNick).Close()
	malC := account(t, ctx, addr, mallory)
	bobC := account(t, ctx, addr, bob)
	for _, c := range []*irctest.Client{malC, bobC} {
		if err := c.Join(ctx, channel); err != nil {
			t.Fatal(err)
		}
	}
	db := storetest.Source(t)
	// A proposal stored before the rule (by the old code, from a mail):
	// the guard on the wire is all that stands between it and the server.
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Do(ctx, func(tx *store.Tx) error {
		ev, err := tx.EnsureEvent("e2e", "E2E Day")
		if err != nil {
			return err
		}
		p, err := tx.PersonByIdentity(store.IRCAccount, "olduser", "olduser")
		if err != nil {
			return err
		}
		// PostgreSQL stores no NUL in text at all; SQLite took one.
		nul := "\x00"
		if storetest.Postgres() {
			nul = "\x01"
		}
		_, err = tx.AddProposal(store.Proposal{EventID: ev.ID, Kind: store.Session, Title: "Stored before the rule",
			Abstract: "Get it here: " + dccOffer + nul + "NUL\r\nPRIVMSG " + channel + " :injected", AuthorID: p.ID})
		return err
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	b := startBot(t, botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: db, burst: 10, rate: 10})
	defer b.stop()
	waitJoined(t, ctx, bobC, botNick, channel)

	// Titles: refused, saying which character is where.
	titles := []struct{ title, want string }{
		{"Free stuff " + dccOffer, `has a CTCP marker (\x01) at character 12`},
		{"Renting \u202eIC rof scaM", `has an invisible right-to-left override (U+202E), which reorders the text shown after it, at character 9`},
		{"\x0304,01Red\x03 alert", `has IRC formatting (colour, \x03) at character 1`},
		{"pay\u200bpal support", `has an invisible zero width space (U+200B) at character 4`},
		{"\u2067isolated\u2069", `has an invisible right-to-left isolate (U+2067)`},
		{"\x02Bold\x02 claim", `has IRC formatting (bold, \x02) at character 1`},
	}
	for _, tc := range titles {
		malC.Privmsg(channel, fmt.Sprintf(`!propose "%s"`, tc.title))
		got := botLines(t, ctx, bobC, botNick, func(s string) bool { return strings.HasPrefix(s, mallory+": ") })
		if last := got[len(got)-1]; !strings.Contains(last, tc.want) {
			t.Errorf("!propose %q answered %q; want %q", tc.title, last, tc.want)
		}
	}
	// An abstract: kept, cleaned, with a note.
	malC.Privmsg(channel, `!propose "Plain title" -- Get it: `+dccOffer+" \x0304red\x03 \u202eevil\u202c zero\u200bwidth")
	got := botLines(t, ctx, bobC, botNick, func(s string) bool { return strings.HasPrefix(s, mallory+": ") })
	if want := mallory + `: proposed #2 (unconference session) "Plain title". Vote with !vote 2. (Removed 7 control, formatting or invisible characters from the text after --.)`; got[len(got)-1] != want {
		t.Errorf("propose with a hostile abstract answered %q; want %q", got[len(got)-1], want)
	}
	// The watcher reads it all back, in the channel and in private.
	lines := 0
	bobC.Privmsg(channel, "!show 1")
	lines += len(botLines(t, ctx, bobC, botNick, func(s string) bool { return strings.Contains(s, "Get it here: ") }))
	bobC.Privmsg(channel, "!show 2")
	lines += len(botLines(t, ctx, bobC, botNick, func(s string) bool { return strings.Contains(s, "Get it: ") }))
	bobC.Privmsg(botNick, "show 1")
	private := botLines(t, ctx, bobC, botNick, func(s string) bool { return strings.Contains(s, "Get it here: ") })
	lines += len(private)
	if last := private[len(private)-1]; !strings.Contains(last, "NUL  PRIVMSG") {
		t.Errorf("the old abstract came out as %q; want its NUL gone and its line break a space", last)
	}
	bobC.Privmsg(botNick, "proposals")
	lines += len(botLines(t, ctx, bobC, botNick, func(s string) bool { return strings.HasPrefix(s, "#2 Plain title") }))
	// Nothing else came, at all: no CTCP, no injected line.
	rest, err := bobC.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rest {
		if why := wireFault(m.Raw); why != "" {
			t.Errorf("bob received a line with %s: %q", why, m.Raw)
		}
		if strings.Contains(m.Raw, "injected") {
			t.Errorf("an injected line arrived: %q", m.Raw)
		}
	}
	t.Logf("%d hostile titles refused, 1 hostile abstract cleaned, 1 stored hostile abstract guarded; %d lines from the bot read clean", len(titles), lines)
}
