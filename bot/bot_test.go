package bot

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/bot/money"
	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixture is a bot on a fresh database with one event, talking IRC.
type fixture struct {
	t     testing.TB
	bot   *Bot
	store *store.Store
	path  string // the database file
	ev    *Event
	now   time.Time
	last  int64 // last outbox id read
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	path := storetest.Source(t)
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := &fixture{t: t, store: s, path: path, now: time.Date(2027, 3, 4, 11, 30, 0, 0, time.UTC)}
	s.Now = func() time.Time { return f.now }
	f.ev = &Event{
		Slug: "openinfra-day-2027", Name: "Open Source Infrastructure Day 2027", Channel: "#openinfra",
		Organizers: []Identity{IRCIdentity("pleia2"), IRCIdentity("Krum")}, VotesPerPerson: 4,
	}
	f.bot = newTestBot(s, []*Event{f.ev}, &Options{Prefix: "!", RequireAccount: true, Now: func() time.Time { return f.now }, RateBurst: 1000, SolveIterations: 20000})
	if err := f.bot.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

// say sends a line as account/nick in #openinfra (or privately if where is
// "") and returns the replies it queued.
func (f *fixture) sayIn(where, account, nick, text string) []string {
	f.t.Helper()
	req := Request{Transport: IRC, Can: ChatCapabilities, Who: IRCIdentity(account), Nick: nick, Where: where, Text: text}
	if err := f.bot.Handle(context.Background(), req); err != nil {
		f.t.Fatalf("Handle(%q): %v", text, err)
	}
	msgs, err := f.store.Pending(context.Background(), store.IRC, f.last, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Body)
		f.last = m.ID
	}
	return out
}

func (f *fixture) say(account, nick, text string) string {
	f.t.Helper()
	return strings.Join(f.sayIn("#openinfra", account, nick, text), "\n")
}

func TestScenario(t *testing.T) {
	f := newFixture(t)
	steps := []struct{ account, nick, text, want string }{
		{"alice", "alice", `propose talk "From zero to 2500" -- a story`, `alice: proposed #1 (talk) "From zero to 2500". Vote with !vote 1.`},
		{"alice", "alice", `propose session "Renting Macs for CI" -- who does it, what it costs, what breaks`, `alice: proposed #2 (unconference session) "Renting Macs for CI". Vote with !vote 2.`},
		{"alice", "alice", `propose "Containers in CI"`, `alice: proposed #3 (unconference session) "Containers in CI". Vote with !vote 3.`},
		{"bob", "bob", "vote 2 3", "bob: voted for #2, #3 (2 of your 4 votes left)."},
		{"bob", "bob", "vote 2", "bob: already had your vote: #2 (2 of your 4 votes left)."},
		{"", "carol", "vote 2", "carol: please log in to services (NickServ) first: votes count per account, not per nick."},
		{"", "pleia2", "accept 1", "pleia2: !accept is for organizers, and you are not logged in to services: identify with NickServ first."},
		{"mallory", "pleia2", "accept 1", "pleia2: !accept is for the organizers of Open Source Infrastructure Day 2027."},
		{"pleia2", "pleia2", "accept 1", "your talk #1 \"From zero to 2500\" is accepted for Open Source Infrastructure Day 2027.\n" +
			`pleia2: talk #1 "From zero to 2500" accepted.`},
		{"pleia2", "pleia2", "accept 1", `pleia2: talk #1 "From zero to 2500" was already accepted.`},
		{"KRUM", "k", "reject 3 -- duplicate of #2", "your session #3 \"Containers in CI\" was not accepted for Open Source Infrastructure Day 2027. The organizers said: duplicate of #2\n" +
			`k: session #3 "Containers in CI" rejected: duplicate of #2.`},
		{"KRUM", "k", "reject 3 -- duplicate of #2", `k: session #3 "Containers in CI" rejected: duplicate of #2.`},
		{"bob", "bob", "vote 3", "bob: #3 was rejected: it cannot get votes. Nothing was recorded."},
		{"carol", "carol", "vote 2 1", "carol: voted for #2, #1 (2 of your 4 votes left)."},
		{"bob", "bob", "top", "bob: Top sessions: #2 Renting Macs for CI (2 votes)"},
		{"bob", "bob", "top talk", "bob: Top talks: #1 From zero to 2500 (1 vote)"},
		{"bob", "bob", "votes", "bob: your votes: #2 Renting Macs for CI · #3 Containers in CI (2 of your 4 votes left)."},
		{"bob", "bob", "unvote 3 1", "bob: took back your votes for #3; you had not voted for #1 (3 of your 4 votes left)."},
		{"bob", "bob", "vote 1 2 9", "bob: there is no proposal #9. Say !proposals for the list."},
		{"bob", "bob", "withdraw 2", "bob: #2 is not yours: only its author or an organizer can change it."},
		{"alice", "alice", "withdraw 2", `alice: withdrew #2 "Renting Macs for CI".`},
		{"dave", "dave", "vote 2", "dave: #2 was withdrawn: it cannot get votes. Nothing was recorded."},
		{"bob", "bob", "vot 1", `bob: there is no command "vot". Did you mean !vote? Say !help for the list.`},
		{"bob", "bob", "vote seven", `bob: "seven" is not a proposal number. Usage: !vote N… (e.g. !vote 7 3)`},
		{"bob", "bob", `propose "unclosed`, `bob: a quote is not closed: put a " at the end of the quoted words`},
		{"pleia2", "pleia2", "close voting", "pleia2: Voting is now closed for Open Source Infrastructure Day 2027."},
		{"bob", "bob", "vote 1", "bob: Voting is closed for Open Source Infrastructure Day 2027."},
		{"pleia2", "pleia2", "close voting", "pleia2: Voting was already closed."},
		{"pleia2", "pleia2", "open nonsense", `pleia2: There is no phase "nonsense". Usage: !open cfp|voting|registration (e.g. !open voting)`},
	}
	for _, s := range steps {
		if got := f.say(s.account, s.nick, s.text); got != s.want {
			t.Errorf("<%s> !%s\n got: %s\nwant: %s", s.nick, s.text, got, s.want)
		}
	}
}

