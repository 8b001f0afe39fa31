package bot

import (
	"strings"
	"time"
)

// readableTime writes a time for an IRC answer, in the event's zone with
// its abbreviation: "09:00 CET" today, "Thu 4 Mar 09:00 CET" on another
// day (and the year when it is not this year's), so an answer read months
// ahead or by someone abroad is not misread.
func readableTime(t, now time.Time, zone *time.Location) string {
	t, now = t.In(zone), now.In(zone)
	switch {
	case sameDay(t, now):
		return t.Format("15:04 MST")
	case t.Year() == now.Year():
		return t.Format("Mon 2 Jan 15:04 MST")
	}
	return t.Format("Mon 2 Jan 2006 15:04 MST")
}

// readableSpan writes a start and end: "Thu 4 Mar 13:00-13:50 CET"
// ("13:00-13:50 CET" today).
func readableSpan(start, end, now time.Time, zone *time.Location) string {
	s := readableTime(start, now, zone)
	day, clock, ok := cutLastTwo(s)
	if !ok {
		return s
	}
	// day is what comes before the start's clock, clock is "15:04 MST".
	hm, abbr, _ := strings.Cut(clock, " ")
	return day + hm + "-" + end.In(zone).Format("15:04") + " " + abbr
}

// cutLastTwo splits "Thu 4 Mar 13:00 CET" into "Thu 4 Mar " and "13:00 CET".
func cutLastTwo(s string) (head, tail string, ok bool) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return "", "", false
	}
	j := strings.LastIndexByte(s[:i], ' ')
	return s[:j+1], s[j+1:], true
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// when writes t for this command's answer (see readableTime).
func (c *call) when(t time.Time) string { return readableTime(t, c.now(), c.ev.zone()) }

// now is the command's time: its transaction's, or the bot's clock for
// the slow part of a command, which runs outside one.
func (c *call) now() time.Time {
	if c.tx != nil {
		return c.tx.Now()
	}
	return c.bot.now()
}

// span writes a start and end for this command's answer.
func (c *call) span(start, end time.Time) string {
	return readableSpan(start, end, c.now(), c.ev.zone())
}

// clockText reads a time of day as people type it: "9:00" is 09:00.
func clockText(s string) string {
	if h, m, ok := strings.Cut(s, ":"); ok && len(h) == 1 && h[0] >= '0' && h[0] <= '9' && len(m) == 2 {
		return "0" + s
	}
	return s
}
