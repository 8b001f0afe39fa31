package schedule

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestExportGolden(t *testing.T) {
	la, laH := laEvent(t)
	tokyo, tokyoH := tokyoEvent(t)
	for _, c := range []struct {
		name string
		out  []byte
	}{
		{"la.json", JSON(la, laH)},
		{"la.frab.xml", Frab(la, laH)},
		{"la.txt", Text(la, laH)},
		{"tokyo.json", JSON(tokyo, tokyoH)},
		{"tokyo.frab.xml", Frab(tokyo, tokyoH)},
		{"tokyo.txt", Text(tokyo, tokyoH)},
	} {
		t.Run(c.name, func(t *testing.T) { golden(t, c.name, c.out) })
	}
}

func TestJSONSchema(t *testing.T) {
	la, laH := laEvent(t)
	var doc struct {
		Format string `json:"format"`
		Event  struct {
			Slug, Timezone, URL string
		} `json:"event"`
		Version   int     `json:"version"`
		Generated *string `json:"generated"`
		Note      string  `json:"note"`
		Days      []struct {
			Date  string `json:"date"`
			Rooms []struct {
				Name  string `json:"name"`
				Items []struct {
					Number   int64    `json:"number"`
					UID      string   `json:"uid"`
					URL      string   `json:"url"`
					Start    string   `json:"start"`
					End      string   `json:"end"`
					Speakers []string `json:"speakers"`
					Abstract string   `json:"abstract"`
					Votes    int      `json:"votes"`
					Sequence int      `json:"sequence"`
				} `json:"items"`
			} `json:"rooms"`
		} `json:"days"`
		Cancelled []struct {
			Number      int64  `json:"number"`
			Start       string `json:"start"`
			CancelledIn int    `json:"cancelled_in"`
		} `json:"cancelled"`
		NotScheduled []struct {
			Number int64  `json:"number"`
			Reason string `json:"reason"`
		} `json:"not_scheduled"`
	}
	if err := json.Unmarshal(JSON(la, laH), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Format != "hallway-schedule/1" || doc.Version != 3 || doc.Generated == nil || *doc.Generated != "2027-03-10T08:00:00Z" ||
		doc.Event.Timezone != "America/Los_Angeles" || doc.Note != "Room 201 is in the Annex,\nsecond floor." {
		t.Errorf("header: %+v", doc)
	}
	type placed struct{ date, room, start, end string }
	got := map[int64]placed{}
	for _, d := range doc.Days {
		for _, r := range d.Rooms {
			for _, it := range r.Items {
				got[it.Number] = placed{d.Date, r.Name, it.Start, it.End}
				if it.UID != fmt.Sprintf("openinfra-day-2027-%d@127.0.0.1", it.Number) || !strings.HasSuffix(it.URL, fmt.Sprintf("/session/%d", it.Number)) {
					t.Errorf("#%d: uid %s url %s", it.Number, it.UID, it.URL)
				}
				if it.Speakers == nil {
					t.Errorf("#%d: speakers is null, want a list", it.Number)
				}
			}
		}
	}
	want := map[int64]placed{
		1: {"2027-03-13", "Ballroom A", "2027-03-13T09:00:00-08:00", "2027-03-13T09:45:00-08:00"},
		3: {"2027-03-13", "Room 201; Annex", "2027-03-13T14:00:00-08:00", "2027-03-13T14:50:00-08:00"},
		2: {"2027-03-14", "Ballroom A", "2027-03-14T09:00:00-07:00", "2027-03-14T09:45:00-07:00"},
		4: {"2027-03-14", "Ballroom A", "2027-03-14T10:00:00-07:00", "2027-03-14T10:50:00-07:00"},
		5: {"2027-03-14", "Ballroom A", "2027-03-14T11:00:00-07:00", "2027-03-14T11:45:00-07:00"},
		7: {"2027-03-15", "Room 201; Annex", "2027-03-15T09:00:00-07:00", "2027-03-15T09:50:00-07:00"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("placed:\n got %v\nwant %v", got, want)
	}
	if len(doc.Cancelled) != 1 || doc.Cancelled[0].Number != 6 || doc.Cancelled[0].CancelledIn != 2 ||
		doc.Cancelled[0].Start != "2027-03-14T13:00:00-07:00" {
		t.Errorf("cancelled: %+v", doc.Cancelled)
	}
	if len(doc.NotScheduled) != 1 || doc.NotScheduled[0].Number != 8 {
		t.Errorf("not scheduled: %+v", doc.NotScheduled)
	}

	var empty map[string]any
	if err := json.Unmarshal(JSON(la, nil), &empty); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"days", "cancelled", "not_scheduled"} {
		if _, ok := empty[k].([]any); !ok {
			t.Errorf("empty history: %s is %v, want []", k, empty[k])
		}
	}
}

// node is an XML element, read generically.
type node struct {
	Name     string
	Attrs    map[string]string
	Children []*node
	Text     string
}

func parseXML(t *testing.T, data []byte) *node {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("encoding/xml: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{Name: tok.Name.Local, Attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.Attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tok)
			}
		}
	}
	return root
}

