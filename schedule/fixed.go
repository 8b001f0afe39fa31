package schedule

import (
	"bytes"
	"cmp"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// # Breaks and plenaries
//
// The grid's break and plenary slots are fixed items: no proposal, no
// speakers, a title from the config. A release keeps them as they were
// when it was made (Release.Fixed), so the feeds fold them across
// releases like items: a lunch whose end or title changes in the config
// gets a higher SEQUENCE with the next release, one taken out is
// cancelled. Their UID is made of what identifies the slot in the config:
// the event, the kind, the start and the first room it names (two slots
// never share a room at once), so it is the same in every release and
// after every restart; a break moved to another time is another break
// (the old one cancelled, the new one added).

// Fixed is a break or plenary of a release.
type Fixed struct {
	Kind  string    `json:"kind"` // KindBreak or KindPlenary
	Title string    `json:"title,omitempty"`
	Rooms []string  `json:"rooms,omitempty"` // as the config names them; none: the whole venue
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// FixedItems lists the grid's breaks and plenaries, by start.
func FixedItems(g Grid) []Fixed {
	var out []Fixed
	for _, s := range g.Slots {
		if s.Kind != KindBreak && s.Kind != KindPlenary {
			continue
		}
		out = append(out, Fixed{Kind: s.Kind, Title: s.Title, Rooms: slices.Clone(s.Rooms), Start: s.Start, End: s.End})
	}
	slices.SortStableFunc(out, func(a, b Fixed) int { return a.Start.Compare(b.Start) })
	return out
}

// fixedItem is a fixed item as the feeds see it across releases.
type fixedItem struct {
	Fixed
	uid         string
	Cancelled   bool
	CancelledIn int
	Sequence    int
	Created     time.Time
	Modified    time.Time
}

// fixedTimeline folds the releases' fixed items into one fixedItem per
// UID, by start: the same rules as timeline.
func (h History) fixedTimeline(ev EventInfo) []*fixedItem {
	var items []*fixedItem
	byUID := map[string]*fixedItem{}
	seen := map[string]bool{}
	for _, r := range h {
		if r == nil {
			continue
		}
		clear(seen)
		for _, f := range r.Fixed {
			uid := ev.fixedUID(f)
			if seen[uid] {
				continue
			}
			seen[uid] = true
			fi, ok := byUID[uid]
			switch {
			case !ok:
				fi = &fixedItem{Fixed: f, uid: uid, Created: r.CreatedAt, Modified: r.CreatedAt}
				byUID[uid] = fi
				items = append(items, fi)
				continue
			case fi.Cancelled:
				fi.Cancelled, fi.CancelledIn = false, 0
				fi.Sequence++
				fi.Modified = r.CreatedAt
			case !fi.End.Equal(f.End) || fi.Title != f.Title || !slices.Equal(fi.Rooms, f.Rooms):
				fi.Sequence++
				fi.Modified = r.CreatedAt
			}
			fi.Fixed = f
		}
		for _, fi := range items {
			if !seen[fi.uid] && !fi.Cancelled {
				fi.Cancelled, fi.CancelledIn = true, r.Version
				fi.Sequence++
				fi.Modified = r.CreatedAt
			}
		}
	}
	slices.SortStableFunc(items, func(a, b *fixedItem) int { return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.uid, b.uid)) })
	return items
}

// fixedUID is the one identifier of a fixed item in every feed:
// "<slug>-<kind>-<start in UTC>[-<first room>]@<host of the event URL>",
// e.g. "openinfra-day-2027-break-20270304T2000Z@127.0.0.1".
func (ev EventInfo) fixedUID(f Fixed) string {
	s := cleanLine(ev.Slug) + "-" + asciiWords(f.Kind, 20) + "-" + f.Start.UTC().Format("20060102T1504Z")
	if len(f.Rooms) > 0 {
		s += "-" + roomToken(f.Rooms[0])
	}
	return s + "@" + ev.host()
}

// host is the host of the event's URL, for UIDs.
func (ev EventInfo) host() string {
	if u, err := url.Parse(ev.baseURL()); err == nil && u.Hostname() != "" {
		return strings.ToLower(u.Hostname())
	}
	return "hallway.invalid"
}

