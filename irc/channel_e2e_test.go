package irc_test

// End-to-end tests of what the channel hears, against the real InspIRCd +
// Anope: announcements for everyone, notes in several rooms at once,
// times people can read.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store/storetest"
	"github.com/hallwayhq/hallway/web"
)

// testClock is a clock the test moves.
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.set(t)
	return c
}

func (c *testClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }
func (c *testClock) now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func berlin(t *testing.T) *time.Location {
	t.Helper()
	z, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// dayEvent gives the event a day on Thu 4 March 2027 in Berlin: a talk in
// Room A at 09:00, lunch, and three parallel session rooms at 13:00.
func dayEvent(t *testing.T, url string, roomChannels map[string]string) func(*bot.Event) {
	zone := berlin(t)
	at := func(hm string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", "2027-03-04 "+hm, zone)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	rooms := []string{"Room A", "Room B", "Room C"}
	return func(ev *bot.Event) {
		ev.Zone, ev.URL, ev.RoomChannels = zone, url, roomChannels
		ev.Grid = schedule.Grid{Rooms: []schedule.GridRoom{{Name: "Room A"}, {Name: "Room B"}, {Name: "Room C"}},
			Slots: []schedule.GridSlot{
				{Start: at("09:00"), End: at("09:40"), Kind: schedule.KindTalk, Rooms: rooms[:1]},
				{Start: at("12:00"), End: at("13:00"), Kind: schedule.KindBreak, Title: "Lunch"},
				{Start: at("13:00"), End: at("13:50"), Kind: schedule.KindSession, Rooms: rooms},
			}}
	}
}

// program fills the event: a talk accepted and three sessions with a
// vote each.
func program(t *testing.T, ctx context.Context, channel, botNick string, orgC, aliceC, bobC *irctest.Client) {
	t.Helper()
	alice := aliceC.Nick()
	aliceC.Privmsg(channel, `!propose talk "Keynote"`)
	saidPrefix(t, ctx, aliceC, botNick, alice+": proposed #1")
	// Each session has its own speaker, so they can run at once.
	for i, c := range []*irctest.Client{aliceC, bobC, orgC} {
		c.Privmsg(channel, `!propose "`+[]string{"Macs for CI", "Mirrors", "Fuzzing"}[i]+`"`)
		saidPrefix(t, ctx, c, botNick, c.Nick()+": proposed #")
	}
	for i, c := range []*irctest.Client{aliceC, bobC, orgC} {
		n := strconv.Itoa(i + 2)
		c.Privmsg(channel, "!vote "+n)
		saidPrefix(t, ctx, c, botNick, c.Nick()+": voted for #"+n)
	}
	orgC.Privmsg(channel, "!accept 1")
	saidPrefix(t, ctx, orgC, botNick, orgC.Nick()+`: talk #1 "Keynote" accepted`)
}

// TestIRCReleaseAnnouncedToAll: a release said in the channel is news for
// everyone: said with no addressee, with the organizer's note, and its
// long list ends with the schedule page, not a "!more" only the organizer
// could say. A long !proposals in the channel ends with its page too.
func TestIRCReleaseAnnouncedToAll(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 2*time.Minute)
	channel := "#" + unique("rel")
	botNick, org, alice := unique("hw"), unique("org"), unique("alice")
	account(t, ctx, addr, botNick).Close()
	orgC := account(t, ctx, addr, org)
	aliceC := account(t, ctx, addr, alice)
	bobC := account(t, ctx, addr, unique("bob"))
	watcher := irctest.DialT(t, addr, unique("w"))
	for _, c := range []*irctest.Client{orgC, aliceC, bobC, watcher} {
		if err := c.Join(ctx, channel); err != nil {
			t.Fatal(err)
		}
	}
	const url = "http://127.0.0.1:8080/e2e"
	clock := newTestClock(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	b := startBot(t, botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(t), organizers: []string{org}, burst: 20, rate: 20,
		now: clock.now, event: dayEvent(t, url, nil)})
	defer b.stop()
	waitJoined(t, ctx, watcher, botNick, channel)
	program(t, ctx, channel, botNick, orgC, aliceC, bobC)

	orgC.Privmsg(channel, "!schedule release -- Room B has no projector")
	got := botLines(t, ctx, watcher, botNick, func(l string) bool { return strings.Contains(l, " more at ") || strings.Contains(l, "!more") })
	want := []string{
		"Schedule version 1 released: 4 items. Note: Room B has no projector. " + url + "/schedule",
		"new: #1 Keynote, Thu 4 Mar 09:00 CET in Room A",
		"(3 more at " + url + "/schedule)",
	}
	if len(got) > len(want) {
		got = got[len(got)-len(want):] // what the bot answered before the release
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the channel heard:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	watcher.Privmsg(channel, "!proposals")
	got = botLines(t, ctx, watcher, botNick, func(l string) bool { return strings.Contains(l, " more at ") || strings.Contains(l, "!more") })
	if last := got[len(got)-1]; last != watcher.Nick()+": (3 more at "+url+"/proposals)" {
		t.Errorf("!proposals in the channel ended with %q; want the proposals page", last)
	}
}

// TestIRCReadableTimes: times carry their date unless today, and the
// zone; "9:00" is 09:00; !now at lunch names lunch and when it ends; !show
// says where and when a scheduled session (never "accepted") is.
func TestIRCReadableTimes(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 2*time.Minute)
	channel := "#" + unique("time")
	botNick, org, alice := unique("hw"), unique("org"), unique("alice")
	account(t, ctx, addr, botNick).Close()
	orgC := account(t, ctx, addr, org)
	aliceC := account(t, ctx, addr, alice)
	bobC := account(t, ctx, addr, unique("bob"))
	for _, c := range []*irctest.Client{orgC, aliceC, bobC} {
		if err := c.Join(ctx, channel); err != nil {
			t.Fatal(err)
		}
	}
	clock := newTestClock(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)) // three months before
	b := startBot(t, botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(t), organizers: []string{org}, burst: 20, rate: 20,
		now: clock.now, event: dayEvent(t, "", nil)})
	defer b.stop()
	waitJoined(t, ctx, aliceC, botNick, channel)
	program(t, ctx, channel, botNick, orgC, aliceC, bobC)

	orgC.Privmsg(channel, "!pin 1 Room A 9:00")
	said(t, ctx, orgC, botNick, org+`: pinned #1 "Keynote" to Room A, Thu 4 Mar 2027 09:00 CET. It takes effect at the next release.`)
	orgC.Privmsg(channel, "!schedule release")
	saidPrefix(t, ctx, orgC, botNick, "Schedule version 1 released")
	aliceC.Privmsg(channel, "!where 1")
	said(t, ctx, aliceC, botNick, alice+`: #1 "Keynote": Room A, Thu 4 Mar 2027 09:00-09:40 CET.`)

	clock.set(time.Date(2027, 3, 4, 11, 10, 0, 0, time.UTC)) // 12:10 in Berlin, the day itself
	aliceC.Privmsg(channel, "!now")
	saidPrefix(t, ctx, aliceC, botNick, alice+": now: Lunch (break) until 13:00 CET. Next, 13:00 CET: Room ")
	aliceC.Privmsg(channel, "!show 2")
	line := saidPrefix(t, ctx, aliceC, botNick, alice+`: #2 "Macs for CI"`)
	if !regexp.MustCompile(`, scheduled: Room [ABC], 13:00-13:50 CET\.$`).MatchString(line) {
		t.Errorf("!show 2 = %q; want where and when it is scheduled", line)
	}
}

