package schedule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
)

// wantEvent is what an iCal reader must find in a feed: times as the
// wall-clock time in the event's zone and the instant, written by hand.
type wantEvent struct {
	UID            string   `json:"uid"`
	Sequence       int      `json:"sequence"`
	Status         string   `json:"status"`
	Summary        string   `json:"summary"`
	Location       string   `json:"location"`
	Start          string   `json:"start"`
	End            string   `json:"end"`
	StartUTC       string   `json:"start_utc"`
	DescriptionHas []string `json:"description_has,omitempty"`
}

type wantFeed struct {
	Name    string      `json:"-"`
	Path    string      `json:"path"`
	CalName string      `json:"calname"`
	TZID    string      `json:"tzid"`
	Events  []wantEvent `json:"events"`
	feed    []byte
}

func laWant() map[int64]wantEvent {
	const venue = ", Moscone West, San Francisco"
	uid := func(n int) string { return fmt.Sprintf("openinfra-day-2027-%d@127.0.0.1", n) }
	link := func(n int) string { return fmt.Sprintf("http://127.0.0.1:8080/openinfra-day-2027/session/%d", n) }
	return map[int64]wantEvent{
		1: {uid(1), 0, "CONFIRMED", "Keynote: Open Infra, Today", "Ballroom A" + venue,
			"2027-03-13T09:00:00", "2027-03-13T09:45:00", "2027-03-13T17:00:00+00:00",
			[]string{"Where we are, and where we go next.\n\nSpeakers: Doe, Jane\n" + link(1)}},
		2: {uid(2), 1, "CONFIRMED", "Kubernetes at the edge", "Ballroom A" + venue,
			"2027-03-14T09:00:00", "2027-03-14T09:45:00", "2027-03-14T16:00:00+00:00",
			[]string{"Speakers: Amir Haddad, Li Wei", link(2)}},
		3: {uid(3), 1, "CONFIRMED", "Packaging & distro BoF", "Room 201; Annex" + venue,
			"2027-03-13T14:00:00", "2027-03-13T14:50:00", "2027-03-13T22:00:00+00:00",
			[]string{"Speakers: Zoë Müller"}},
		4: {uid(4), 1, "CONFIRMED", "Docs sprint", "Ballroom A" + venue,
			"2027-03-14T10:00:00", "2027-03-14T10:50:00", "2027-03-14T17:00:00+00:00", nil},
		5: {uid(5), 1, "CONFIRMED", "Zero-downtime upgrades", "Ballroom A" + venue,
			"2027-03-14T11:00:00", "2027-03-14T11:45:00", "2027-03-14T18:00:00+00:00",
			[]string{"Speakers: Sam O'Neil, Ana Lima"}},
		6: {uid(6), 1, "CANCELLED", "Hallway & coffee <chat>", `Hallway "Track"` + venue,
			"2027-03-14T13:00:00", "2027-03-14T13:50:00", "2027-03-14T20:00:00+00:00",
			[]string{"Cancelled in schedule version 2."}},
		7: {uid(7), 0, "CONFIRMED", "Observability 101", "Room 201; Annex" + venue,
			"2027-03-15T09:00:00", "2027-03-15T09:50:00", "2027-03-15T16:00:00+00:00", nil},
	}
}

// laFixedWant are the breaks and plenaries of laEvent.
func laFixedWant() map[string]wantEvent {
	const venue = "Moscone West, San Francisco"
	const page = "http://127.0.0.1:8080/openinfra-day-2027/"
	return map[string]wantEvent{
		"lunch": {"openinfra-day-2027-break-20270313T2000Z@127.0.0.1", 0, "CONFIRMED", "Lunch", venue,
			"2027-03-13T12:00:00", "2027-03-13T13:00:00", "2027-03-13T20:00:00+00:00", []string{page}},
		"closing": {"openinfra-day-2027-plenary-20270314T2300Z-ballroom-a@127.0.0.1", 1, "CONFIRMED", "Closing plenary", "Ballroom A, " + venue,
			"2027-03-14T16:00:00", "2027-03-14T17:00:00", "2027-03-14T23:00:00+00:00", nil},
		"coffee": {"openinfra-day-2027-break-20270314T1800Z-room-201-annex@127.0.0.1", 1, "CANCELLED", "Break", "Room 201; Annex, " + venue,
			"2027-03-14T11:00:00", "2027-03-14T11:15:00", "2027-03-14T18:00:00+00:00", []string{"Cancelled in schedule version 2."}},
	}
}