// roomToken names a room in an identifier: its words in lower-case ASCII,
// or a hash of the name when it has none ("渋谷").
func roomToken(name string) string {
	if w := asciiWords(name, 40); w != "" {
		return w
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("r%08x", h.Sum32())
}

// asciiWords is s in lower-case ASCII letters and digits, words joined by
// "-", at most about limit bytes.
func asciiWords(s string, limit int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(cleanLine(s)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			if b.Len() >= limit {
				break
			}
		} else {
			dash = true
		}
	}
	return b.String()
}

// title is what a fixed item is called: its title, or its kind.
func (f *Fixed) title() string {
	if t := cleanLine(f.Title); t != "" {
		return t
	}
	if f.Kind == KindPlenary {
		return "Plenary"
	}
	return "Break"
}

// rooms are the rooms a fixed item is in: those it names, or every room
// of the event.
func (ev EventInfo) fixedRooms(f *Fixed) []string {
	if len(f.Rooms) > 0 {
		return f.Rooms
	}
	out := make([]string, 0, len(ev.Rooms))
	for _, r := range ev.Rooms {
		if !slices.Contains(out, r.Name) {
			out = append(out, r.Name)
		}
	}
	return out
}

// where says in words where a fixed item is: its rooms, or "all rooms".
func (f *Fixed) where() string {
	if len(f.Rooms) == 0 {
		return "all rooms"
	}
	return strings.Join(cleanNames(f.Rooms), ", ")
}

// keepsFixed says whether a feed of sel shows a fixed item: the whole
// event's and a personal feed do (a personal calendar shows lunch), a
// room's feed when the item is in that room; a feed of one kind or of one
// session does not.
func (sel Selection) keepsFixed(ev EventInfo, f *fixedItem) bool {
	switch {
	case sel.NoFixed || sel.Kind != "":
		return false
	case sel.Room != "":
		return slices.Contains(ev.fixedRooms(&f.Fixed), sel.Room)
	}
	return true
}

// fixedCopy is a fixed item in one room, for the formats that list events
// by room (frab, c3voc): each copy has its own id, guid and slug.
type fixedCopy struct {
	*fixedItem
	room string
}

// key identifies the copy: the item's UID and the room.
func (c fixedCopy) key() string { return c.uid + "#" + c.room }

// id is a positive frab id for the copy, above every proposal number
// (2³⁰ and up), from a hash of its key: stable across releases.
func (c fixedCopy) id() int64 {
	h := fnv.New32a()
	h.Write([]byte(c.key()))
	return 1<<30 + int64(h.Sum32()&(1<<30-1))
}

// slug is "<event>-<kind>-<date and time>-<room>" in lower-case ASCII.
func (c fixedCopy) slug(ev EventInfo, loc *time.Location) string {
	s := asciiWords(ev.Slug, 60)
	if s == "" {
		s = "event"
	}
	return s + "-" + asciiWords(c.Kind, 20) + "-" + c.Start.In(loc).Format("20060102-1504") + "-" + roomToken(c.room)
}

// fixedOnDay lists the current fixed items' copies in room on the local
// date of d, by start.
func fixedOnDay(ev EventInfo, fixed []*fixedItem, date time.Time, room string) []fixedCopy {
	loc := ev.zone()
	var out []fixedCopy
	for _, f := range fixed {
		if f.Cancelled || !sameDate(f.Start.In(loc), date) || !slices.Contains(ev.fixedRooms(&f.Fixed), room) {
			continue
		}
		out = append(out, fixedCopy{f, room})
	}
	return out
}

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// withFixedDays adds to ds the dates and bounds of the current fixed
// items: a day with only a plenary is still a day of the event, and a
// closing plenary ends the day.
func withFixedDays(ev EventInfo, ds []day, fixed []*fixedItem) []day {
	loc := ev.zone()
	for _, f := range fixed {
		if f.Cancelled {
			continue
		}
		st := f.Start.In(loc)
		i := slices.IndexFunc(ds, func(d day) bool { return sameDate(d.Date, st) })
		if i < 0 {
			ds = append(ds, day{Date: time.Date(st.Year(), st.Month(), st.Day(), 0, 0, 0, 0, loc), Start: f.Start, End: f.End})
			continue
		}
		if f.Start.Before(ds[i].Start) {
			ds[i].Start = f.Start
		}
		if f.End.After(ds[i].End) {
			ds[i].End = f.End
		}
	}
	slices.SortStableFunc(ds, func(a, b day) int { return a.Date.Compare(b.Date) })
	return ds
}