func (n *node) child(name string) *node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Patterns of c3voc's schedule.xml.xsd (github.com/voc/schedule,
// validator/xsd/schedule.xml.xsd).
var (
	xsdDuration   = regexp.MustCompile(`^(([0-9]{1,2}:[0-9]{2})|([0-9]{1,2}:[0-9]{2}:[0-9]{1,2}))$`)
	xsdStart      = regexp.MustCompile(`^(([0-2][0-9]:[0-5][0-9])|([0-2][0-9]:[0-5][0-9]:[0-5][0-9]))$`)
	xsdUUID       = regexp.MustCompile(`^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$`)
	xsdDateTimeTZ = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{1,2}:\d{2})$`)
	xsdDate       = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	xsdHTTPURI    = regexp.MustCompile(`^https?://.*$`)
)

// validateFrab checks what c3voc's XSD for schedule.xml asks: the
// elements, which are required, their types and the unique keys.
func validateFrab(t *testing.T, doc *node) {
	t.Helper()
	positive := func(s string) bool { n, err := strconv.ParseUint(s, 10, 64); return err == nil && n > 0 }
	if doc.Name != "schedule" {
		t.Fatalf("root is <%s>", doc.Name)
	}
	// <schedule>: generator?, version, conference, day+ in that order.
	var order []string
	for _, c := range doc.Children {
		if len(order) == 0 || order[len(order)-1] != c.Name {
			order = append(order, c.Name)
		}
	}
	if o := strings.Join(order, " "); o != "generator version conference day" && o != "version conference day" {
		t.Errorf("<schedule> children: %s", o)
	}
	// <conference>: all of.
	allOf := func(n *node, required, optional []string) {
		t.Helper()
		count := map[string]int{}
		for _, c := range n.Children {
			count[c.Name]++
			if !slices.Contains(required, c.Name) && !slices.Contains(optional, c.Name) {
				t.Errorf("<%s> has <%s>, not in the schema", n.Name, c.Name)
			}
			if count[c.Name] > 1 {
				t.Errorf("<%s> has <%s> twice", n.Name, c.Name)
			}
		}
		for _, r := range required {
			if count[r] == 0 {
				t.Errorf("<%s> lacks <%s>", n.Name, r)
			}
		}
	}
	conf := doc.child("conference")
	allOf(conf, []string{"title", "acronym"}, []string{"start", "end", "days", "timeslot_duration", "base_url", "time_zone_name"})
	for name, re := range map[string]*regexp.Regexp{"start": xsdDate, "end": xsdDate, "days": regexp.MustCompile(`^\d+$`),
		"timeslot_duration": xsdDuration, "base_url": xsdHTTPURI} {
		if c := conf.child(name); c != nil && !re.MatchString(c.Text) {
			t.Errorf("<conference><%s> %q", name, c.Text)
		}
	}
	guids, ids, slugs, indexes := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	unique := func(set map[string]bool, what, v string) {
		if set[v] {
			t.Errorf("%s %q is not unique", what, v)
		}
		set[v] = true
	}
	for _, d := range doc.Children {
		if d.Name != "day" {
			continue
		}
		if !xsdDate.MatchString(d.Attrs["date"]) || !xsdDateTimeTZ.MatchString(d.Attrs["start"]) ||
			!xsdDateTimeTZ.MatchString(d.Attrs["end"]) || !positive(d.Attrs["index"]) {
			t.Errorf("<day %v>", d.Attrs)
		}
		unique(indexes, "day index", d.Attrs["index"])
		for _, r := range d.Children {
			if r.Name != "room" {
				t.Errorf("<day> has <%s>", r.Name)
				continue
			}
			for _, e := range r.Children {
				if e.Name != "event" {
					t.Errorf("<room> has <%s>", e.Name)
					continue
				}
				allOf(e, []string{"room", "title", "subtitle", "type", "date", "start", "duration", "abstract", "slug", "track"},
					[]string{"logo", "persons", "language", "description", "recording", "links", "attachments", "video_download_url", "url"})
				if !positive(e.Attrs["id"]) || !xsdUUID.MatchString(e.Attrs["guid"]) {
					t.Errorf("<event %v>", e.Attrs)
				}
				unique(ids, "event id", e.Attrs["id"])
				unique(guids, "event guid", e.Attrs["guid"])
				for name, re := range map[string]*regexp.Regexp{"date": xsdDateTimeTZ, "start": xsdStart, "duration": xsdDuration, "url": xsdHTTPURI} {
					if c := e.child(name); c != nil && !re.MatchString(c.Text) {
						t.Errorf("event %s: <%s> %q", e.Attrs["id"], name, c.Text)
					}
				}
				if c := e.child("slug"); c != nil {
					unique(slugs, "slug", c.Text)
				}
				if c := e.child("room"); c == nil || c.Text != r.Attrs["name"] {
					t.Errorf("event %s is in <room name=%q> but says it is in %v", e.Attrs["id"], r.Attrs["name"], c)
				}
				if date, start := e.child("date"), e.child("start"); date != nil && start != nil &&
					(!strings.HasPrefix(date.Text, d.Attrs["date"]+"T"+start.Text) || date.Text < d.Attrs["start"][:19]) {
					t.Errorf("event %s: date %s, start %s, on day %s", e.Attrs["id"], date.Text, start.Text, d.Attrs["date"])
				}
				if p := e.child("persons"); p != nil {
					for _, person := range p.Children {
						if person.Name != "person" || person.Attrs["id"] != "" && !positive(person.Attrs["id"]) {
							t.Errorf("event %s: <%s %v>", e.Attrs["id"], person.Name, person.Attrs)
						}
					}
				}
				if l := e.child("links"); l != nil {
					for _, link := range l.Children {
						if link.Name != "link" {
							t.Errorf("event %s: <links> has <%s>", e.Attrs["id"], link.Name)
						}
					}
				}
			}
		}
	}
	if len(indexes) == 0 {
		t.Error("no <day>")
	}
}