func tokyoWant() map[int64]wantEvent {
	const venue = ", 渋谷ストリーム"
	return map[int64]wantEvent{
		1: {"tokyo-oss-night-1@hallway.example.org", 0, "CONFIRMED", "Rust で書く CLI", "Main" + venue,
			"2027-06-18T19:00:00", "2027-06-18T19:30:00", "2027-06-18T10:00:00+00:00",
			[]string{"Speakers: 山田 太郎\nhttps://hallway.example.org/tokyo-oss-night/session/1"}},
		2: {"tokyo-oss-night-2@hallway.example.org", 1, "CONFIRMED", "Lightning talks", "Sub" + venue,
			"2027-06-18T20:30:00", "2027-06-18T21:00:00", "2027-06-18T11:30:00+00:00", nil},
		3: {"tokyo-oss-night-3@hallway.example.org", 1, "CANCELLED", "Scaling Postgres", "Main" + venue,
			"2027-06-18T20:00:00", "2027-06-18T20:20:00", "2027-06-18T11:00:00+00:00", nil},
	}
}

// feedCases are the golden feeds: the whole event, a room, a kind, a
// personal selection, and an event in a zone without daylight saving.
func feedCases(t *testing.T) []wantFeed {
	la, laH := laEvent(t)
	tokyo, tokyoH := tokyoEvent(t)
	pick := func(all map[int64]wantEvent, ns ...int64) []wantEvent {
		var out []wantEvent
		for _, n := range ns {
			out = append(out, all[n])
		}
		return out
	}
	lw, tw, fw := laWant(), tokyoWant(), laFixedWant()
	with := func(events []wantEvent, names ...string) []wantEvent {
		for _, n := range names {
			events = append(events, fw[n])
		}
		return events
	}
	return []wantFeed{
		{Name: "la-event.ics", CalName: "OpenInfra Day 2027", TZID: "America/Los_Angeles",
			Events: with(pick(lw, 1, 2, 3, 4, 5, 6, 7), "lunch", "coffee", "closing"), feed: ICS(la, laH, Selection{})},
		{Name: "la-room.ics", CalName: "OpenInfra Day 2027 – Ballroom A", TZID: "America/Los_Angeles",
			Events: with(pick(lw, 1, 2, 4, 5), "lunch", "closing"), feed: ICS(la, laH, Selection{Title: "Ballroom A", Room: "Ballroom A"})},
		{Name: "la-talks.ics", CalName: "OpenInfra Day 2027 – talks", TZID: "America/Los_Angeles",
			Events: pick(lw, 1, 2, 5), feed: ICS(la, laH, Selection{Title: "talks", Kind: KindTalk})},
		{Name: "la-personal.ics", CalName: "OpenInfra Day 2027 – my sessions", TZID: "America/Los_Angeles",
			Events: with(pick(lw, 2, 6, 7), "lunch", "coffee", "closing"), feed: ICS(la, laH, Selection{Title: "my sessions", Numbers: map[int64]bool{2: true, 6: true, 7: true, 99: true}})},
		{Name: "la-session.ics", CalName: "OpenInfra Day 2027 – #2", TZID: "America/Los_Angeles",
			Events: pick(lw, 2), feed: ICS(la, laH, Selection{Title: "#2", Numbers: map[int64]bool{2: true}, NoFixed: true})},
		{Name: "tokyo-event.ics", CalName: "Tokyo OSS Night", TZID: "Asia/Tokyo",
			Events: pick(tw, 1, 3, 2), feed: ICS(tokyo, tokyoH, Selection{})},
	}
}

