package schedule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestC3VOCGolden(t *testing.T) {
	la, laH := laEvent(t)
	tokyo, tokyoH := tokyoEvent(t)
	golden(t, "la.c3voc.json", C3VOC(la, laH))
	golden(t, "tokyo.c3voc.json", C3VOC(tokyo, tokyoH))
}

// The rules of c3voc's published JSON schema for schedule.json
// (github.com/voc/schedule, validator/json/schema.json, draft-06), checked
// by reading the document: no registry this project reaches serves the
// schema itself (see docs/export-json.md), so this is the schema's rules
// written down, not the schema.
var (
	c3AcronymRe  = regexp.MustCompile(`^[a-z0-9_-][a-z0-9_]{3,}(-2[0-9]{3}-[a-z]+)?$`)
	c3ZoneRe     = regexp.MustCompile(`^([A-Z][a-z]+/[A-Z][a-z]+)|UTC$`)
	c3StartRe    = regexp.MustCompile(`^(0[0-9]|1[0-9]|2[0-3]):[0-5][0-9]$`)
	c3DurationRe = regexp.MustCompile(`^[0-9]+:[0-9]{2}$`)
	c3SlugRe     = regexp.MustCompile(`^[a-z0-9_-]+[a-z0-9]$`)
	c3UUIDRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// c3Checker checks a decoded document against the schema's rules.
type c3Checker struct {
	problems *[]string
}

func (c c3Checker) errorf(path, format string, args ...any) {
	*c.problems = append(*c.problems, path+": "+fmt.Sprintf(format, args...))
}

// object checks that v is an object with the required keys and no key
// outside allowed (nil allowed: any key), and returns it.
func (c c3Checker) object(path string, v any, required, allowed []string) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		c.errorf(path, "is %T, want an object", v)
		return nil
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			c.errorf(path, "lacks required %q", k)
		}
	}
	if allowed != nil {
		for k := range m {
			if !slices.Contains(allowed, k) {
				c.errorf(path, "has %q, which additionalProperties: false forbids", k)
			}
		}
	}
	return m
}

// str checks that m[k], if present, is a string (or null when nullable)
// matching the format or pattern, and returns it.
func (c c3Checker) str(path string, m map[string]any, k string, nullable bool, check func(string) bool) string {
	v, ok := m[k]
	if !ok || v == nil && nullable {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		c.errorf(path+"."+k, "is %T (%v), want a string", v, v)
		return ""
	}
	if check != nil && !check(s) {
		c.errorf(path+"."+k, "%q does not match its format or pattern", s)
	}
	return s
}

func (c c3Checker) integer(path string, m map[string]any, k string, min int64) {
	v, ok := m[k]
	if !ok {
		return
	}
	n, ok := v.(json.Number)
	if !ok {
		c.errorf(path+"."+k, "is %T, want an integer", v)
		return
	}
	i, err := n.Int64()
	if err != nil || i < min {
		c.errorf(path+"."+k, "%s is not an integer ≥ %d", n, min)
	}
}

func isURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs()
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func isDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

func matches(re *regexp.Regexp) func(string) bool { return re.MatchString }

// validateC3VOC reports what c3voc's schema would find wrong in data.
func validateC3VOC(t *testing.T, data []byte) {
	t.Helper()
	for _, p := range c3Problems(data) {
		t.Error(p)
	}
}

// c3Problems lists what c3voc's schema would find wrong in data.
func c3Problems(data []byte) []string {
	var problems []string
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	c := c3Checker{&problems}
	c.document(doc)
	return problems
}

