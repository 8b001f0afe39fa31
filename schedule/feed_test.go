package schedule

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// -update rewrites the golden files (go test ./schedule -update). Another
// test file of the package may define the flag first; then it is shared.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updatingGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// golden compares got with testdata/feeds/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "feeds", name)
	if updatingGoldens() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./schedule -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs from the golden file at line %d:\n got: %q\nwant: %q\n(go test ./schedule -update rewrites it)", name, i+1, g, w)
		}
	}
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// utc parses an RFC 3339 time: fixtures give instants, so that tests
// check the conversion to local time against values written by hand.
func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func item(n int64, kind, title, room, start string, minutes int, speakers ...string) Item {
	st := utc(start)
	return Item{Number: n, Kind: kind, Title: title, Room: room, Start: st, End: st.Add(time.Duration(minutes) * time.Minute),
		Speakers: speakers, Votes: int(n) * 3, Abstract: "About " + title + "."}
}

// laEvent is an event in America/Los_Angeles on the weekend clocks go
// forward (Sunday 2027-03-14, 02:00 PST → 03:00 PDT), with text that
// needs escaping everywhere.
func laEvent(t testing.TB) (EventInfo, History) {
	ev := EventInfo{
		Slug: "openinfra-day-2027", Name: "OpenInfra Day 2027", Venue: "Moscone West, San Francisco",
		URL:  "http://127.0.0.1:8080/openinfra-day-2027",
		Zone: mustZone(t, "America/Los_Angeles"),
		Rooms: []GridRoom{
			{Name: "Ballroom A", Capacity: 300},
			{Name: "Room 201; Annex", Capacity: 40},
			{Name: `Hallway "Track"`},
		},
	}
	keynote := item(1, KindTalk, "Keynote: Open Infra, Today", "Ballroom A", "2027-03-13T17:00:00Z", 45, "Doe, Jane")
	keynote.Abstract = "Where we are; where we go.\r\nLine two, with a \\ backslash\x07 and a bell.\rLine three\tafter a tab."
	keynote.Pinned = true
	v1 := &Release{Version: 1, CreatedAt: utc("2027-02-20T18:00:00Z"), Plan: Plan{Items: []Item{
		keynote,
		item(2, KindTalk, "Kubernetes at the edge", "Ballroom A", "2027-03-13T18:00:00Z", 45, "Amir Haddad", "Li Wei"),
		item(3, KindSession, "Packaging BoF", "Room 201; Annex", "2027-03-13T22:00:00Z", 50, "Zoë Müller"),
		item(4, KindSession, "Docs sprint", "Room 201; Annex", "2027-03-14T17:00:00Z", 50),
		item(5, KindTalk, "Zero-downtime upgrades", "Ballroom A", "2027-03-14T18:00:00Z", 45, "Sam O'Neil"),
		item(6, KindSession, "Hallway & coffee <chat>", `Hallway "Track"`, "2027-03-14T20:00:00Z", 50),
	}}}
	// v2: #2 moves across the DST change (Saturday 10:00 PST → Sunday
	// 09:00 PDT), #3 is renamed, #6 is cancelled, #7 is new.
	v2 := &Release{Version: 2, CreatedAt: utc("2027-03-01T17:30:00Z"), Plan: Plan{Items: []Item{
		keynote,
		item(3, KindSession, "Packaging & distro BoF", "Room 201; Annex", "2027-03-13T22:00:00Z", 50, "Zoë Müller"),
		item(2, KindTalk, "Kubernetes at the edge", "Ballroom A", "2027-03-14T16:00:00Z", 45, "Amir Haddad", "Li Wei"),
		item(4, KindSession, "Docs sprint", "Room 201; Annex", "2027-03-14T17:00:00Z", 50),
		item(5, KindTalk, "Zero-downtime upgrades", "Ballroom A", "2027-03-14T18:00:00Z", 45, "Sam O'Neil"),
		item(7, KindSession, "Observability 101", "Room 201; Annex", "2027-03-15T16:00:00Z", 50, "Priya Natarajan"),
	}, Left: []Left{{Number: 8, Kind: KindSession, Title: "Yet another BoF", Reason: ReasonNoVotes}}}}
	// v3: #4 changes room, #5 gains a speaker, #1's abstract is edited
	// (not a change a calendar needs to be told of).
	// Breaks and plenaries: lunch for everyone on Saturday; the closing
	// plenary ends later from v2; the coffee break is gone in v2.
	lunch := Fixed{Kind: KindBreak, Title: "Lunch", Start: utc("2027-03-13T20:00:00Z"), End: utc("2027-03-13T21:00:00Z")}
	closing := Fixed{Kind: KindPlenary, Title: "Closing plenary", Rooms: []string{"Ballroom A"}, Start: utc("2027-03-14T23:00:00Z"), End: utc("2027-03-14T23:45:00Z")}
	coffee := Fixed{Kind: KindBreak, Rooms: []string{"Room 201; Annex"}, Start: utc("2027-03-14T18:00:00Z"), End: utc("2027-03-14T18:15:00Z")}
	v1.Fixed = []Fixed{lunch, coffee, closing}
	closing.End = utc("2027-03-15T00:00:00Z")
	v2.Fixed = []Fixed{lunch, closing}
	keynote3 := keynote
	keynote3.Abstract = "Where we are, and where we go next."
	v3 := &Release{Version: 3, CreatedAt: utc("2027-03-10T08:00:00Z"), Note: "Room 201 is in the Annex,\nsecond floor.", Plan: Plan{Items: []Item{
		keynote3,
		item(3, KindSession, "Packaging & distro BoF", "Room 201; Annex", "2027-03-13T22:00:00Z", 50, "Zoë Müller"),
		item(2, KindTalk, "Kubernetes at the edge", "Ballroom A", "2027-03-14T16:00:00Z", 45, "Amir Haddad", "Li Wei"),
		item(4, KindSession, "Docs sprint", "Ballroom A", "2027-03-14T17:00:00Z", 50),
		item(5, KindTalk, "Zero-downtime upgrades", "Ballroom A", "2027-03-14T18:00:00Z", 45, "Sam O'Neil", "Ana Lima"),
		item(7, KindSession, "Observability 101", "Room 201; Annex", "2027-03-15T16:00:00Z", 50, "Priya Natarajan"),
	}, Left: []Left{{Number: 8, Kind: KindSession, Title: "Yet another BoF", Reason: ReasonNoVotes}}}, Fixed: v2.Fixed}
	return ev, History{v1, v2, v3}
}

