package schedule

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// C3VOCSchema is the $schema of C3VOC's output: the schedule.json of
// the c3voc tooling, pretalx and frab, that schedule apps (Giggity,
// EventFahrplan) read.
const C3VOCSchema = "https://c3voc.de/schedule/schema.json"

// C3VOC renders the latest release as a c3voc schedule.json: the events of
// each day by room, every room of the grid in its order, breaks and
// plenaries as events of type "break" and "plenary" in each of their
// rooms. Cancelled items are left out, as in Frab. Event guids and ids are
// Frab's; persons have their display name only.
//
// The schema wants a conference acronym of lower-case letters, digits and
// "_" (a hyphen only in a "-2027-name" tail), at least 4 long: the
// event's slug with every other character made "_" and "_" added up to 4
// (C3VOCAcronym), so "openinfra-day-2027" is "openinfra_day_2027".
func C3VOC(ev EventInfo, h History) []byte {
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
	version := "0"
	latest := h.Latest()
	if latest != nil {
		version = strconv.Itoa(latest.Version)
	}
	base := ev.baseURL()

	conf := c3Conference{
		Acronym: C3VOCAcronym(ev.Slug), Title: cleanLine(ev.Name), DaysCount: len(ds),
		TimeslotDuration: frabDuration(timeslot(withFixedSpans(current, fixed), loc)),
		Rooms:            []c3Room{}, Days: []c3Day{},
	}
	if conf.Title == "" {
		conf.Title = cleanLine(ev.Slug)
	}
	if c3Zone.MatchString(loc.String()) {
		conf.TimeZone = loc.String()
	}
	if isHTTP(base) {
		conf.URL = base + "/"
	}
	switch {
	case len(ds) > 0:
		conf.Start, conf.End = ds[0].Date.Format(time.DateOnly), ds[len(ds)-1].Date.Format(time.DateOnly)
	case latest != nil:
		// Nothing scheduled: the dates are required, the release's will do.
		conf.Start = latest.CreatedAt.In(loc).Format(time.DateOnly)
		conf.End = conf.Start
	default:
		conf.Start, conf.End = "1970-01-01", "1970-01-01"
	}
	for _, r := range ev.Rooms {
		room := c3Room{Name: cleanLine(r.Name), GUID: Guid(base + "/room/" + r.Name)}
		if r.Capacity > 0 {
			c := r.Capacity
			room.Capacity = &c
		}
		conf.Rooms = append(conf.Rooms, room)
	}
	for i, d := range ds {
		cd := c3Day{Index: i + 1, Date: d.Date.Format(time.DateOnly),
			DayStart: d.Start.In(loc).Format(time.RFC3339), DayEnd: d.End.In(loc).Format(time.RFC3339)}
		for _, r := range frabRooms(ev, d) {
			name := cleanLine(r.Name)
			events := []c3Event{}
			fixedHere := fixedOnDay(ev, fixed, d.Date, r.Name)
			for _, it := range r.Items {
				for len(fixedHere) > 0 && !fixedHere[0].Start.After(it.Start) {
					events = append(events, c3Fixed(ev, fixedHere[0], name))
					fixedHere = fixedHere[1:]
				}
				events = append(events, c3Item(ev, it, name))
			}
			for _, f := range fixedHere {
				events = append(events, c3Fixed(ev, f, name))
			}
			cd.Rooms = append(cd.Rooms, c3DayRoom{name, events})
		}
		conf.Days = append(conf.Days, cd)
	}
	doc := c3Doc{
		Schema:    C3VOCSchema,
		Generator: c3Generator{Name: "hallway"},
		Schedule:  c3Schedule{Version: version, Conference: conf},
	}
	if isHTTP(base) {
		doc.Schedule.URL = base + "/"
		doc.Schedule.BaseURL = base + "/"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		// Strings, numbers and slices of them always encode.
		panic("schedule: C3VOC: " + err.Error())
	}
	return b.Bytes()
}