func TestVoteLimit(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 6; i++ {
		f.say("alice", "alice", `propose "Session"`)
	}
	if got, want := f.say("bob", "bob", "vote 1 2 3 4 5"), "bob: you have 4 votes left and asked for 5 more. Nothing was recorded."; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	f.say("bob", "bob", "vote 1 2 3")
	if got, want := f.say("bob", "bob", "vote 4 5"), "bob: you have 1 vote left and asked for 2 more. Take one back first with !unvote N (your votes: #1, #2, #3). Nothing was recorded."; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if got, want := f.say("bob", "bob", "vote 4"), "bob: voted for #4 (0 of your 4 votes left)."; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestScheduledPhases(t *testing.T) {
	f := newFixture(t)
	f.ev.Phases = map[string]PhaseTimes{"voting": {
		Open:  time.Date(2027, 3, 4, 19, 0, 0, 0, time.UTC),
		Close: time.Date(2027, 3, 4, 20, 45, 0, 0, time.UTC),
	}}
	f.say("alice", "alice", `propose "S"`)
	steps := []struct {
		at         time.Time
		who, text  string
		wantPrefix string
	}{
		{time.Date(2027, 3, 4, 18, 0, 0, 0, time.UTC), "bob", "vote 1", "bob: Voting is closed"},
		{time.Date(2027, 3, 4, 19, 0, 0, 0, time.UTC), "bob", "vote 1", "bob: voted for #1"},
		{time.Date(2027, 3, 4, 19, 30, 0, 0, time.UTC), "pleia2", "close voting", "pleia2: Voting is now closed"},
		{time.Date(2027, 3, 4, 19, 31, 0, 0, time.UTC), "carol", "vote 1", "carol: Voting is closed"},
		{time.Date(2027, 3, 4, 19, 40, 0, 0, time.UTC), "pleia2", "open voting", "pleia2: Voting is now open"},
		{time.Date(2027, 3, 4, 19, 41, 0, 0, time.UTC), "carol", "vote 1", "carol: voted for #1"},
		{time.Date(2027, 3, 4, 20, 46, 0, 0, time.UTC), "dave", "vote 1", "dave: Voting is closed"},
	}
	for _, s := range steps {
		f.now = s.at
		if got := f.say(s.who, s.who, s.text); !strings.HasPrefix(got, s.wantPrefix) {
			t.Errorf("at %s <%s> %s: got %q, want prefix %q", s.at.Format("15:04"), s.who, s.text, got, s.wantPrefix)
		}
	}
}

func TestPagingAndMore(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 12; i++ {
		f.say("alice", "alice", `propose "A session with a title"`)
	}
	got := f.sayIn("#openinfra", "bob", "bob", "proposals")
	if len(got) != channelLines || !strings.Contains(got[len(got)-1], "more lines: say !more") {
		t.Fatalf("channel answer not paged: %q", got)
	}
	rest := f.sayIn("#openinfra", "bob", "bob", "more")
	if len(rest) != channelLines {
		t.Fatalf("more gave %d lines, want %d (paged again): %q", len(rest), channelLines, rest)
	}
	priv := f.sayIn("", "bob", "bob", "proposals")
	if len(priv) != privateLines {
		t.Fatalf("private answer: %d lines, want %d", len(priv), privateLines)
	}
	if got := f.say("carol", "carol", "more"); got != "carol: there is nothing more to show." {
		t.Errorf("more with nothing: %q", got)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	f.bot.limiter = newLimiter(2, 10*time.Second)
	var got []string
	for i := 0; i < 4; i++ {
		got = append(got, f.say("bob", "bob", "votes"))
	}
	if got[2] != "bob: slow down: too many commands. Try again in 10 s." || got[3] != "" {
		t.Errorf("rate limit replies: %q", got)
	}
	f.now = f.now.Add(11 * time.Second)
	if got := f.say("bob", "bob", "votes"); !strings.HasPrefix(got, "bob: you have not voted") {
		t.Errorf("after waiting: %q", got)
	}
}

func TestDuplicateMessageOnce(t *testing.T) {
	f := newFixture(t)
	req := Request{Transport: IRC, Can: ChatCapabilities, Keys: []string{"msgid:1"}, Who: IRCIdentity("alice"), Nick: "alice", Where: "#openinfra", Text: `propose "Once"`}
	for i := 0; i < 2; i++ {
		if err := f.bot.Handle(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.say("bob", "bob", "proposals"); got != "alice: proposed #1 (unconference session) \"Once\". Vote with !vote 1.\nbob: Proposals (1):\nbob: #1 Once (session, 0 votes)" {
		t.Errorf("after a duplicate: %q", got)
	}
}

// TestExamples runs every spec's examples against a small event and keeps
// the answers as a golden file: the help text never promises what the
// commands do not do.
func TestExamples(t *testing.T) {
	var b strings.Builder
	for _, s := range Specs() {
		for _, ex := range s.Examples {
			// Each example runs on its own event with eight sessions, alice's,
			// and bob's votes for #7 and #3.
			f := newFixture(t)
			f.ev.URL = "http://127.0.0.1:8080/openinfra-day-2027"
			f.bot.SetMailer(&fakeMail{})
			f.bot.SetAnnouncer(listAnnouncer{&strings.Builder{}})
			for i := 0; i < 8; i++ {
				f.say("alice", "alice", `propose "Session `+string(rune('A'+i))+`"`)
			}
			f.say("bob", "bob", "vote 7 3")
			f.say("alice", "alice", "vote 3")
			f.ev.Campaigns = []Campaign{
				{Slug: "ci-macs", Title: "Macs for CI testing", Goal: money.Amount{Minor: 300000, Currency: "USD"}},
				{Slug: "infra-time", Title: "Engineer time for the infrastructure team", GoalHours: 200},
			}
			f.say("alice", "alice", "pledge 100 USD for ci-macs")
			f.say("bob", "bob", "pledge 50 USD") // for received 1 2
			if s == fullSpec || s == spaceSpec {
				f.ev.Grid.Rooms = []schedule.GridRoom{{Name: "Room 104", Capacity: 40}}
			}
			who := "alice"
			if s.Organizer {
				who = "pleia2"
			}
			fmt.Fprintf(&b, "<%s> !%s\n", who, ex)
			replies := f.sayIn("#openinfra", who, who, ex)
			for _, r := range replies {
				fmt.Fprintf(&b, "%s\n", r)
				if strings.Contains(r, "Usage:") || strings.Contains(r, "there is no command") || strings.Contains(r, "internal error") {
					t.Errorf("example %q of %s fails: %s", ex, s.Name, r)
				}
			}
			if len(replies) == 0 {
				t.Errorf("example %q of %s got no answer", ex, s.Name)
			}
		}
	}
	for _, s := range Specs() {
		fmt.Fprintf(&b, "\n%s\n", strings.Join(helpLines(s, "!"), "\n"))
	}
	// Feed tokens are random: the golden file shows their place.
	out := feedTokenRe.ReplaceAllString(b.String(), "/feed/TOKEN.ics")
	out = myDataLinkRe.ReplaceAllString(forgetCodeRe.ReplaceAllString(out, "forget confirm CODE"), "/mydata/TOKEN")
	out = linkCodeRe.ReplaceAllString(out, "link CODE from")
	golden(t, "examples.golden", out)
}

// linkCodeRe finds a link code given out (the examples' own are not).
var linkCodeRe = regexp.MustCompile(`link [0-9A-Z]{4}-[0-9A-Z]{4} from`)

var feedTokenRe = regexp.MustCompile(`/feed/[a-z2-7]{32}\.ics`)

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file; run go test ./bot -update and review the diff.\ngot:\n%s", name, got)
	}
}
