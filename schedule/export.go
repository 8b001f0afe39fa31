package schedule

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

// JSONFormat names the schema of JSON's output, documented in
// docs/export-json.md. A change that could break a reader gets a new name.
const JSONFormat = "hallway-schedule/1"

// JSON renders the latest release as JSON (schema JSONFormat, see
// docs/export-json.md): the event, the items by day and room with times
// in the event's zone, the items cancelled since an earlier release, and
// the proposals that did not make it.
func JSON(ev EventInfo, h History) []byte {
	type jsonRoom struct {
		Name     string `json:"name"`
		Capacity int    `json:"capacity"`
	}
	type jsonEvent struct {
		Slug     string     `json:"slug"`
		Name     string     `json:"name"`
		Venue    string     `json:"venue"`
		URL      string     `json:"url"`
		Timezone string     `json:"timezone"`
		Rooms    []jsonRoom `json:"rooms"`
	}
	type jsonItem struct {
		Number       int64    `json:"number"`
		UID          string   `json:"uid"`
		URL          string   `json:"url"`
		Kind         string   `json:"kind"`
		Title        string   `json:"title"`
		Abstract     string   `json:"abstract"`
		Speakers     []string `json:"speakers"`
		Votes        int      `json:"votes"`
		Room         string   `json:"room"`
		Start        string   `json:"start"`
		End          string   `json:"end"`
		Minutes      int      `json:"duration_minutes"`
		Pinned       bool     `json:"pinned"`
		Sequence     int      `json:"sequence"`
		LastModified string   `json:"last_modified"`
		CancelledIn  *int     `json:"cancelled_in,omitempty"`
	}
	type jsonDayRoom struct {
		Name  string     `json:"name"`
		Items []jsonItem `json:"items"`
	}
	type jsonDay struct {
		Date  string        `json:"date"`
		Rooms []jsonDayRoom `json:"rooms"`
	}
	type jsonLeft struct {
		Number int64  `json:"number"`
		Kind   string `json:"kind"`
		Title  string `json:"title"`
		Votes  int    `json:"votes"`
		Reason string `json:"reason"`
	}
	type jsonSchedule struct {
		Format         string      `json:"format"`
		Event          jsonEvent   `json:"event"`
		Version        int         `json:"version"`
		Generated      *string     `json:"generated"`
		Note           string      `json:"note"`
		Days           []jsonDay   `json:"days"`
		Cancelled      []jsonItem  `json:"cancelled"`
		NotScheduled   []jsonLeft  `json:"not_scheduled"`
		Fixed          []jsonFixed `json:"fixed"`
		FixedCancelled []jsonFixed `json:"fixed_cancelled"`
	}

	loc := ev.zone()
	out := jsonSchedule{
		Format: JSONFormat,
		Event: jsonEvent{
			Slug: cleanLine(ev.Slug), Name: cleanLine(ev.Name), Venue: cleanLine(ev.Venue),
			URL: ev.baseURL(), Timezone: loc.String(), Rooms: []jsonRoom{},
		},
		Days: []jsonDay{}, Cancelled: []jsonItem{}, NotScheduled: []jsonLeft{},
		Fixed: []jsonFixed{}, FixedCancelled: []jsonFixed{},
	}
	for _, r := range ev.Rooms {
		out.Event.Rooms = append(out.Event.Rooms, jsonRoom{Name: cleanLine(r.Name), Capacity: r.Capacity})
	}
	latest := h.Latest()
	if latest != nil {
		out.Version = latest.Version
		g := latest.CreatedAt.UTC().Format(time.RFC3339)
		out.Generated = &g
		out.Note = cleanText(latest.Note)
		for _, l := range latest.Left {
			out.NotScheduled = append(out.NotScheduled, jsonLeft{
				Number: l.Number, Kind: l.Kind, Title: cleanLine(l.Title), Votes: l.Votes, Reason: cleanLine(l.Reason),
			})
		}
	}
	item := func(it *feedItem) jsonItem {
		j := jsonItem{
			Number: it.Number, UID: ev.uid(it.Number), URL: ev.sessionURL(it.Number),
			Kind: cleanLine(it.Kind), Title: cleanLine(it.Title), Abstract: cleanText(it.Abstract),
			Speakers: cleanNames(it.Speakers), Votes: it.Votes, Room: cleanLine(it.Room),
			Start: it.Start.In(loc).Format(time.RFC3339), End: it.End.In(loc).Format(time.RFC3339),
			Minutes: int(it.End.Sub(it.Start) / time.Minute), Pinned: it.Pinned,
			Sequence: it.Sequence, LastModified: it.Modified.UTC().Format(time.RFC3339),
		}
		if it.Cancelled {
			v := it.CancelledIn
			j.CancelledIn = &v
		}
		return j
	}
	items := h.timeline(ev)
	for _, d := range days(ev, items) {
		jd := jsonDay{Date: d.Date.Format(time.DateOnly), Rooms: []jsonDayRoom{}}
		for _, r := range d.Rooms {
			jr := jsonDayRoom{Name: cleanLine(r.Name), Items: []jsonItem{}}
			for _, it := range r.Items {
				jr.Items = append(jr.Items, item(it))
			}
			jd.Rooms = append(jd.Rooms, jr)
		}
		out.Days = append(out.Days, jd)
	}
	for _, it := range items {
		if it.Cancelled {
			out.Cancelled = append(out.Cancelled, item(it))
		}
	}
	for _, f := range h.fixedTimeline(ev) {
		if f.Cancelled {
			out.FixedCancelled = append(out.FixedCancelled, fixedJSON(ev, f))
		} else {
			out.Fixed = append(out.Fixed, fixedJSON(ev, f))
		}
	}

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		// Strings, numbers and slices of them always encode.
		panic("schedule: JSON: " + err.Error())
	}
	return b.Bytes()
}

