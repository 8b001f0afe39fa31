package bot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hallwayhq/hallway/schedule"
)

// maxListed is how many slots or rooms an answer lists to choose from.
const maxListed = 8

// badPins tells the organizer of every pin that no longer fits the event
// (its slot or room changed in the config after the pin) and how to fix
// each: unpin it, or pin it again where it fits.
func (c *call) badPins(bad []schedule.BadPin) error {
	p := c.prefix()
	nums := make([]string, len(bad))
	more := make([]string, len(bad))
	for i, b := range bad {
		nums[i] = strconv.FormatInt(b.Number, 10)
		at := c.when(b.Start)
		line := fmt.Sprintf("#%d %q is pinned to %s, %s, but ", b.Number, b.Title, b.Room, at)
		unpin := fmt.Sprintf("say %sunpin %d", p, b.Number)
		switch b.Problem {
		case schedule.PinNoSlot:
			line += fmt.Sprintf("no %s slot starts then: %s, or pin it again to a %s slot (%s).", b.Kind, unpin, b.Kind, c.slotStarts(b.Kind))
		case schedule.PinNoRoom:
			line += fmt.Sprintf("there is no room %q any more: %s, or pin it again to %s.", b.Room, unpin, c.openRooms(b))
		case schedule.PinRoomClosed:
			line += fmt.Sprintf("%s is not open then: %s, or pin it again to %s.", b.Room, unpin, c.openRooms(b))
		case schedule.PinTaken:
			line += fmt.Sprintf("#%d is pinned there too: %s, or pin one of them elsewhere.", b.Other, unpin)
		case schedule.PinSpeaker:
			who := "one of its speakers"
			if b.Speaker != "" {
				who = "its speaker " + b.Speaker
			}
			line += fmt.Sprintf("%s is in #%d, pinned at the same time: %s, or pin one of them at another time.", who, b.Other, unpin)
		default:
			line += b.Problem + ": " + unpin + "."
		}
		more[i] = line
	}
	fit := "fit"
	if len(bad) == 1 {
		fit = "fits"
	}
	msg := fmt.Sprintf("%s no longer %s the event's slots and rooms (the config changed since, or pins clash). Fix each, then try again:",
		plural(len(bad), "pin"), fit)
	if len(bad) > 1 {
		more = append(more, fmt.Sprintf("To let the scheduler place them all: %sunpin %s", p, strings.Join(nums, " ")))
	}
	return &Error{Msg: msg, More: more}
}

// slotStarts lists when the event's slots of a kind start, as pin takes
// them.
func (c *call) slotStarts(kind string) string {
	var starts []string
	for _, s := range c.ev.Grid.Slots {
		if s.Kind == kind {
			starts = append(starts, s.Start.In(c.ev.zone()).Format("2006-01-02 15:04"))
		}
	}
	if len(starts) == 0 {
		return "the event has none now"
	}
	return "they start at " + listSome(starts)
}

// openRooms lists the rooms open in a bad pin's slot.
func (c *call) openRooms(b schedule.BadPin) string {
	for _, s := range c.ev.Grid.Slots {
		if s.Kind == b.Kind && s.Start.Equal(b.Start) {
			return "a room open then: " + listSome(s.Rooms)
		}
	}
	return "a room open then"
}

// listSome joins a list, cut short after maxListed.
func listSome(list []string) string {
	if len(list) > maxListed {
		return strings.Join(list[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(list)-maxListed)
	}
	return strings.Join(list, ", ")
}
