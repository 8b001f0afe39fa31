package schedule

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCheckPins: every pin that does not fit the grid is reported, all at
// once, with why; the planner gives them as a *PinError.
func TestCheckPins(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2027, 3, 4, h, 0, 0, 0, time.UTC) }
	g := Grid{Rooms: []GridRoom{{Name: "A"}, {Name: "B"}}, Slots: []GridSlot{
		{Start: at(9), End: at(10), Kind: KindTalk, Rooms: []string{"A"}},
		{Start: at(13), End: at(14), Kind: KindSession, Rooms: []string{"A", "B"}},
	}}
	pin := func(n int64, kind, room string, h int, speaker string) Proposal {
		return Proposal{Number: n, Kind: kind, Title: "P", Votes: 1, Speakers: []string{speaker}, Pin: &PinAt{Room: room, Start: at(h)}}
	}
	props := []Proposal{
		pin(1, KindTalk, "A", 9, "ann"),     // fits
		pin(2, KindTalk, "A", 10, "bob"),    // no talk slot at 10
		pin(3, KindTalk, "C", 9, "cat"),     // no room C
		pin(4, KindTalk, "B", 9, "dan"),     // B is closed at 9
		pin(5, KindSession, "A", 13, "eve"), // fits
		pin(6, KindSession, "A", 13, "fay"), // #5 is there
		pin(7, KindSession, "B", 13, "eve"), // eve is in #5 then
		pin(8, KindSession, "A", 9, "gus"),  // 9 is a talk slot
		{Number: 9, Kind: KindSession, Title: "P", Votes: 1},
	}
	want := map[int64][2]any{2: {PinNoSlot, int64(0)}, 3: {PinNoRoom, int64(0)}, 4: {PinRoomClosed, int64(0)},
		6: {PinTaken, int64(5)}, 7: {PinSpeaker, int64(5)}, 8: {PinNoSlot, int64(0)}}
	_, err := MakePlan(context.Background(), g, props, nil, &SolveOptions{Seed: 1, MaxIterations: 1000})
	var perr *PinError
	if !errors.As(err, &perr) {
		t.Fatalf("MakePlan: %v, want a *PinError", err)
	}
	if len(perr.Pins) != len(want) {
		t.Errorf("%d bad pins, want %d: %+v", len(perr.Pins), len(want), perr.Pins)
	}
	for _, b := range perr.Pins {
		if w, ok := want[b.Number]; !ok || b.Problem != w[0] || b.Other != w[1] {
			t.Errorf("#%d: %q (other #%d), want %v", b.Number, b.Problem, b.Other, w)
		}
	}
	if err := CheckPins(g, []Proposal{props[0], props[4], props[8]}); err != nil {
		t.Errorf("pins that fit: %v", err)
	}
}