// addFixedEvents adds a VEVENT for each fixed item sel keeps, by the
// rules of ICS: one VEVENT per item however many rooms it is in.
func addFixedEvents(cal *ics.Calendar, ev EventInfo, h History, sel Selection, z *icsZone, stamp string) {
	venue := cleanLine(ev.Venue)
	page := ev.baseURL()
	if page != "" {
		page += "/"
	}
	for _, f := range h.fixedTimeline(ev) {
		if !sel.keepsFixed(ev, f) {
			continue
		}
		e := cal.AddEvent(f.uid)
		e.SetProperty(ics.ComponentPropertyDtstamp, stamp)
		v, params := z.dateTime(f.Start)
		e.SetProperty(ics.ComponentPropertyDtStart, v, params...)
		if f.End.After(f.Start) {
			v, params := z.dateTime(f.End)
			e.SetProperty(ics.ComponentPropertyDtEnd, v, params...)
		}
		e.SetSequence(f.Sequence)
		e.SetProperty(ics.ComponentPropertyCreated, f.Created.UTC().Format(icsUTC))
		e.SetProperty(ics.ComponentPropertyLastModified, f.Modified.UTC().Format(icsUTC))
		if f.Cancelled {
			e.SetStatus(ics.ObjectStatusCancelled)
		} else {
			e.SetStatus(ics.ObjectStatusConfirmed)
		}
		e.SetSummary(f.title())
		location := strings.Join(cleanNames(f.Rooms), ", ")
		if venue != "" {
			location = strings.TrimPrefix(location+", "+venue, ", ")
		}
		if location != "" {
			e.SetLocation(location)
		}
		e.AddCategory(kindLabel(f.Kind))
		var desc []string
		if f.Cancelled {
			desc = append(desc, fmt.Sprintf("Cancelled in schedule version %d.", f.CancelledIn))
		}
		if isHTTP(page) {
			e.SetURL(page)
			desc = append(desc, page)
		}
		if len(desc) > 0 {
			e.SetDescription(strings.Join(desc, "\n\n"))
		}
	}
}

// jsonFixed is a break or plenary in JSON's output (docs/export-json.md).
type jsonFixed struct {
	UID          string   `json:"uid"`
	Kind         string   `json:"kind"`
	Title        string   `json:"title"`
	Rooms        []string `json:"rooms"`
	AllRooms     bool     `json:"all_rooms"`
	Start        string   `json:"start"`
	End          string   `json:"end"`
	Minutes      int      `json:"duration_minutes"`
	Sequence     int      `json:"sequence"`
	LastModified string   `json:"last_modified"`
	CancelledIn  *int     `json:"cancelled_in,omitempty"`
}

func fixedJSON(ev EventInfo, f *fixedItem) jsonFixed {
	loc := ev.zone()
	j := jsonFixed{
		UID: f.uid, Kind: cleanLine(f.Kind), Title: f.title(), Rooms: cleanNames(ev.fixedRooms(&f.Fixed)),
		AllRooms: len(f.Rooms) == 0,
		Start:    f.Start.In(loc).Format(time.RFC3339), End: f.End.In(loc).Format(time.RFC3339),
		Minutes: int(f.End.Sub(f.Start) / time.Minute), Sequence: f.Sequence,
		LastModified: f.Modified.UTC().Format(time.RFC3339),
	}
	if f.Cancelled {
		v := f.CancelledIn
		j.CancelledIn = &v
	}
	return j
}