// tokyoEvent is an evening in Asia/Tokyo, a zone without daylight saving.
func tokyoEvent(t testing.TB) (EventInfo, History) {
	ev := EventInfo{
		Slug: "tokyo-oss-night", Name: "Tokyo OSS Night", Venue: "渋谷ストリーム",
		URL:   "https://hallway.example.org/tokyo-oss-night/",
		Zone:  mustZone(t, "Asia/Tokyo"),
		Rooms: []GridRoom{{Name: "Main", Capacity: 120}, {Name: "Sub", Capacity: 30}},
	}
	v1 := &Release{Version: 1, CreatedAt: utc("2027-06-01T03:00:00Z"), Plan: Plan{Items: []Item{
		item(1, KindTalk, "Rust で書く CLI", "Main", "2027-06-18T10:00:00Z", 30, "山田 太郎"),
		item(2, KindSession, "Lightning talks", "Sub", "2027-06-18T10:30:00Z", 30),
		item(3, KindTalk, "Scaling Postgres", "Main", "2027-06-18T11:00:00Z", 20, "Kenji Sato"),
	}}}
	v2 := &Release{Version: 2, CreatedAt: utc("2027-06-10T09:15:00Z"), Plan: Plan{Items: []Item{
		item(1, KindTalk, "Rust で書く CLI", "Main", "2027-06-18T10:00:00Z", 30, "山田 太郎"),
		item(2, KindSession, "Lightning talks", "Sub", "2027-06-18T11:30:00Z", 30),
	}}}
	return ev, History{v1, v2}
}