func (c c3Checker) document(doc any) {
	top := c.object("$", doc, []string{"schedule"}, []string{"schedule", "$schema", "generator"})
	if top == nil {
		return
	}
	c.str("$", top, "$schema", false, nil)
	if g, ok := top["generator"]; ok {
		gm := c.object("$.generator", g, nil, nil)
		c.str("$.generator", gm, "name", false, nil)
		c.str("$.generator", gm, "version", false, nil)
		c.str("$.generator", gm, "url", false, isURI)
	}
	sched := c.object("$.schedule", top["schedule"], []string{"conference", "version"}, nil)
	if sched == nil {
		return
	}
	if _, ok := sched["rooms"]; ok {
		c.errorf("$.schedule", "has rooms, which the schema forbids there")
	}
	c.str("$.schedule", sched, "version", false, nil)
	c.str("$.schedule", sched, "base_url", false, isURI)
	conf := c.object("$.schedule.conference", sched["conference"],
		[]string{"title", "acronym", "days", "daysCount", "start", "end", "timeslot_duration"},
		[]string{"acronym", "title", "description", "start", "end", "daysCount", "timeslot_duration", "time_zone_name",
			"logo", "colors", "keywords", "url", "tracks", "rooms", "meta", "days"})
	if conf == nil {
		return
	}
	const cp = "$.schedule.conference"
	c.str(cp, conf, "acronym", false, matches(c3AcronymRe))
	c.str(cp, conf, "title", false, nil)
	dateOrDateTime := func(s string) bool { return isDate(s) || isDateTime(s) }
	c.str(cp, conf, "start", false, dateOrDateTime)
	c.str(cp, conf, "end", false, dateOrDateTime)
	c.integer(cp, conf, "daysCount", -1<<62)
	c.str(cp, conf, "timeslot_duration", false, nil)
	c.str(cp, conf, "time_zone_name", false, matches(c3ZoneRe))
	c.str(cp, conf, "url", false, isURI)
	if rooms, ok := conf["rooms"]; ok {
		list, ok := rooms.([]any)
		if !ok {
			c.errorf(cp+".rooms", "is %T, want an array", rooms)
		}
		for i, r := range list {
			p := fmt.Sprintf("%s.rooms[%d]", cp, i)
			rm := c.object(p, r, []string{"name", "guid"},
				[]string{"name", "slug", "type", "guid", "stream_id", "description", "capacity", "url", "features", "assembly"})
			c.str(p, rm, "name", false, nil)
			c.str(p, rm, "guid", false, matches(c3UUIDRe))
			c.str(p, rm, "slug", false, matches(c3SlugRe))
			if v, ok := rm["capacity"]; ok && v != nil {
				if _, ok := v.(json.Number); !ok {
					c.errorf(p+".capacity", "is %T, want a number or null", v)
				}
			}
		}
	}
	days, ok := conf["days"].([]any)
	if !ok {
		c.errorf(cp+".days", "is %T, want an array", conf["days"])
	}
	for i, d := range days {
		p := fmt.Sprintf("%s.days[%d]", cp, i)
		dm := c.object(p, d, []string{"date", "day_end", "day_start", "index", "rooms"}, []string{"index", "date", "day_start", "day_end", "rooms"})
		if dm == nil {
			continue
		}
		c.integer(p, dm, "index", -1<<62)
		c.str(p, dm, "date", false, isDate)
		c.str(p, dm, "day_start", false, isDateTime)
		c.str(p, dm, "day_end", false, isDateTime)
		rooms := c.object(p+".rooms", dm["rooms"], nil, nil)
		for name, evs := range rooms {
			list, ok := evs.([]any)
			if !ok {
				c.errorf(p+".rooms."+name, "is %T, want an array", evs)
				continue
			}
			for j, e := range list {
				c.event(fmt.Sprintf("%s.rooms[%q][%d]", p, name, j), e)
			}
		}
	}
}

