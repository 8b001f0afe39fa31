// Command mxstorm is the Matrix vote-storm benchmark: N Matrix users of
// the test Dendrite (scripts/testenv.sh), each registered through the
// shared secret, vote in one room within a few seconds of each other,
// against a real `hallway run` process logged in to the same homeserver.
//
// It checks that every vote is stored exactly once (in the SQLite
// database) and acknowledged once (a reply to the vote, seen live and in
// the room's /messages), and reports votes/s stored, the time from the
// first vote to the last acknowledgement, the latency of each
// acknowledgement, duplicates, the machine and its load.
//
//	go run ./bench/mxstorm -voters 200 -spread 10s
//
// bench/mxstorm.sh starts the test environment and runs it. The exit
// status is 1 when a target is missed, 2 when the benchmark could not run.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	_ "modernc.org/sqlite"

	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/matrix/matrixtest"
)

type config struct {
	voters    int
	spread    time.Duration
	burst     int
	rate      float64
	proposals int
	seed      uint64
	parallel  int
	limit     time.Duration
	ackWait   time.Duration
	settle    time.Duration
	bin       string
	keep      bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.voters, "voters", 200, "voters: Matrix users, each registered on the test homeserver")
	flag.DurationVar(&cfg.spread, "spread", 10*time.Second, "every voter votes at a time drawn uniformly within this window")
	flag.IntVar(&cfg.burst, "burst", 10, "the bot's [matrix] send_burst (messages to the room at once)")
	flag.Float64Var(&cfg.rate, "rate", 1.0, "the bot's [matrix] send_rate (messages a second to the room after the burst)")
	flag.IntVar(&cfg.proposals, "proposals", 5, "proposals made before the storm; each voter votes for one at random")
	flag.Uint64Var(&cfg.seed, "seed", 1, "random seed for the vote times and choices")
	flag.IntVar(&cfg.parallel, "parallel", 20, "users registered and joined at once during setup")
	flag.DurationVar(&cfg.limit, "limit", 0, "target: every vote acknowledged within this time of being sent (0: spread + 200 s at the default rate, i.e. none)")
	flag.DurationVar(&cfg.ackWait, "ackwait", 5*time.Minute, "how long after the spread to wait for missing acknowledgements")
	flag.DurationVar(&cfg.settle, "settle", 3*time.Second, "after the last acknowledgement, keep watching this long for duplicates")
	flag.StringVar(&cfg.bin, "bin", "", "the hallway binary (default: go build ./cmd/hallway into a temporary directory)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the directory with the database, config and log (its path is printed)")
	flag.Parse()
	if cfg.voters < 1 || cfg.proposals < 1 || cfg.burst < 1 || cfg.rate <= 0 || cfg.parallel < 1 || cfg.spread < 0 {
		fmt.Fprintln(os.Stderr, "mxstorm: -voters, -proposals, -burst, -parallel and -rate must be positive, -spread not negative")
		os.Exit(2)
	}
	ok, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mxstorm:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mxstorm: "+format+"\n", args...)
}

// voter is one person of the storm.
type voter struct {
	u      *matrixtest.User
	choice int
	offset time.Duration
	sent   time.Time  // just before the vote's PUT
	put    time.Time  // when the homeserver answered the PUT
	event  id.EventID // the vote
	err    error
}

// ack is a reply of the bot, as the observer saw it.
type ack struct {
	at   time.Time
	body string
}

