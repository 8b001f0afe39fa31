package bot

import (
	"context"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// TestMarkRoom: !full and !space take a room by name in any case, quoted
// or not, from organizers only; a mistake is told with the way to do it
// right, and nothing is recorded.
func TestMarkRoom(t *testing.T) {
	f := newFixture(t)
	f.ev.Grid.Rooms = []schedule.GridRoom{{Name: "Room 104", Capacity: 40}, {Name: "Ballroom A", Capacity: 120}}
	for _, tc := range []struct{ account, text, want string }{
		{"alice", "full Room 104", "alice: !full is for the organizers of Open Source Infrastructure Day 2027."},
		{"pleia2", "full", `pleia2: Say which room. Usage: !full ROOM (e.g. !full "Room 104")`},
		{"pleia2", "full Room 999", `pleia2: there is no room "Room 999". Rooms: Room 104, Ballroom A.`},
		{"pleia2", "space", `pleia2: Say which room. Usage: !space ROOM (e.g. !space "Room 104")`},
		{"pleia2", "full room 104", "pleia2: marked Room 104 full on the board; nothing more is scheduled there."},
		{"krum", `space "ballroom a"`, "krum: marked Ballroom A as having space on the board; nothing more is scheduled there."},
		{"pleia2", "space Room 104", "pleia2: marked Room 104 as having space on the board; nothing more is scheduled there."},
	} {
		if got := f.say(tc.account, tc.account, tc.text); got != tc.want {
			t.Errorf("%s: %q\n want %q", tc.text, got, tc.want)
		}
	}
	var marks []store.RoomMark
	err := f.store.View(context.Background(), func(tx *store.Tx) error {
		ev, err := tx.EventBySlug(f.ev.Slug)
		if err != nil {
			return err
		}
		marks, err = tx.RoomMarks(ev.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(marks) != 2 || marks[0].Room != "Ballroom A" || marks[0].State != store.RoomSpace || marks[1].Room != "Room 104" || marks[1].State != store.RoomSpace || !marks[1].At.Equal(f.now.Truncate(time.Second)) {
		t.Errorf("marks: %+v", marks)
	}
}
