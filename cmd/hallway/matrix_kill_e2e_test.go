package main

// TestMatrixKill: exactly once both ways on Matrix, across SIGKILLs. One
// `hallway run` process talks in a room of the real Dendrite; before each
// kill, Matrix users fire votes and unvotes without waiting, and once one
// is answered the others fire theirs and the process is killed at once:
// messages are being synced, carried out, their answers queued or sent;
// the clock's announcements come due between the kills. Then it starts
// again. Read back through the client-server API (/messages of the room):
// no message hallway sent is in the room twice, every command has exactly
// one answer (nothing said in the room is lost: the sync position is
// kept), each answer is its first effect ("voted for #k", never "already
// had your vote"), the votes stored are what the last commands said, and
// each announcement is said once.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/matrix/matrixtest"
)

// matrixKills is how many times TestMatrixKill kills hallway: 4 in the
// suite, HALLWAY_MATRIX_KILLS for a longer run.
var matrixKills = killsFromEnv("HALLWAY_MATRIX_KILLS")

// mxAction is a command a Matrix voter sent: a vote or an unvote of
// proposal k, by its event ID.
type mxAction struct {
	event id.EventID
	k     int
	vote  bool
}

func TestMatrixKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	// Mostly waiting for the process to come back: it runs beside the
	// failover tests (its users, rooms and database are its own).
	t.Parallel()
	srv := matrixtest.Env(t)
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute+time.Duration(matrixKills)*40*time.Second)
	defer cancel()
	f := newFailover(t, ctx)

	// Admins: the homeserver limits none of them, so the storm is as
	// fast as the test can make it and the bot's own pacing is what paces.
	const voters = 8
	hw := srv.Register(t, matrixtest.Unique("hallway"), true)
	alice := srv.Register(t, matrixtest.Unique("alice"), true) // organizer, and the one who looks
	people := make([]*matrixtest.User, voters)
	parallel(t, voters, func(i int) { people[i] = srv.Register(t, matrixtest.Unique(fmt.Sprintf("kv%d", i)), true) })
	invite := []id.UserID{hw.ID}
	for _, p := range people {
		invite = append(invite, p.ID)
	}
	room := alice.CreateRoom(t, matrixtest.RoomOptions{Name: "kill day", Invite: invite})
	parallel(t, voters, func(i int) { people[i].Join(t, room) })

	t0 := time.Now().UTC()
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	host, port, _ := strings.Cut(ircAddr, ":")
	cfgPath := filepath.Join(f.dir, "k.toml")
	cfg := fmt.Sprintf(`[store]
%sinstance = "k"
[web]
listen = "127.0.0.1:0"
[irc]
server = %q
port = %s
tls = false
nick = %q
[matrix]
homeserver = %q
user_id = %q
access_token_env = "HALLWAY_TEST_MATRIX_TOKEN"
send_burst = 50
send_rate = 20
[[event]]
slug = "kill"
name = "Kill Day"
timezone = "UTC"
channel = %q
channels = ["matrix:%s"]
organizers = [%q]
votes_per_person = %d
  [event.phases]
  voting = { open = %q }
  cfp = { open = %q, close = %q }
  registration = { open = %q }
`, storeKeys(t, f.dbPath), host, port, uniqueNick("hw"), srv.URL, hw.ID, "#"+uniqueNick("mk"), room, alice.ID,
		stormProposal, at(-time.Hour), at(-time.Hour), at(50*time.Second), at(25*time.Second))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	start := func() *instance { return f.start("k", cfgPath, "HALLWAY_TEST_MATRIX_TOKEN="+hw.Token) }

	// Everything said in the room, as a member sees it live: the answers
	// (replies of the bot, by the event they answer) come to the test
	// through answered.
	var mu sync.Mutex
	answers := map[id.EventID][]string{}
	said := map[string]int{} // the bot's messages that answer nothing
	answered := make(chan id.EventID, 4096)
	watch, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	watcher := alice.Login(t)
	go func() {
		defer close(watched)
		watcher.WaitEventCtx(watch, room, time.Hour, func(e *event.Event) bool {
			if e.Sender != hw.ID || e.Type != event.EventMessage {
				return false
			}
			mc := e.Content.AsMessage()
			mu.Lock()
			defer mu.Unlock()
			if to := mc.RelatesTo.GetReplyTo(); to != "" {
				answers[to] = append(answers[to], mc.Body)
				select {
				case answered <- to:
				default: // a wake-up is waiting already
				}
			} else {
				said[mc.Body]++
			}
			return false
		})
	}()
	defer func() { stopWatch(); <-watched }()
	waitAnswer := func(what string, ask id.EventID) {
		t.Helper()
		for {
			mu.Lock()
			n := len(answers[ask])
			mu.Unlock()
			if n > 0 {
				return
			}
			select {
			case <-answered:
			case <-ctx.Done():
				t.Fatalf("no answer to %s", what)
			}
		}
	}
	// barrier: an organizer's command answered; the process reads the room.
	barrier := func() {
		t.Helper()
		waitAnswer("!proposals", alice.Send(t, room, "!proposals"))
	}

	in := start()
	waitMember(t, alice, room, hw.ID)
	barrier()
	var proposals []id.EventID
	for k := range stormProposal {
		proposals = append(proposals, people[k%voters].Send(t, room, fmt.Sprintf(`!propose "Kill session %d"`, k+1)))
	}
	for k, p := range proposals {
		waitAnswer(fmt.Sprintf("proposal %d", k+1), p)
	}

	sent := make([][]mxAction, voters)
	storm := func(round int, from, to int) (done func()) {
		var wg sync.WaitGroup
		for i := from; i < to; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range stormBurst {
					n := round*stormBurst + j
					a := mxAction{k: n%stormProposal + 1, vote: (n/stormProposal)%2 == 0}
					a.event = people[i].Send(t, room, fmt.Sprintf("!%s %d", verb(a.vote), a.k))
					mu.Lock()
					sent[i] = append(sent[i], a)
					mu.Unlock()
				}
			}()
		}
		return wg.Wait
	}
	// settled waits until every command sent has its answer and the
	// outbox is empty.
	settled := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		var missing []string
		for ctx.Err() == nil {
			mu.Lock()
			missing = missing[:0]
			for i, acts := range sent {
				for _, a := range acts {
					if len(answers[a.event]) == 0 {
						missing = append(missing, fmt.Sprintf("%s !%s %d (%s)", people[i].ID, verb(a.vote), a.k, a.event))
					}
				}
			}
			mu.Unlock()
			if len(missing) == 0 && f.unsent() == 0 {
				return
			}
			select {
			case <-answered:
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
			}
		}
		var received, unsent, claimed int
		f.db.QueryRow(`SELECT (SELECT count(*) FROM inbox WHERE channel = 'matrix'), (SELECT count(*) FROM outbox WHERE sent_at IS NULL), (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND claimed_term > 0)`).Scan(&received, &unsent, &claimed)
		t.Fatalf("commands left unanswered: %d %v; %d commands received, %d outbox rows unsent (%d claimed)", len(missing), missing, received, unsent, claimed)
	}

	var inFlight []int
	var took []time.Duration
	for kill := range matrixKills {
		for len(answered) > 0 {
			<-answered
		}
		// Half the storm, answered at least in part; the other half and
		// the kill at once.
		first := storm(kill, 0, voters/2)
		select {
		case <-answered:
		case <-ctx.Done():
			t.Fatal("no command of the storm answered")
		}
		second := storm(kill, voters/2, voters)
		inFlight = append(inFlight, f.unsent())
		in.p.kill()
		killed := time.Now()
		first()
		second()
		in = start()
		barrier()
		took = append(took, time.Since(killed))
		settled()
	}
	// The announcements come due while the kills go on, or after.
	want := []string{"Registration is now open for Kill Day.", "The call for proposals is now closed for Kill Day."}
	f.waitSaid(&mu, said, want)
	settled()
	barrier()
	if err := in.p.term(); err != nil {
		t.Errorf("hallway after SIGTERM: %v", err)
	}

	// The room as the client-server API gives it (/messages).
	byKey := map[string]int{}
	roomAnswers := map[id.EventID][]string{}
	messages := 0
	for _, e := range alice.Messages(t, room) {
		if e.Sender != hw.ID || e.Type != event.EventMessage {
			continue
		}
		messages++
		mc := e.Content.AsMessage()
		to := mc.RelatesTo.GetReplyTo()
		byKey[string(to)+"\x00"+mc.Body]++
		if to != "" {
			roomAnswers[to] = append(roomAnswers[to], mc.Body)
		}
	}
	dups := 0
	for key, n := range byKey {
		if n > 1 {
			dups += n - 1
			to, body, _ := strings.Cut(key, "\x00")
			t.Errorf("said %d times (in answer to %q): %q", n, to, body)
		}
	}
	// And as seen live (/sync).
	mu.Lock()
	for to, bodies := range answers {
		if len(bodies) > 1 {
			dups += len(bodies) - 1
			t.Errorf("seen live: %d answers to %s: %q", len(bodies), to, bodies)
		}
	}
	for _, w := range want {
		if n := said[w]; n != 1 || byKey["\x00"+w] > 1 {
			t.Errorf("%q said %d times (live; %d in /messages), want once", w, n, byKey["\x00"+w])
		}
	}
	mu.Unlock()
	commands, unlisted := 0, 0
	for i, acts := range sent {
		var votes []int64
		rows, err := f.db.Query(`SELECT p.number FROM vote v JOIN proposal p ON p.id = v.proposal_id
			JOIN identity i ON i.person_id = v.person_id WHERE i.kind = 'matrix' AND i.value = ? ORDER BY p.number`, string(people[i].ID))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n int64
			rows.Scan(&n)
			votes = append(votes, n)
		}
		rows.Close()
		last := map[int]bool{}
		for _, a := range acts {
			commands++
			last[a.k] = a.vote
			got := roomAnswers[a.event]
			mu.Lock()
			live := answers[a.event]
			mu.Unlock()
			// The first effect of the command, said once. Dendrite's
			// /messages now and then leaves out an event its /sync gave
			// (counted); it never shows one twice here.
			wantIn := fmt.Sprintf("voted for #%d ", a.k)
			if !a.vote {
				wantIn = fmt.Sprintf("took back your votes for #%d ", a.k)
			}
			if len(live) != 1 || !strings.Contains(live[0], wantIn) || len(got) > 1 || (len(got) == 1 && got[0] != live[0]) {
				t.Errorf("%s: !%s %d answered %q (live), %q (/messages), want one answer saying %q", people[i].ID, verb(a.vote), a.k, live, got, wantIn)
			}
			if len(got) == 0 {
				unlisted++
			}
		}
		for k := 1; k <= stormProposal; k++ {
			if v, ok := last[k]; ok && v != slices.Contains(votes, int64(k)) {
				t.Errorf("%s: #%d stored %v after the last command, a %s", people[i].ID, k, !v, verb(v))
			}
		}
	}
	// How often a message sent by a killed process was found in the room
	// (and not sent again).
	found := 0
	for _, p := range f.logs {
		b, _ := os.ReadFile(p)
		found += strings.Count(string(b), "message sent before a restart found in its room")
	}
	slices.Sort(took)
	t.Logf("%d kills, %d commands from %d Matrix users (%d before each kill), %d messages of hallway in the room, %d said twice, %d found sent by a killed process and not sent again; %d answers seen live left out of /messages; outbox rows waiting at the kills %v; kill to an answer: median %s, worst %s",
		len(took), commands, voters, voters*stormBurst, messages, dups, found, unlisted, inFlight,
		took[len(took)/2].Round(10*time.Millisecond), took[len(took)-1].Round(10*time.Millisecond))
}

// parallel runs f(0..n-1) at once and waits for them.
func parallel(t *testing.T, n int, f func(i int)) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}
