package schedule

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// iCalendar formats (RFC 5545 §3.3.5): local time, UTC.
const (
	icsLocal = "20060102T150405"
	icsUTC   = "20060102T150405Z"
)

// ICS renders the items sel picks as an iCalendar feed for subscription
// (RFC 5545). It has no METHOD: METHOD:PUBLISH is iTIP (RFC 5546), which
// wants an ORGANIZER in every event, and libical refuses events without
// one; a feed to subscribe to is a plain calendar.
//
//   - each proposal is one VEVENT whose UID never changes (see uid);
//   - SEQUENCE counts the releases and amendments that changed what a
//     calendar shows (§3.8.7.4), LAST-MODIFIED is when the last of them was
//     made, DTSTAMP when the schedule last changed (History.Changed), so
//     the feed depends on its input only;
//   - an item dropped from the schedule, or taken out since the latest
//     release (withdrawn, rejected), stays, with STATUS:CANCELLED and its
//     last known time and room, so subscribed calendars remove it;
//   - breaks and plenaries are VEVENTs too (see Fixed), in the whole
//     event's feed, a personal feed and the feeds of their rooms;
//   - times are local wall-clock times with the zone's TZID and a
//     VTIMEZONE computed from Go's zone data around the event's dates; a
//     wall-clock time that occurs twice (the hour repeated when clocks go
//     back), when the item is at the second one, is written in UTC.
//
// Lines end in CRLF and are folded at 75 octets.
func ICS(ev EventInfo, h History, sel Selection) []byte {
	items := h.timeline(ev)
	z := newICSZone(ev, items)

	cal := ics.NewCalendarFor("hallway")
	cal.SetProductId("-//hallway//hallway schedule//EN")
	cal.SetCalscale("GREGORIAN")
	name := cleanLine(ev.Name)
	if name == "" {
		name = cleanLine(ev.Slug)
	}
	if t := cleanLine(sel.Title); t != "" {
		name += " – " + t
	}
	cal.SetName(name) // NAME (RFC 7986) and X-WR-CALNAME
	if latest := h.Latest(); latest != nil {
		cal.SetXWRCalDesc(fmt.Sprintf("%s: schedule version %d", cleanLine(ev.Name), latest.Version))
	}
	cal.SetXWRTimezone(z.name)
	cal.SetRefreshInterval("PT1H") // REFRESH-INTERVAL;VALUE=DURATION (RFC 7986)
	cal.SetXPublishedTTL("PT1H")
	if z.tz != nil {
		cal.AddVTimezone(z.tz)
	}

	var stamp string
	if latest := h.Latest(); latest != nil {
		stamp = h.Changed().UTC().Format(icsUTC)
	}
	venue := cleanLine(ev.Venue)
	for _, it := range items {
		if !sel.selected(it) {
			continue
		}
		e := cal.AddEvent(ev.uid(it.Number))
		e.SetProperty(ics.ComponentPropertyDtstamp, stamp)
		v, params := z.dateTime(it.Start)
		e.SetProperty(ics.ComponentPropertyDtStart, v, params...)
		if it.End.After(it.Start) {
			v, params := z.dateTime(it.End)
			e.SetProperty(ics.ComponentPropertyDtEnd, v, params...)
		}
		e.SetSequence(it.Sequence)
		e.SetProperty(ics.ComponentPropertyCreated, it.Created.UTC().Format(icsUTC))
		e.SetProperty(ics.ComponentPropertyLastModified, it.Modified.UTC().Format(icsUTC))
		if it.Cancelled {
			e.SetStatus(ics.ObjectStatusCancelled)
		} else {
			e.SetStatus(ics.ObjectStatusConfirmed)
		}
		e.SetSummary(cleanLine(it.Title))
		location := cleanLine(it.Room)
		if venue != "" {
			location = strings.TrimPrefix(location+", "+venue, ", ")
		}
		if location != "" {
			e.SetLocation(location)
		}
		e.AddCategory(kindLabel(it.Kind))
		link := ev.sessionURL(it.Number)
		e.SetURL(link)
		e.SetDescription(icsDescription(it, link))
	}
	addFixedEvents(cal, ev, h, sel, z, stamp)

	var b bytes.Buffer
	b.Grow(1024 + 900*len(items))
	// Only the writer can fail, and a bytes.Buffer does not.
	_ = cal.SerializeTo(&b, ics.WithNewLineWindows)
	return b.Bytes()
}