// Frab renders the latest release as a frab schedule.xml, as Giggity,
// ConfClerk and the c3voc tools read it (the structure of c3voc's
// schedule.xml.xsd). Cancelled items are left out: the format has no way
// to say it. Each event's guid is a name-based UUID of its UID (Guid), its
// id the proposal number; persons get ids from their names (personIDs),
// as the format wants ids and hallway knows speakers by name. Breaks and
// plenaries are events of type "break" and "plenary" in each of their
// rooms, without persons (see fixedCopy).
func Frab(ev EventInfo, h History) []byte {
	loc := ev.zone()
	items := h.timeline(ev)
	fixed := h.fixedTimeline(ev)
	ds := withFixedDays(ev, days(ev, items), fixed)
	var current []*feedItem
	for _, it := range items {
		if !it.Cancelled {
			current = append(current, it)
		}
	}
	persons := personIDs(current)

	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<schedule>\n")
	b.WriteString("  <generator name=\"hallway\"/>\n")
	version := "0"
	if latest := h.Latest(); latest != nil {
		version = strconv.Itoa(latest.Version)
	}
	w("  <version>%s</version>\n", version)
	b.WriteString("  <conference>\n")
	w("    <acronym>%s</acronym>\n", xmlText(cleanLine(ev.Slug)))
	w("    <title>%s</title>\n", xmlText(cleanLine(ev.Name)))
	if len(ds) > 0 {
		w("    <start>%s</start>\n", ds[0].Date.Format(time.DateOnly))
		w("    <end>%s</end>\n", ds[len(ds)-1].Date.Format(time.DateOnly))
	}
	w("    <days>%d</days>\n", len(ds))
	w("    <timeslot_duration>%s</timeslot_duration>\n", frabDuration(timeslot(withFixedSpans(current, fixed), loc)))
	if base := ev.baseURL(); isHTTP(base) {
		w("    <base_url>%s</base_url>\n", xmlText(base+"/"))
	}
	w("    <time_zone_name>%s</time_zone_name>\n", xmlText(loc.String()))
	b.WriteString("  </conference>\n")
	for i, d := range ds {
		w("  <day index=\"%d\" date=\"%s\" start=\"%s\" end=\"%s\">\n", i+1, d.Date.Format(time.DateOnly),
			d.Start.In(loc).Format(time.RFC3339), d.End.In(loc).Format(time.RFC3339))
		for _, r := range frabRooms(ev, d) {
			room := xmlText(cleanLine(r.Name))
			w("    <room name=\"%s\">\n", room)
			fixedHere := fixedOnDay(ev, fixed, d.Date, r.Name)
			for _, it := range r.Items {
				for len(fixedHere) > 0 && !fixedHere[0].Start.After(it.Start) {
					writeFrabFixed(&b, ev, fixedHere[0], room)
					fixedHere = fixedHere[1:]
				}
				st := it.Start.In(loc)
				uid := ev.uid(it.Number)
				w("      <event guid=\"%s\" id=\"%d\">\n", Guid(uid), it.Number)
				w("        <date>%s</date>\n", st.Format(time.RFC3339))
				w("        <start>%s</start>\n", st.Format("15:04"))
				w("        <duration>%s</duration>\n", frabDuration(it.End.Sub(it.Start)))
				w("        <room>%s</room>\n", room)
				w("        <slug>%s</slug>\n", xmlText(frabSlug(ev.Slug, it.Number, it.Title)))
				if link := ev.sessionURL(it.Number); isHTTP(link) {
					w("        <url>%s</url>\n", xmlText(link))
				}
				w("        <title>%s</title>\n", xmlText(cleanLine(it.Title)))
				b.WriteString("        <subtitle></subtitle>\n")
				w("        <track>%s</track>\n", frabTrack(it.Kind))
				w("        <type>%s</type>\n", frabType(it.Kind))
				b.WriteString("        <language></language>\n")
				w("        <abstract>%s</abstract>\n", xmlText(cleanText(it.Abstract)))
				b.WriteString("        <description></description>\n")
				names := cleanNames(it.Speakers)
				if len(names) == 0 {
					b.WriteString("        <persons></persons>\n")
				} else {
					b.WriteString("        <persons>\n")
					for _, n := range names {
						w("          <person id=\"%d\">%s</person>\n", persons[n], xmlText(n))
					}
					b.WriteString("        </persons>\n")
				}
				b.WriteString("        <links>\n")
				w("          <link href=\"%s\">Session page</link>\n", xmlText(ev.sessionURL(it.Number)))
				b.WriteString("        </links>\n")
				b.WriteString("      </event>\n")
			}
			for _, f := range fixedHere {
				writeFrabFixed(&b, ev, f, room)
			}
			b.WriteString("    </room>\n")
		}
		b.WriteString("  </day>\n")
	}
	b.WriteString("</schedule>\n")
	return b.Bytes()
}

