package web

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/schedule"
)

// TestPluralWording keeps the counts of the wrap-up page, once all 1 and
// once all 2, as a golden file.
func TestPluralWording(t *testing.T) {
	counted := regexp.MustCompile(`<dd>[^<]*</dd>|<span class="who">[^<]*</span>`)
	var b strings.Builder
	for _, n := range []int{1, 2} {
		body := wrapupBody{S: &schedule.EventSummary{Registered: n, CheckedIn: 2 * n, RegisteredIn: n, Proposals: n, Votes: n, Voters: n}, WalkIns: n,
			Sessions: []wrapupSession{{Heading: "Session", Topics: n, Actions: n, Speakers: n, Agreed: make([]string, n)}}}
		out, err := renderReport("wrapup", page{Title: "Wrap-up", Body: body})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "every count %d:\n%s\n", n, strings.Join(counted.FindAllString(string(out), -1), "\n"))
	}
	checkGolden(t, "plural.golden", []byte(b.String()))
}