// icsDescription is the event's DESCRIPTION: what a calendar shows when
// the event is opened.
func icsDescription(it *feedItem, link string) string {
	var b strings.Builder
	switch {
	case it.Cancelled && it.CancelledIn == 0:
		fmt.Fprintf(&b, "Cancelled after schedule version %d.\n\n", it.TakenOutOf)
	case it.Cancelled:
		fmt.Fprintf(&b, "Cancelled in schedule version %d.\n\n", it.CancelledIn)
	}
	if a := cleanText(it.Abstract); a != "" {
		b.WriteString(a + "\n\n")
	}
	if s := cleanNames(it.Speakers); len(s) > 0 {
		b.WriteString("Speakers: " + strings.Join(s, ", ") + "\n")
	}
	b.WriteString(link)
	return b.String()
}

// icsZone writes an event's times: local with TZID and a VTIMEZONE, or
// UTC when the event's zone is UTC or has no IANA name.
type icsZone struct {
	loc  *time.Location
	name string         // TZID and X-WR-TIMEZONE
	tz   *ics.VTimezone // nil: times are written in UTC
}

func newICSZone(ev EventInfo, items []*feedItem) *icsZone {
	loc := ev.zone()
	z := &icsZone{loc: loc, name: loc.String()}
	switch z.name {
	case "", "UTC", "Local":
		// "Local" names no zone a subscriber could look up.
		z.name = "UTC"
		return z
	}
	if len(items) == 0 {
		return z
	}
	// The zone's observances from the year before the first item to the
	// year after the last: enough for every time in the feed, whichever
	// selection of the event's items it shows, and the same as long as
	// the event stays in the same years.
	first, last := items[0].Start, items[0].End
	for _, it := range items {
		if it.Start.Before(first) {
			first = it.Start
		}
		if it.End.After(last) {
			last = it.End
		}
	}
	from := time.Date(first.In(loc).Year()-1, time.January, 1, 0, 0, 0, 0, loc)
	to := time.Date(last.In(loc).Year()+2, time.January, 1, 0, 0, 0, 0, loc)
	z.tz = vtimezone(loc, from, to)
	return z
}

// dateTime is the DATE-TIME value of t and its parameters (§3.3.5 forms 3
// and 2): the wall-clock time in the zone with TZID, or UTC when the zone
// is UTC or when that wall-clock time also occurred earlier (clocks went
// back): a reader takes the first occurrence (§3.3.5), which would be an
// hour off.
func (z *icsZone) dateTime(t time.Time) (string, []ics.PropertyParameter) {
	if z.tz == nil || repeatedWallClock(t, z.loc) {
		return t.UTC().Format(icsUTC), nil
	}
	return t.In(z.loc).Format(icsLocal), []ics.PropertyParameter{ics.WithTZID(z.name)}
}

// repeatedWallClock says whether t's wall-clock time in loc happened
// before, under the previous offset, because clocks went back.
func repeatedWallClock(t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	_, off := lt.Zone()
	start, _ := lt.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, prev := start.Add(-time.Second).In(loc).Zone()
	return prev > off && lt.Before(start.Add(time.Duration(prev-off)*time.Second))
}

// onset is one change of a zone's offset or name.
type onset struct {
	at       time.Time
	from, to int // UTC offsets in seconds, before and after
	name     string
	dst      bool
}

// zoneOnsets lists the changes of loc from the one in effect at from (which
// may be long before) to the last one no later than to.
func zoneOnsets(loc *time.Location, from, to time.Time) []onset {
	t := from.In(loc)
	name, off := t.Zone()
	start, _ := t.ZoneBounds()
	var out []onset
	if start.IsZero() {
		// The same offset since the beginning of time: an onset that
		// changes nothing, at the conventional 1970-01-01.
		out = append(out, onset{at: time.Unix(-int64(off), 0), from: off, to: off, name: name, dst: t.IsDST()})
	} else {
		_, prev := start.Add(-time.Second).In(loc).Zone()
		out = append(out, onset{at: start, from: prev, to: off, name: name, dst: t.IsDST()})
	}
	for {
		_, end := t.ZoneBounds()
		if end.IsZero() || end.After(to) || !end.After(t) {
			return out
		}
		prev := off
		t = end.In(loc)
		name, off = t.Zone()
		out = append(out, onset{at: end, from: prev, to: off, name: name, dst: t.IsDST()})
	}
}