func TestFrabSchema(t *testing.T) {
	la, laH := laEvent(t)
	tokyo, tokyoH := tokyoEvent(t)
	for name, out := range map[string][]byte{"la": Frab(la, laH), "tokyo": Frab(tokyo, tokyoH)} {
		t.Run(name, func(t *testing.T) {
			validateFrab(t, parseXML(t, out))
		})
	}

	doc := parseXML(t, Frab(la, laH))
	type ev struct{ guid, room, date, title, persons, abstract string }
	got := map[string]ev{}
	var rooms []string
	for _, d := range doc.Children {
		if d.Name != "day" {
			continue
		}
		var dayRooms []string
		for _, r := range d.Children {
			dayRooms = append(dayRooms, r.Attrs["name"])
			for _, e := range r.Children {
				var persons []string
				for _, p := range e.child("persons").Children {
					persons = append(persons, p.Text+"/"+p.Attrs["id"])
				}
				got[e.Attrs["id"]] = ev{e.Attrs["guid"], r.Attrs["name"], e.child("date").Text, e.child("title").Text,
					strings.Join(persons, ","), e.child("abstract").Text}
			}
		}
		rooms = append(rooms, strings.Join(dayRooms, "|"))
	}
	// Every room of the grid on every day, in grid order.
	if want := `Ballroom A|Room 201; Annex|Hallway "Track"`; rooms[0] != want || rooms[1] != want || rooms[2] != want || len(rooms) != 3 {
		t.Errorf("rooms by day: %q", rooms)
	}
	if _, ok := got["6"]; ok {
		t.Error("cancelled #6 is in the frab schedule")
	}
	if e := got["2"]; e.guid != Guid("openinfra-day-2027-2@127.0.0.1") || e.date != "2027-03-14T09:00:00-07:00" || e.room != "Ballroom A" {
		t.Errorf("#2: %+v", e)
	}
	if e := got["3"]; e.title != "Packaging & distro BoF" {
		t.Errorf("#3 title %q", e.title)
	}
	if e := got["1"]; !strings.HasPrefix(e.persons, "Doe, Jane/") || e.abstract != "Where we are, and where we go next." {
		t.Errorf("#1: %+v", e)
	}
	// The guid of an item does not change with releases.
	g1 := parseXML(t, Frab(la, laH[:1]))
	for _, d := range g1.Children {
		for _, r := range d.Children {
			for _, e := range r.Children {
				if w, ok := got[e.Attrs["id"]]; ok && w.guid != e.Attrs["guid"] {
					t.Errorf("guid of %s changed between releases", e.Attrs["id"])
				}
			}
		}
	}
}

