package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// TestPluralWording keeps, as a golden file, the answers that carry a
// count, once with every count 1 and once with every count 2.
func TestPluralWording(t *testing.T) {
	var b strings.Builder
	for _, n := range []int{1, 2} {
		fmt.Fprintf(&b, "===== every count %d =====\n", n)
		f := newFixture(t)
		f.ev.VotesPerPerson, f.ev.Capacity = n, n
		mail, _, _ := mailFixture(t, f)
		var list strings.Builder
		f.bot.SetAnnouncer(listAnnouncer{&list})
		say := func(who, where, text string) {
			t.Helper()
			fmt.Fprintf(&b, "<%s> !%s\n", who, tokenRe.ReplaceAllString(text, "CODE"))
			for _, l := range f.sayIn(where, who, who, text) {
				b.WriteString(l + "\n")
			}
		}
		say("bob", "#openinfra", "votes")
		f.sayIn("", "alice", "alice", `propose "A session"`)
		say("bob", "#openinfra", "vote 1")
		say("carol", "#openinfra", "show 1")
		say("pleia2", "#openinfra", "close voting")
		say("pleia2", "#openinfra", "open voting")
		for _, l := range strings.Split(list.String(), "\n") {
			if strings.Contains(l, "You have") {
				b.WriteString("(to the list) " + l + "\n")
			}
		}
		for i := range n + 1 {
			who := fmt.Sprint("p", i)
			f.sayIn("", who, who, "register "+who+"@example.org")
			say(who, "", "confirm "+mail.token(t, who+"@example.org"))
		}
		for i := range n {
			who := fmt.Sprint("q", i)
			f.sayIn("", who, who, "register "+who+"@example.org")
			if err := f.bot.MailUndelivered(context.Background(), Undelivered{OutboxID: int64(1000 + i), To: who + "@example.org",
				DedupeKey: "confirm:" + mail.token(t, who+"@example.org") + ":x", Reason: "550 no such user"}); err != nil {
				t.Fatal(err)
			}
		}
		say("x", "#openinfra", "registrations")
		c := &call{bot: f.bot, ev: f.ev, req: Request{Transport: IRC, Can: ChatCapabilities}}
		plan := &schedule.Plan{Left: []schedule.Left{{Number: 9, Title: "Left out", Votes: n, Reason: schedule.ReasonNoVotes}}, Conflicts: n, Overflow: n}
		for i := range n {
			plan.Items = append(plan.Items, schedule.Item{Number: int64(i + 1), Title: "Item", Votes: n, Room: "Room 104", Start: f.now})
		}
		prev := &schedule.Release{Version: 1, Plan: schedule.Plan{Conflicts: n, Overflow: n}}
		if err := f.bot.store.Do(context.Background(), func(tx *store.Tx) error {
			c.tx = tx
			b.WriteString("(a preview)\n" + strings.Join(c.previewReply(plan, prev).Lines, "\n") + "\n")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "plural.golden", b.String())
}
