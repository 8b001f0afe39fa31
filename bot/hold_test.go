package bot

import (
	"testing"
	"time"

	"github.com/hallwayhq/hallway/schedule"
)

// TestHoldUntil: a freed seat is held the event's hold, never past its
// start; from its first day on, the short hold of the event's days.
func TestHoldUntil(t *testing.T) {
	z, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 4, 9, 0, 0, 0, z) // Fri 4 Dec
	ev := &Event{Zone: z, Grid: schedule.Grid{Slots: []schedule.GridSlot{{Start: start, End: start.Add(time.Hour)}}}}
	for _, tc := range []struct {
		name      string
		hold, day time.Duration
		now, want time.Time
	}{
		{"weeks before", 0, 0, start.AddDate(0, 0, -14), start.AddDate(0, 0, -12)},
		{"two days before", 0, 0, start.Add(-40 * time.Hour), start},
		{"the evening before", 72 * time.Hour, 0, start.Add(-12 * time.Hour), start},
		{"on the day, before the start", 0, 0, start.Add(-2 * time.Hour), start.Add(-90 * time.Minute)},
		{"on the day, during", 0, 15 * time.Minute, start.Add(3 * time.Hour), start.Add(3*time.Hour + 15*time.Minute)},
		{"after the event", 0, 0, start.AddDate(0, 0, 2), start.AddDate(0, 0, 2).Add(30 * time.Minute)},
	} {
		ev.Hold, ev.DayHold = tc.hold, tc.day
		if got := ev.holdUntil(tc.now); !got.Equal(tc.want) {
			t.Errorf("%s: held until %s, want %s", tc.name, got.In(z), tc.want.In(z))
		}
	}
	if got, now := (&Event{}).holdUntil(start), start; !got.Equal(now.Add(48 * time.Hour)) {
		t.Errorf("without days: held until %s, want 48 hours", got)
	}
}
