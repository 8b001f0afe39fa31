package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/store"
)

func TestParseIdentity(t *testing.T) {
	tests := []struct {
		in   string
		want Identity
		err  string
	}{
		{"pleia2", Identity{IRCAccount, "pleia2"}, ""},
		{"Krum[m]", Identity{IRCAccount, "krum{m}"}, ""},
		{"@pleia2:example.org", Identity{MatrixUser, "@pleia2:example.org"}, ""},
		{"@Pleia2:Example.org", Identity{MatrixUser, "@Pleia2:Example.org"}, ""}, // exact
		{"Ops@Example.org", Identity{Address, "ops@example.org"}, ""},
		{"@pleia2", Identity{}, "not a Matrix user ID"},
		{"@:example.org", Identity{}, "not a Matrix user ID"},
		{"ops@", Identity{}, "not a mail address"},
		{"a@b@c", Identity{}, "not a mail address"},
		{"two words", Identity{}, "without spaces"},
		{"", Identity{}, "without spaces"},
	}
	for _, tt := range tests {
		got, err := ParseIdentity(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseIdentity(%q) = %v, %v; want an error saying %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseIdentity(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestOrganizersOfEveryKind: organizers are identities of any kind; a
// Matrix ID is compared exactly, an IRC account case-folded, and a third
// transport needs nothing but a replier.
func TestOrganizersOfEveryKind(t *testing.T) {
	f := newFixture(t)
	f.ev.Organizers = []Identity{IRCIdentity("pleia2"), MatrixIdentity("@krum:example.org")}
	f.bot.SetReplier("matrix", chatReplier{})
	say := func(who Identity, text string) string {
		t.Helper()
		// In a private message: the answer is the last line queued.
		req := Request{Transport: "matrix", Can: ChatCapabilities, Who: who, Nick: "someone", Text: text}
		if who.Kind == IRCAccount {
			req.Transport = IRC
		}
		if err := f.bot.Handle(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		msgs, err := f.store.Pending(context.Background(), store.IRC, f.last, 1000)
		if err != nil {
			t.Fatal(err)
		}
		last := ""
		for _, m := range msgs {
			last, f.last = m.Body, m.ID
		}
		return last
	}
	steps := []struct {
		who  Identity
		text string
		want string
	}{
		{MatrixIdentity("@Krum:example.org"), "close voting", "!close is for the organizers of Open Source Infrastructure Day 2027."},
		{MatrixIdentity("@mallory:example.org"), "close voting", "!close is for the organizers of Open Source Infrastructure Day 2027."},
		{IRCIdentity("krum"), "close voting", "!close is for the organizers of Open Source Infrastructure Day 2027."},
		{MatrixIdentity("@krum:example.org"), "close voting", "Voting is now closed for Open Source Infrastructure Day 2027."},
		{IRCIdentity("PLEIA2"), "open voting", "Voting is now open for Open Source Infrastructure Day 2027."},
	}
	for _, s := range steps {
		if got := say(s.who, s.text); got != s.want {
			t.Errorf("%v: %s\n got: %s\nwant: %s", s.who, s.text, got, s.want)
		}
	}
}