// TestIRCRoomChannels: rooms take notes at once, each in its channel: a
// room's channel from the config, and one an organizer invited the bot to
// (remembered across a restart; an attendee's invitation is not taken
// up). The session pages link to their minutes, /notes lists them all,
// the wrap-up names the sessions without notes, and hallway closing the
// notes at the slot's end is not counted as someone who spoke.
func TestIRCRoomChannels(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 3*time.Minute)
	channel, roomA, roomB, other := "#"+unique("ev"), "#"+unique("ra"), "#"+unique("rb"), "#"+unique("x")
	botNick, org, alice := unique("hw"), unique("org"), unique("alice")
	account(t, ctx, addr, botNick).Close()
	orgC := account(t, ctx, addr, org)
	aliceC := account(t, ctx, addr, alice)
	bobC := account(t, ctx, addr, unique("bob"))
	if err := bobC.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{channel, roomA, roomB} {
		for _, c := range []*irctest.Client{orgC, aliceC} {
			if err := c.Join(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := aliceC.Join(ctx, other); err != nil {
		t.Fatal(err)
	}
	zone := berlin(t)
	clock := newTestClock(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	setup := botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(t), organizers: []string{org}, burst: 20, rate: 20,
		now: clock.now, event: dayEvent(t, "", map[string]string{"Room A": roomA})}
	b := startBot(t, setup)
	defer func() { b.stop() }()
	waitJoined(t, ctx, aliceC, botNick, channel)
	waitJoined(t, ctx, aliceC, botNick, roomA) // the room's channel, from the config

	// An attendee's invitation is not taken up; an organizer's is.
	aliceC.Raw("INVITE " + botNick + " " + other)
	orgC.Raw("INVITE " + botNick + " " + roomB)
	waitJoined(t, ctx, orgC, botNick, roomB)

	program(t, ctx, channel, botNick, orgC, aliceC, bobC)
	orgC.Privmsg(channel, "!schedule release")
	saidPrefix(t, ctx, orgC, botNick, "Schedule version 1 released: 4 items")

	// Two rooms take notes at once, at 13:10 on the day.
	clock.set(time.Date(2027, 3, 4, 12, 10, 0, 0, time.UTC))
	aliceC.Privmsg(roomA, "!notes start") // what is on in Room A now
	started := saidPrefix(t, ctx, aliceC, botNick, "Meeting started")
	orgC.Privmsg(roomB, "#startmeeting Room B hallway track")
	saidPrefix(t, ctx, orgC, botNick, "Meeting started")
	orgC.Privmsg(roomB, "#agreed mirror everything")
	orgC.Privmsg(roomB, "#endmeeting")
	saidPrefix(t, ctx, orgC, botNick, "Meeting ended")
	// Room A's notes close at the slot's end, by hallway itself.
	end := time.Date(2027, 3, 4, 13, 50, 0, 0, zone)
	if n, err := b.bot.CloseMeetings(ctx, end); err != nil || n != 1 {
		t.Fatalf("CloseMeetings = %d, %v; want Room A's notes closed", n, err)
	}
	b.irc.Wake()
	saidPrefix(t, ctx, aliceC, botNick, "Meeting ended")

	// The bot comes back to the channel it was invited to, and not to the
	// attendee's.
	b.stop()
	b = startBot(t, setup)
	waitJoined(t, ctx, orgC, botNick, roomB)
	aliceC.Raw("NAMES " + other)
	m, err := aliceC.Expect(ctx, func(m irctest.Message) bool { return m.Command == "353" || m.Command == "366" })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(m.Last()), strings.ToLower(botNick)) {
		t.Errorf("the bot joined %s on an attendee's invitation: %s", other, m.Last())
	}

	// Minutes: room A's session, without hallway among those who spoke.
	if !strings.Contains(started, "Notes for ") {
		t.Fatalf("meeting start %q names no session", started)
	}
	minutes, err := b.bot.Minutes(ctx, "e2e", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range minutes.Speakers {
		if strings.EqualFold(s.Nick, botNick) {
			t.Errorf("the bot counted among the people who spoke: %+v", minutes.Speakers)
		}
	}
	if minutes.Info.Number == 0 || minutes.Info.Room != "Room A" {
		t.Fatalf("notes in Room A's channel are for #%d in %q; want the session on in Room A", minutes.Info.Number, minutes.Info.Room)
	}
	wrap, _, err := b.bot.Wrapup(ctx, "e2e", false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(wrap, "## Sessions without notes") || strings.Count(wrap[strings.Index(wrap, "## Sessions without notes"):], "\n- #") != 3 {
		t.Errorf("the wrap-up does not name the 3 sessions without notes (2 sessions and the talk):\n%s", wrap)
	}

	// The pages: the session links its minutes; /notes lists both.
	srv := web.New(b.store, []web.Event{{Slug: "e2e", Name: "E2E Day", Zone: zone}}, nil)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	get := func(path string) string {
		t.Helper()
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return string(body)
	}
	if page := get("/e2e/session/" + strconv.FormatInt(minutes.Info.Number, 10)); !strings.Contains(page, `href="/e2e/notes/1"`) {
		t.Errorf("the session page of #%d does not link its minutes", minutes.Info.Number)
	}
	index := get("/e2e/notes")
	for _, want := range []string{`href="/e2e/notes/1"`, `href="/e2e/notes/2"`, "Room B hallway track", roomA, roomB} {
		if !strings.Contains(index, want) {
			t.Errorf("/e2e/notes lacks %q", want)
		}
	}
}
