package schedule

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// # Feeds
//
// The renderers (ICS, JSON, Frab, Text) are pure functions of an EventInfo
// and the History of an event's releases: no clock, no I/O, no map order.
// The same input gives the same bytes, so the web server can hash a feed
// for a strong ETag.

// EventInfo is what the renderers need to know of an event.
type EventInfo struct {
	Slug, Name, Venue string
	// URL is the event's public page, e.g.
	// "http://127.0.0.1:8080/openinfra-day-2027"; session pages are
	// URL+"/session/N".
	URL   string
	Zone  *time.Location // the event's IANA zone; nil means UTC
	Rooms []GridRoom     // for frab's <room> list and room order
}

// Selection picks the items of one feed; the zero value is the whole event.
type Selection struct {
	Title   string         // appended to the calendar name: "Ballroom A", "talks", "my sessions"
	Room    string         // only this room
	Kind    string         // only KindTalk or KindSession
	Numbers map[int64]bool // only these proposals (a personal feed); nil = no filter
	NoFixed bool           // without breaks and plenaries (one session's feed)
}

// History is every release of an event, oldest first.
type History []*Release

// Latest is the newest release, nil when there is none.
func (h History) Latest() *Release {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i] != nil {
			return h[i]
		}
	}
	return nil
}

// feedItem is an item as the feeds see it across releases: its last known
// state and its revision history.
type feedItem struct {
	Item
	// Cancelled: in an earlier release, not in the latest (or taken out
	// of it by an amendment).
	Cancelled   bool
	CancelledIn int // version of the release it disappeared in; 0: taken out since the latest
	// TakenOutOf is the release an amendment took it out of, while
	// CancelledIn is 0.
	TakenOutOf int
	// Sequence starts at 0 and goes up by one for each release that
	// changed the item's start, end, room, title or speakers, took it
	// out, or brought it back, and for each amendment that took it out
	// or put it back (RFC 5545 §3.8.7.4).
	Sequence int
	Created  time.Time // CreatedAt of the release it first appeared in
	Modified time.Time // when the release or amendment that last changed it was made
}

// timeline folds the releases into one feedItem per proposal ever
// scheduled, in schedule order (start, then room, then number).
func (h History) timeline(ev EventInfo) []*feedItem {
	var items []*feedItem
	byNumber := map[int64]*feedItem{}
	seen := map[int64]bool{}
	for _, r := range h {
		if r == nil {
			continue
		}
		clear(seen)
		for _, it := range r.Items {
			if seen[it.Number] {
				continue // a release lists a proposal once; keep the first
			}
			seen[it.Number] = true
			fi, ok := byNumber[it.Number]
			switch {
			case !ok:
				fi = &feedItem{Item: it, Created: r.CreatedAt, Modified: r.CreatedAt}
				byNumber[it.Number] = fi
				items = append(items, fi)
				continue
			case fi.Cancelled:
				fi.Cancelled, fi.CancelledIn = false, 0
				fi.Sequence++
				fi.Modified = r.CreatedAt
			case significantChange(fi.Item, it):
				fi.Sequence++
				fi.Modified = r.CreatedAt
			}
			fi.Item = it
		}
		for _, fi := range items {
			switch {
			case seen[fi.Number]:
			case !fi.Cancelled:
				fi.Cancelled, fi.CancelledIn = true, r.Version
				fi.Sequence++
				fi.Modified = r.CreatedAt
			case fi.CancelledIn == 0:
				// Taken out by an amendment already: this release
				// confirms it, no new SEQUENCE.
				fi.CancelledIn = r.Version
			}
		}
		amend(byNumber, r)
	}
	rooms := roomOrder(ev)
	slices.SortStableFunc(items, func(a, b *feedItem) int {
		return cmp.Or(a.Start.Compare(b.Start), rooms(a.Room, b.Room), cmp.Compare(a.Number, b.Number))
	})
	return items
}

// significantChange says whether a subscriber's copy of an item is out of
// date: the fields a calendar shows in its grid.
func significantChange(was, now Item) bool {
	return !was.Start.Equal(now.Start) || !was.End.Equal(now.End) || was.Room != now.Room ||
		was.Title != now.Title || !slices.Equal(was.Speakers, now.Speakers)
}

