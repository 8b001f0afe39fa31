package main

// The schedule-stays-put test: over the real InspIRCd+Anope, an organizer
// releases a schedule and re-releases it after a vote, a pin and a
// withdrawal; the announcement counts what moved, the calendar feed bumps
// SEQUENCE only for the events that changed, and a withdrawal shows in
// !where, the pages and the feed before any re-release.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc/irctest"
)

// feedEvent is what a calendar keeps of one VEVENT.
type feedEvent struct {
	Start, Location, Status string
	Sequence                int
}

// stabilityConfig is an event of 3 rooms and 4 session slots organized by
// org, without mail.
func stabilityConfig(t *testing.T, ircAddr, botNick, channel, org string) *config.Config {
	t.Helper()
	host, port, _ := strings.Cut(ircAddr, ":")
	text := fmt.Sprintf(`
[store]
path = "hallway.db"
[web]
listen = "127.0.0.1:0"
base_url = "http://127.0.0.1:8080"
[irc]
server = %q
port = %s
tls = false
nick = %q
[[event]]
slug = "stays-put"
name = "Stays Put Day"
timezone = "Europe/Brussels"
channel = %q
organizers = [%q]
  [[event.room]]
  name = "Room A"
  capacity = 40
  [[event.room]]
  name = "Room B"
  capacity = 40
  [[event.room]]
  name = "Room C"
  capacity = 40
  [[event.day]]
  date = "2027-05-06"
  slots = [
    { start = "10:00", minutes = 50, kind = "session", rooms = ["Room A", "Room B", "Room C"] },
    { start = "11:00", minutes = 50, kind = "session", rooms = ["Room A", "Room B", "Room C"] },
    { start = "12:00", minutes = 60, kind = "break", title = "Lunch" },
    { start = "13:00", minutes = 50, kind = "session", rooms = ["Room A", "Room B", "Room C"] },
    { start = "14:00", minutes = 50, kind = "session", rooms = ["Room A", "Room B", "Room C"] },
  ]
`, host, port, botNick, channel, org)
	return loadConfig(t, text, nil)
}

