package schedule

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sessionLog is a scripted unconference session in #openinfra.
func sessionLog(t *testing.T) (MeetingInfo, []LogLine) {
	zone, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2027, 3, 4, 13, 0, 0, 0, zone)
	info := MeetingInfo{Event: "Open Source Infrastructure Day 2027", Title: "Renting Macs for CI", Number: 7, Room: "Room 104",
		Start: start, End: start.Add(50 * time.Minute), Speakers: []string{"alice"}, Votes: 12, Channel: "#openinfra",
		Zone: zone, URL: "http://127.0.0.1:8080/openinfra-day-2027/notes/1", Organizers: []string{"pleia2"}}
	at := func(min, sec int) time.Time {
		return start.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
	}
	lines := []LogLine{
		{At: at(0, 5), Nick: "alice", Account: "alice", Text: "#startmeeting Renting Macs for CI"},
		{At: at(0, 30), Nick: "bob", Account: "bob", Text: "hi all, notes at https://etherpad.example.org/p/macs"},
		{At: at(1, 0), Nick: "alice", Account: "alice", Text: "#topic Who rents Macs today"},
		{At: at(1, 20), Nick: "bob", Account: "bob", Text: "#info MacStadium and AWS EC2 Mac both work; EC2 has a 24h minimum"},
		{At: at(2, 0), Nick: "mallory", Account: "", Text: "#topic spam"},
		{At: at(2, 10), Nick: "pleia2_", Account: "", Text: "#agreed fake decision"},
		{At: at(3, 0), Nick: "carol", Account: "carol", Text: "#idea pool the minutes across projects <script>alert(1)</script>"},
		{At: at(4, 0), Nick: "alice", Account: "alice", Text: "#chair bob", Resolved: map[string]string{"bob": "bob"}},
		{At: at(5, 0), Nick: "bob", Account: "bob", Text: "#topic What it costs"},
		{At: at(5, 30), Nick: "bob", Account: "bob", Text: "#info typo line"},
		{At: at(5, 40), Nick: "bob", Account: "bob", Text: "#undo"},
		{At: at(6, 0), Nick: "bob", Account: "bob", Text: "#agreed pool budgets through the foundation"},
		{At: at(7, 0), Nick: "carol", Account: "carol", Text: "#action alice: write the Mac CI spec", Resolved: map[string]string{"alice": "alice"}},
		{At: at(7, 30), Nick: "carol", Account: "carol", Text: "#action bob and carol to price EC2 Mac hosts", Resolved: map[string]string{"bob": "bob", "carol": "carol"}},
		{At: at(8, 0), Nick: "dave", Account: "", Text: "#action dave: ask the foundation"},
		{At: at(8, 30), Nick: "bob", Account: "bob", Text: "#link https://aws.amazon.com/ec2/instance-types/mac/ EC2 Mac"},
		{At: at(9, 0), Nick: "alice", Account: "alice", Text: "#actions"},
		{At: at(49, 0), Nick: "alice", Account: "alice", Text: "#endmeeting"},
	}
	return info, lines
}

func TestMinutesReplayIsLive(t *testing.T) {
	info, lines := sessionLog(t)
	carried := []Note{{Kind: NoteAction, Text: "carol: find a host for the runners", Owners: []string{"carol"}, At: info.Start.Add(-24 * time.Hour)}}
	live := NewRecorder(info, carried)
	var said []string
	for _, l := range lines {
		if a := live.Add(l); a.Text != "" {
			said = append(said, "<"+l.Nick+"> "+l.Text+"\n  -> "+a.Text)
		}
	}
	replayed := Replay(info, carried, lines)
	if !reflect.DeepEqual(live.Minutes(), replayed) {
		t.Fatal("the replay of the log differs from the live minutes")
	}
	m := replayed
	if live.Minutes().Markdown() != m.Markdown() || live.Minutes().HTML() != m.HTML() || live.Minutes().Text() != m.Text() {
		t.Fatal("the replay renders differently")
	}
	golden(t, "../minutes/session.md", []byte(m.Markdown()))
	golden(t, "../minutes/session.html", []byte(m.HTML()))
	golden(t, "../minutes/session.txt", []byte(m.Text()))
	golden(t, "../minutes/answers.txt", []byte(strings.Join(said, "\n")+"\n"))

	// Spoofers are refused: no topic "spam", no fake decision.
	if strings.Contains(m.Markdown(), "spam") && strings.Contains(m.Markdown(), "### spam") || strings.Contains(m.Text(), "AGREED: fake") {
		t.Error("a line from someone who is not a chair made it into the notes")
	}
	// Actions are assigned by account, not guessed.
	acts := m.Actions()
	if len(acts) != 3 || !reflect.DeepEqual(acts[0].Owners, []string{"alice"}) || !reflect.DeepEqual(acts[1].Owners, []string{"bob", "carol"}) ||
		!reflect.DeepEqual(acts[2].Owners, []string{"dave"}) {
		t.Errorf("actions: %+v", acts)
	}
	if !strings.Contains(m.HTML(), "&lt;script&gt;") || strings.Contains(m.HTML(), "<script>alert") {
		t.Error("user text is not escaped in the HTML minutes")
	}
	if len(m.OpenActions()) != 4 {
		t.Errorf("open actions with the carried-over one: %d", len(m.OpenActions()))
	}
}

func TestEventSummary(t *testing.T) {
	info, lines := sessionLog(t)
	m := Replay(info, nil, lines)
	s := &EventSummary{Event: info.Event, URL: "http://127.0.0.1:8080/openinfra-day-2027/wrapup", Sessions: []*Minutes{m},
		Registered: 35, CheckedIn: 50, RegisteredIn: 31, Proposals: 24, Votes: 180, Voters: 47,
		Pledges: []string{"Macs for CI testing: 3,000.00 of 3,000.00 USD pledged (100%), 1,200.00 received"}}
	golden(t, "../minutes/event.md", []byte(s.Markdown()))
	golden(t, "../minutes/event.txt", []byte(s.Text()))
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice: write the spec", "[alice write the spec]"},
		{"bob,carol", "[bob carol]"},
		{"@bob:example.org", "[@bob:example.org]"},
		{"@bob:example.org: write it", "[@bob:example.org write it]"},
		{"@bob:example.org:8448, @carol:[::1]", "[@bob:example.org:8448 @carol:[::1]]"},
		{"@: x", "[@ x]"},
		{"@bob: x", "[@bob x]"},
	} {
		if got := fmt.Sprint(Names(tc.in)); got != tc.want {
			t.Errorf("Names(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