func TestICSGolden(t *testing.T) {
	for _, c := range feedCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			golden(t, c.Name, c.feed)
			checkICSSyntax(t, c.feed)
			checkICSContent(t, c)
		})
	}
}

// checkICSSyntax checks what RFC 5545 asks of every content line (§3.1).
func checkICSSyntax(t *testing.T, feed []byte) {
	t.Helper()
	if !bytes.HasSuffix(feed, []byte("\r\n")) {
		t.Error("the feed does not end in CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(string(feed), "\r\n"), "\r\n")
	for i, l := range lines {
		if len(l) > 75 {
			t.Errorf("line %d is %d octets: %q", i+1, len(l), l)
		}
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, l)
		}
		for _, r := range l {
			if r < 0x20 && r != '\t' || r == 0x7f {
				t.Errorf("line %d has control character %U", i+1, r)
			}
		}
	}
	for _, want := range []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:", "CALSCALE:GREGORIAN",
		"REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H", "X-WR-TIMEZONE:"} {
		if !strings.Contains("\r\n"+string(feed), "\r\n"+want) {
			t.Errorf("no %s line", want)
		}
	}
	// METHOD:PUBLISH would make every event need an ORGANIZER (RFC 5546
	// section 3.2.1), which libical checks.
	if strings.Contains(string(feed), "\r\nMETHOD:") {
		t.Error("a METHOD line in a feed without ORGANIZERs")
	}
}

// checkICSContent reads the feed back with golang-ical.
func checkICSContent(t *testing.T, c wantFeed) {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(c.feed))
	if err != nil {
		t.Fatalf("golang-ical cannot read the feed: %v", err)
	}
	want := map[string]wantEvent{}
	for _, e := range c.Events {
		want[e.UID] = e
	}
	events := cal.Events()
	if len(events) != len(want) {
		t.Errorf("%d events, want %d", len(events), len(want))
	}
	for _, e := range events {
		uid := e.Id()
		w, ok := want[uid]
		if !ok {
			t.Errorf("unexpected event %s", uid)
			continue
		}
		if e.GetProperty(ics.ComponentPropertyDuration) != nil {
			t.Errorf("%s has DURATION", uid)
		}
		for _, p := range []ics.ComponentProperty{ics.ComponentPropertyDtStart, ics.ComponentPropertyDtEnd} {
			prop := e.GetProperty(p)
			if prop == nil {
				t.Errorf("%s has no %s", uid, p)
				continue
			}
			tzid := prop.ICalParameters["TZID"]
			if len(tzid) != 1 || tzid[0] != c.TZID || strings.HasSuffix(prop.Value, "Z") {
				t.Errorf("%s %s: %q with TZID %v, want local time in %s", uid, p, prop.Value, tzid, c.TZID)
			}
		}
		if got := e.GetProperty(ics.ComponentPropertyDtStart).Value; got != strings.NewReplacer("-", "", ":", "").Replace(w.Start) {
			t.Errorf("%s DTSTART %s, want %s", uid, got, w.Start)
		}
		if got := e.GetProperty(ics.ComponentPropertySequence).Value; got != fmt.Sprint(w.Sequence) {
			t.Errorf("%s SEQUENCE %s, want %d", uid, got, w.Sequence)
		}
		if got := e.GetProperty(ics.ComponentPropertyStatus).Value; got != w.Status {
			t.Errorf("%s STATUS %s, want %s", uid, got, w.Status)
		}
	}
}

// pythonICal returns /usr/bin/python3 if it can import icalendar and
// vobject; otherwise the test is skipped, or fails when
// HALLWAY_REQUIRE_TESTENV=1.
func pythonICal(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	msg := ""
	if _, err := os.Stat(py); err != nil {
		msg = py + " is missing"
	} else if out, err := exec.Command(py, "-c", "import icalendar, vobject").CombinedOutput(); err != nil {
		msg = "python3-icalendar or python3-vobject is missing: " + strings.TrimSpace(string(out))
	}
	if msg == "" {
		return py
	}
	msg += " (install them with scripts/testenv.sh install)"
	if os.Getenv("HALLWAY_REQUIRE_TESTENV") == "1" {
		t.Fatal(msg + "; HALLWAY_REQUIRE_TESTENV=1 forbids skipping")
	}
	t.Skip(msg)
	return ""
}

