package bot

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// TestBadPinsWording keeps what the organizer reads of each kind of broken
// pin, all in one answer, as a golden file.
func TestBadPinsWording(t *testing.T) {
	f := newFixture(t)
	f.ev.Grid, f.ev.Zone = exampleGrid(t)
	at := func(hm string) time.Time {
		tm, _ := time.ParseInLocation("2006-01-02 15:04", "2027-03-04 "+hm, f.ev.Zone)
		return tm
	}
	bad := []schedule.BadPin{
		{Number: 1, Kind: schedule.KindTalk, Title: "Keynote", Room: "Ballroom A", Start: at("08:30"), Problem: schedule.PinNoSlot},
		{Number: 4, Kind: schedule.KindSession, Title: "Macs", Room: "Room 105", Start: at("13:00"), Problem: schedule.PinNoRoom},
		{Number: 5, Kind: schedule.KindTalk, Title: "CI", Room: "Room 104", Start: at("09:00"), Problem: schedule.PinRoomClosed},
		{Number: 6, Kind: schedule.KindSession, Title: "Containers", Room: "Room 104", Start: at("13:00"), Problem: schedule.PinTaken, Other: 7},
		{Number: 8, Kind: schedule.KindSession, Title: "Rust", Room: "Room 106", Start: at("14:00"), Problem: schedule.PinSpeaker, Other: 9, Speaker: "alice"},
	}
	c := &call{bot: f.bot, ev: f.ev, req: Request{Transport: IRC, Can: ChatCapabilities}}
	var err error
	if e := f.bot.store.Do(t.Context(), func(tx *store.Tx) error {
		c.tx = tx
		err = c.badPins(bad)
		return nil
	}); e != nil {
		t.Fatal(e)
	}
	var uerr *Error
	if !errors.As(err, &uerr) {
		t.Fatalf("badPins: %v, want an *Error", err)
	}
	golden(t, "badpins.golden", strings.Join(uerr.lines(), "\n")+"\n")
}