func TestTimelineSequences(t *testing.T) {
	ev, h := laEvent(t)
	type want struct {
		seq       int
		cancelled bool
		modified  string
		created   string
	}
	wants := map[int64]want{
		1: {0, false, "2027-02-20T18:00:00Z", "2027-02-20T18:00:00Z"},
		2: {1, false, "2027-03-01T17:30:00Z", "2027-02-20T18:00:00Z"},
		3: {1, false, "2027-03-01T17:30:00Z", "2027-02-20T18:00:00Z"},
		4: {1, false, "2027-03-10T08:00:00Z", "2027-02-20T18:00:00Z"},
		5: {1, false, "2027-03-10T08:00:00Z", "2027-02-20T18:00:00Z"},
		6: {1, true, "2027-03-01T17:30:00Z", "2027-02-20T18:00:00Z"},
		7: {0, false, "2027-03-01T17:30:00Z", "2027-03-01T17:30:00Z"},
	}
	items := h.timeline(ev)
	if len(items) != len(wants) {
		t.Fatalf("%d items, want %d", len(items), len(wants))
	}
	var order []int64
	for _, it := range items {
		order = append(order, it.Number)
		w := wants[it.Number]
		if it.Sequence != w.seq || it.Cancelled != w.cancelled || !it.Modified.Equal(utc(w.modified)) || !it.Created.Equal(utc(w.created)) {
			t.Errorf("#%d: sequence %d cancelled %v modified %s created %s, want %+v", it.Number, it.Sequence, it.Cancelled, it.Modified, it.Created, w)
		}
	}
	// By start, then room order: #3 Saturday, #2 Sunday 09:00 ...
	if got, want := order, []int64{1, 3, 2, 4, 5, 6, 7}; !equalInts(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}

	// Back after a cancellation: one more change.
	back := *h[2]
	back.Version, back.CreatedAt = 4, utc("2027-03-11T08:00:00Z")
	back.Items = append(append([]Item(nil), back.Items...), h[0].Items[5])
	for _, it := range append(h, &back).timeline(ev) {
		if it.Number == 6 && (it.Cancelled || it.Sequence != 2 || !it.Modified.Equal(back.CreatedAt)) {
			t.Errorf("#6 back in version 4: %+v", it)
		}
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                    "plain",
		" a\r\nb\rc\nd ":           "a\nb\nc\nd",
		"tab\there":                "tab here",
		"bell\x07 esc\x1b[31m red": "bell esc[31m red",
		"nel\u0085ls\u2028end":     "nel\nls\nend",
		"c1\u009b ok\uffff":        "c1 ok",
		"bad \xff utf8":            "bad \uFFFD utf8",
		"Zoë, 山田; back\\slash":     "Zoë, 山田; back\\slash",
		"\x00\x01":                 "",
		"del\x7f":                  "del",
	} {
		if got := cleanText(in); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := cleanLine("two\r\nlines  here"); got != "two lines here" {
		t.Errorf("cleanLine: %q", got)
	}
}

func TestUID(t *testing.T) {
	for url, want := range map[string]string{
		"http://127.0.0.1:8080/openinfra-day-2027": "ev-12@127.0.0.1",
		"https://Hallway.Example.org/ev/":          "ev-12@hallway.example.org",
		"":                                         "ev-12@hallway.invalid",
	} {
		if got := (EventInfo{Slug: "ev", URL: url}).uid(12); got != want {
			t.Errorf("uid with URL %q = %q, want %q", url, got, want)
		}
	}
}

// Every renderer gives the same bytes for the same input, whatever the
// order a map hands out its keys in.
func TestRenderersDeterministic(t *testing.T) {
	ev, h := laEvent(t)
	sel := Selection{Title: "mine", Numbers: map[int64]bool{}}
	for n := int64(1); n <= 50; n++ {
		sel.Numbers[n] = n%2 == 0
	}
	for name, render := range map[string]func() []byte{
		"ics":   func() []byte { return ICS(ev, h, sel) },
		"json":  func() []byte { return JSON(ev, h) },
		"frab":  func() []byte { return Frab(ev, h) },
		"text":  func() []byte { return Text(ev, h) },
		"empty": func() []byte { return ICS(ev, nil, Selection{}) },
	} {
		first := render()
		for range 20 {
			if !bytes.Equal(render(), first) {
				t.Fatalf("%s: output differs between runs", name)
			}
		}
	}
}

func TestEmptyHistory(t *testing.T) {
	ev, _ := laEvent(t)
	for name, out := range map[string][]byte{
		"ics": ICS(ev, nil, Selection{}), "json": JSON(ev, nil), "frab": Frab(ev, nil), "text": Text(ev, nil),
	} {
		if len(out) == 0 {
			t.Errorf("%s: empty output", name)
		}
	}
	if (History{}).Latest() != nil || (History{nil}).Latest() != nil {
		t.Error("Latest of an empty history is not nil")
	}
}