// checkWithPython has python-icalendar and vobject read the feeds.
func checkWithPython(t *testing.T, feeds []wantFeed) {
	t.Helper()
	py := pythonICal(t)
	dir := t.TempDir()
	for i := range feeds {
		feeds[i].Path = filepath.Join(dir, fmt.Sprintf("%d-%s", i, feeds[i].Name))
		if err := os.WriteFile(feeds[i].Path, feeds[i].feed, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec, err := json.Marshal(map[string]any{"feeds": feeds})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("testdata", "feeds", "check_ics.py"))
	cmd.Stdin = bytes.NewReader(spec)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("check_ics.py: %v\n%s", err, stderr.String())
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("python readers disagree:\n%s", s)
	}
}

func TestICSReadByPython(t *testing.T) {
	checkWithPython(t, feedCases(t))
}

// The VTIMEZONE says what Go's zone data says: vobject computes each
// item's instant from the VTIMEZONE alone, for items around every change
// of offset in zones with yearly rules (north and south), with irregular
// changes (RDATEs), with half-hour and 45-minute offsets, that dropped
// daylight saving, and that never had it.
func TestVTimezoneAgreesWithGo(t *testing.T) {
	zones := []string{"America/Los_Angeles", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe",
		"Pacific/Chatham", "Africa/Casablanca", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Tokyo", "America/Santiago"}
	var feeds []wantFeed
	for _, name := range zones {
		loc := mustZone(t, name)
		ev := EventInfo{Slug: "z", Name: name, URL: "https://example.org/z", Zone: loc}
		var items []Item
		var want []wantEvent
		add := func(st time.Time) {
			n := int64(len(items) + 1)
			items = append(items, Item{Number: n, Kind: KindTalk, Title: "t", Room: "R", Start: st, End: st.Add(30 * time.Minute)})
			want = append(want, wantEvent{UID: fmt.Sprintf("z-%d@example.org", n), Status: "CONFIRMED", Summary: "t", Location: "R",
				Start: st.In(loc).Format("2006-01-02T15:04:05"), End: st.Add(30 * time.Minute).In(loc).Format("2006-01-02T15:04:05"),
				StartUTC: st.UTC().Format("2006-01-02T15:04:05+00:00")})
		}
		from, to := utc("2026-01-01T12:00:00Z"), utc("2028-01-01T12:00:00Z")
		for d := from; d.Before(to); d = d.AddDate(0, 0, 23) {
			add(d)
		}
		for _, o := range zoneOnsets(loc, from, to) {
			if o.at.After(from) {
				// Clear of the hour that repeats when clocks go back.
				add(o.at.Add(-3 * time.Hour))
				add(o.at.Add(3 * time.Hour))
			}
		}
		h := History{{Version: 1, CreatedAt: from, Plan: Plan{Items: items}}}
		f := ICS(ev, h, Selection{})
		checkICSSyntax(t, f)
		feeds = append(feeds, wantFeed{Name: strings.ReplaceAll(name, "/", "_") + ".ics", CalName: name, TZID: name, Events: want, feed: f})
	}
	checkWithPython(t, feeds)
}

func TestVTimezoneComponents(t *testing.T) {
	_, laH := laEvent(t)
	la := string(ICS(EventInfo{Slug: "la", Zone: mustZone(t, "America/Los_Angeles")}, laH, Selection{}))
	for _, want := range []string{
		"BEGIN:VTIMEZONE\r\nTZID:America/Los_Angeles\r\n",
		"BEGIN:DAYLIGHT\r\nDTSTART:20260308T020000\r\nTZOFFSETFROM:-0800\r\nTZOFFSETTO:-0700\r\nTZNAME:PDT\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT",
		"BEGIN:STANDARD\r\nDTSTART:20251102T020000\r\nTZOFFSETFROM:-0700\r\nTZOFFSETTO:-0800\r\nTZNAME:PST\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD",
	} {
		if !strings.Contains(la, want) {
			t.Errorf("the Los Angeles feed lacks\n%s", want)
		}
	}
	_, tokyoH := tokyoEvent(t)
	tokyo := string(ICS(EventInfo{Slug: "t", Zone: mustZone(t, "Asia/Tokyo")}, tokyoH, Selection{}))
	if strings.Contains(tokyo, "DAYLIGHT") || strings.Count(tokyo, "BEGIN:STANDARD") != 1 || !strings.Contains(tokyo, "TZOFFSETTO:+0900") {
		t.Errorf("Tokyo's VTIMEZONE is not one STANDARD at +0900:\n%s", tokyo)
	}
	// Berlin: the last Sunday of March and of October.
	berlin := vtimezone(mustZone(t, "Europe/Berlin"), utc("2026-01-01T00:00:00Z"), utc("2029-01-01T00:00:00Z")).Serialize(&ics.SerializationConfiguration{MaxLength: 75, NewLine: "\n"})
	for _, want := range []string{"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "DTSTART:20260329T020000"} {
		if !strings.Contains(berlin, want) {
			t.Errorf("Berlin's VTIMEZONE lacks %s:\n%s", want, berlin)
		}
	}
}

// A wall-clock time that occurs twice is written in UTC when the item is
// at its second occurrence (a reader takes the first); never a UTC time
// with a TZID.
func TestRepeatedHourInUTC(t *testing.T) {
	loc := mustZone(t, "America/Los_Angeles")
	ev := EventInfo{Slug: "x", URL: "https://example.org/x", Zone: loc}
	// 2027-11-07: 01:00-02:00 PDT, then 01:00-02:00 PST again.
	first := utc("2027-11-07T08:30:00Z")  // 01:30 PDT
	second := utc("2027-11-07T09:30:00Z") // 01:30 PST
	h := History{{Version: 1, CreatedAt: first, Plan: Plan{Items: []Item{
		{Number: 1, Kind: KindTalk, Title: "a", Room: "R", Start: first, End: first.Add(15 * time.Minute)},
		{Number: 2, Kind: KindTalk, Title: "b", Room: "R", Start: second, End: second.Add(15 * time.Minute)},
	}}}}
	f := string(ICS(ev, h, Selection{}))
	for _, want := range []string{
		"DTSTART;TZID=America/Los_Angeles:20271107T013000\r\n",
		"DTSTART:20271107T093000Z\r\n",
		"DTEND:20271107T094500Z\r\n",
	} {
		if !strings.Contains(f, want) {
			t.Errorf("feed lacks %q", want)
		}
	}
	if regexp.MustCompile(`TZID=[^:]*:\d{8}T\d{6}Z`).MatchString(f) {
		t.Error("a UTC time carries a TZID")
	}
	if !repeatedWallClock(second, loc) || repeatedWallClock(first, loc) || repeatedWallClock(utc("2027-03-14T10:30:00Z"), loc) {
		t.Error("repeatedWallClock is wrong")
	}
}

// Text people typed is escaped, folded and free of control characters.
func TestICSEscaping(t *testing.T) {
	ev := EventInfo{Slug: "x", Name: "Semi; colon, comma\\", URL: "https://example.org/x", Zone: time.UTC}
	long := strings.Repeat("Ünïcödé wörds, ", 20)
	h := History{{Version: 1, CreatedAt: utc("2027-01-01T00:00:00Z"), Plan: Plan{Items: []Item{{
		Number: 1, Kind: KindSession, Title: "a;b,c\\d\r\ne\x1b[2J", Room: "R", Abstract: long + "\r\nnext\rline",
		Start: utc("2027-01-02T10:00:00Z"), End: utc("2027-01-02T11:00:00Z"),
	}}}}}
	f := ICS(ev, h, Selection{})
	checkICSSyntax(t, f)
	s := string(f)
	for _, want := range []string{
		"X-WR-CALNAME:Semi\\; colon\\, comma\\\\\r\n",
		"SUMMARY:a\\;b\\,c\\\\d e[2J\r\n",
		"DTSTART:20270102T100000Z\r\n", // UTC event: UTC times, no VTIMEZONE
		"CATEGORIES:unconference session\r\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("feed lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "VTIMEZONE") {
		t.Error("a UTC event has a VTIMEZONE")
	}
	unfolded := strings.ReplaceAll(s, "\r\n ", "")
	if !strings.Contains(unfolded, "next\\nline\\n\\nhttps://example.org/x/session/1") {
		t.Errorf("description lines not normalised:\n%s", unfolded)
	}
}

// BenchmarkICSFosdem renders the whole-event feed of an 800-session,
// 35-room event with two releases.
func BenchmarkICSFosdem(b *testing.B) {
	ev, h := fosdemHistory(b)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(ICS(ev, h, Selection{}))
	}
	b.ReportMetric(float64(n), "bytes/feed")
}

