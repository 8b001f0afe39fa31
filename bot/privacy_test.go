package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

var (
	forgetCodeRe = regexp.MustCompile(`forget confirm ([a-z2-7]{8})`)
	myDataLinkRe = regexp.MustCompile(`/mydata/[a-z2-7]{32}`)
)

// privacyFixture is a fixture with the code-of-conduct keys set, mail,
// and a log kept in buf.
func privacyFixture(t *testing.T) (*fixture, *fakeMail, func(from, text string, refs ...string) string, *bytes.Buffer) {
	f := newFixture(t)
	var logs bytes.Buffer
	f.bot.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.ev.URL = "http://127.0.0.1:8080/openinfra-day-2027"
	f.ev.CocURL = "https://openinfra.test/conduct"
	f.ev.CocTeam = []string{"Krum", "conduct@openinfra.test", "@krum:matrix.test"}
	mail, byMail, _ := mailFixture(t, f)
	return f, mail, byMail, &logs
}

// TestPrivacyTranscript runs the privacy and code-of-conduct commands as
// people would, and keeps what they read as a golden file.
func TestPrivacyTranscript(t *testing.T) {
	f, mail, byMail, _ := privacyFixture(t)
	var b strings.Builder
	// Each line the bot queues shows where it goes: the channel, or a
	// nick (private; [account] when bound to one).
	var drain func() []string
	drain = func() []string {
		msgs, err := f.store.Pending(context.Background(), store.IRC, f.last, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			to := m.Target
			if m.Account != "" {
				to += " [" + m.Account + "]"
			}
			fmt.Fprintf(&b, "  -> %s: %s\n", to, m.Body)
			out = append(out, m.Body)
			f.last = m.ID
		}
		return out
	}
	say := func(where, account, nick, text string) []string {
		fmt.Fprintf(&b, "<%s%s> !%s\n", nick, map[bool]string{true: " in " + where, false: " privately"}[where != ""], text)
		req := Request{Transport: IRC, Can: ChatCapabilities, Who: IRCIdentity(account), Nick: nick, Where: where, Text: text}
		if err := f.bot.Handle(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		return drain()
	}
	mailed := func(from, text string) {
		fmt.Fprintf(&b, "<%s by mail> %s\n%s\n", from, text, byMail(from, text))
		drain()
	}
	f.say("alice", "alice", `propose talk "Forgetting, by design"`)
	f.say("bob", "bob", "vote 1")
	f.sayIn("", "alice", "alice", "register alice@example.org")
	f.sayIn("", "alice", "alice", "confirm "+mail.token(t, "alice@example.org"))

	say("#openinfra", "bob", "bob", "coc")
	say("#openinfra", "bob", "bob", "report alice shouted at me in Room 104")
	say("", "", "anon", "report someone followed me to the hotel")
	say("", "bob", "bob", "report")
	say("", "bob", "bob", `report alice shouted at me in Room 104, "go away"`)
	say("#openinfra", "krum", "k", "coc list")
	say("", "bob", "bob", "coc list")
	say("", "krum", "k", "coc list")
	say("", "krum", "k", "coc show 2")
	say("", "krum", "k", "coc ack 2")
	say("", "krum", "k", "coc ack 2")
	say("", "krum", "k", "coc close 2 -- talked to both; alice apologised")
	say("", "krum", "k", "coc show 9")
	say("", "krum", "k", "coc list all")
	say("", "krum", "k", "coc frobnicate")
	mailed("conduct@openinfra.test", "coc list")
	mailed("mallory@example.org", "report -- they took photos of my badge")

	say("#openinfra", "alice", "alice", "mydata")
	fmt.Fprintf(&b, "(mailed to %s: %q)\n", mail.sent[len(mail.sent)-1].To, mail.sent[len(mail.sent)-1].Subject)
	say("", "alice", "alice", "mydata link")
	say("", "bob", "bob", "mydata")
	say("", "bob", "bob", "mydata please")
	say("", "alice", "alice", "forget confirm aaaaaaaa")
	out := say("#openinfra", "alice", "alice", "forget")
	code := forgetCodeRe.FindStringSubmatch(strings.Join(out, "\n"))
	if code == nil {
		t.Fatalf("no code in %q", out)
	}
	say("", "alice", "alice", "forget confirm "+code[1])
	say("", "alice", "alice", "forget confirm "+code[1])
	say("", "bob", "bob", "show 1")

	for _, m := range mail.sent {
		if strings.Contains(m.Subject, "code-of-conduct report") {
			fmt.Fprintf(&b, "(mailed to %s: %q)\n%s", m.To, m.Subject, m.Body)
		}
	}
	got := forgetCodeRe.ReplaceAllString(b.String(), "forget confirm CODE")
	golden(t, "privacy.golden", myDataLinkRe.ReplaceAllString(got, "/mydata/TOKEN"))
}

// TestMyDataMail checks the mail !mydata sends: the JSON document of the
// asker's rows, parseable, and nobody else's.
func TestMyDataMail(t *testing.T) {
	f, mail, _, _ := privacyFixture(t)
	f.say("alice", "alice", `propose talk "Forgetting, by design"`)
	f.say("bob", "bob", `propose talk "Bob's talk"`)
	f.sayIn("", "alice", "alice", "register alice@example.org")
	f.sayIn("", "alice", "alice", "confirm "+mail.token(t, "alice@example.org"))
	f.sayIn("", "alice", "alice", "mydata")
	m := mail.sent[len(mail.sent)-1]
	if m.To != "alice@example.org" {
		t.Fatalf("mailed to %s", m.To)
	}
	var d store.PersonData
	if err := json.Unmarshal([]byte(m.Body[strings.Index(m.Body, "{"):]), &d); err != nil {
		t.Fatalf("the mail's JSON: %v\n%s", err, m.Body)
	}
	if d.Format != "hallway-mydata/1" || len(d.Tables["proposal"]) != 1 || d.Tables["proposal"][0]["title"] != "Forgetting, by design" ||
		len(d.Tables["registration"]) != 1 || len(d.Identities) != 2 {
		t.Errorf("document: %+v", d)
	}
	if strings.Contains(m.Body, "Bob's talk") {
		t.Error("bob's proposal is in alice's data")
	}
}

// TestReportStaysWithTeam is the access test of the bot: a report said
// once, then every command (with the arguments people give them) tried
// by someone outside the team, in the channel and in private, by IRC and
// mail, and the notes running in the channel: the report's words reach
// the team alone, and no log line, kept mail or note holds them.
func TestReportStaysWithTeam(t *testing.T) {
	const secret = "zq7 shouted at me in Room 104"
	f, mail, byMail, logs := privacyFixture(t)
	f.ev.Grid = schedule.Grid{Rooms: []schedule.GridRoom{{Name: "Room 104", Capacity: 40}},
		Slots: []schedule.GridSlot{{Start: f.now.Add(time.Hour), End: f.now.Add(2 * time.Hour), Kind: "session", Rooms: []string{"Room 104"}}}}
	f.say("alice", "alice", `propose "Session A"`)
	if got := f.say("pleia2", "pleia2", "notes start 1"); !strings.Contains(got, "Meeting started") {
		t.Fatalf("notes: %q", got)
	}
	var public []string
	public = append(public, f.sayIn("#openinfra", "bob", "bob", "report "+secret)...)
	public = append(public, f.line("bob", "bob", "!report "+secret, nil)...)
	public = append(public, f.line("bob", "bob", "hallway: report "+secret, nil)...)
	team := f.sayIn("", "bob", "bob", "report "+secret)
	mailed := byMail("mallory@example.org", "report -- "+secret)
	// A report whose words would not split as a command's (an unclosed
	// quote) is still a report, and its mail is not kept for organizers.
	quoted := "report " + secret + ` and said "go away`
	if err := f.bot.Handle(context.Background(), Request{Transport: Mail, Who: AddressIdentity("mallory@example.org"), Text: quoted,
		Keys: []string{"mail:quoted"}, Original: []byte("Subject: report\r\n\r\n" + quoted)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(team, "\n"), "reached the code-of-conduct team") || !strings.Contains(mailed, "reached the code-of-conduct team") {
		t.Fatalf("not acknowledged: %q / %q", team, mailed)
	}
	f.sayIn("", "krum", "k", "help") // past the team's notifications in the outbox (checked below)
	// Every command, as someone outside the team, with the arguments
	// that read things back.
	args := []string{"", "1", "2", "list", "list all", "show 1", "show 2", "ack 1", "close 1", "all", "link", "me"}
	for _, s := range Specs() {
		for _, a := range args {
			text := strings.TrimSpace(s.Name + " " + a)
			if s == reportSpec {
				continue
			}
			public = append(public, f.sayIn("#openinfra", "mallory", "mallory", text)...)
			public = append(public, f.sayIn("", "mallory", "mallory", text)...)
			public = append(public, byMail("mallory@example.org", text))
			public = append(public, byMail("conduct@openinfra.test", text)) // not confirmed: not the team
		}
	}
	t.Logf("%d answers to %d commands × %d argument forms, in the channel, in private and by mail, looked at", len(public), len(Specs())-1, len(args))
	for _, p := range public {
		if strings.Contains(p, "zq7") {
			t.Errorf("the report leaked: %q", p)
		}
	}
	ctx := context.Background()
	// The outbox: only private lines to the team's accounts, and mail to
	// its address, carry it.
	msgs, err := f.store.Pending(ctx, store.IRC, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	toTeam := 0
	for _, m := range msgs {
		if strings.Contains(m.Body, "zq7") {
			if m.Account != "krum" || m.Target != "Krum" {
				t.Errorf("report sent on IRC to %s (account %q): %q", m.Target, m.Account, m.Body)
			}
			toTeam++
		}
	}
	for _, m := range mail.sent {
		if strings.Contains(m.Body, "zq7") {
			if m.To != "conduct@openinfra.test" {
				t.Errorf("report mailed to %s", m.To)
			}
			toTeam++
		}
	}
	for _, r := range mail.replies {
		if strings.Contains(r, "zq7") {
			t.Errorf("a mail answer holds the report: %q", r)
		}
	}
	if toTeam != 6 { // three reports, each to krum on IRC and by mail
		t.Errorf("%d notifications of the team, want 6", toTeam)
	}
	if strings.Contains(logs.String(), "zq7") {
		t.Errorf("the log holds the report:\n%s", logs.String())
	}
	err = f.store.View(ctx, func(tx *store.Tx) error {
		mails, err := tx.Mails(false)
		if err != nil {
			return err
		}
		for _, m := range mails {
			if strings.Contains(m.Raw, "zq7") || strings.Contains(m.Outcome, "zq7") {
				t.Errorf("mail kept for organizers holds the report: %+v", m)
			}
		}
		ms, err := tx.Meetings(0)
		if err != nil {
			return err
		}
		for _, m := range ms {
			lines, err := tx.Lines(m.ID)
			if err != nil {
				return err
			}
			for _, l := range lines {
				if strings.Contains(l.Text, "zq7") {
					t.Errorf("the notes hold the report: %+v", l)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRetentionOnFixedClock runs the clock's retention step at fixed
// times: nothing is purged before the event's end plus its retention,
// everything it covers after, and a forget's answer stays until sent.
func TestRetentionOnFixedClock(t *testing.T) {
	f, mail, _, _ := privacyFixture(t)
	end := f.now.Add(3 * time.Hour)
	f.ev.Retention = 90 * 24 * time.Hour
	f.ev.Grid = schedule.Grid{Rooms: []schedule.GridRoom{{Name: "Room 104"}},
		Slots: []schedule.GridSlot{{Start: f.now.Add(2 * time.Hour), End: end, Kind: "session", Rooms: []string{"Room 104"}}}}
	f.sayIn("", "alice", "alice", "register alice@example.org")
	f.sayIn("", "alice", "alice", "confirm "+mail.token(t, "alice@example.org"))
	f.sayIn("", "alice", "alice", "feed")
	ctx := context.Background()
	count := func() (addrs int) {
		f.store.View(ctx, func(tx *store.Tx) error {
			regs, _ := tx.Registrations(f.ev.id)
			for _, r := range regs {
				if r.Email != "" {
					addrs++
				}
			}
			if _, err := tx.IdentityOf(store.Email, "alice@example.org"); err == nil {
				addrs++
			}
			return nil
		})
		return
	}
	if due := f.bot.RetentionDue()[f.ev.Slug]; !due.Equal(end.Add(f.ev.Retention)) {
		t.Fatalf("retention due at %v, want %v", due, end.Add(f.ev.Retention))
	}
	for _, tc := range []struct {
		at    time.Time
		addrs int
	}{
		{f.now, 2},
		{end.Add(f.ev.Retention - time.Second), 2},
		{end.Add(f.ev.Retention), 0},
		{end.Add(f.ev.Retention + time.Hour), 0},
	} {
		f.bot.retention.last = time.Time{}
		if err := f.bot.retainIfDue(ctx, tc.at); err != nil {
			t.Fatal(err)
		}
		if addrs := count(); addrs != tc.addrs {
			t.Errorf("at %v: %d addresses kept, want %d", tc.at, addrs, tc.addrs)
		}
	}
	// A forget's answer: kept until sent, gone at the next tick after.
	f.now = f.now.Add(time.Minute)
	out := f.sayIn("", "bob", "bob", "forget")
	code := forgetCodeRe.FindStringSubmatch(strings.Join(out, "\n"))
	f.sayIn("", "bob", "bob", "forget confirm "+code[1])
	answers := func() (n int, ids []int64) {
		f.store.View(ctx, func(tx *store.Tx) error {
			msgs, _ := f.store.Pending(ctx, store.IRC, 0, 10000)
			for _, m := range msgs {
				if strings.HasPrefix(m.Body, "Done: hallway has forgotten you") || strings.HasPrefix(m.Body, "Kept without") || strings.HasPrefix(m.Body, "Nothing was kept") {
					ids = append(ids, m.ID)
				}
			}
			return nil
		})
		return len(ids), ids
	}
	n, ids := answers()
	if n == 0 {
		t.Fatal("no answer to the forget")
	}
	if err := f.bot.retainIfDue(ctx, f.now); err != nil {
		t.Fatal(err)
	}
	if n2, _ := answers(); n2 != n {
		t.Fatalf("the answer went before it was sent: %d of %d left", n2, n)
	}
	// Once sent, the next tick empties it (store.TestForgetAnswerPurged).
	_ = ids
}