func TestFrabEscapesEverything(t *testing.T) {
	ev := EventInfo{Slug: "x&y", Name: `<Conf> & "Co" 'n'`, URL: "https://example.org/x?a=1&b=2", Zone: time.UTC,
		Rooms: []GridRoom{{Name: "R<1>"}}}
	h := History{{Version: 1, CreatedAt: utc("2027-01-01T00:00:00Z"), Plan: Plan{Items: []Item{{
		Number: 1, Kind: KindTalk, Title: "a]]>b</title><x>", Room: "R<1>", Abstract: "line\x00one\r\n& two\x1b",
		Speakers: []string{`"Q" <q@x>`}, Start: utc("2027-01-02T10:00:00Z"), End: utc("2027-01-02T10:30:00Z"),
	}}}}}
	out := Frab(ev, h)
	doc := parseXML(t, out)
	validateFrab(t, doc)
	var e *node
	for _, d := range doc.Children {
		if d.Name == "day" {
			e = d.Children[0].Children[0]
		}
	}
	if e == nil || e.child("title").Text != "a]]>b</title><x>" || e.child("abstract").Text != "lineone\n& two" ||
		e.child("persons").Children[0].Text != `"Q" <q@x>` || doc.child("conference").child("title").Text != `<Conf> & "Co" 'n'` {
		t.Errorf("escaping lost text:\n%s", out)
	}
}

func TestGuidIsUUIDv5(t *testing.T) {
	// RFC 9562 and Python's uuid.uuid5(uuid.NAMESPACE_DNS, "python.org").
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	if got := uuidV5(dns, "python.org"); got != "886313e1-3b8a-5372-9b90-0c9aee199e5d" {
		t.Errorf("uuidV5 = %s", got)
	}
	if Guid("a@b") == Guid("a@c") || Guid("a@b") != Guid("a@b") {
		t.Error("Guid is not a function of the UID")
	}
}

func TestTextListing(t *testing.T) {
	la, laH := laEvent(t)
	out := string(Text(la, laH))
	for _, want := range []string{
		"Times in America/Los_Angeles.",
		"Saturday 13 March 2027 (PST, UTC-08:00)",
		"Sunday 14 March 2027 (PDT, UTC-07:00)",
		"  09:00-09:45  Ballroom A       talk     #1  Keynote: Open Infra, Today (Doe, Jane)\n",
		"  09:00-09:45  Ballroom A       talk     #2  Kubernetes at the edge (Amir Haddad, Li Wei)\n",
		"Cancelled:\n  #6  Hallway & coffee <chat> (was Sun 14 Mar 13:00 PDT in Hallway \"Track\"; cancelled in version 2)",
		"Not scheduled:\n  #8  Yet another BoF (0 votes): no votes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	for _, r := range out {
		if r < 0x20 && r != '\n' || r == 0x7f {
			t.Errorf("text has control character %U", r)
		}
	}
	// A day on which clocks change says so on every line.
	loc := mustZone(t, "Europe/Berlin")
	ev := EventInfo{Slug: "b", Name: "B", Zone: loc}
	h := History{{Version: 1, CreatedAt: utc("2027-03-01T00:00:00Z"), Plan: Plan{Items: []Item{
		{Number: 1, Kind: KindSession, Title: "night owls", Room: "R", Start: utc("2027-03-28T00:30:00Z"), End: utc("2027-03-28T01:30:00Z")},
	}}}}
	if out := string(Text(ev, h)); !strings.Contains(out, "Sunday 28 March 2027 (CET, UTC+01:00, then CEST, UTC+02:00)\n  01:30 CET-03:30 CEST  R  session  #1  night owls\n") {
		t.Errorf("DST day:\n%s", out)
	}
}