// event checks one event of a day's room.
func (c c3Checker) event(p string, e any) {
	em := c.object(p, e, []string{"abstract", "date", "duration", "guid", "id", "language", "links", "persons", "room",
		"slug", "start", "subtitle", "title", "track", "type", "url"},
		[]string{"guid", "code", "id", "logo", "date", "start", "end", "duration", "room", "slug", "url", "title",
			"subtitle", "track", "type", "language", "abstract", "description", "recording_license", "do_not_record",
			"do_not_stream", "persons", "links", "feedback_url", "origin_url", "attachments"})
	if em == nil {
		return
	}
	c.str(p, em, "guid", false, matches(c3UUIDRe))
	c.integer(p, em, "id", 1)
	c.str(p, em, "date", false, isDateTime)
	c.str(p, em, "start", false, matches(c3StartRe))
	c.str(p, em, "end", false, isDateTime)
	c.str(p, em, "duration", false, matches(c3DurationRe))
	c.str(p, em, "room", false, nil)
	c.str(p, em, "slug", false, matches(c3SlugRe))
	c.str(p, em, "url", false, isURI)
	c.str(p, em, "title", false, nil)
	for _, k := range []string{"subtitle", "track", "language", "abstract", "description"} {
		c.str(p, em, k, true, nil)
	}
	c.str(p, em, "type", false, nil)
	persons, ok := em["persons"].([]any)
	if !ok {
		c.errorf(p+".persons", "is %T, want an array", em["persons"])
	}
	for i, x := range persons {
		pp := fmt.Sprintf("%s.persons[%d]", p, i)
		pm := c.object(pp, x, nil, nil)
		if pm == nil {
			continue
		}
		c.str(pp, pm, "name", false, nil)
		c.str(pp, pm, "guid", false, matches(c3UUIDRe))
		c.str(pp, pm, "url", false, isURI)
		// oneOf: a frab person (public_name and id) or a pretalx
		// person (name), never both, never neither.
		_, hasPublic := pm["public_name"]
		_, hasID := pm["id"]
		_, hasName := pm["name"]
		if frab, pretalx := hasPublic && hasID, hasName; frab == pretalx {
			c.errorf(pp, "matches %d of the schema's person forms, want exactly 1: %v", map[bool]int{true: 1}[frab]+map[bool]int{true: 1}[pretalx], pm)
		}
	}
	links, ok := em["links"].([]any)
	if !ok {
		c.errorf(p+".links", "is %T, want an array", em["links"])
	}
	for i, l := range links {
		lp := fmt.Sprintf("%s.links[%d]", p, i)
		lm := c.object(lp, l, []string{"url"}, []string{"type", "url", "title"})
		c.str(lp, lm, "url", false, isURI)
		c.str(lp, lm, "type", false, func(s string) bool {
			return slices.Contains([]string{"slides", "paper", "web", "blog", "article", "media", "related", "activitypub"}, s)
		})
	}
}

func TestC3VOCSchema(t *testing.T) {
	la, laH := laEvent(t)
	tokyo, tokyoH := tokyoEvent(t)
	for name, out := range map[string][]byte{
		"la": C3VOC(la, laH), "tokyo": C3VOC(tokyo, tokyoH),
		"nothing released": C3VOC(la, nil),
		"odd slug":         C3VOC(EventInfo{Slug: "A.b", Name: "x", URL: "https://example.org/A.b", Zone: mustZone(t, "Etc/GMT+5")}, laH),
	} {
		t.Run(name, func(t *testing.T) { validateC3VOC(t, out) })
	}

	// What the document says of the event.
	var doc struct {
		Schedule struct {
			Version    string `json:"version"`
			Conference struct {
				Acronym string `json:"acronym"`
				Zone    string `json:"time_zone_name"`
				Start   string `json:"start"`
				End     string `json:"end"`
				Days    []struct {
					Date  string          `json:"date"`
					Rooms json.RawMessage `json:"rooms"`
				} `json:"days"`
			} `json:"conference"`
		} `json:"schedule"`
	}
	out := C3VOC(la, laH)
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	conf := doc.Schedule.Conference
	if doc.Schedule.Version != "3" || conf.Acronym != "openinfra_day_2027" || conf.Zone != "America/Los_Angeles" ||
		conf.Start != "2027-03-13" || conf.End != "2027-03-15" || len(conf.Days) != 3 {
		t.Errorf("schedule: %+v", doc.Schedule)
	}
	// Rooms in the grid's order, each day.
	for _, d := range conf.Days {
		var order []string
		dec := json.NewDecoder(bytes.NewReader(d.Rooms))
		dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			order = append(order, k.(string))
			var skip json.RawMessage
			dec.Decode(&skip)
		}
		if got := strings.Join(order, "|"); got != `Ballroom A|Room 201; Annex|Hallway "Track"` {
			t.Errorf("%s: rooms %s", d.Date, got)
		}
	}
	// Breaks and plenaries as events of their type; GUIDs unique; the
	// guid of an item the same as in frab XML.
	type event struct {
		GUID, Type, Title, Room, Date string
		ID                            int64
		Persons                       []map[string]any
	}
	var all []event
	var full struct {
		Schedule struct {
			Conference struct {
				Days []struct {
					Rooms map[string][]event `json:"rooms"`
				} `json:"days"`
			} `json:"conference"`
		} `json:"schedule"`
	}
	if err := json.Unmarshal(out, &full); err != nil {
		t.Fatal(err)
	}
	for _, d := range full.Schedule.Conference.Days {
		for _, evs := range d.Rooms {
			all = append(all, evs...)
		}
	}
	guids := map[string]bool{}
	count := map[string]int{}
	for _, e := range all {
		if guids[e.GUID] {
			t.Errorf("guid %s twice", e.GUID)
		}
		guids[e.GUID] = true
		count[e.Type+" "+e.Title]++
		if e.ID == 2 && (e.GUID != Guid("openinfra-day-2027-2@127.0.0.1") || len(e.Persons) != 2 || e.Persons[0]["name"] != "Amir Haddad") {
			t.Errorf("#2: %+v", e)
		}
		if e.Type == KindBreak && len(e.Persons) != 0 {
			t.Errorf("a break with persons: %+v", e)
		}
	}
	if count["break Lunch"] != 3 || count["plenary Closing plenary"] != 1 || count["break Break"] != 0 || count["talk Kubernetes at the edge"] != 1 {
		t.Errorf("events by type and title: %v", count)
	}
}