// frabRooms is a day's rooms as frab lists them: every room of the grid,
// in order, with or without items, then rooms the grid does not know.
func frabRooms(ev EventInfo, d day) []dayRoom {
	var out []dayRoom
	for _, g := range ev.Rooms {
		if slices.ContainsFunc(out, func(r dayRoom) bool { return r.Name == g.Name }) {
			continue
		}
		r := dayRoom{Name: g.Name}
		if i := slices.IndexFunc(d.Rooms, func(r dayRoom) bool { return r.Name == g.Name }); i >= 0 {
			r = d.Rooms[i]
		}
		out = append(out, r)
	}
	for _, r := range d.Rooms {
		if !slices.ContainsFunc(out, func(o dayRoom) bool { return o.Name == r.Name }) {
			out = append(out, r)
		}
	}
	return out
}

// Guid is the frab guid of the item with iCalendar UID uid: a name-based
// UUID (RFC 9562 §5.5, version 5) of the UID in hallway's namespace
// (guidNamespace), so it is as stable as the UID.
func Guid(uid string) string {
	return uuidV5(guidNamespace, uid)
}

// guidNamespace is UUIDv5(NameSpaceURL, "https://github.com/hallwayhq/hallway").
var guidNamespace = func() [16]byte {
	nsURL := [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	var ns [16]byte
	hex.Decode(ns[:], []byte(strings.ReplaceAll(uuidV5(nsURL, "https://github.com/hallwayhq/hallway"), "-", "")))
	return ns
}()

// uuidV5 is the version 5 UUID of name in namespace ns.
func uuidV5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// personIDs gives each speaker name a positive id from a hash of the name
// (stable across releases), moving on to the next free id in the rare
// collision, names in sorted order.
func personIDs(items []*feedItem) map[string]int64 {
	var names []string
	for _, it := range items {
		names = append(names, cleanNames(it.Speakers)...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	ids := make(map[string]int64, len(names))
	used := make(map[int64]bool, len(names))
	for _, n := range names {
		f := fnv.New32a()
		f.Write([]byte(n))
		id := int64(f.Sum32()&0x7fffffff) + 1
		for used[id] {
			id = id%0x7fffffff + 1
		}
		used[id] = true
		ids[n] = id
	}
	return ids
}

// timeslot is the longest duration that divides every item's start (from
// the hour) and length, between 5 minutes and an hour.
func timeslot(items []*feedItem, loc *time.Location) time.Duration {
	g := 60
	for _, it := range items {
		g = gcd(g, it.Start.In(loc).Minute())
		g = gcd(g, int(it.End.Sub(it.Start)/time.Minute))
	}
	return time.Duration(max(g, 5)) * time.Minute
}

func gcd(a, b int) int {
	if b < 0 {
		b = -b
	}
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// frabDuration is "HH:MM" (at most 99:59, never negative).
func frabDuration(d time.Duration) string {
	m := min(max(int(d/time.Minute), 0), 99*60+59)
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// frabSlug is "<event>-<number>-<title>" in lower-case ASCII words, as
// frab makes them.
func frabSlug(event string, n int64, title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(cleanLine(title)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			if b.Len() >= 40 {
				break
			}
		} else {
			dash = true
		}
	}
	s := cleanLine(event) + "-" + strconv.FormatInt(n, 10)
	if b.Len() > 0 {
		s += "-" + b.String()
	}
	return s
}

func frabTrack(kind string) string {
	switch kind {
	case KindTalk:
		return "Talks"
	case KindSession:
		return "Unconference"
	}
	return xmlText(cleanLine(kind))
}

// frabType maps a kind to frab's event types (lecture, workshop, meeting…).
func frabType(kind string) string {
	switch kind {
	case KindTalk:
		return "lecture"
	case KindSession:
		return "meeting"
	}
	return "other"
}

func isHTTP(u string) bool {
	return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
}

// xmlText escapes s for XML text and attribute values; s is clean (no
// control characters but newlines, see cleanText).
func xmlText(s string) string {
	return xmlEscaper.Replace(s)
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;", "\n", "&#xA;")

// Text renders the latest release as plain text for a terminal: day by
// day, aligned columns, times in the event's zone (named at the top, the
// offset on each day) with the breaks and plenaries, then what was
// cancelled and what did not make it.
func Text(ev EventInfo, h History) []byte {
	loc := ev.zone()
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	name := cleanLine(ev.Name)
	if name == "" {
		name = cleanLine(ev.Slug)
	}
	latest := h.Latest()
	if latest == nil {
		w("%s: no schedule yet.\n", name)
		return b.Bytes()
	}
	w("%s: schedule version %d\n", name, latest.Version)
	if v := cleanLine(ev.Venue); v != "" {
		w("%s\n", v)
	}
	if u := ev.baseURL(); u != "" {
		w("%s\n", u)
	}
	w("Released %s (%s).\n", latest.CreatedAt.In(loc).Format("Monday 2 January 2006 15:04 MST"), latest.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	w("Times in %s.\n", loc.String())
	if note := cleanText(latest.Note); note != "" {
		b.WriteString("\n" + note + "\n")
	}

	items := h.timeline(ev)
	fixed := h.fixedTimeline(ev)
	ds := withFixedDays(ev, days(ev, items), fixed)
	roomWidth, numWidth := 0, 0
	for _, it := range items {
		roomWidth = max(roomWidth, len([]rune(cleanLine(it.Room))))
		numWidth = max(numWidth, len(strconv.FormatInt(it.Number, 10))+1)
	}
	for _, f := range fixed {
		roomWidth = max(roomWidth, len([]rune(f.where())))
	}
	if len(ds) == 0 {
		b.WriteString("\nNothing scheduled.\n")
	}
	for _, d := range ds {
		// Items by time across rooms, as in the release.
		var its []*feedItem
		for _, r := range d.Rooms {
			its = append(its, r.Items...)
		}
		slices.SortStableFunc(its, func(a, b *feedItem) int { return a.Start.Compare(b.Start) })
		var fx []*fixedItem
		for _, f := range fixed {
			if !f.Cancelled && sameDate(f.Start.In(loc), d.Date) {
				fx = append(fx, f)
			}
		}
		var zones []string
		for _, it := range withFixedSpans(its, fx) {
			for _, t := range []time.Time{it.Start, it.End} {
				if z := zoneLabel(t.In(loc)); !slices.Contains(zones, z) {
					zones = append(zones, z)
				}
			}
		}
		w("\n%s (%s)\n", d.Date.Format("Monday 2 January 2006"), strings.Join(zones, ", then "))
		mixed := len(zones) > 1
		spanOf := func(start, end time.Time) string {
			st, en := start.In(loc), end.In(loc)
			if mixed {
				return st.Format("15:04 MST") + "-" + en.Format("15:04 MST")
			}
			return st.Format("15:04") + "-" + en.Format("15:04")
		}
		writeFixed := func(f *fixedItem) {
			line := fmt.Sprintf("  %s  %-*s  %-7s  %*s  %s", spanOf(f.Start, f.End), roomWidth, f.where(), textKind(f.Kind), numWidth, "", f.title())
			b.WriteString(strings.TrimRight(line, " ") + "\n")
		}
		for _, it := range its {
			for len(fx) > 0 && !fx[0].Start.After(it.Start) {
				writeFixed(fx[0])
				fx = fx[1:]
			}
			span := spanOf(it.Start, it.End)
			line := fmt.Sprintf("  %s  %-*s  %-7s  %*s  %s", span, roomWidth, cleanLine(it.Room), textKind(it.Kind),
				numWidth, "#"+strconv.FormatInt(it.Number, 10), cleanLine(it.Title))
			if s := cleanNames(it.Speakers); len(s) > 0 {
				line += " (" + strings.Join(s, ", ") + ")"
			}
			b.WriteString(strings.TrimRight(line, " ") + "\n")
		}
		for _, f := range fx {
			writeFixed(f)
		}
	}
	first := true
	for _, it := range items {
		if !it.Cancelled {
			continue
		}
		if first {
			b.WriteString("\nCancelled:\n")
			first = false
		}
		w("  %*s  %s (was %s %s in %s; %s)\n", numWidth, "#"+strconv.FormatInt(it.Number, 10),
			cleanLine(it.Title), it.Start.In(loc).Format("Mon 2 Jan 15:04"), it.Start.In(loc).Format("MST"),
			cleanLine(it.Room), cancelledWhen(it))
	}
	for _, f := range fixed {
		if !f.Cancelled {
			continue
		}
		if first {
			b.WriteString("\nCancelled:\n")
			first = false
		}
		w("  %*s  %s (%s; was %s %s in %s; cancelled in version %d)\n", numWidth, "", f.title(), textKind(f.Kind),
			f.Start.In(loc).Format("Mon 2 Jan 15:04"), f.Start.In(loc).Format("MST"), f.where(), f.CancelledIn)
	}
	if len(latest.Left) > 0 {
		b.WriteString("\nNot scheduled:\n")
		for _, l := range latest.Left {
			w("  %s  %s (%s): %s\n", "#"+strconv.FormatInt(l.Number, 10), cleanLine(l.Title), Plural(l.Votes, "vote"), cleanLine(l.Reason))
		}
	}
	return b.Bytes()
}

// zoneLabel names the zone in effect at t: "PST, UTC-08:00".
func zoneLabel(t time.Time) string {
	abbr := t.Format("MST")
	off := "UTC" + t.Format("-07:00")
	if strings.HasPrefix(abbr, "+") || strings.HasPrefix(abbr, "-") {
		return off // the zone has no abbreviation, Go shows the offset
	}
	return abbr + ", " + off
}

func textKind(kind string) string {
	if kind == KindSession {
		return "session"
	}
	return cleanLine(kind)
}
