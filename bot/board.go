package bot

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// The board's room marks: an organizer at a door says a room is full, or
// has space again; the board and the room's screen show it, and a full
// room's screen points to the parallel sessions with space. A mark holds
// for the session on in the room (or the next one, said between two).

var fullSpec = &Spec{
	Name:      "full",
	Usage:     "ROOM",
	Help:      "Mark a room full on the board: its screen sends people to the parallel sessions with space.",
	Examples:  []string{`full "Room 104"`, "full Room 104"},
	Organizer: true,
	Run:       func(c *call) (Reply, error) { return c.markRoom(store.RoomFull) },
}

var spaceSpec = &Spec{
	Name:      "space",
	Usage:     "ROOM",
	Help:      "Say on the board that a room has space again (it overrides the count of check-ins).",
	Examples:  []string{`space "Room 104"`},
	Organizer: true,
	Run:       func(c *call) (Reply, error) { return c.markRoom(store.RoomSpace) },
}

func (c *call) markRoom(state string) (Reply, error) {
	name := strings.Join(c.args.Words, " ")
	if name == "" {
		return Reply{}, c.usageErr("Say which room.")
	}
	room, ok := c.ev.room(name)
	if !ok {
		return Reply{}, userErr(fmt.Sprintf("there is no room %q. Rooms: %s.", name, strings.Join(c.ev.roomNames(), ", ")))
	}
	if err := c.identify(); err != nil {
		return Reply{}, err
	}
	if err := c.tx.MarkRoom(c.ev.id, room, state, c.person.ID); err != nil {
		return Reply{}, err
	}
	what := "marked " + room + " full on the board"
	if state == store.RoomSpace {
		what = "marked " + room + " as having space on the board"
	}
	on, next, err := c.roomSessions(room)
	if err != nil {
		return Reply{}, err
	}
	switch {
	case on != nil:
		what += fmt.Sprintf(", for #%d %q (until %s)", on.Number, on.Title, c.when(on.End))
	case next != nil:
		what += fmt.Sprintf(", for #%d %q (%s)", next.Number, next.Title, c.when(next.Start))
	default:
		what += "; nothing more is scheduled there"
	}
	what += "."
	if c.ev.URL != "" {
		what += " " + c.ev.URL + "/board"
	}
	return textReply("%s", what), nil
}

// roomSessions is what is on in room now and what comes next there.
func (c *call) roomSessions(room string) (on, next *schedule.Item, err error) {
	rel, err := c.released()
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	now := c.now()
	for _, it := range rel.Current().Items {
		if it.Room != room || !it.End.After(now) {
			continue
		}
		if !it.Start.After(now) {
			on = &it
		} else if next == nil || it.Start.Before(next.Start) {
			next = &it
		}
	}
	return on, next, nil
}