// getPage fetches path from hallway's web handler.
func getPage(t *testing.T, m *Main, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Web.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// readFeed parses the event's full calendar feed, by proposal number.
func readFeed(t *testing.T, m *Main) map[int64]feedEvent {
	t.Helper()
	body := getPage(t, m, "/stays-put/schedule.ics")
	cal, err := ics.ParseCalendar(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("parse feed: %v\n%s", err, body)
	}
	prop := func(e *ics.VEvent, p ics.ComponentProperty) string {
		if v := e.GetProperty(p); v != nil {
			return v.Value
		}
		return ""
	}
	number := regexp.MustCompile(`/session/(\d+)`)
	out := map[int64]feedEvent{}
	for _, e := range cal.Events() {
		m := number.FindStringSubmatch(prop(e, ics.ComponentPropertyUrl))
		if m == nil {
			continue // a break or plenary
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		seq, _ := strconv.Atoi(prop(e, ics.ComponentPropertySequence))
		out[n] = feedEvent{
			Start:    prop(e, ics.ComponentPropertyDtStart),
			Location: prop(e, ics.ComponentPropertyLocation),
			Status:   prop(e, ics.ComponentPropertyStatus),
			Sequence: seq,
		}
	}
	return out
}

// checkSequences says whether SEQUENCE went up by one for exactly the
// events whose time, room or status changed between two feeds.
func checkSequences(t *testing.T, step string, before, after map[int64]feedEvent) (changed int) {
	t.Helper()
	for n, a := range after {
		b, ok := before[n]
		if !ok {
			continue
		}
		differs := a.Start != b.Start || a.Location != b.Location || a.Status != b.Status
		switch {
		case differs && a.Sequence != b.Sequence+1:
			t.Errorf("%s: #%d changed (%+v → %+v) but SEQUENCE %d → %d", step, n, b, a, b.Sequence, a.Sequence)
		case !differs && a.Sequence != b.Sequence:
			t.Errorf("%s: #%d did not change (%+v) but SEQUENCE %d → %d", step, n, a, b.Sequence, a.Sequence)
		}
		if differs {
			changed++
		}
	}
	return changed
}

var releasedRe = regexp.MustCompile(`Schedule version (\d+) released: (\d+) items(?: \(([^)]*)\))?`)

// releaseCount is the count of one kind of change in a release summary.
func releaseCount(summary, kind string) int {
	m := releasedRe.FindStringSubmatch(summary)
	if m == nil {
		return -1
	}
	for _, part := range strings.Split(m[3], ", ") {
		if n, k, ok := strings.Cut(part, " "); ok && k == kind {
			v, _ := strconv.Atoi(n)
			return v
		}
	}
	return 0
}

// TestScheduleStaysPut is issue 12's "done when" over real IRC.
func TestScheduleStaysPut(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end over the test IRC server")
	}
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	org := uniqueNick("org")
	botNick, channel := uniqueNick("hw"), "#"+uniqueNick("put")
	cfg := stabilityConfig(t, ircAddr, botNick, channel, org)
	orgC := ircPerson(t, ctx, ircAddr, org)
	if err := orgC.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	people := make([]*irctest.Client, 6)
	for i := range people {
		people[i] = ircPerson(t, ctx, ircAddr, uniqueNick(fmt.Sprintf("p%d", i)))
	}
	begin := time.Now()
	m, _ := runHallway(t, ctx, cfg)
	waitOnline(t, ctx, orgC, botNick)
	t.Logf("online at %s", time.Since(begin).Round(time.Millisecond))

	say := func(c *irctest.Client, cmd, want string) string {
		t.Helper()
		if err := c.Privmsg(botNick, cmd); err != nil {
			t.Fatal(err)
		}
		return fromBot(t, ctx, c, botNick, want)
	}
	// Ten sessions, two from each of five proposers (#1..#10, in the
	// order the bot takes them), then five ballots with overlapping
	// interests, so that where sessions go matters. All sent at once: the
	// answers come at the pace of the bot's send queue.
	owner := map[int64]*irctest.Client{}
	proposed := regexp.MustCompile(`proposed #(\d+)`)
	for i, p := range people[:5] {
		for j := range 2 {
			if err := p.Privmsg(botNick, fmt.Sprintf(`!propose "Session %d-%d"`, i, j)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range people[:5] {
		for range 2 {
			n, _ := strconv.ParseInt(proposed.FindStringSubmatch(fromBot(t, ctx, p, botNick, "proposed #"))[1], 10, 64)
			owner[n] = p
		}
	}
	ballots := []string{"1 2 3 4", "3 4 5 6", "5 6 7 8", "7 8 9 10", "1 3 5 7"}
	for i, b := range ballots {
		if err := people[i].Privmsg(botNick, "!vote "+b); err != nil {
			t.Fatal(err)
		}
	}
	for i := range ballots {
		fromBot(t, ctx, people[i], botNick, "voted")
	}
	// release makes a release and returns the channel's summary of it.
	release := func(version int) string {
		t.Helper()
		if err := orgC.Privmsg(botNick, "!schedule release"); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("Schedule version %d released", version)
		msg, err := orgC.Expect(ctx, func(m irctest.Message) bool {
			return m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, botNick) &&
				strings.EqualFold(m.Param(0), channel) && strings.Contains(m.Last(), want)
		})
		if err != nil {
			t.Fatalf("waiting for %q in %s: %v", want, channel, err)
		}
		t.Logf("release %d at %s: %s", version, time.Since(begin).Round(time.Millisecond), msg.Last())
		return msg.Last()
	}

	// 1. The first release: every session placed.
	release(1)
	feed1 := readFeed(t, m)
	if len(feed1) != 10 {
		t.Fatalf("feed after release 1 has %d sessions, want 10", len(feed1))
	}

	// 2. One more voter: the re-release keeps the day (≤ 3 moved), and the
	// feed bumps SEQUENCE only for what moved.
	say(people[5], "!vote 2 4 6 8", "voted")
	sum2 := release(2)
	moved := releaseCount(sum2, "moved")
	if moved < 0 || moved > 3 {
		t.Errorf("after one more voter: %d moved (%q), want at most 3", moved, sum2)
	}
	feed2 := readFeed(t, m)
	if changed := checkSequences(t, "vote", feed1, feed2); changed != moved {
		t.Errorf("after one more voter: the announcement says %d moved, the feed changed %d", moved, changed)
	}

	// 3. A pin: the pinned session and at most the one it displaces move.
	var pinned int64
	var target feedEvent
	for n := int64(1); n <= 10 && pinned == 0; n++ {
		for o := int64(1); o <= 10; o++ {
			if feed2[o].Start != feed2[n].Start && feed2[o].Location != feed2[n].Location {
				pinned, target = n, feed2[o]
				break
			}
		}
	}
	tgt, err := time.Parse("20060102T150405", target.Start)
	if err != nil {
		t.Fatalf("DTSTART %q: %v", target.Start, err)
	}
	say(orgC, fmt.Sprintf("!pin %d %s %s", pinned, target.Location, tgt.Format("15:04")), "pinned")
	sum3 := release(3)
	moved = releaseCount(sum3, "moved")
	if moved < 1 || moved > 2 {
		t.Errorf("after pinning #%d to %s %s: %d moved (%q), want the pinned one and at most one displaced", pinned, target.Location, target.Start, moved, sum3)
	}
	feed3 := readFeed(t, m)
	if got := feed3[pinned]; got.Start != target.Start || got.Location != target.Location {
		t.Errorf("pinned #%d is at %s %s, want %s %s", pinned, got.Location, got.Start, target.Location, target.Start)
	}
	if changed := checkSequences(t, "pin", feed2, feed3); changed != moved {
		t.Errorf("after the pin: the announcement says %d moved, the feed changed %d", moved, changed)
	}

	// 4. A withdrawal shows at once, before any re-release: !where, the
	// session's page and the feed (STATUS:CANCELLED, SEQUENCE one up, the
	// others as they were); the organizer is told privately how to fill
	// the slot.
	var gone int64
	for n := int64(1); n <= 10; n++ {
		if n != pinned {
			gone = n
			break
		}
	}
	where := say(owner[gone], fmt.Sprintf("!withdraw %d", gone), "withdrew")
	t.Logf("withdraw: %s", where)
	notice := fromBot(t, ctx, orgC, botNick, "!schedule preview")
	t.Logf("organizer told: %s", notice)
	where = say(people[5], fmt.Sprintf("!where %d", gone), fmt.Sprintf("#%d", gone))
	if !strings.Contains(where, "withdrawn") || strings.Contains(where, feed3[gone].Location) {
		t.Errorf("!where %d after the withdrawal: %q", gone, where)
	}
	if page := getPage(t, m, fmt.Sprintf("/stays-put/session/%d", gone)); !strings.Contains(strings.ToLower(page), "withdrawn") {
		t.Errorf("the session page of #%d does not say it was withdrawn", gone)
	}
	feed4 := readFeed(t, m)
	if got := feed4[gone]; got.Status != "CANCELLED" {
		t.Errorf("withdrawn #%d in the feed: %+v, want STATUS:CANCELLED", gone, got)
	}
	if changed := checkSequences(t, "withdrawal", feed3, feed4); changed != 1 {
		t.Errorf("the withdrawal changed %d events in the feed, want 1", changed)
	}

	// 5. The re-release after it: the withdrawn one is cancelled once, its
	// SEQUENCE does not go up again, and no more than 2 others move.
	sum5 := release(4)
	if n := releaseCount(sum5, "cancelled"); n != 1 {
		t.Errorf("release after the withdrawal: %d cancelled (%q), want 1", n, sum5)
	}
	moved = releaseCount(sum5, "moved")
	if moved > 2 {
		t.Errorf("release after the withdrawal: %d moved (%q), want at most 2", moved, sum5)
	}
	feed5 := readFeed(t, m)
	if changed := checkSequences(t, "release after the withdrawal", feed4, feed5); changed != moved {
		t.Errorf("release after the withdrawal: the announcement says %d moved, the feed changed %d", moved, changed)
	}
}
