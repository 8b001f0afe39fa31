package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Release is version K of an event's schedule, frozen.
type Release struct {
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	Note      string    `json:"note,omitempty"`
	Plan
	// Amendments are the changes made while this was the latest
	// release, in order (see amend.go); they are not part of it.
	Amendments []Amendment `json:"-"`
	// Fixed are the grid's breaks and plenaries when it was made.
	Fixed []Fixed `json:"fixed,omitempty"`
}

// Change kinds of a release's diff.
const (
	ChangeNew       = "new"
	ChangeMoved     = "moved"
	ChangeRenamed   = "renamed"
	ChangeCancelled = "cancelled"
)

// Change is one difference between two releases.
type Change struct {
	Kind string
	Item Item  // as it is now (for cancelled: as it was)
	Was  *Item // before, for moved and renamed
}

// Diff lists what changed from prev (nil for the first release) to next:
// new, moved (time or room), renamed (title or speakers) and cancelled
// items, in next's order with cancellations last.
func Diff(prev, next *Release) []Change {
	var changes []Change
	before := map[int64]Item{}
	if prev != nil {
		for _, it := range prev.Items {
			before[it.Number] = it
		}
	}
	now := map[int64]bool{}
	for _, it := range next.Items {
		now[it.Number] = true
		was, ok := before[it.Number]
		switch {
		case !ok:
			changes = append(changes, Change{Kind: ChangeNew, Item: it})
		case !was.Start.Equal(it.Start) || was.Room != it.Room:
			changes = append(changes, Change{Kind: ChangeMoved, Item: it, Was: &was})
		case was.Title != it.Title || !slices.Equal(was.Speakers, it.Speakers):
			changes = append(changes, Change{Kind: ChangeRenamed, Item: it, Was: &was})
		}
	}
	if prev != nil {
		for _, it := range prev.Items {
			if !now[it.Number] {
				changes = append(changes, Change{Kind: ChangeCancelled, Item: it})
			}
		}
	}
	return changes
}

// when formats a start time in the event's zone: "Thu 4 Mar 13:00 PST".
func when(t time.Time, zone *time.Location) string {
	return t.In(zone).Format("Mon 2 Jan 15:04 MST")
}

// Announcement is the text of a release for the mailing list: the
// changes, the full schedule, and what did not make it with the reason.
func Announcement(eventName string, r *Release, changes []Change, zone *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: schedule version %d\n", eventName, r.Version)
	if r.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", r.Note)
	}
	if r.Version > 1 {
		b.WriteString("\nChanges since version " + fmt.Sprint(r.Version-1) + ":\n")
		if len(changes) == 0 {
			b.WriteString("  none\n")
		}
		for _, c := range changes {
			b.WriteString("  " + describeChange(c, zone) + "\n")
		}
	}
	b.WriteString("\nSchedule (times in " + zone.String() + "):\n")
	day := ""
	dayOf := func(t time.Time) {
		if d := t.In(zone).Format("Monday 2 January 2006"); d != day {
			day = d
			b.WriteString("\n" + d + "\n")
		}
	}
	fixed := r.Fixed
	writeFixed := func(f Fixed) {
		dayOf(f.Start)
		what := f.title()
		if strings.TrimSpace(f.Title) != "" {
			what += " (" + f.Kind + ")"
		}
		fmt.Fprintf(&b, "  %s-%s  %-12s %s\n", f.Start.In(zone).Format("15:04"), f.End.In(zone).Format("15:04"), f.where(), what)
	}
	for _, it := range r.Items {
		for len(fixed) > 0 && !fixed[0].Start.After(it.Start) {
			writeFixed(fixed[0])
			fixed = fixed[1:]
		}
		dayOf(it.Start)
		fmt.Fprintf(&b, "  %s-%s  %-12s #%d %s", it.Start.In(zone).Format("15:04"), it.End.In(zone).Format("15:04"), it.Room, it.Number, it.Title)
		if len(it.Speakers) > 0 {
			b.WriteString(" (" + strings.Join(it.Speakers, ", ") + ")")
		}
		b.WriteString("\n")
	}
	for _, f := range fixed {
		writeFixed(f)
	}
	if len(r.Left) > 0 {
		b.WriteString("\nNot scheduled:\n")
		for _, l := range r.Left {
			fmt.Fprintf(&b, "  #%d %s (%s): %s\n", l.Number, l.Title, Plural(l.Votes, "vote"), l.Reason)
		}
	}
	fmt.Fprintf(&b, "\nAttendee conflicts left: %d; seats short: %d.\n", r.Conflicts, r.Overflow)
	return b.String()
}

// describeChange says one change in a line.
func describeChange(c Change, zone *time.Location) string {
	if isFixedChange(c) {
		return describeFixedChange(c, zone)
	}
	it := c.Item
	switch c.Kind {
	case ChangeNew:
		return fmt.Sprintf("new: #%d %s, %s in %s", it.Number, it.Title, when(it.Start, zone), it.Room)
	case ChangeMoved:
		return fmt.Sprintf("moved: #%d %s, now %s in %s (was %s in %s)", it.Number, it.Title, when(it.Start, zone), it.Room, when(c.Was.Start, zone), c.Was.Room)
	case ChangeRenamed:
		return fmt.Sprintf("renamed: #%d %s (was %s)", it.Number, it.Title, c.Was.Title)
	default:
		return fmt.Sprintf("cancelled: #%d %s (was %s in %s)", it.Number, it.Title, when(it.Start, zone), it.Room)
	}
}

// Summary is the release in one IRC line: version, size, and the count of
// each kind of change.
func Summary(r *Release, changes []Change) string {
	count := map[string]int{}
	for _, c := range changes {
		count[c.Kind]++
	}
	s := fmt.Sprintf("Schedule version %d released: %s", r.Version, Plural(len(r.Items), "item"))
	if r.Version > 1 {
		var parts []string
		for _, k := range []string{ChangeNew, ChangeMoved, ChangeRenamed, ChangeCancelled} {
			if count[k] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
			}
		}
		if len(parts) == 0 {
			parts = []string{"no changes"}
		}
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if len(r.Left) > 0 {
		s += fmt.Sprintf(", %d not scheduled", len(r.Left))
	}
	return s + "."
}

// ChangeLines says each change in a line, for IRC.
func ChangeLines(changes []Change, zone *time.Location) []string {
	lines := make([]string, len(changes))
	for i, c := range changes {
		lines[i] = describeChange(c, zone)
	}
	return lines
}

// At returns the items running at t and those starting next (the earliest
// start after t), for "now" and "next".
func (p *Plan) At(t time.Time) (now, next []Item) {
	var nextStart time.Time
	for _, it := range p.Items {
		if !it.Start.After(t) && it.End.After(t) {
			now = append(now, it)
		}
		if it.Start.After(t) && (nextStart.IsZero() || it.Start.Before(nextStart)) {
			nextStart = it.Start
		}
	}
	for _, it := range p.Items {
		if !nextStart.IsZero() && it.Start.Equal(nextStart) {
			next = append(next, it)
		}
	}
	return now, next
}

// Find returns the item of a proposal, if it is scheduled.
func (p *Plan) Find(number int64) (Item, bool) {
	for _, it := range p.Items {
		if it.Number == number {
			return it, true
		}
	}
	return Item{}, false
}