// C3VOCAcronym maps an event's slug to the acronym c3voc's schema
// accepts: lower case; every character but a-z, 0-9 and "_" becomes "_";
// "_" added up to 4 characters.
func C3VOCAcronym(slug string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(cleanLine(slug)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	for b.Len() < 4 {
		b.WriteByte('_')
	}
	return b.String()
}

// c3Zone is what the schema takes as time_zone_name ("Area/Location" or
// UTC); other zones are left out (the field is optional).
var c3Zone = regexp.MustCompile(`^(UTC|[A-Z][a-z]+/[A-Z][a-z]+.*)$`)

type c3Doc struct {
	Schema    string      `json:"$schema"`
	Generator c3Generator `json:"generator"`
	Schedule  c3Schedule  `json:"schedule"`
}

type c3Generator struct {
	Name string `json:"name"`
}

type c3Schedule struct {
	URL        string       `json:"url,omitempty"`
	Version    string       `json:"version"`
	BaseURL    string       `json:"base_url,omitempty"`
	Conference c3Conference `json:"conference"`
}

type c3Conference struct {
	Acronym          string   `json:"acronym"`
	Title            string   `json:"title"`
	Start            string   `json:"start"`
	End              string   `json:"end"`
	DaysCount        int      `json:"daysCount"`
	TimeslotDuration string   `json:"timeslot_duration"`
	TimeZone         string   `json:"time_zone_name,omitempty"`
	URL              string   `json:"url,omitempty"`
	Rooms            []c3Room `json:"rooms"`
	Days             []c3Day  `json:"days"`
}

type c3Room struct {
	Name     string `json:"name"`
	GUID     string `json:"guid"`
	Capacity *int   `json:"capacity"`
}

type c3Day struct {
	Index    int        `json:"index"`
	Date     string     `json:"date"`
	DayStart string     `json:"day_start"`
	DayEnd   string     `json:"day_end"`
	Rooms    c3DayRooms `json:"rooms"`
}

// c3DayRooms is a day's rooms, an object keyed by room name in the grid's
// order (a map would sort the names).
type c3DayRooms []c3DayRoom

type c3DayRoom struct {
	name   string
	events []c3Event
}

func (rs c3DayRooms) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(r.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(r.events)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type c3Event struct {
	GUID        string     `json:"guid"`
	ID          int64      `json:"id"`
	Date        string     `json:"date"`
	Start       string     `json:"start"`
	End         string     `json:"end"`
	Duration    string     `json:"duration"`
	Room        string     `json:"room"`
	Slug        string     `json:"slug"`
	URL         string     `json:"url"`
	Title       string     `json:"title"`
	Subtitle    string     `json:"subtitle"`
	Track       *string    `json:"track"`
	Type        string     `json:"type"`
	Language    string     `json:"language"`
	Abstract    string     `json:"abstract"`
	Description string     `json:"description"`
	Persons     []c3Person `json:"persons"`
	Links       []c3Link   `json:"links"`
}

// c3Person is a speaker as pretalx writes one (name, and the deprecated
// public_name for older readers), without an id: with one it would match
// both of the schema's person forms, which it forbids (oneOf).
type c3Person struct {
	Name       string `json:"name"`
	PublicName string `json:"public_name"`
}

type c3Link struct {
	URL   string `json:"url"`
	Title string `json:"title"`
	Type  string `json:"type"`
}

func c3Item(ev EventInfo, it *feedItem, room string) c3Event {
	loc := ev.zone()
	st := it.Start.In(loc)
	track := frabTrack(it.Kind)
	e := c3Event{
		GUID: Guid(ev.uid(it.Number)), ID: it.Number,
		Date: st.Format(time.RFC3339), Start: st.Format("15:04"), End: it.End.In(loc).Format(time.RFC3339),
		Duration: frabDuration(it.End.Sub(it.Start)), Room: room, Slug: c3Slug(ev, it.Number, it.Title),
		URL: ev.sessionURL(it.Number), Title: cleanLine(it.Title), Track: &track, Type: c3Type(it.Kind),
		Abstract: cleanText(it.Abstract), Persons: []c3Person{}, Links: []c3Link{},
	}
	for _, n := range cleanNames(it.Speakers) {
		e.Persons = append(e.Persons, c3Person{Name: n, PublicName: n})
	}
	return e
}

func c3Fixed(ev EventInfo, c fixedCopy, room string) c3Event {
	loc := ev.zone()
	st := c.Start.In(loc)
	return c3Event{
		GUID: Guid(c.key()), ID: c.id(),
		Date: st.Format(time.RFC3339), Start: st.Format("15:04"), End: c.End.In(loc).Format(time.RFC3339),
		Duration: frabDuration(c.End.Sub(c.Start)), Room: room, Slug: c.slug(ev, loc),
		URL: ev.baseURL() + "/", Title: c.title(), Type: asciiWords(c.Kind, 20),
		Persons: []c3Person{}, Links: []c3Link{},
	}
}

// c3Slug is Frab's slug in the characters the schema allows.
func c3Slug(ev EventInfo, n int64, title string) string {
	s := asciiWords(ev.Slug, 60)
	if s == "" {
		s = "event"
	}
	s += "-" + strconv.FormatInt(n, 10)
	if w := asciiWords(title, 40); w != "" {
		s += "-" + w
	}
	return s
}

// c3Type is the event type c3voc's examples use for a kind.
func c3Type(kind string) string {
	switch kind {
	case KindTalk:
		return "talk"
	case KindSession:
		return "meeting"
	}
	return "other"
}
