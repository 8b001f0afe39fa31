package bot

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

// Two processes at once against the last seats and the last votes.
const (
	raceSeats   = 20
	racePeople  = 60
	raceVotes   = 3 // votes per person
	raceWorkers = 8 // goroutines per process
)

// raceEvent is the event both processes run, as each would read it from
// the config.
func raceEvent() *Event {
	return &Event{Slug: "race-day", Name: "Race Day", Channel: "#race", Organizers: []Identity{IRCIdentity("org")},
		VotesPerPerson: raceVotes, Capacity: raceSeats}
}

func racer(i int) string { return fmt.Sprintf("p%02d@race.test", i) }

// TestTwoProcessesLastSeatsAndVotes: two hallway processes (this test
// binary, run again) on one database register every person and vote for
// every person at once, each person from both processes, so that every
// seat and every vote is contended. Nothing is oversold or overcounted:
// exactly the seats there are, numbered once each; the waitlist in one
// queue; no one over their votes. On PostgreSQL this is two instances
// on one server; on SQLite two processes on one file.
func TestTwoProcessesLastSeatsAndVotes(t *testing.T) {
	if src := os.Getenv("HALLWAY_TEST_RACE_DB"); src != "" {
		raceWorker(t, src, os.Getenv("HALLWAY_TEST_RACE_WORKER"))
		return
	}
	if testing.Short() {
		t.Skip("runs two processes")
	}
	ctx := context.Background()
	src := storetest.Source(t)
	s, err := store.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	b := newTestBot(s, []*Event{raceEvent()}, &Options{Prefix: "!", RequireAccount: true, RateBurst: 1000})
	if err := b.Init(ctx); err != nil {
		t.Fatal(err)
	}
	var evID int64
	if err := s.Do(ctx, func(tx *store.Tx) error {
		ev, err := tx.EnsureEvent("race-day", "Race Day")
		if err != nil {
			return err
		}
		evID = ev.ID
		author, err := tx.PersonByIdentity(store.IRCAccount, "org", "")
		if err != nil {
			return err
		}
		for _, phase := range []string{"voting", "registration"} {
			if err := tx.AddPhaseChange(ev.ID, phase, true, author.ID); err != nil {
				return err
			}
		}
		for i := range 6 {
			if _, err := tx.AddProposal(store.Proposal{EventID: ev.ID, Kind: store.Session, Title: fmt.Sprintf("Session %d", i+1), AuthorID: author.ID}); err != nil {
				return err
			}
		}
		for i := range racePeople {
			p, err := tx.PersonByIdentity(store.Email, racer(i), "")
			if err != nil {
				return err
			}
			if err := tx.ConfirmEmail(p.ID, racer(i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Both workers say "ready", then both are told "go" at once.
	type proc struct {
		cmd  *exec.Cmd
		in   *os.File
		out  *bufio.Scanner
		logs strings.Builder
	}
	var procs []*proc
	for w := range 2 {
		p := &proc{cmd: exec.Command(os.Args[0], "-test.run=^TestTwoProcessesLastSeatsAndVotes$", "-test.count=1", "-test.v")}
		p.cmd.Env = append(os.Environ(), "HALLWAY_TEST_RACE_DB="+src, fmt.Sprintf("HALLWAY_TEST_RACE_WORKER=%d", w))
		stdin, err := p.cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := p.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		p.cmd.Stderr = &p.logs
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p.out = bufio.NewScanner(stdout)
		p.in = stdin.(*os.File)
		procs = append(procs, p)
	}
	for _, p := range procs {
		if !waitLine(p.out, "ready") {
			t.Fatalf("worker never got ready:\n%s", p.logs.String())
		}
	}
	for _, p := range procs {
		fmt.Fprintln(p.in, "go")
	}
	for i, p := range procs {
		done := waitLine(p.out, "done")
		if err := p.cmd.Wait(); err != nil || !done {
			t.Fatalf("worker %d: %v (done: %v)\n%s", i, err, done, p.logs.String())
		}
	}

	db := storetest.OpenDB(t, src)
	var seated, distinctNumbers, maxNumber, waiting, distinctSeq int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT number), COALESCE(MAX(number), 0) FROM registration WHERE event_id = ? AND status = 'registered'`, evID).
		Scan(&seated, &distinctNumbers, &maxNumber); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT wait_seq) FROM registration WHERE event_id = ? AND status = 'waitlisted'`, evID).
		Scan(&waiting, &distinctSeq); err != nil {
		t.Fatal(err)
	}
	if seated != raceSeats || distinctNumbers != raceSeats || maxNumber != raceSeats {
		t.Errorf("seats: %d registered, %d distinct numbers, highest %d; want %d of each", seated, distinctNumbers, maxNumber, raceSeats)
	}
	if waiting != racePeople-raceSeats || distinctSeq != waiting {
		t.Errorf("waitlist: %d waiting with %d distinct places; want %d and as many places", waiting, distinctSeq, racePeople-raceSeats)
	}
	var regRows, regPeople int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT person_id) FROM registration WHERE event_id = ?`, evID).Scan(&regRows, &regPeople); err != nil {
		t.Fatal(err)
	}
	if regRows != racePeople || regPeople != racePeople {
		t.Errorf("%d registrations for %d people, want one each for %d", regRows, regPeople, racePeople)
	}
	var over, votes int
	if err := db.QueryRow(`SELECT count(*) FROM (SELECT person_id FROM vote WHERE event_id = ? GROUP BY person_id HAVING count(*) > ?) o`, evID, raceVotes).Scan(&over); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM vote WHERE event_id = ?`, evID).Scan(&votes); err != nil {
		t.Fatal(err)
	}
	if over != 0 || votes != racePeople*raceVotes {
		t.Errorf("votes: %d people over their %d, %d votes in all; want 0 over and %d (every vote used once)", over, raceVotes, votes, racePeople*raceVotes)
	}
	// Every request was handled once: one inbox row per request.
	var handled int
	if err := db.QueryRow(`SELECT count(*) FROM inbox WHERE key LIKE 'race:%'`).Scan(&handled); err != nil {
		t.Fatal(err)
	}
	if want := 2 * 3 * racePeople; handled != want {
		t.Errorf("%d requests recorded, want %d", handled, want)
	}
	t.Logf("%d seats, %d waiting, %d votes; %d requests from 2 processes", seated, waiting, votes, handled)
}

func waitLine(sc *bufio.Scanner, want string) bool {
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == want {
			return true
		}
	}
	return false
}

