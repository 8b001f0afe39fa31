package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// channelLine is something said in #openinfra that is not a bot command.
func (f *fixture) line(account, nick, text string, resolve map[string]string) []string {
	f.t.Helper()
	req := Request{Transport: IRC, Can: ChatCapabilities, Who: IRCIdentity(account), Nick: nick, Where: "#openinfra", Text: text, Raw: true,
		At: f.now, Resolve: func(n string) Identity { return IRCIdentity(resolve[strings.ToLower(n)]) }}
	if err := f.bot.Handle(context.Background(), req); err != nil {
		f.t.Fatalf("line %q: %v", text, err)
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

func TestNotesSession(t *testing.T) {
	f := newFixture(t)
	f.ev.URL = "http://127.0.0.1:8080/openinfra-day-2027"
	var list strings.Builder
	f.bot.SetAnnouncer(listAnnouncer{&list})
	f.say("alice", "alice", `propose "Renting Macs for CI"`)
	var transcript strings.Builder
	step := func(account, nick, text string, resolve map[string]string) {
		t.Helper()
		f.now = f.now.Add(30 * time.Second)
		fmt.Fprintf(&transcript, "<%s> %s\n", nick, text)
		for _, l := range f.line(account, nick, text, resolve) {
			fmt.Fprintf(&transcript, "  %s\n", l)
		}
	}
	step("", "carol", "just chatting, no notes yet", nil)
	if f.bot.Recording("#openinfra") {
		t.Fatal("recording before any #startmeeting")
	}
	fmt.Fprintf(&transcript, "<alice> !notes start 1\n  %s\n", strings.Join(f.sayIn("#openinfra", "alice", "alice", "notes start 1"), "\n  "))
	step("bob", "bob", "#info hosts: MacStadium, EC2 Mac", nil)
	step("", "mallory", "#topic spam", nil)
	step("", "alice_", "#endmeeting", nil) // alice's nick without her account
	step("alice", "alice", "#chair bob", map[string]string{"bob": "bob"})

	// The bot restarts mid-session: the notes go on from the log.
	f.bot = newTestBot(f.store, []*Event{f.ev}, &f.bot.opts)
	f.bot.SetAnnouncer(listAnnouncer{&list})
	if err := f.bot.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !f.bot.Recording("#openinfra") {
		t.Fatal("after a restart the running notes were lost")
	}
	step("bob", "bob", "#topic Costs", nil)
	step("bob", "bob", "#agreed pool budgets", nil)
	step("carol", "carol", "#action alice: write the spec", map[string]string{"alice": "alice"})
	step("bob", "bob", "see https://example.org/macs for prices", nil)
	step("bob", "bob", "#endmeeting", nil)
	step("bob", "bob", "#info after the end: not recorded", nil)
	if f.bot.Recording("#openinfra") {
		t.Fatal("still recording after #endmeeting")
	}
	got := transcript.String() + list.String()
	golden(t, "notes.golden", got)
	if strings.Count(list.String(), "--- to the list of openinfra-day-2027: Minutes: #1 Renting Macs for CI") != 1 {
		t.Errorf("minutes posted to the list: %q", list.String())
	}
	// The minutes regenerate from the log exactly.
	m, err := f.bot.Minutes(context.Background(), "openinfra-day-2027", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list.String(), m.Text()) {
		t.Error("the regenerated minutes differ from the posted ones")
	}
	if len(m.Actions()) != 1 || m.Actions()[0].Owners[0] != "alice" {
		t.Errorf("actions: %+v", m.Actions())
	}

	// The next meeting of the series carries the open action over.
	f.now = f.now.Add(time.Hour)
	f.sayIn("#openinfra", "alice", "alice", "notes start 1")
	carried := f.line("alice", "alice", "#actions", nil)
	if len(carried) != 1 || !strings.Contains(carried[0], "alice: write the spec") {
		t.Errorf("#actions in the next meeting: %q", carried)
	}
}

func TestNotesCloseWhenSlotEnds(t *testing.T) {
	f := newFixture(t)
	f.ev.Grid, f.ev.Zone = exampleGrid(t)
	f.bot.opts.SolveIterations = 2000
	var list strings.Builder
	f.bot.SetAnnouncer(listAnnouncer{&list})
	f.say("alice", "alice", `propose "Session A"`)
	f.say("bob", "bob", "vote 1")
	f.say("pleia2", "pleia2", "schedule release")
	f.now = time.Date(2027, 3, 4, 21, 5, 0, 0, time.UTC) // 13:05 in Pasadena: session A runs
	f.sayIn("#openinfra", "alice", "alice", "notes start")
	if !f.bot.Recording("#openinfra") {
		t.Fatal("notes start without a number did not pick what is on now")
	}
	if n, err := f.bot.CloseMeetings(context.Background(), f.now.Add(10*time.Minute)); n != 0 || err != nil {
		t.Fatalf("closed before the slot ended: %d, %v", n, err)
	}
	if n, err := f.bot.CloseMeetings(context.Background(), f.now.Add(time.Hour)); n != 1 || err != nil {
		t.Fatalf("CloseMeetings at the end of the slot = %d, %v", n, err)
	}
	if f.bot.Recording("#openinfra") || !strings.Contains(list.String(), "Minutes: #1 Session A") {
		t.Errorf("notes not closed and posted: %q", list.String())
	}
}

func TestWrapupPostedOnce(t *testing.T) {
	f := newFixture(t)
	f.ev.URL = "http://127.0.0.1:8080/openinfra-day-2027"
	var list strings.Builder
	f.bot.SetAnnouncer(listAnnouncer{&list})
	f.say("alice", "alice", `propose "Renting Macs for CI"`)
	f.say("bob", "bob", "vote 1")
	f.say("carol", "carol", "here")
	f.sayIn("#openinfra", "alice", "alice", "notes start 1")
	f.line("alice", "alice", "#agreed rent, don't buy", nil)
	f.line("alice", "alice", "#endmeeting", nil)
	if got := f.say("pleia2", "pleia2", "wrapup"); got != "pleia2: posted the wrap-up to the list. http://127.0.0.1:8080/openinfra-day-2027/wrapup" {
		t.Errorf("first wrapup: %q", got)
	}
	if got := f.say("pleia2", "pleia2", "wrapup"); !strings.Contains(got, "was posted already") {
		t.Errorf("second wrapup: %q", got)
	}
	md, posted, err := f.bot.Wrapup(t.Context(), "openinfra-day-2027", true)
	if err != nil || posted {
		t.Errorf("hallway wrapup after the post: posted=%v, %v", posted, err)
	}
	if n := strings.Count(list.String(), "--- to the list of openinfra-day-2027: Open Source Infrastructure Day 2027: wrap-up"); n != 1 {
		t.Errorf("wrap-up posted %d times", n)
	}
	for _, want := range []string{"0 registered, 1 checked in", "1, with 1 vote from 1 person", "AGREED: rent, don't buy"} {
		if !strings.Contains(md, want) {
			t.Errorf("wrap-up lacks %q:\n%s", want, md)
		}
	}
}

// TestNotesInMatrixRoom: notes taken in a Matrix room as in an IRC
// channel: the bot's answers go to the room, each meeting line carried out
// is acknowledged (a reaction, where Matrix replies), chairs are named by
// Matrix user ID and never by display name, and the minutes show people
// by user ID. Chatter is recorded without a word.
func TestNotesInMatrixRoom(t *testing.T) {
	f := newFixture(t)
	const room = "!notes:example.org"
	f.ev.ChatRooms = []ChatRoom{{Transport: Matrix, Name: room}}
	f.ev.Organizers = append(f.ev.Organizers, MatrixIdentity("@alice:example.org"))
	var list strings.Builder
	f.bot.SetAnnouncer(listAnnouncer{&list})
	f.bot.SetReplier(Matrix, matrixReplier{})
	ctx := context.Background()
	var seq int
	// line says text in the room as user, as the Matrix transport hands a
	// line of notes over, and returns the rows it queued: "✅ on $k" for a
	// reaction.
	line := func(user, text string) []string {
		t.Helper()
		f.now = f.now.Add(30 * time.Second)
		seq++
		key := fmt.Sprintf("$ev%d", seq)
		before, _ := f.store.Pending(ctx, store.Matrix, 0, 1000)
		req := Request{Transport: Matrix, Can: ChatCapabilities, Who: MatrixIdentity(user), Nick: user, Where: room,
			Text: text, Raw: true, At: f.now, Keys: []string{key},
			Resolve: func(n string) Identity {
				if strings.HasPrefix(n, "@") && strings.Contains(n, ":") {
					return MatrixIdentity(n)
				}
				return Identity{}
			}}
		if err := f.bot.Handle(ctx, req); err != nil {
			t.Fatalf("line %q: %v", text, err)
		}
		after, _ := f.store.Pending(ctx, store.Matrix, 0, 1000)
		var out []string
		for _, m := range after[len(before):] {
			if m.Target != room {
				t.Errorf("%q answered to %q, not the room", text, m.Target)
			}
			if m.Kind == store.ReactionKind {
				out = append(out, m.Body+" on "+m.ReplyTo)
				if m.ReplyTo != key {
					t.Errorf("%q: reaction on %s, want %s", text, m.ReplyTo, key)
				}
				continue
			}
			out = append(out, m.Body)
		}
		return out
	}
	want := func(got []string, wants ...string) {
		t.Helper()
		if len(got) != len(wants) {
			t.Fatalf("rows %q, want %d like %q", got, len(wants), wants)
		}
		for i, w := range wants {
			if !strings.Contains(got[i], w) {
				t.Errorf("row %d %q, want %q in it", i, got[i], w)
			}
		}
	}

	want(line("@carol:example.org", "hello, no notes yet"))
	want(line("@alice:example.org", "#startmeeting Matrix sync"), "Meeting started", "✅ on $ev2")
	if !f.bot.TakingNotes(Matrix, room) || f.bot.TakingNotes(Matrix, strings.ToUpper(room)) || f.bot.Recording(room) {
		t.Fatal("the notes are not kept for the Matrix room alone")
	}
	want(line("@bob:example.org", "#topic not a chair yet"), "@bob:example.org: #topic is for the chairs")
	want(line("@alice:example.org", "#chair Bob"), "Current chairs: @alice:example.org, pleia2")
	want(line("@alice:example.org", "#chair @bob:example.org"), "Current chairs: @alice:example.org, @bob:example.org, pleia2", "✅")
	want(line("@bob:example.org", "#topic Sync"), "✅ on $ev")
	want(line("@mallory:example.org", "#agreed spam"), "#agreed is for the chairs")
	want(line("@carol:example.org", "just chatting"))
	want(line("@bob:example.org", "#action @carol:example.org: write the sync test"), "✅")

	// The bot restarts mid-meeting: the notes go on from the log.
	f.bot = newTestBot(f.store, []*Event{f.ev}, &f.bot.opts)
	f.bot.SetAnnouncer(listAnnouncer{&list})
	f.bot.SetReplier(Matrix, matrixReplier{})
	if err := f.bot.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if !f.bot.TakingNotes(Matrix, room) {
		t.Fatal("after a restart the running notes were lost")
	}
	want(line("@bob:example.org", "#agreed one sync loop"), "✅")
	want(line("@bob:example.org", "#endmeeting"), "Meeting ended", "✅")
	want(line("@bob:example.org", "#info after the end"))

	m, err := f.bot.Minutes(ctx, f.ev.Slug, 1)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(m.Chairs) != "[@alice:example.org @bob:example.org]" {
		t.Errorf("chairs %v", m.Chairs)
	}
	if a := m.Actions(); len(a) != 1 || fmt.Sprint(a[0].Owners) != "[@carol:example.org]" {
		t.Errorf("actions %+v, want one for @carol:example.org", a)
	}
	for _, w := range []string{"Minutes: Matrix sync", "matrix:" + room, "started by @alice:example.org", "one sync loop", "@carol:example.org (1)"} {
		if !strings.Contains(list.String(), w) {
			t.Errorf("the minutes to the list lack %q:\n%s", w, list.String())
		}
	}
}
