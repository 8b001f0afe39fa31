package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// TestAmendLive: a released session rejected between releases is off
// !where, !next and the slot-start announcement at once; the organizers,
// and only they, are told privately, once; accepted again, it is back.
func TestAmendLive(t *testing.T) {
	f := newFixture(t)
	f.ev.Grid, f.ev.Zone = exampleGrid(t)
	f.bot.opts.SolveIterations = 5000
	f.now = time.Date(2027, 3, 1, 17, 0, 0, 0, time.UTC)
	f.say("alice", "alice", `propose "Session A"`)
	f.say("bob", "bob", `propose "Session B"`)
	f.say("carol", "carol", "vote 1 2")
	f.say("pleia2", "pleia2", "schedule release")
	where := f.say("alice", "alice", "where 1")
	at := strings.TrimSuffix(where[strings.Index(where, ": ")+2:], ".")
	at = at[strings.Index(at, ": ")+2:] // "Room, Thu 4 Mar 13:00-13:50"
	room, when, _ := strings.Cut(at, ", ")
	ctx := t.Context()
	pending := func() []store.Message {
		t.Helper()
		msgs, err := f.store.Pending(ctx, store.IRC, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	notices := func() []store.Message {
		var out []store.Message
		for _, m := range pending() {
			if strings.Contains(m.Body, "is empty") {
				out = append(out, m)
			}
		}
		return out
	}

	got := f.say("Krum", "k", "reject 1 -- the speaker cannot come")
	if !strings.Contains(got, "off the released schedule now") {
		t.Errorf("reject: %s", got)
	}
	if got := f.say("alice", "alice", "where 1"); !strings.Contains(got, "was rejected after schedule version 1: it is not on the schedule any more") || strings.Contains(got, "13:") {
		t.Errorf("where after reject: %s", got)
	}
	if got := f.say("alice", "alice", "next"); strings.Contains(got, "#1") {
		t.Errorf("next lists the rejected session: %s", got)
	}
	ns := notices()
	if len(ns) != 2 {
		t.Fatalf("%d notices, want one to each of the 2 organizers: %+v", len(ns), ns)
	}
	for i, o := range []string{"pleia2", "krum"} {
		m := ns[i]
		if m.Account != o || !strings.EqualFold(m.Target, o) || m.Addressee != "" ||
			!strings.Contains(m.Body, "!schedule preview, then !schedule release") || !strings.Contains(m.Body, room+" is empty "+when) {
			t.Errorf("notice %d: %+v (slot %q)", i, m, at)
		}
	}
	// Rejected again, or hallway started again: no second notice.
	f.say("Krum", "k", "reject 1 -- still")
	if n := len(notices()); n != 2 {
		t.Errorf("%d notices after a second reject, want 2", n)
	}
	restarted := newTestBot(f.store, []*Event{f.ev}, &f.bot.opts)
	if err := restarted.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := restarted.ResumeReleases(ctx); err != nil {
		t.Fatal(err)
	}
	f.bot = restarted
	if got := f.say("alice", "alice", "where 1"); !strings.Contains(got, "was rejected after schedule version 1") {
		t.Errorf("where after a restart: %s", got)
	}
	if n := len(notices()); n != 2 {
		t.Errorf("%d notices after a restart, want 2", n)
	}
	// The slot starting: #1 is not announced.
	start := time.Date(2027, 3, 4, 21, 0, 0, 0, time.UTC) // 13:00 in Pasadena
	if _, err := f.bot.AnnounceStarts(ctx, start); err != nil {
		t.Fatal(err)
	}
	for _, m := range pending() {
		if strings.HasPrefix(m.Body, "Starting now") && strings.Contains(m.Body, "#1 ") {
			t.Errorf("announced a rejected session: %s", m.Body)
		}
	}

	// Accepted again: back where it was, and no notice.
	f.now = time.Date(2027, 3, 2, 9, 0, 0, 0, time.UTC)
	if got := f.say("pleia2", "pleia2", "accept 1"); !strings.Contains(got, "back in its slot") {
		t.Errorf("accept: %s", got)
	}
	if got := f.say("alice", "alice", "where 1"); got != where {
		t.Errorf("where after accept: %s, want %s", got, where)
	}
	if n := len(notices()); n != 2 {
		t.Errorf("%d notices after accept, want 2", n)
	}
}

// TestWithdrawDuringRelease: a session withdrawn while the next release
// is being solved (the solver read it as schedulable) is not brought back
// by that release: it is left out, and the diff says cancelled once.
func TestWithdrawDuringRelease(t *testing.T) {
	f := newFixture(t)
	f.ev.Grid, f.ev.Zone = exampleGrid(t)
	f.bot.opts.SolveIterations = 5000
	f.now = time.Date(2027, 3, 1, 17, 0, 0, 0, time.UTC)
	f.say("alice", "alice", `propose "Session A"`)
	f.say("bob", "bob", `propose "Session B"`)
	f.say("carol", "carol", "vote 1 2")
	f.say("pleia2", "pleia2", "schedule release")
	withdrawn := ""
	f.bot.opts.TestHook = func(point string) {
		if point == "release" && withdrawn == "" {
			withdrawn = f.say("alice", "alice", "withdraw 1")
		}
	}
	got := f.say("pleia2", "pleia2", "schedule release")
	if !strings.Contains(withdrawn, "off the released schedule now") {
		t.Fatalf("withdraw during the release: %q", withdrawn)
	}
	if !strings.Contains(got, "version 2 released: 1 item (1 cancelled)") || strings.Count(got, "cancelled: #1") != 1 {
		t.Errorf("release: %s", got)
	}
	if got := f.say("alice", "alice", "where 1"); !strings.Contains(got, "is not in schedule version 2: withdrawn while the schedule was being made") {
		t.Errorf("where: %s", got)
	}
}
