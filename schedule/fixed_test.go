package schedule

import (
	"testing"
	"time"
)

func TestFixedItems(t *testing.T) {
	g := Grid{Slots: []GridSlot{
		{Start: utc("2027-03-04T21:00:00Z"), End: utc("2027-03-04T21:50:00Z"), Kind: KindSession, Rooms: []string{"A"}},
		{Start: utc("2027-03-05T00:00:00Z"), End: utc("2027-03-05T00:45:00Z"), Kind: KindPlenary, Title: "Wrap-ups", Rooms: []string{"A"}},
		{Start: utc("2027-03-04T20:00:00Z"), End: utc("2027-03-04T21:00:00Z"), Kind: KindBreak, Title: "Lunch"},
	}}
	got := FixedItems(g)
	if len(got) != 2 || got[0].Title != "Lunch" || got[0].Rooms != nil || got[1].Kind != KindPlenary || got[1].Rooms[0] != "A" {
		t.Errorf("FixedItems: %+v", got)
	}
}

// Fixed items keep their UID across releases and renders; SEQUENCE goes
// up when one changes, and when one is taken out.
func TestFixedTimeline(t *testing.T) {
	ev, h := laEvent(t)
	type want struct {
		seq       int
		cancelled int
		title     string
		end       string
	}
	wants := map[string]want{
		"openinfra-day-2027-break-20270313T2000Z@127.0.0.1":                {0, 0, "Lunch", "2027-03-13T21:00:00Z"},
		"openinfra-day-2027-break-20270314T1800Z-room-201-annex@127.0.0.1": {1, 2, "Break", "2027-03-14T18:15:00Z"},
		"openinfra-day-2027-plenary-20270314T2300Z-ballroom-a@127.0.0.1":   {1, 0, "Closing plenary", "2027-03-15T00:00:00Z"},
	}
	got := h.fixedTimeline(ev)
	if len(got) != len(wants) {
		t.Fatalf("%d fixed items, want %d", len(got), len(wants))
	}
	for _, f := range got {
		w, ok := wants[f.uid]
		if !ok || f.Sequence != w.seq || f.CancelledIn != w.cancelled || f.Cancelled != (w.cancelled > 0) || f.title() != w.title || !f.End.Equal(utc(w.end)) {
			t.Errorf("%s: sequence %d cancelled in %d title %q end %s, want %+v", f.uid, f.Sequence, f.CancelledIn, f.title(), f.End, w)
		}
	}
	// A release that brings the coffee break back, and one that moves
	// lunch: the break is back (one more change), the moved lunch is
	// another item and the old one is cancelled.
	v4 := *h[2]
	v4.Version, v4.CreatedAt = 4, utc("2027-03-11T08:00:00Z")
	v4.Fixed = append([]Fixed{}, h[0].Fixed...)
	v4.Fixed[0].Start, v4.Fixed[0].End = v4.Fixed[0].Start.Add(30*time.Minute), v4.Fixed[0].End.Add(30*time.Minute)
	seq := map[string]*fixedItem{}
	for _, f := range append(h[:3:3], &v4).fixedTimeline(ev) {
		seq[f.uid] = f
	}
	if f := seq["openinfra-day-2027-break-20270314T1800Z-room-201-annex@127.0.0.1"]; f == nil || f.Cancelled || f.Sequence != 2 {
		t.Errorf("the coffee break back: %+v", f)
	}
	if f := seq["openinfra-day-2027-break-20270313T2000Z@127.0.0.1"]; f == nil || !f.Cancelled || f.CancelledIn != 4 || f.Sequence != 1 {
		t.Errorf("lunch before it moved: %+v", f)
	}
	if f := seq["openinfra-day-2027-break-20270313T2030Z@127.0.0.1"]; f == nil || f.Cancelled || f.Sequence != 0 {
		t.Errorf("lunch after it moved: %+v", f)
	}
	// The closing plenary went back to its v1 end: changed again.
	if f := seq["openinfra-day-2027-plenary-20270314T2300Z-ballroom-a@127.0.0.1"]; f == nil || f.Sequence != 2 {
		t.Errorf("closing plenary: %+v", f)
	}
}

func TestAnnouncementGolden(t *testing.T) {
	ev, h := laEvent(t)
	golden(t, "la-announcement.txt", []byte(Announcement(ev.Name, h[2], Diff(h[1], h[2]), ev.Zone)))
	golden(t, "la-announcement-v1.txt", []byte(Announcement(ev.Name, h[0], Diff(nil, h[0]), ev.Zone)))
	// v2: the coffee break is gone and the closing plenary ends later.
	golden(t, "la-announcement-v2.txt", []byte(Announcement(ev.Name, h[1], append(Diff(h[0], h[1]), DiffFixed(h[0], h[1])...), ev.Zone)))
	if c := DiffFixed(h[1], h[2]); len(c) != 0 {
		t.Errorf("v3 changes no break or plenary: %+v", c)
	}
	if c := DiffFixed(nil, h[0]); len(c) != 0 {
		t.Errorf("a first release lists no changes: %+v", c)
	}
}