// fosdemHistory is a FOSDEM-sized event: 35 rooms, two days in
// Europe/Brussels, 800 sessions; the second release moves, renames and
// cancels some.
func fosdemHistory(tb testing.TB) (EventInfo, History) {
	loc := mustZone(tb, "Europe/Brussels")
	ev := EventInfo{Slug: "fosdem-2027", Name: "FOSDEM 2027", Venue: "ULB Solbosch, Brussels",
		URL: "https://hallway.example.org/fosdem-2027", Zone: loc}
	for r := range 35 {
		ev.Rooms = append(ev.Rooms, GridRoom{Name: fmt.Sprintf("Room %c.%d", 'A'+r%7, r), Capacity: 50 + 10*r})
	}
	var v1 []Item
	for n := range 800 {
		room := n % 35
		slot := n / 35 // 23 slots: 12 on Saturday, 11 on Sunday
		d, s := slot/12, slot%12
		st := time.Date(2027, 2, 6+d, 9, 0, 0, 0, loc).Add(time.Duration(s) * 50 * time.Minute)
		v1 = append(v1, Item{Number: int64(n + 1), Kind: []string{KindTalk, KindSession}[n%2],
			Title:    fmt.Sprintf("Session %d: on packaging, testing; and shipping", n+1),
			Abstract: strings.Repeat(fmt.Sprintf("Abstract of session %d, with some detail. ", n+1), 6),
			Speakers: []string{fmt.Sprintf("Speaker %d", n), fmt.Sprintf("Co-speaker %d", n)},
			Votes:    n % 97, Room: ev.Rooms[room].Name, Start: st, End: st.Add(45 * time.Minute)})
	}
	v2 := make([]Item, 0, len(v1))
	for i, it := range v1 {
		switch {
		case i%50 == 0:
			continue // cancelled
		case i%20 == 0:
			it.Start, it.End = it.Start.Add(50*time.Minute), it.End.Add(50*time.Minute)
		case i%30 == 0:
			it.Title += " (renamed)"
		}
		v2 = append(v2, it)
	}
	return ev, History{
		{Version: 1, CreatedAt: time.Date(2027, 1, 20, 12, 0, 0, 0, time.UTC), Plan: Plan{Items: v1}},
		{Version: 2, CreatedAt: time.Date(2027, 1, 27, 12, 0, 0, 0, time.UTC), Plan: Plan{Items: v2}},
	}
}

func TestFosdemFeedFast(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	ev, h := fosdemHistory(t)
	f := ICS(ev, h, Selection{})
	checkICSSyntax(t, f)
	if n := bytes.Count(f, []byte("BEGIN:VEVENT")); n != 800 {
		t.Errorf("%d events, want 800", n)
	}
	if n := bytes.Count(f, []byte("STATUS:CANCELLED")); n != 16 {
		t.Errorf("%d cancelled, want 16", n)
	}
}
