package schedule

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// amendedTokyo is tokyoEvent with #1 withdrawn after version 2.
func amendedTokyo(t *testing.T) (EventInfo, History) {
	ev, h := tokyoEvent(t)
	v2 := *h[1]
	v2.Amendments = []Amendment{{Number: 1, At: utc("2027-06-12T01:00:00Z"), Out: true, Reason: "withdrawn"}}
	return ev, History{h[0], &v2}
}

func TestAmendedGolden(t *testing.T) {
	ev, h := amendedTokyo(t)
	for _, c := range []struct {
		name string
		out  []byte
	}{
		{"tokyo-amended.ics", ICS(ev, h, Selection{})},
		{"tokyo-amended.json", JSON(ev, h)},
		{"tokyo-amended.frab.xml", Frab(ev, h)},
		{"tokyo-amended.txt", Text(ev, h)},
	} {
		t.Run(c.name, func(t *testing.T) { golden(t, c.name, c.out) })
	}
}

// TestAmendTimeline: an amendment is one SEQUENCE step, and the release
// that confirms it adds none; an item put back is one more.
func TestAmendTimeline(t *testing.T) {
	ev := EventInfo{Slug: "ev", URL: "http://127.0.0.1/ev", Rooms: []GridRoom{{Name: "A"}, {Name: "B"}}}
	a := item(1, KindSession, "One", "A", "2027-06-18T10:00:00Z", 30)
	b := item(2, KindSession, "Two", "B", "2027-06-18T10:00:00Z", 30)
	c := item(3, KindSession, "Three", "A", "2027-06-18T11:00:00Z", 30)
	t1, t2, t3, t4 := utc("2027-06-01T00:00:00Z"), utc("2027-06-02T00:00:00Z"), utc("2027-06-03T00:00:00Z"), utc("2027-06-04T00:00:00Z")
	rel := func(v int, at time.Time, items ...Item) *Release {
		return &Release{Version: v, CreatedAt: at, Plan: Plan{Items: items}}
	}
	out := func(n int64, at time.Time) Amendment {
		return Amendment{Number: n, At: at, Out: true, Reason: "withdrawn"}
	}
	back := func(n int64, at time.Time) Amendment { return Amendment{Number: n, At: at, Reason: "accepted"} }
	amended := func(r *Release, as ...Amendment) *Release { r.Amendments = as; return r }
	type state struct {
		seq         int
		cancelled   bool
		cancelledIn int
		modified    time.Time
	}
	for _, tc := range []struct {
		name string
		h    History
		want map[int64]state
	}{
		{"withdrawn after a release",
			History{amended(rel(1, t1, a, b, c), out(2, t2))},
			map[int64]state{1: {0, false, 0, t1}, 2: {1, true, 0, t2}, 3: {0, false, 0, t1}}},
		{"then a release leaves it out: no second step",
			History{amended(rel(1, t1, a, b, c), out(2, t2)), rel(2, t3, a, c)},
			map[int64]state{1: {0, false, 0, t1}, 2: {1, true, 2, t2}, 3: {0, false, 0, t1}}},
		{"the same amendment twice counts once",
			History{amended(rel(1, t1, a, b, c), out(2, t2), out(2, t3))},
			map[int64]state{2: {1, true, 0, t2}}},
		{"put back before the next release",
			History{amended(rel(1, t1, a, b, c), out(2, t2), back(2, t3))},
			map[int64]state{2: {2, false, 0, t3}}},
		{"put back, then released where it was",
			History{amended(rel(1, t1, a, b, c), out(2, t2), back(2, t3)), rel(2, t4, a, b, c)},
			map[int64]state{2: {2, false, 0, t3}}},
		{"taken out, then a release brings it back",
			History{amended(rel(1, t1, a, b, c), out(2, t2)), rel(2, t4, a, b, c)},
			map[int64]state{2: {2, false, 0, t4}}},
		{"a release cancels it, a later amendment cannot touch it",
			History{rel(1, t1, a, b, c), amended(rel(2, t2, a, c), back(2, t3), out(2, t4))},
			map[int64]state{2: {1, true, 2, t2}}},
		{"an amendment of an older release is folded in its place",
			History{amended(rel(1, t1, a, b, c), out(3, t2)), rel(2, t3, a, b), amended(rel(3, t4, a, b), out(1, t4))},
			map[int64]state{1: {1, true, 0, t4}, 2: {0, false, 0, t1}, 3: {1, true, 2, t2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[int64]*feedItem{}
			for _, fi := range tc.h.timeline(ev) {
				got[fi.Number] = fi
			}
			for n, w := range tc.want {
				fi := got[n]
				if fi == nil {
					t.Fatalf("#%d missing", n)
				}
				if fi.Sequence != w.seq || fi.Cancelled != w.cancelled || fi.CancelledIn != w.cancelledIn || !fi.Modified.Equal(w.modified) {
					t.Errorf("#%d: sequence %d cancelled %v in %d modified %s; want %+v", n, fi.Sequence, fi.Cancelled, fi.CancelledIn, fi.Modified, w)
				}
			}
		})
	}
}

func TestCurrentAndTakenOut(t *testing.T) {
	_, h := amendedTokyo(t)
	r := h.Latest()
	if got := r.Current().Items; len(got) != 1 || got[0].Number != 2 {
		t.Errorf("Current: %+v", got)
	}
	if len(r.Items) != 2 {
		t.Errorf("Current changed the release: %d items", len(r.Items))
	}
	if a, ok := r.TakenOut(1); !ok || a.Reason != "withdrawn" {
		t.Errorf("TakenOut(1) = %+v, %v", a, ok)
	}
	if _, ok := r.TakenOut(2); ok {
		t.Error("TakenOut(2): it is not out")
	}
	if got := h.Changed(); !got.Equal(utc("2027-06-12T01:00:00Z")) {
		t.Errorf("Changed = %s", got)
	}
	put := *r
	put.Amendments = append(slices.Clone(r.Amendments), Amendment{Number: 1, At: utc("2027-06-12T02:00:00Z"), Reason: "accepted"})
	if _, ok := put.TakenOut(1); ok || len(put.Current().Items) != 2 {
		t.Errorf("put back: still out, or Current has %d items", len(put.Current().Items))
	}
	// The feed says it once: SEQUENCE 1 more, cancelled, the others as
	// they were.
	ev, _ := tokyoEvent(t)
	ics := string(ICS(ev, h, Selection{Numbers: map[int64]bool{1: true}}))
	for _, want := range []string{"STATUS:CANCELLED", "SEQUENCE:1", "LAST-MODIFIED:20270612T010000Z", "DTSTAMP:20270612T010000Z", "Cancelled after schedule version 2."} {
		if !strings.Contains(ics, want) {
			t.Errorf("feed of #1 lacks %s:\n%s", want, ics)
		}
	}
}

// TestAmendedReadByPython: python-icalendar and vobject read the amended
// feed as cancelled, one SEQUENCE up, the rest as before.
func TestAmendedReadByPython(t *testing.T) {
	ev, h := amendedTokyo(t)
	want := tokyoWant()
	one := want[1]
	one.Status, one.Sequence = "CANCELLED", 1
	one.DescriptionHas = []string{"Cancelled after schedule version 2."}
	f := wantFeed{Name: "tokyo-amended.ics", CalName: "Tokyo OSS Night", TZID: "Asia/Tokyo",
		Events: []wantEvent{one, want[3], want[2]}, feed: ICS(ev, h, Selection{})}
	checkICSSyntax(t, f.feed)
	checkICSContent(t, f)
	checkWithPython(t, []wantFeed{f})
}
