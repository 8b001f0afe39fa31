package bot

import (
	"cmp"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/bot/money"
	"github.com/hallwayhq/hallway/schedule"
)

// Event is what the bot needs to know of an event from the config.
type Event struct {
	Slug    string
	Name    string
	Channel string // the IRC channel where the event lives
	// ChatRooms are the other rooms the event talks in, on any chat
	// transport: announcements go to Channel and to each of them.
	ChatRooms []ChatRoom
	// roomIDs is the bot's: what the transports said the rooms' IDs are.
	roomIDs *roomIDs
	// RoomChannels are the rooms' own channels (room name → channel),
	// where each room takes its notes; the bot joins them.
	RoomChannels map[string]string
	// Organizers are the people who run the event, by identity of any
	// kind (an address organizes once confirmed).
	Organizers     []Identity
	VotesPerPerson int
	// Capacity is how many seats registration gives; 0 means no limit.
	Capacity int
	// Hold is how long a seat freed by a cancellation is held for the
	// person it is offered to; 0 means 48 hours. It never runs past the
	// event's start: on the event's days, DayHold (0: 30 minutes) holds.
	Hold, DayHold time.Duration
	// Phases holds the scheduled opening and closing times from the config.
	// A phase missing here is open until an organizer closes it.
	Phases map[string]PhaseTimes
	// URL is the event's public page, for links in long answers; may be "".
	URL string
	// Zone is the event's timezone; times are shown in it.
	Zone *time.Location
	// Grid is the event's rooms and slots, for the scheduler.
	Grid schedule.Grid
	// RetimeWeight prices moving a released item to another time, for
	// each person who planned on it (0: schedule.DefaultRetimeWeight);
	// FreezeBefore is how close to its start an item is no longer moved
	// (0: DefaultFreezeBefore).
	RetimeWeight int
	FreezeBefore time.Duration
	// Campaigns are the event's pledge drives.
	Campaigns []Campaign
	// Rates count pledges in other currencies toward a money goal; a
	// currency without one is shown apart and not counted.
	Rates []money.Rate
	// KeepTopic sets the channel's topic to what is on as each slot
	// starts (the bot needs to be allowed to: op, or channel mode -t).
	KeepTopic bool
	// ReminderAfter is how long after a pledge, and after each reminder,
	// an unreceived pledge is reminded of by mail, at most Reminders times.
	ReminderAfter time.Duration
	Reminders     int
	// Retention is how long after the event's last slot ends the personal
	// data it no longer needs is kept (retention.go); 0 keeps it.
	Retention time.Duration
	// CocURL is the code of conduct's address ("" if none); CocTeam who
	// receives reports and may read them: IRC accounts, Matrix IDs
	// ("@x:server") and addresses (coc.go).
	CocURL  string
	CocTeam []string

	id int64 // store id, set by Bot.Init
}

// PhaseTimes is when a phase opens and closes on its own. Either may be zero.
type PhaseTimes struct {
	Open, Close time.Time
}

// Phases people can open and close.
var phaseNames = []string{"cfp", "voting", "registration"}

// phaseTitle names a phase in replies.
func phaseTitle(phase string) string {
	switch phase {
	case "cfp":
		return "the call for proposals"
	case "voting":
		return "voting"
	case "registration":
		return "registration"
	}
	return phase
}

// isOrganizer reports whether an identity is one of the event's
// organizers.
func (e *Event) isOrganizer(id Identity) bool {
	if id.IsZero() {
		return false
	}
	for _, o := range e.Organizers {
		if o == id {
			return true
		}
	}
	return false
}

// FoldAccount case-folds an IRC account name with RFC 1459 casemapping, the
// one Anope and most networks use: A-Z and []\~ fold to a-z and {}|^.
func FoldAccount(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		case r == '[':
			return '{'
		case r == ']':
			return '}'
		case r == '\\':
			return '|'
		case r == '~':
			return '^'
		}
		return r
	}, s)
}

// announce tells the event: a line in each of its rooms (but the one the
// command was said in, where the reply already does) and a post to its
// list.
func (c *call) announce(key, line, subject, body string) error {
	if line != "" {
		if _, err := sayToEvent(c.tx, c.ev, line, "", c.req.Transport, c.req.Where); err != nil {
			return err
		}
	}
	if c.bot.announcer == nil || subject == "" {
		return nil
	}
	_, err := c.bot.announcer.Announce(c.tx, c.ev.Slug, key, subject, body)
	return err
}

// days returns the event's days, the midnights (in its zone) of the days
// its slots are on, in order; none when the config gives no days.
func (e *Event) days() []time.Time {
	var out []time.Time
	for _, s := range e.Grid.Slots {
		t := s.Start.In(e.zone())
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, e.zone())
		if len(out) == 0 || !out[len(out)-1].Equal(d) {
			out = append(out, d)
		}
	}
	return out
}

// onDay reports whether t is on one of the event's days, in its zone.
func (e *Event) onDay(t time.Time) bool {
	t = t.In(e.zone())
	for _, d := range e.days() {
		if d.Year() == t.Year() && d.YearDay() == t.YearDay() {
			return true
		}
	}
	return false
}

// Defaults for how long a freed seat is held for the person offered it.
const (
	defaultHold    = 48 * time.Hour
	defaultDayHold = 30 * time.Minute
)

// holdUntil is when a seat offered at now stops being held: after the
// event's hold, but never past the event's start (a seat held until after
// the doors opened is a seat lost); from the first day of the event on,
// after the short hold of the event's days.
func (e *Event) holdUntil(now time.Time) time.Time {
	days := e.days()
	if len(days) == 0 {
		return now.Add(cmp.Or(e.Hold, defaultHold))
	}
	if !now.Before(days[0]) {
		return now.Add(cmp.Or(e.DayHold, defaultDayHold))
	}
	start := e.Grid.Slots[0].Start
	return minTime(now.Add(cmp.Or(e.Hold, defaultHold)), start)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