// writeFrabFixed writes a break or plenary as a frab <event> of type
// "break" or "plenary", without persons; room is the escaped room name.
func writeFrabFixed(b *bytes.Buffer, ev EventInfo, c fixedCopy, room string) {
	loc := ev.zone()
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	st := c.Start.In(loc)
	w("      <event guid=\"%s\" id=\"%d\">\n", Guid(c.key()), c.id())
	w("        <date>%s</date>\n", st.Format(time.RFC3339))
	w("        <start>%s</start>\n", st.Format("15:04"))
	w("        <duration>%s</duration>\n", frabDuration(c.End.Sub(c.Start)))
	w("        <room>%s</room>\n", room)
	w("        <slug>%s</slug>\n", xmlText(c.slug(ev, loc)))
	if page := ev.baseURL() + "/"; isHTTP(page) {
		w("        <url>%s</url>\n", xmlText(page))
	}
	w("        <title>%s</title>\n", xmlText(c.title()))
	b.WriteString("        <subtitle></subtitle>\n")
	b.WriteString("        <track></track>\n")
	w("        <type>%s</type>\n", xmlText(asciiWords(c.Kind, 20)))
	b.WriteString("        <language></language>\n")
	b.WriteString("        <abstract></abstract>\n")
	b.WriteString("        <description></description>\n")
	b.WriteString("        <persons></persons>\n")
	b.WriteString("        <links></links>\n")
	b.WriteString("      </event>\n")
}

// withFixedSpans adds the current fixed items' times to items, for the
// time slot that divides them all.
func withFixedSpans(items []*feedItem, fixed []*fixedItem) []*feedItem {
	out := slices.Clone(items)
	for _, f := range fixed {
		if !f.Cancelled {
			out = append(out, &feedItem{Item: Item{Start: f.Start, End: f.End}})
		}
	}
	return out
}

// DiffFixed lists what changed in the breaks and plenaries from prev (nil
// for the first release) to next, for the list announcement: new, moved
// (end or rooms), renamed and cancelled ones, in next's order with
// cancellations last. A fixed item is known by its kind, start and first
// room, as its UID (a new start is a new item). Their Item has Number 0,
// the kind, title, start and end, and Room says where ("all rooms").
func DiffFixed(prev, next *Release) []Change {
	key := func(f Fixed) string {
		k := f.Kind + " " + f.Start.UTC().Format(time.RFC3339)
		if len(f.Rooms) > 0 {
			k += " " + f.Rooms[0]
		}
		return k
	}
	item := func(f Fixed) Item {
		return Item{Kind: f.Kind, Title: f.title(), Room: f.where(), Start: f.Start, End: f.End}
	}
	before := map[string]Fixed{}
	if prev != nil {
		for _, f := range prev.Fixed {
			before[key(f)] = f
		}
	}
	var changes []Change
	now := map[string]bool{}
	for _, f := range next.Fixed {
		now[key(f)] = true
		was, ok := before[key(f)]
		w := item(was)
		switch {
		case !ok:
			if prev != nil && len(prev.Fixed) > 0 {
				changes = append(changes, Change{Kind: ChangeNew, Item: item(f)})
			}
		case !was.End.Equal(f.End) || !slices.Equal(was.Rooms, f.Rooms):
			changes = append(changes, Change{Kind: ChangeMoved, Item: item(f), Was: &w})
		case was.Title != f.Title:
			changes = append(changes, Change{Kind: ChangeRenamed, Item: item(f), Was: &w})
		}
	}
	if prev != nil {
		for _, f := range prev.Fixed {
			if !now[key(f)] {
				changes = append(changes, Change{Kind: ChangeCancelled, Item: item(f)})
			}
		}
	}
	return changes
}

// describeFixedChange says a change of DiffFixed in a line.
func describeFixedChange(c Change, zone *time.Location) string {
	it := c.Item
	span := func(it Item) string {
		return it.Start.In(zone).Format("Mon 2 Jan 15:04") + "-" + it.End.In(zone).Format("15:04 MST") + " in " + it.Room
	}
	what := it.Title + " (" + it.Kind + ")"
	switch c.Kind {
	case ChangeNew:
		return "new: " + what + ", " + span(it)
	case ChangeMoved:
		return "moved: " + what + ", now " + span(it) + " (was " + span(*c.Was) + ")"
	case ChangeRenamed:
		return "renamed: " + what + " (was " + c.Was.Title + ")"
	default:
		return "cancelled: " + what + " (was " + span(it) + ")"
	}
}

// isFixedChange says whether c is one of DiffFixed's.
func isFixedChange(c Change) bool {
	return c.Item.Number == 0 && (c.Item.Kind == KindBreak || c.Item.Kind == KindPlenary)
}
