package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// listAnnouncer keeps what would go to the mailing list.
type listAnnouncer struct{ b *strings.Builder }

func (a listAnnouncer) Announce(_ *store.Tx, event, key, subject, body string) (bool, error) {
	if key != "" && strings.Contains(a.b.String(), "key="+key+"\n") {
		return false, nil
	}
	fmt.Fprintf(a.b, "--- to the list of %s: %s\n%s---\n", event, subject, body)
	if key != "" {
		fmt.Fprintf(a.b, "key=%s\n", key)
	}
	return true, nil
}

// exampleGrid is the example config's day.
func exampleGrid(t *testing.T) (schedule.Grid, *time.Location) {
	zone, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	at := func(hm string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", "2027-03-04 "+hm, zone)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	all := []string{"Ballroom A", "Room 104", "Room 106"}
	g := schedule.Grid{Rooms: []schedule.GridRoom{{Name: "Ballroom A", Capacity: 120}, {Name: "Room 104", Capacity: 4}, {Name: "Room 106", Capacity: 3}}}
	for _, s := range []struct {
		start string
		min   int
		kind  string
		rooms []string
		title string
	}{
		{"09:00", 40, "talk", all[:1], ""}, {"09:45", 40, "talk", all[:1], ""}, {"12:00", 60, "break", nil, "Lunch"},
		{"13:00", 50, "session", all, ""}, {"14:00", 50, "session", all, ""}, {"16:00", 45, "plenary", all[:1], "Closing plenary"},
	} {
		g.Slots = append(g.Slots, schedule.GridSlot{Start: at(s.start), End: at(s.start).Add(time.Duration(s.min) * time.Minute), Kind: s.kind, Rooms: s.rooms, Title: s.title})
	}
	return g, zone
}

func TestScheduleRelease(t *testing.T) {
	f := newFixture(t)
	f.ev.Grid, f.ev.Zone = exampleGrid(t)
	f.ev.URL = "http://127.0.0.1:8080/openinfra-day-2027"
	f.bot.opts.SolveIterations = 20000
	var list strings.Builder
	f.bot.SetAnnouncer(listAnnouncer{&list})
	var b strings.Builder
	say := func(who, text string) {
		t.Helper()
		fmt.Fprintf(&b, "<%s> !%s\n", who, text)
		for _, l := range f.sayIn("#openinfra", who, who, text) {
			b.WriteString(l + "\n")
		}
	}
	f.now = time.Date(2027, 3, 1, 17, 0, 0, 0, time.UTC)
	say("alice", `propose talk "Keynote: zero to 2500"`)
	say("bob", `propose talk "CI at scale"`)
	say("carol", `propose talk "Not accepted"`)
	for i, who := range []string{"alice", "bob", "carol", "dave", "erin", "alice", "bob", "frank"} {
		say(who, fmt.Sprintf(`propose "Session %c"`, 'A'+i))
	}
	say("pleia2", "accept 1")
	say("pleia2", "accept 2")
	// Ten voters; sessions D, E and F share voters, so they should not share a slot.
	for i := 0; i < 10; i++ {
		who := fmt.Sprintf("v%d", i)
		votes := []string{"4", "5", "6", "7", "8", "9", "10"}[i%4 : i%4+3]
		say(who, "vote "+strings.Join(votes, " "))
	}
	say("alice", "schedule")
	say("alice", "schedule preview")
	say("pleia2", "pin 11 Room 106 14:00")
	say("pleia2", "pin 11 Room 107 14:00")
	say("pleia2", "pin 11 Room 106 14:30")
	say("pleia2", "schedule preview")
	say("pleia2", "schedule release -- first version")
	say("alice", "schedule")
	say("alice", "where 4")
	say("alice", "where 11")
	say("alice", "where 3")
	// An unconference session is scheduled without being accepted.
	say("alice", "show 4")
	// 9:00 is 09:00.
	say("pleia2", "pin 1 Ballroom A 9:00")
	f.now = time.Date(2027, 3, 4, 20, 10, 0, 0, time.UTC) // 12:10 in Pasadena: lunch
	say("alice", "now")
	f.now = time.Date(2027, 3, 4, 21, 10, 0, 0, time.UTC) // 13:10 in Pasadena
	say("alice", "now")
	say("alice", "next")
	// Second version: D withdrawn, H gets votes, the pin goes.
	say("dave", "withdraw 7")
	// Off the schedule at once, before any new release; the organizers
	// are told privately (once).
	say("alice", "where 7")
	say("alice", "now")
	say("alice", "next")
	say("alice", "schedule")
	say("dave", "withdraw 7")
	say("pleia2", "unpin 11")
	for i := 0; i < 6; i++ {
		say(fmt.Sprintf("w%d", i), "vote 11")
	}
	// At 13:10 everything of the day starts within freeze_before (2 h):
	// the new version only fills what D left and places H.
	say("pleia2", "schedule preview")
	say("pleia2", "schedule release")
	f.now = time.Date(2027, 3, 5, 9, 0, 0, 0, time.UTC)
	say("alice", "now")
	// An organizer closing voting in private: the channel and the list are told.
	b.WriteString("<pleia2> (privately) close voting\n")
	for _, l := range f.sayIn("", "pleia2", "pleia2", "close voting") {
		b.WriteString(l + "\n")
	}
	b.WriteString(list.String())
	golden(t, "schedule.golden", b.String())
}

func TestAnnounceStarts(t *testing.T) {
	f := newFixture(t)
	f.ev.Grid, f.ev.Zone = exampleGrid(t)
	f.ev.KeepTopic, f.ev.URL = true, "http://127.0.0.1:8080/openinfra-day-2027"
	f.bot.opts.SolveIterations = 5000
	f.say("alice", "alice", `propose "Session A"`)
	f.say("bob", "bob", `propose "Session B"`)
	f.say("carol", "carol", "vote 1 2")
	f.say("pleia2", "pleia2", "schedule release")
	f.last = 1 << 40 // ignore what was said so far
	ctx := t.Context()
	start := time.Date(2027, 3, 4, 21, 0, 0, 0, time.UTC) // 13:00 in Pasadena
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{start.Add(-time.Second), 0},
		{start, 1},
		{start.Add(30 * time.Second), 0},          // once only
		{start.Add(time.Hour + 3*time.Minute), 0}, // 14:03: too late to say
	} {
		n, err := f.bot.AnnounceStarts(ctx, tc.at)
		if err != nil || n != tc.want {
			t.Errorf("AnnounceStarts at %s = %d, %v; want %d", tc.at, n, err, tc.want)
		}
	}
	msgs, err := f.store.Pending(ctx, store.IRC, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	topic := msgs[len(msgs)-2]
	if topic.Kind != store.TopicKind || !strings.HasPrefix(topic.Body, "Now: ") || !strings.Contains(topic.Body, " | Next at 14:00 | http://127.0.0.1:8080/openinfra-day-2027/") {
		t.Errorf("topic: %+v", topic)
	}
	last := msgs[len(msgs)-1]
	// carol voted for both, so they run at 13:00 and 14:00.
	if !strings.HasPrefix(last.Body, "Starting now (13:00-13:50): ") || strings.Count(last.Body, "Session") != 1 || last.Target != "#openinfra" {
		t.Errorf("announcement %q to %s", last.Body, last.Target)
	}
}

func TestAnnouncePhases(t *testing.T) {
	f := newFixture(t)
	var list strings.Builder
	f.bot.SetAnnouncer(listAnnouncer{&list})
	open := time.Date(2027, 3, 4, 19, 0, 0, 0, time.UTC)
	f.ev.Phases = map[string]PhaseTimes{"voting": {Open: open, Close: open.Add(time.Hour)}}
	ctx := t.Context()
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{open.Add(-time.Minute), 0},
		{open.Add(10 * time.Second), 1},
		{open.Add(20 * time.Second), 0},          // once
		{open.Add(time.Hour + 5*time.Minute), 0}, // the close passed too long ago
	} {
		f.now = tc.at
		if n, err := f.bot.AnnouncePhases(ctx, tc.at); err != nil || n != tc.want {
			t.Errorf("AnnouncePhases at %s = %d, %v; want %d", tc.at.Format("15:04:05"), n, err, tc.want)
		}
	}
	if !strings.Contains(list.String(), "Voting is now open for Open Source Infrastructure Day 2027.") || !strings.Contains(list.String(), "You have 4 votes.") {
		t.Errorf("list post:\n%s", list.String())
	}
}