// vtimezone describes loc between from and to (§3.6.5): one STANDARD or
// DAYLIGHT sub-component per kind of change, starting at its first onset
// and repeating by a yearly RRULE when that rule gives exactly the
// changes in the span, by RDATEs otherwise.
func vtimezone(loc *time.Location, from, to time.Time) *ics.VTimezone {
	tz := ics.NewTimezone(loc.String())
	tz.AddProperty(ics.ComponentProperty("X-LIC-LOCATION"), loc.String())
	type key struct {
		from, to int
		name     string
		dst      bool
	}
	var groups [][]onset
	index := map[key]int{}
	for _, o := range zoneOnsets(loc, from, to) {
		k := key{o.from, o.to, o.name, o.dst}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], o)
	}
	for _, g := range groups {
		var c *ics.ComponentBase
		if g[0].dst {
			d := &ics.Daylight{}
			tz.Components = append(tz.Components, d)
			c = &d.ComponentBase
		} else {
			c = &tz.AddStandard().ComponentBase
		}
		before := time.FixedZone("", g[0].from)
		c.AddProperty(ics.ComponentPropertyDtStart, g[0].at.In(before).Format(icsLocal))
		c.AddProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), utcOffset(g[0].from))
		c.AddProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), utcOffset(g[0].to))
		if g[0].name != "" {
			c.AddProperty(ics.ComponentProperty(ics.PropertyTzname), g[0].name)
		}
		if rule, ok := yearlyRule(g, to); ok {
			c.AddProperty(ics.ComponentPropertyRrule, rule)
			continue
		}
		for _, o := range g[1:] {
			c.AddProperty(ics.ComponentPropertyRdate, o.at.In(before).Format(icsLocal))
		}
	}
	return tz
}

// yearlyRule finds the RRULE "the nth (or last) weekday of a month at a
// local time" that gives exactly the onsets g up to the end of the span,
// as zones' daylight saving rules do.
func yearlyRule(g []onset, end time.Time) (string, bool) {
	if len(g) < 2 {
		return "", false
	}
	before := time.FixedZone("", g[0].from)
	first := g[0].at.In(before)
	nth := (first.Day()-1)/7 + 1
	last := first.AddDate(0, 0, 7).Month() != first.Month()
	for _, o := range g[1:] {
		t := o.at.In(before)
		if t.Month() != first.Month() || t.Weekday() != first.Weekday() ||
			t.Hour() != first.Hour() || t.Minute() != first.Minute() || t.Second() != first.Second() {
			return "", false
		}
		if (t.Day()-1)/7+1 != nth {
			nth = 0
		}
		last = last && t.AddDate(0, 0, 7).Month() != t.Month()
	}
	// "Last" is the likelier rule when the onsets are also all 4th.
	var ord int
	switch {
	case last:
		ord = -1
	case nth > 0 && nth < 5:
		ord = nth
	default:
		return "", false
	}
	// The rule's occurrences in the span must be the onsets, no more.
	k := 0
	for y := first.Year(); ; y++ {
		t := nthWeekday(y, first.Month(), first.Weekday(), ord, first, before)
		if t.After(end) {
			break
		}
		if k >= len(g) || !g[k].at.Equal(t) {
			return "", false
		}
		k++
	}
	if k != len(g) {
		return "", false
	}
	day := strings.ToUpper(first.Weekday().String()[:2])
	return fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", int(first.Month()), ord, day), true
}

// nthWeekday is the ord-th (-1: last) weekday wd of month m of year y, at
// the clock time of clock, in zone.
func nthWeekday(y int, m time.Month, wd time.Weekday, ord int, clock time.Time, zone *time.Location) time.Time {
	at := func(d int) time.Time {
		return time.Date(y, m, d, clock.Hour(), clock.Minute(), clock.Second(), 0, zone)
	}
	if ord > 0 {
		d := 1 + (int(wd)-int(at(1).Weekday())+7)%7 + 7*(ord-1)
		return at(d)
	}
	lastDay := time.Date(y, m+1, 0, 0, 0, 0, 0, zone).Day()
	d := lastDay - (int(at(lastDay).Weekday())-int(wd)+7)%7
	return at(d)
}

// utcOffset formats an offset for TZOFFSETFROM/TZOFFSETTO (§3.3.14).
func utcOffset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	s := sign + fmt.Sprintf("%02d%02d", sec/3600, sec/60%60)
	if sec%60 != 0 {
		s += fmt.Sprintf("%02d", sec%60)
	}
	return s
}