// roomOrder compares rooms by their order in the event's grid; rooms not in
// the grid come after, by name.
func roomOrder(ev EventInfo) func(a, b string) int {
	index := make(map[string]int, len(ev.Rooms))
	for i, r := range ev.Rooms {
		if _, dup := index[r.Name]; !dup {
			index[r.Name] = i
		}
	}
	return func(a, b string) int {
		ia, oka := index[a]
		ib, okb := index[b]
		switch {
		case oka && okb:
			return cmp.Compare(ia, ib)
		case oka:
			return -1
		case okb:
			return 1
		}
		return cmp.Compare(a, b)
	}
}

// selected says whether sel keeps the item (by its last known state).
func (sel Selection) selected(it *feedItem) bool {
	if sel.Room != "" && it.Room != sel.Room {
		return false
	}
	if sel.Kind != "" && it.Kind != sel.Kind {
		return false
	}
	if sel.Numbers != nil && !sel.Numbers[it.Number] {
		return false
	}
	return true
}

// zone is the event's zone, UTC when unset.
func (ev EventInfo) zone() *time.Location {
	if ev.Zone == nil {
		return time.UTC
	}
	return ev.Zone
}

// baseURL is the event page without a trailing slash.
func (ev EventInfo) baseURL() string {
	return strings.TrimRight(cleanLine(ev.URL), "/")
}

// sessionURL is the public page of proposal n.
func (ev EventInfo) sessionURL(n int64) string {
	return ev.baseURL() + "/session/" + strconv.FormatInt(n, 10)
}

// uid is the one identifier of proposal n in every feed and format, for
// as long as the event exists: "<slug>-<n>@<host of the event URL>".
func (ev EventInfo) uid(n int64) string {
	host := "hallway.invalid"
	if u, err := url.Parse(ev.baseURL()); err == nil && u.Hostname() != "" {
		host = strings.ToLower(u.Hostname())
	}
	return cleanLine(ev.Slug) + "-" + strconv.FormatInt(n, 10) + "@" + host
}

// kindLabel names an item's kind for people.
func kindLabel(kind string) string {
	switch kind {
	case KindTalk:
		return "talk"
	case KindSession:
		return "unconference session"
	}
	return cleanLine(kind)
}

// cleanText makes text people typed safe for every output: valid UTF-8,
// line ends as "\n", tabs as spaces, no other control characters (they
// break iCal parsers, are not allowed in XML 1.0 and can drive a
// terminal), no non-characters, no surrounding blank space.
func cleanText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return strings.TrimSpace(s)
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			b.WriteByte('\n')
		case r == '\n' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			b.WriteByte('\n')
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r >= 0x7f && r < 0xa0, r == 0xfffe, r == 0xffff:
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// cleanLine is cleanText on one line: line breaks become spaces.
func cleanLine(s string) string {
	s = cleanText(s)
	if strings.IndexByte(s, '\n') >= 0 {
		s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
	}
	return s
}

// cleanNames cleans a list of display names, dropping empty ones.
func cleanNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n = cleanLine(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// day is one calendar day of the event in its zone, with its rooms in
// grid order and their items in time order.
type day struct {
	Date  time.Time // midnight in the event's zone
	Rooms []dayRoom
	// Start and End bound the day's items.
	Start, End time.Time
}

type dayRoom struct {
	Name  string
	Items []*feedItem
}

// days groups the current (not cancelled) items by the local date of their
// start, and each day by room.
func days(ev EventInfo, items []*feedItem) []day {
	loc := ev.zone()
	rooms := roomOrder(ev)
	var out []day
	for _, it := range items {
		if it.Cancelled {
			continue
		}
		st := it.Start.In(loc)
		date := time.Date(st.Year(), st.Month(), st.Day(), 0, 0, 0, 0, loc)
		if len(out) == 0 || !out[len(out)-1].Date.Equal(date) {
			out = append(out, day{Date: date, Start: it.Start, End: it.End})
		}
		d := &out[len(out)-1]
		if it.End.After(d.End) {
			d.End = it.End
		}
		i := slices.IndexFunc(d.Rooms, func(r dayRoom) bool { return r.Name == it.Room })
		if i < 0 {
			d.Rooms = append(d.Rooms, dayRoom{Name: it.Room})
			i = len(d.Rooms) - 1
		}
		d.Rooms[i].Items = append(d.Rooms[i].Items, it)
	}
	for i := range out {
		slices.SortStableFunc(out[i].Rooms, func(a, b dayRoom) int { return rooms(a.Name, b.Name) })
	}
	return out
}