func run(cfg config) (bool, error) {
	srv := &matrixtest.Server{URL: os.Getenv(matrixtest.EnvURL), Secret: os.Getenv(matrixtest.EnvSecret), ServerName: os.Getenv(matrixtest.EnvServerName)}
	ircAddr := os.Getenv(irctest.EnvIRC)
	if srv.URL == "" || srv.Secret == "" || ircAddr == "" {
		return false, errors.New("no test homeserver or IRC server: run `eval \"$(scripts/testenv.sh env)\"` (bench/mxstorm.sh does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	// `hallway run` connects to IRC too: keep a test from restarting
	// InspIRCd under it.
	unlock, err := irctest.LockEnv()
	if err != nil {
		return false, err
	}
	defer unlock()
	dir, err := os.MkdirTemp("", "mxstorm-")
	if err != nil {
		return false, err
	}
	if cfg.keep {
		logf("keeping %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if cfg.bin == "" {
		cfg.bin = filepath.Join(dir, "hallway")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", cfg.bin, "./cmd/hallway").CombinedOutput(); err != nil {
			return false, fmt.Errorf("go build ./cmd/hallway (run from the repository's root, or pass -bin): %v\n%s", err, out)
		}
	}
	loadBefore := loadavg()

	// Accounts, once per run, cfg.parallel at a time.
	tSetup := time.Now()
	run := fmt.Sprintf("%x", time.Now().UnixNano()%(1<<32))
	bot, err := srv.RegisterCtx(ctx, "mxs"+run+"bot", false)
	if err != nil {
		return false, err
	}
	org, err := srv.RegisterCtx(ctx, "mxs"+run+"org", true)
	if err != nil {
		return false, err
	}
	rng := rand.New(rand.NewPCG(cfg.seed, 2))
	voters := make([]*voter, cfg.voters)
	for i := range voters {
		voters[i] = &voter{choice: 1 + rng.IntN(cfg.proposals), offset: time.Duration(rng.Int64N(int64(cfg.spread) + 1))}
	}
	if err := each(ctx, cfg.parallel, len(voters), func(i int) (err error) {
		voters[i].u, err = srv.RegisterCtx(ctx, fmt.Sprintf("mxs%sv%d", run, i), false)
		return err
	}); err != nil {
		return false, err
	}
	tRegistered := time.Now()
	logf("registered %d users in %s", cfg.voters+2, tRegistered.Sub(tSetup).Round(time.Millisecond))
	var created *mautrix.RespCreateRoom
	if err := retry(ctx, func() (err error) {
		created, err = org.Client.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "storm " + run, Preset: "public_chat", Invite: []id.UserID{bot.ID}})
		return err
	}); err != nil {
		return false, fmt.Errorf("create the room: %w", err)
	}
	room := created.RoomID
	if err := each(ctx, cfg.parallel, len(voters), func(i int) error {
		return retry(ctx, func() error {
			_, err := voters[i].u.Client.JoinRoomByID(ctx, room)
			return err
		})
	}); err != nil {
		return false, fmt.Errorf("join: %w", err)
	}
	logf("%d joined the room in %s", cfg.voters, time.Since(tRegistered).Round(time.Millisecond))

	// hallway run, logged in as bot, in the room.
	dbPath := filepath.Join(dir, "hallway.db")
	cfgPath := filepath.Join(dir, "hallway.toml")
	host, port, _ := strings.Cut(ircAddr, ":")
	toml := fmt.Sprintf(`[store]
path = %q
[web]
listen = "127.0.0.1:0"
[irc]
server = %q
port = %s
tls = false
nick = "mxs%s"
[matrix]
homeserver = %q
user_id = %q
access_token_env = "HALLWAY_MATRIX_TOKEN"
send_burst = %d
send_rate = %g
[[event]]
slug = "storm"
name = "Storm Day"
timezone = "UTC"
channel = "#mxs%s"
channels = ["matrix:%s"]
organizers = [%q]
votes_per_person = 4
`, dbPath, host, port, run, srv.URL, bot.ID, cfg.burst, cfg.rate, run, room, org.ID)
	if err := os.WriteFile(cfgPath, []byte(toml), 0o644); err != nil {
		return false, err
	}
	logPath := filepath.Join(dir, "hallway.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return false, err
	}
	defer logFile.Close()
	cmd := exec.Command(cfg.bin, "run", "-config", cfgPath)
	cmd.Env = append(os.Environ(), "HALLWAY_MATRIX_TOKEN="+bot.Token)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return false, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			return errors.New("hallway still running 20 s after SIGTERM")
		}
	}
	defer stop()
	showLog := func() {
		b, _ := os.ReadFile(logPath)
		if len(b) > 6000 {
			b = b[len(b)-6000:]
		}
		logf("hallway's log (end):\n%s", b)
	}

	// The observer sees the room live: every reply of the bot.
	var mu sync.Mutex
	acks := map[id.EventID][]ack{}
	var joined bool
	watch, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		org.WaitEventCtx(watch, room, time.Hour, func(e *event.Event) bool {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case e.Type == event.StateMember && e.StateKey != nil && *e.StateKey == string(bot.ID) && e.Content.AsMember().Membership == event.MembershipJoin:
				joined = true
			case e.Sender == bot.ID && e.Type == event.EventMessage:
				mc := e.Content.AsMessage()
				if to := mc.RelatesTo.GetReplyTo(); to != "" {
					acks[to] = append(acks[to], ack{at: now, body: mc.Body})
				}
			}
			return false
		})
	}()
	defer func() { stopWatch(); <-watched }()
	waitFor := func(what string, d time.Duration, cond func() bool) error {
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			mu.Lock()
			ok := cond()
			mu.Unlock()
			if ok {
				return nil
			}
			select {
			case err := <-exited:
				exited <- err
				showLog()
				return fmt.Errorf("hallway exited (%v) while waiting for %s", err, what)
			case <-time.After(10 * time.Millisecond):
			}
		}
		showLog()
		return fmt.Errorf("no %s within %s", what, d)
	}
	send := func(u *matrixtest.User, text string) (id.EventID, error) {
		var resp *mautrix.RespSendEvent
		err := retry(ctx, func() (err error) {
			resp, err = u.Client.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: text})
			return err
		})
		if err != nil {
			return "", err
		}
		return resp.EventID, nil
	}
	if err := waitFor("join of the bot", 2*time.Minute, func() bool { return joined }); err != nil {
		return false, err
	}
	// The proposals, each answered: the bot reads the room.
	for k := range cfg.proposals {
		ask, err := send(org, fmt.Sprintf(`!propose "Storm session %d"`, k+1))
		if err != nil {
			return false, err
		}
		if err := waitFor(fmt.Sprintf("answer to proposal %d", k+1), time.Minute, func() bool { return len(acks[ask]) > 0 }); err != nil {
			return false, err
		}
	}
	// A full bucket when the storm begins.
	time.Sleep(time.Duration(float64(cfg.burst) / cfg.rate * float64(time.Second)))

	// The storm.
	logf("storm: %d votes within %s (send_burst %d, send_rate %g)", cfg.voters, cfg.spread, cfg.burst, cfg.rate)
	start := time.Now()
	var wg sync.WaitGroup
	for _, v := range voters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(start.Add(v.offset)))
			v.sent = time.Now()
			v.event, v.err = send(v.u, fmt.Sprintf("!vote %d", v.choice))
			v.put = time.Now()
		}()
	}
	wg.Wait()
	for _, v := range voters {
		if v.err != nil {
			return false, fmt.Errorf("%s could not vote: %w", v.u.ID, v.err)
		}
	}
	allAcked := func() bool {
		for _, v := range voters {
			if len(acks[v.event]) == 0 {
				return false
			}
		}
		return true
	}
	ackErr := waitFor("acknowledgement of every vote", cfg.ackWait, allAcked)
	time.Sleep(cfg.settle)
	stopErr := stop()
	stopWatch()
	<-watched

	// What the room holds (/messages), and what the database does.
	inRoom := map[id.EventID]int{}
	all, err := messages(ctx, org, room)
	if err != nil {
		return false, fmt.Errorf("read the room: %w", err)
	}
	for _, e := range all {
		if e.Sender == bot.ID && e.Type == event.EventMessage {
			inRoom[e.Content.AsMessage().RelatesTo.GetReplyTo()]++
		}
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return false, err
	}
	defer db.Close()
	var votes, distinct int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT person_id) FROM vote`).Scan(&votes, &distinct); err != nil {
		return false, fmt.Errorf("count votes: %w", err)
	}
	stored := map[string][]int{}
	rows, err := db.Query(`SELECT i.value, p.number FROM vote v JOIN identity i ON i.person_id = v.person_id AND i.kind = 'matrix' JOIN proposal p ON p.id = v.proposal_id`)
	if err != nil {
		return false, err
	}
	for rows.Next() {
		var who string
		var n int
		rows.Scan(&who, &n)
		stored[who] = append(stored[who], n)
	}
	rows.Close()
	var firstVote, lastVote time.Time
	trows, err := db.Query(`SELECT created_at FROM vote`)
	if err != nil {
		return false, err
	}
	for trows.Next() {
		var t time.Time
		if err := trows.Scan(&t); err != nil {
			trows.Close()
			return false, fmt.Errorf("vote.created_at: %w", err)
		}
		if firstVote.IsZero() || t.Before(firstVote) {
			firstVote = t
		}
		if t.After(lastVote) {
			lastVote = t
		}
	}
	trows.Close()

	// Figures.
	var lat, puts []time.Duration
	var lastAck, lastPut time.Time
	acked, twiceLive, twiceRoom, wrong, wrongStored := 0, 0, 0, 0, 0
	for _, v := range voters {
		puts = append(puts, v.put.Sub(v.sent))
		if v.put.After(lastPut) {
			lastPut = v.put
		}
		a := acks[v.event]
		if len(a) > 0 {
			acked++
			lat = append(lat, a[0].at.Sub(v.sent))
			if a[0].at.After(lastAck) {
				lastAck = a[0].at
			}
			if !strings.Contains(a[0].body, fmt.Sprintf("voted for #%d ", v.choice)) {
				wrong++
				logf("%s voted for #%d, answered %q", v.u.ID, v.choice, a[0].body)
			}
		}
		twiceLive += max(len(a)-1, 0)
		twiceRoom += max(inRoom[v.event]-1, 0)
		if got := stored[string(v.u.ID)]; len(got) != 1 || got[0] != v.choice {
			wrongStored++
			logf("%s voted for #%d, stored %v", v.u.ID, v.choice, got)
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(time.Millisecond)
	}
	loadAfter := loadavg()
	fmt.Printf("machine: %d CPUs, %s; load average before %s, after %s\n", runtime.NumCPU(), cpuModel(), loadBefore, loadAfter)
	fmt.Printf("date: %s; setup (register %d users, join) %s\n", start.UTC().Format("2006-01-02 15:04:05 UTC"), cfg.voters+2, start.Sub(tSetup).Round(time.Second))
	fmt.Printf("votes stored / sent: %d / %d (distinct voters %d, wrong or missing %d)\n", votes, cfg.voters, distinct, wrongStored)
	fmt.Printf("acknowledged: %d / %d (wrong %d); acknowledged twice: %d seen live, %d in /messages\n", acked, cfg.voters, wrong, twiceLive, twiceRoom)
	if !lastVote.IsZero() {
		fmt.Printf("stored: first vote %s after the storm began, last %s; %.0f votes/s from the first vote sent to the last stored\n",
			firstVote.Sub(start).Round(time.Millisecond), lastVote.Sub(start).Round(time.Millisecond), float64(votes)/lastVote.Sub(start).Seconds())
	}
	if !lastAck.IsZero() {
		fmt.Printf("last acknowledgement %s after the storm began (last vote sent at %s)\n", lastAck.Sub(start).Round(time.Millisecond), cfg.spread)
	}
	slices.Sort(puts)
	fmt.Printf("the homeserver took the votes (PUT): median %s, worst %s; the last %s after the storm began\n",
		puts[len(puts)/2].Round(time.Millisecond), puts[len(puts)-1].Round(time.Millisecond), lastPut.Sub(start).Round(time.Millisecond))
	fmt.Printf("acknowledgement latency: median %s, p90 %s, p99 %s, worst %s\n", pct(0.5), pct(0.9), pct(0.99), pct(1))
	ok := ackErr == nil && votes == cfg.voters && distinct == cfg.voters && wrongStored == 0 && acked == cfg.voters && wrong == 0 && twiceLive == 0 && twiceRoom == 0
	if cfg.limit > 0 && pct(1) > cfg.limit {
		logf("target missed: worst acknowledgement %s, want within %s", pct(1), cfg.limit)
		ok = false
	}
	if ackErr != nil {
		logf("%v", ackErr)
	}
	if stopErr != nil {
		logf("stopping hallway: %v", stopErr)
		ok = false
	}
	if ok {
		fmt.Println("result: every vote stored once and acknowledged once")
	} else {
		fmt.Println("result: TARGET MISSED")
	}
	return ok, nil
}

// each runs f(0..n-1), parallel at a time, and returns the first error.
func each(ctx context.Context, parallel, n int, f func(i int) error) error {
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(i); err != nil {
				mu.Lock()
				first = cmpOr(first, err)
				mu.Unlock()
			}
		}()
		if ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	return first
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// retry runs f again while the homeserver answers M_LIMIT_EXCEEDED,
// waiting as long as it asks.
func retry(ctx context.Context, f func() error) error {
	for {
		err := f()
		var he mautrix.HTTPError
		if err == nil || !errors.As(err, &he) || he.RespError == nil || he.RespError.ErrCode != "M_LIMIT_EXCEEDED" {
			return err
		}
		d := time.Second
		if ms, ok := he.RespError.ExtraData["retry_after_ms"].(float64); ok {
			d = time.Duration(ms) * time.Millisecond
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.*)$`).FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return "?"
}

// messages returns every event of room's timeline visible to u
// (paginating /messages backwards).
func messages(ctx context.Context, u *matrixtest.User, room id.RoomID) ([]*event.Event, error) {
	var out []*event.Event
	from := ""
	for {
		var resp *mautrix.RespMessages
		err := retry(ctx, func() (err error) {
			resp, err = u.Client.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 100)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.Chunk {
			_ = e.Content.ParseRaw(e.Type)
			out = append(out, e)
		}
		if len(resp.Chunk) == 0 || resp.End == "" || resp.End == from {
			return out, nil
		}
		from = resp.End
	}
}