// The checks find what the schema refuses.
func TestC3VOCChecksFail(t *testing.T) {
	la, laH := laEvent(t)
	good := string(C3VOC(la, laH))
	for _, c := range []struct{ name, from, to, want string }{
		{"hyphenated acronym", `"acronym": "openinfra_day_2027"`, `"acronym": "openinfra-day-2027"`, "acronym"},
		{"unknown event key", `"subtitle": "",`, `"subtitle": "", "votes": 3,`, `"votes"`},
		{"duration", `"duration": "00:45"`, `"duration": "45m"`, "duration"},
		{"id zero", `"id": 1,`, `"id": 0,`, ".id"},
		{"person with id", `"public_name": "Doe, Jane"`, `"public_name": "Doe, Jane", "id": 7`, "person forms"},
		{"relative url", `"url": "http://127.0.0.1:8080/openinfra-day-2027/session/1"`, `"url": "/session/1"`, ".url"},
		{"required", `"language": "",`, ``, `"language"`},
		{"day key", `"index": 1,`, `"index": 1, "name": "Saturday",`, `"name"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := strings.Replace(good, c.from, c.to, 1)
			if bad == good {
				t.Fatalf("%q is not in the document", c.from)
			}
			problems := c3Problems([]byte(bad))
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, c.want) }) {
				t.Errorf("no problem about %s found: %q", c.want, problems)
			}
		})
	}
}

func TestC3VOCAcronym(t *testing.T) {
	for slug, want := range map[string]string{
		"openinfra-day-2027": "openinfra_day_2027",
		"36c3":               "36c3",
		"FOSDEM.2027":        "fosdem_2027",
		"ab":                 "ab__",
		"tokyo-oss-night":    "tokyo_oss_night",
		"café-night":         "caf__night",
	} {
		got := C3VOCAcronym(slug)
		if got != want || !c3AcronymRe.MatchString(got) {
			t.Errorf("C3VOCAcronym(%q) = %q, want %q (valid: %v)", slug, got, want, c3AcronymRe.MatchString(got))
		}
	}
	// A hyphenated slug does not pass the schema's pattern as it is.
	if c3AcronymRe.MatchString("openinfra-day-2027") {
		t.Error("the pattern takes a hyphenated slug: the test is wrong")
	}
}
