package schedule

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n          int
		noun, want string
	}{
		{0, "vote", "0 votes"}, {1, "vote", "1 vote"}, {2, "vote", "2 votes"},
		{1, "person", "1 person"}, {2, "person", "2 people"},
		{2, "walk-in", "2 walk-ins"}, {2, "attendee conflict", "2 attendee conflicts"},
		{1, "address", "1 address"}, {3, "address", "3 addresses"}, {2, "unconference session", "2 unconference sessions"},
	} {
		if got := Plural(c.n, c.noun); got != c.want {
			t.Errorf("Plural(%d, %q) = %q, want %q", c.n, c.noun, got, c.want)
		}
	}
}

// TestPluralWording keeps, as a golden file, what people read where a
// count is 1 and where it is 2: the wrap-up (Markdown and the list's
// text), the minutes' attendance, and a release's summary and
// announcement.
func TestPluralWording(t *testing.T) {
	at := time.Date(2027, 3, 4, 13, 0, 0, 0, time.UTC)
	var b strings.Builder
	for _, n := range []int{1, 2} {
		fmt.Fprintf(&b, "===== every count %d =====\n\n", n)
		m := &Minutes{Info: MeetingInfo{Event: "Day", Title: "Session", Number: 7, Room: "Room 104", Start: at, End: at.Add(time.Hour), Votes: n, Channel: "#day"},
			StartedBy: "alice", Started: at, Ended: at.Add(time.Hour), Topics: []Topic{{}}}
		for i := range n {
			m.Topics = append(m.Topics, Topic{Title: fmt.Sprint("Topic ", i+1), Notes: []Note{
				{Kind: NoteAgreed, Text: fmt.Sprint("Decision ", i+1)}, {Kind: NoteAction, Text: fmt.Sprint("Action ", i+1), Owners: []string{"bob"}}}})
			m.Speakers = append(m.Speakers, Speaking{Nick: fmt.Sprint("nick", i+1), Lines: 3})
		}
		s := &EventSummary{Event: "Day", Sessions: []*Minutes{m}, Registered: n, CheckedIn: 2 * n, RegisteredIn: n, Proposals: n, Votes: n, Voters: n}
		b.WriteString(s.Markdown() + "\n" + s.Text() + "\n")
		for _, f := range m.facts() {
			if f[0] == "Attendance" {
				b.WriteString("Attendance: " + f[1] + "\n\n")
			}
		}
		r := &Release{Version: 1, CreatedAt: at, Plan: Plan{Left: []Left{{Number: 9, Title: "Left out", Votes: n, Reason: ReasonBelow}}}}
		for i := range n {
			r.Items = append(r.Items, Item{Number: int64(i + 1), Kind: KindSession, Title: fmt.Sprint("Item ", i+1), Votes: n, Room: "Room 104", Start: at, End: at.Add(time.Hour)})
		}
		b.WriteString(Summary(r, nil) + "\n\n" + Announcement("Day", r, nil, time.UTC) + "\n")
	}
	path := filepath.Join("testdata", "plural.golden")
	if updatingGoldens() {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./schedule -update to create it)", err)
	}
	if string(want) != b.String() {
		t.Errorf("%s differs; run go test ./schedule -update and review the diff.\ngot:\n%s", path, b.String())
	}
}