// raceMail puts the mail the bot sends into the outbox, as hallway's
// mail transport does.
type raceMail struct{}

func (raceMail) Mail(tx *store.Tx, out OutMail) error {
	return tx.Enqueue(store.Message{Channel: store.Mail, Target: out.To, Body: out.Body, DedupeKey: out.DedupeKey})
}

func (raceMail) Reply(tx *store.Tx, req Request, r Reply) error {
	return tx.Enqueue(store.Message{Channel: store.Mail, Target: req.Who.Value, Body: strings.Join(r.Lines, "\n")})
}

// raceWorker is one of the two processes: every person registers, and
// votes for two proposals, one at a time (the two processes pick
// different ones, so together they ask for four votes of a person's
// three).
func raceWorker(t *testing.T, src, worker string) {
	ctx := context.Background()
	s, err := store.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := newTestBot(s, []*Event{raceEvent()}, &Options{Prefix: "!", RequireAccount: true, RateBurst: 1000})
	b.SetMailer(raceMail{})
	b.SetReplier(Mail, raceMail{})
	if err := b.Init(ctx); err != nil {
		t.Fatal(err)
	}
	var reqs []Request
	for i := range racePeople {
		texts := []string{"register", "vote 1", "vote 2"}
		if worker == "1" {
			texts = []string{"register", "vote 3", "vote 4"}
		}
		for j, text := range texts {
			reqs = append(reqs, Request{Transport: Mail, Who: AddressIdentity(racer(i)), Text: text,
				Keys: []string{fmt.Sprintf("race:%s:%d:%d", worker, i, j)}})
		}
	}
	rand.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	fmt.Println("ready")
	if sc := bufio.NewScanner(os.Stdin); !waitLine(sc, "go") {
		t.Fatal("no go")
	}
	next := make(chan Request)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	for range raceWorkers {
		wg.Go(func() {
			for req := range next {
				ctx, cancel := context.WithTimeout(ctx, time.Minute)
				if err := b.Handle(ctx, req); err != nil {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("%s %q: %v", req.Who.Value, req.Text, err))
					mu.Unlock()
				}
				cancel()
			}
		})
	}
	for _, r := range reqs {
		next <- r
	}
	close(next)
	wg.Wait()
	if len(failed) > 0 {
		fmt.Fprintf(os.Stderr, "%d requests failed:\n%s\n", len(failed), strings.Join(failed, "\n"))
		t.Fatalf("%d requests failed:\n%s", len(failed), strings.Join(failed, "\n"))
	}
	fmt.Println("done")
}
