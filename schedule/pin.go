package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Why a pin no longer fits the grid: the config's slots or rooms changed
// after the organizer pinned, or two pins were made to clash.
const (
	PinNoSlot     = "no slot"     // no slot of the proposal's kind starts then
	PinNoRoom     = "no room"     // the room is not in the config
	PinRoomClosed = "room closed" // the room is not open in that slot
	PinTaken      = "taken"       // another proposal is pinned to the same room and slot
	PinSpeaker    = "speaker"     // another proposal pinned at that time shares a speaker
)

// BadPin is a pin that cannot be kept.
type BadPin struct {
	Number int64
	Kind   string
	Title  string
	Room   string
	Start  time.Time
	// Problem is one of the Pin* reasons; Other is the proposal it clashes
	// with (PinTaken, PinSpeaker) and Speaker the speaker they share.
	Problem string
	Other   int64
	Speaker string
}

// PinError lists every pin that cannot be kept, so that they can all be
// fixed at once.
type PinError struct {
	Pins []BadPin
}

func (e *PinError) Error() string {
	parts := make([]string, len(e.Pins))
	for i, p := range e.Pins {
		parts[i] = fmt.Sprintf("#%d pinned to %s at %s: %s", p.Number, p.Room, p.Start.Format(time.RFC3339), p.Problem)
	}
	return "pins that do not fit: " + strings.Join(parts, "; ")
}

// CheckPins returns a *PinError listing every pin of props that does not
// fit the grid, or nil.
func CheckPins(g Grid, props []Proposal) error {
	rooms := map[string]bool{}
	for _, r := range g.Rooms {
		rooms[r.Name] = true
	}
	type cell struct {
		room string
		at   int64
	}
	taken := map[cell]int64{}
	busy := map[string]int64{} // start and speaker
	var bad []BadPin
	for _, p := range props {
		if p.Pin == nil {
			continue
		}
		b := BadPin{Number: p.Number, Kind: p.Kind, Title: p.Title, Room: p.Pin.Room, Start: p.Pin.Start}
		i := slices.IndexFunc(g.Slots, func(s GridSlot) bool { return s.Kind == p.Kind && s.Start.Equal(p.Pin.Start) })
		switch {
		case i < 0:
			b.Problem = PinNoSlot
		case !rooms[p.Pin.Room]:
			b.Problem = PinNoRoom
		case !slices.Contains(g.Slots[i].Rooms, p.Pin.Room):
			b.Problem = PinRoomClosed
		}
		if b.Problem != "" {
			bad = append(bad, b)
			continue
		}
		at := p.Pin.Start.Unix()
		if other, ok := taken[cell{p.Pin.Room, at}]; ok {
			b.Problem, b.Other = PinTaken, other
			bad = append(bad, b)
			continue
		}
		speakers := p.SpeakerIDs
		names := p.Speakers
		if len(speakers) == 0 {
			speakers = names
		}
		clash := false
		for j, sp := range speakers {
			if other, ok := busy[fmt.Sprint(at, "\x00", sp)]; ok {
				b.Problem, b.Other = PinSpeaker, other
				if j < len(names) {
					b.Speaker = names[j]
				}
				clash = true
				break
			}
		}
		if clash {
			bad = append(bad, b)
			continue
		}
		taken[cell{p.Pin.Room, at}] = p.Number
		for _, sp := range speakers {
			busy[fmt.Sprint(at, "\x00", sp)] = p.Number
		}
	}
	if len(bad) > 0 {
		return &PinError{Pins: bad}
	}
	return nil
}
