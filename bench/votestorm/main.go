// Command votestorm is the vote-storm benchmark: N real IRC clients, each
// with its own services account, vote within a few seconds of each other
// through the test InspIRCd + Anope (scripts/testenv.sh), against a bot
// running in this process with the default send rate.
//
// It checks that every vote is recorded exactly once (in the SQLite
// database), that every voter gets an acknowledgement (in full, or as a
// segment of a coalesced line) within -limit, and that the bot never sends
// more lines than its token bucket allows; and it reports the latency from
// each vote line to its acknowledgement, throughput, and how many
// acknowledgements a bot line carried.
//
//	go run ./bench/votestorm -voters 200 -spread 10s
//
// bench/votestorm.sh starts the test environment and runs it. The exit
// status is 1 when a target is missed, 2 when the benchmark could not run.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/irc"
	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/store"
)

type config struct {
	voters    int
	spread    time.Duration
	burst     int
	rate      float64
	addr      string
	proposals int
	seed      uint64
	parallel  int
	ackWait   time.Duration
	limit     time.Duration
	settle    time.Duration
	keep      bool
	verbose   bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.voters, "voters", 200, "voters: IRC clients, each with its own services account")
	flag.DurationVar(&cfg.spread, "spread", 10*time.Second, "every voter votes at a time drawn uniformly within this window")
	flag.IntVar(&cfg.burst, "burst", 4, "the bot's send_burst (lines at once)")
	flag.Float64Var(&cfg.rate, "rate", 1.0, "the bot's send_rate (lines per second after the burst)")
	flag.StringVar(&cfg.addr, "irc", os.Getenv(irctest.EnvIRC), "host:port of the test IRC server (default $"+irctest.EnvIRC+")")
	flag.IntVar(&cfg.proposals, "proposals", 5, "proposals created before the storm; each voter votes for one at random")
	flag.Uint64Var(&cfg.seed, "seed", 1, "random seed for the vote times and choices")
	flag.IntVar(&cfg.parallel, "parallel", 20, "clients connecting and registering at once during setup")
	flag.DurationVar(&cfg.ackWait, "ackwait", 60*time.Second, "how long after the spread to wait for missing acknowledgements")
	flag.DurationVar(&cfg.limit, "limit", 20*time.Second, "target: every voter acknowledged within this time of their vote line")
	flag.DurationVar(&cfg.settle, "settle", 3*time.Second, "after the last acknowledgement, keep listening this long for duplicates")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the SQLite database (its path is printed)")
	flag.BoolVar(&cfg.verbose, "v", false, "print every line the bot sent during the storm, and the bot's info logs")
	flag.Parse()
	if cfg.addr == "" {
		fmt.Fprintf(os.Stderr, "votestorm: no IRC server: pass -irc or run `eval \"$(scripts/testenv.sh env)\"` (bench/votestorm.sh does both)\n")
		os.Exit(2)
	}
	if cfg.voters < 1 || cfg.proposals < 1 || cfg.burst < 1 || cfg.rate <= 0 || cfg.parallel < 1 || cfg.spread < 0 {
		fmt.Fprintln(os.Stderr, "votestorm: -voters, -proposals, -burst, -parallel and -rate must be positive, -spread not negative")
		os.Exit(2)
	}
	ok, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "votestorm:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "votestorm: "+format+"\n", args...)
}

// lineEvent is one line the bot sent, as a client received it.
type lineEvent struct {
	at      time.Time // when the client read it
	server  time.Time // its server-time tag (zero if none)
	target  string
	text    string
	acks    int
	private bool // to a voter's nick, seen by that voter
}

// observer sits in the channel and timestamps every line the bot sends.
type observer struct {
	c                *irctest.Client
	botNick, channel string

	joinOnce sync.Once
	joined   chan struct{}

	mu       sync.Mutex
	lines    []lineEvent
	ackCount map[string]int // by lower-cased nick
}

func (o *observer) run(ctx context.Context) {
	for {
		m, err := o.c.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				logf("observer: %v", err)
			}
			return
		}
		now := time.Now()
		if !strings.EqualFold(m.Prefix.Nick, o.botNick) {
			continue
		}
		switch m.Command {
		case "JOIN":
			if strings.EqualFold(m.Param(0), o.channel) {
				o.joinOnce.Do(func() { close(o.joined) })
			}
		case "PRIVMSG", "NOTICE":
			st, _ := m.Time()
			acks, _ := parseLine(m.Last())
			o.mu.Lock()
			for _, a := range acks {
				o.ackCount[strings.ToLower(a.nick)]++
			}
			o.lines = append(o.lines, lineEvent{at: now, server: st, target: m.Param(0), text: m.Last(), acks: len(acks)})
			o.mu.Unlock()
		}
	}
}

// private records a line the bot sent to a voter privately.
func (o *observer) private(at time.Time, m irctest.Message) {
	st, _ := m.Time()
	o.mu.Lock()
	o.lines = append(o.lines, lineEvent{at: at, server: st, target: m.Param(0), text: m.Last(), private: true})
	o.mu.Unlock()
}

// voter is one person in the storm.
type voter struct {
	nick   string
	c      *irctest.Client
	choice int64
	offset time.Duration

	sent       time.Time // just before the vote line went out
	echoServer time.Time // server-time of our own line (echo-message)
	ackAt      time.Time // first acknowledgement read
	ackServer  time.Time
	ackShort   bool
	acks       int      // acknowledgements seen (more than one is a duplicate)
	wrongAcks  []string // acknowledgements that do not match the vote
	others     []string // other replies addressed to us
	private    []string // lines the bot sent us privately
	err        error
}

// storm sends the vote at its time, then reads until ctx ends, noting the
// acknowledgement.
func (v *voter) storm(ctx context.Context, start time.Time, channel, botNick string, obs *observer, acked func()) {
	t := time.NewTimer(time.Until(start.Add(v.offset)))
	select {
	case <-ctx.Done():
		t.Stop()
		v.err = ctx.Err()
		return
	case <-t.C:
	}
	v.sent = time.Now()
	if err := v.c.Privmsg(channel, "!vote "+strconv.FormatInt(v.choice, 10)); err != nil {
		v.err = err
		return
	}
	for {
		m, err := v.c.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				v.err = err
			}
			return
		}
		now := time.Now()
		if m.Command != "PRIVMSG" && m.Command != "NOTICE" {
			continue
		}
		if strings.EqualFold(m.Prefix.Nick, v.nick) {
			if v.echoServer.IsZero() {
				v.echoServer, _ = m.Time()
			}
			continue
		}
		if !strings.EqualFold(m.Prefix.Nick, botNick) {
			continue
		}
		if !strings.EqualFold(m.Param(0), channel) {
			v.private = append(v.private, m.Last())
			obs.private(now, m)
			continue
		}
		acks, others := parseLine(m.Last())
		for _, a := range acks {
			if !strings.EqualFold(a.nick, v.nick) {
				continue
			}
			v.acks++
			if v.acks > 1 {
				continue
			}
			v.ackAt = now
			v.ackServer, _ = m.Time()
			v.ackShort = a.short
			if len(a.nums) != 1 || a.nums[0] != v.choice || a.left != 3 {
				v.wrongAcks = append(v.wrongAcks, m.Last())
			}
			acked()
		}
		for _, o := range others {
			if strings.EqualFold(o.nick, v.nick) {
				v.others = append(v.others, o.text)
			}
		}
	}
}

// parallel runs fn(0..n-1) with at most width at once and returns the
// first error (after all have finished).
func parallel(n, width int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, width)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// account connects as nick, registers it with NickServ (which logs the
// client in) and joins channel.
func account(ctx context.Context, addr, nick, channel string) (*irctest.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	c, err := irctest.Dial(ctx, addr, nick)
	if err != nil {
		return nil, err
	}
	if err := c.Register(ctx, "pw-"+nick, nick+"@test.local"); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", nick, err)
	}
	if channel != "" {
		if err := c.Join(ctx, channel); err != nil {
			c.Close()
			return nil, fmt.Errorf("%s: %w", nick, err)
		}
	}
	return c, nil
}

var reProposed = regexp.MustCompile(`: proposed #(\d+) `)

func run(cfg config) (ok bool, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	if lim := raiseNoFile(); lim != 0 && lim < uint64(cfg.voters)+64 {
		return false, fmt.Errorf("the file descriptor limit (%d) is too low for %d clients: raise ulimit -n", lim, cfg.voters)
	}
	unlock, err := lockTestEnv(os.Getenv(irctest.EnvDir), 5*time.Minute)
	if err != nil {
		return false, err
	}
	defer unlock()

	// Names no earlier run used: Anope keeps accounts until the next
	// testenv start. Lower case letters and digits only, so the account
	// the bot folds is the nick itself.
	runID := strconv.FormatInt(time.Now().UnixMilli()%(36*36*36*36*36), 36)
	pfx := "vs" + runID
	channel := "#" + pfx
	botNick, proposerNick, observerNick := pfx+"b", pfx+"p", pfx+"o"

	rng := rand.New(rand.NewPCG(cfg.seed, 0x766f746573746f72))
	voters := make([]*voter, cfg.voters)
	for i := range voters {
		voters[i] = &voter{
			nick:   fmt.Sprintf("%sv%d", pfx, i),
			choice: int64(rng.IntN(cfg.proposals)) + 1, // renumbered below from the bot's answers
			offset: time.Duration(rng.Int64N(int64(cfg.spread) + 1)),
		}
	}
	defer func() {
		_ = parallel(len(voters), 50, func(i int) error {
			if voters[i].c != nil {
				voters[i].c.Close()
			}
			return nil
		})
	}()

	fmt.Printf("vote storm: %d voters within %v, send_burst %d, send_rate %g/s, %d proposals, seed %d, server %s, run %s\n",
		cfg.voters, cfg.spread, cfg.burst, cfg.rate, cfg.proposals, cfg.seed, cfg.addr, pfx)

	// The bot's own account, then the observer (it creates the channel),
	// the proposer and the voters.
	t0 := time.Now()
	bc, err := account(ctx, cfg.addr, botNick, "")
	if err != nil {
		return false, fmt.Errorf("bot account: %w", err)
	}
	bc.Close()
	octx, ocancel := context.WithTimeout(ctx, time.Minute)
	oc, err := irctest.Dial(octx, cfg.addr, observerNick)
	if err == nil {
		err = oc.Join(octx, channel)
	}
	ocancel()
	if err != nil {
		return false, fmt.Errorf("observer: %w", err)
	}
	defer oc.Close()
	pc, err := account(ctx, cfg.addr, proposerNick, channel)
	if err != nil {
		return false, fmt.Errorf("proposer: %w", err)
	}
	defer pc.Close()

	var registered atomic.Int64
	err = parallel(len(voters), cfg.parallel, func(i int) error {
		c, err := account(ctx, cfg.addr, voters[i].nick, channel)
		if err != nil {
			return err
		}
		voters[i].c = c
		if n := registered.Add(1); n%50 == 0 {
			logf("%d/%d voters registered and joined (%.1fs)", n, len(voters), time.Since(t0).Seconds())
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("setting up voters: %w", err)
	}
	setupTime := time.Since(t0)
	logf("%d voter accounts registered, logged in and in %s in %.1fs", len(voters), channel, setupTime.Seconds())

	// The observer reads everything from here on.
	obs := &observer{c: oc, botNick: botNick, channel: channel, joined: make(chan struct{}), ackCount: map[string]int{}}
	obsCtx, obsCancel := context.WithCancel(ctx)
	obsDone := make(chan struct{})
	go func() { defer close(obsDone); obs.run(obsCtx) }()
	defer func() { obsCancel(); <-obsDone }()

	// The bot, in process, as `hallway run` would start it.
	dir, err := os.MkdirTemp("", "votestorm-")
	if err != nil {
		return false, err
	}
	dbPath := filepath.Join(dir, "hallway.db")
	if !cfg.keep {
		defer os.RemoveAll(dir)
	}
	level := slog.LevelWarn
	if cfg.verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		return false, err
	}
	ev := &bot.Event{Slug: "storm", Name: "Vote Storm", Channel: channel, VotesPerPerson: 4}
	b := bot.New(st, []*bot.Event{ev}, &bot.Options{Prefix: "!", RequireAccount: true, Logger: logger})
	if err := b.Init(ctx); err != nil {
		st.Close()
		return false, err
	}
	host, portStr, _ := strings.Cut(cfg.addr, ":")
	port, err := strconv.Atoi(portStr)
	if err != nil {
		st.Close()
		return false, fmt.Errorf("bad -irc %q: %w", cfg.addr, err)
	}
	ircc := irc.New(b, st, &irc.Options{
		Server: host, Port: port, Nick: botNick, SASLUser: botNick, SASLPassword: "pw-" + botNick,
		Channels: []string{channel}, SendBurst: cfg.burst, SendRate: cfg.rate, Logger: logger,
	})
	b.SetReplier(bot.IRC, ircc)
	botCtx, botCancel := context.WithCancel(ctx)
	botDone := make(chan struct{})
	go func() {
		defer close(botDone)
		if err := ircc.Run(botCtx); err != nil {
			logf("bot: %v", err)
		}
	}()
	botStopped := false
	stopBot := func() {
		if botStopped {
			return
		}
		botStopped = true
		botCancel()
		<-botDone
		st.Close()
	}
	defer stopBot()

	t1 := time.Now()
	select {
	case <-obs.joined:
	case <-time.After(time.Minute):
		return false, fmt.Errorf("the bot %s did not join %s within a minute", botNick, channel)
	}
	logf("bot %s joined %s in %.1fs", botNick, channel, time.Since(t1).Seconds())

	// Proposals, one at a time, each answered before the next.
	nums := make([]int64, 0, cfg.proposals)
	for k := 1; k <= cfg.proposals; k++ {
		if err := pc.Privmsg(channel, fmt.Sprintf(`!propose "Session %d"`, k)); err != nil {
			return false, err
		}
		pctx, pcancel := context.WithTimeout(ctx, time.Minute)
		m, err := pc.Expect(pctx, func(m irctest.Message) bool {
			return m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, botNick) &&
				strings.HasPrefix(m.Last(), proposerNick+": ")
		})
		pcancel()
		if err != nil {
			return false, fmt.Errorf("waiting for the answer to proposal %d: %w", k, err)
		}
		sm := reProposed.FindStringSubmatch(m.Last())
		if sm == nil {
			return false, fmt.Errorf("proposal %d: unexpected answer %q", k, m.Last())
		}
		n, _ := strconv.ParseInt(sm[1], 10, 64)
		nums = append(nums, n)
	}
	for _, v := range voters {
		v.choice = nums[v.choice-1]
	}
	logf("proposals %v created", nums)

	// Drain what the voters received during setup (everyone's JOINs), so
	// the storm starts with empty queues.
	err = parallel(len(voters), 50, func(i int) error {
		sctx, scancel := context.WithTimeout(ctx, time.Minute)
		defer scancel()
		_, err := voters[i].c.Sync(sctx)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("draining the voters' queues: %w", err)
	}
	// Let the bot's token bucket fill up again after the proposal answers.
	refill := time.Duration(float64(cfg.burst) / cfg.rate * float64(time.Second))
	time.Sleep(min(refill, 10*time.Second))

	// The storm.
	start := time.Now().Add(time.Second)
	stormCtx, stormCancel := context.WithDeadline(ctx, start.Add(cfg.spread+cfg.ackWait))
	defer stormCancel()
	var nAcked atomic.Int64
	allAcked := make(chan struct{})
	acked := func() {
		if nAcked.Add(1) == int64(len(voters)) {
			close(allAcked)
		}
	}
	logf("storm: %d votes from %s for %v", len(voters), start.Format("15:04:05.000"), cfg.spread)
	var wg sync.WaitGroup
	for _, v := range voters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v.storm(stormCtx, start, channel, botNick, obs, acked)
		}()
	}
	timedOut := false
	select {
	case <-allAcked:
		logf("all %d acknowledged %.1fs after the storm began; listening %v more for duplicates", len(voters), time.Since(start).Seconds(), cfg.settle)
		select {
		case <-time.After(cfg.settle):
		case <-stormCtx.Done():
		}
	case <-stormCtx.Done():
		timedOut = true
		logf("gave up waiting: %d of %d acknowledged", nAcked.Load(), len(voters))
	}
	stormCancel()
	wg.Wait()

	stopBot()
	obsCancel()
	<-obsDone

	res, err := checkDB(dbPath, voters)
	if err != nil {
		return false, fmt.Errorf("checking the database: %w", err)
	}
	if cfg.keep {
		fmt.Printf("database kept: %s\n", dbPath)
	}
	return report(cfg, voters, obs, res, timedOut, setupTime), nil
}

// dbResult is what the database says about the votes.
type dbResult struct {
	total, distinct int
	byVoter         map[string][]int64 // account -> proposal numbers
	strangers       int                // votes from accounts that are not voters
	first, last     time.Time          // created_at range
}

func checkDB(path string, voters []*voter) (dbResult, error) {
	r := dbResult{byVoter: map[string][]int64{}}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return r, err
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT person_id) FROM vote`).Scan(&r.total, &r.distinct); err != nil {
		return r, err
	}
	rows, err := db.Query(`SELECT coalesce(i.value, ''), p.number, v.created_at
		FROM vote v JOIN proposal p ON p.id = v.proposal_id
		LEFT JOIN identity i ON i.person_id = v.person_id AND i.kind = 'irc'`)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	known := map[string]bool{}
	for _, v := range voters {
		known[strings.ToLower(v.nick)] = true
	}
	for rows.Next() {
		var (
			acct string
			num  int64
			at   any
		)
		if err := rows.Scan(&acct, &num, &at); err != nil {
			return r, err
		}
		if !known[acct] {
			r.strangers++
		}
		r.byVoter[acct] = append(r.byVoter[acct], num)
		if t, ok := asTime(at); ok {
			if r.first.IsZero() || t.Before(r.first) {
				r.first = t
			}
			if t.After(r.last) {
				r.last = t
			}
		}
	}
	return r, rows.Err()
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		return parseSQLiteTime(x)
	case []byte:
		return parseSQLiteTime(string(x))
	}
	return time.Time{}, false
}

func parseSQLiteTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// maxInWindow is the most events in any closed window [t, t+w], for
// sorted event offsets.
func maxInWindow(ts []time.Duration, w time.Duration) int {
	best, j := 0, 0
	for i := range ts {
		if j < i {
			j = i
		}
		for j < len(ts) && ts[j] <= ts[i]+w {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

func report(cfg config, voters []*voter, obs *observer, db dbResult, timedOut bool, setup time.Duration) bool {
	ok := true
	fail := func(format string, args ...any) {
		ok = false
		fmt.Printf("FAIL: "+format+"\n", args...)
	}
	n := len(voters)
	fmt.Printf("setup: %d accounts registered and joined in %s (%d at once); %d CPUs, GOMAXPROCS %d\n",
		n+2, secs(setup), cfg.parallel, runtime.NumCPU(), runtime.GOMAXPROCS(0))

	// Votes in the database.
	var lost, dup, wrong []string
	for _, v := range voters {
		got := db.byVoter[strings.ToLower(v.nick)]
		switch {
		case len(got) == 0:
			lost = append(lost, v.nick)
		case len(got) > 1:
			dup = append(dup, fmt.Sprintf("%s %v", v.nick, got))
		case got[0] != v.choice:
			wrong = append(wrong, fmt.Sprintf("%s voted #%d, recorded #%v", v.nick, v.choice, got[0]))
		}
	}
	fmt.Printf("votes recorded: %d of %d expected (%d distinct people); lost %d, duplicated %d, wrong proposal %d, from others %d\n",
		db.total, n, db.distinct, len(lost), len(dup), len(wrong), db.strangers)
	if db.total != n || db.distinct != n || len(lost)+len(dup)+len(wrong)+db.strangers > 0 {
		fail("votes in the database do not match the votes sent: lost %s; duplicated %s; wrong %s", list(lost), list(dup), list(wrong))
	}

	// Acknowledgements.
	var (
		lat, srvLat            []time.Duration
		missing, dupAck, wrAck []string
		others, private        []string
		sendErrs               []string
		short                  int
		firstSent, lastSent    time.Time
		lastAck                time.Time
		late                   int
	)
	for _, v := range voters {
		if v.err != nil {
			sendErrs = append(sendErrs, fmt.Sprintf("%s: %v", v.nick, v.err))
		}
		if !v.sent.IsZero() {
			if firstSent.IsZero() || v.sent.Before(firstSent) {
				firstSent = v.sent
			}
			if v.sent.After(lastSent) {
				lastSent = v.sent
			}
		}
		for _, o := range v.others {
			others = append(others, v.nick+": "+o)
		}
		for _, p := range v.private {
			private = append(private, v.nick+" (private): "+p)
		}
		if v.acks == 0 {
			missing = append(missing, v.nick)
			continue
		}
		if v.acks > 1 {
			dupAck = append(dupAck, fmt.Sprintf("%s ×%d", v.nick, v.acks))
		}
		wrAck = append(wrAck, v.wrongAcks...)
		if v.ackShort {
			short++
		}
		d := v.ackAt.Sub(v.sent)
		lat = append(lat, d)
		if d > cfg.limit {
			late++
		}
		if !v.echoServer.IsZero() && !v.ackServer.IsZero() {
			srvLat = append(srvLat, v.ackServer.Sub(v.echoServer))
		}
		if v.ackAt.After(lastAck) {
			lastAck = v.ackAt
		}
	}
	slices.Sort(lat)
	slices.Sort(srvLat)
	fmt.Printf("acknowledged: %d of %d (%d in a coalesced line, %d in full form); missing %d, duplicate acks %d, wrong acks %d\n",
		len(lat), n, short, len(lat)-short, len(missing), len(dupAck), len(wrAck))
	if len(missing) > 0 {
		fail("%d voters never acknowledged (waited %v after the spread%s): %s", len(missing), cfg.ackWait, map[bool]string{true: ", timed out", false: ""}[timedOut], list(missing))
	}
	if len(dupAck) > 0 {
		fail("acknowledged more than once: %s", list(dupAck))
	}
	if len(wrAck) > 0 {
		fail("acknowledgements that do not match the vote: %s", list(wrAck))
	}
	if len(others) > 0 {
		fmt.Printf("other replies to voters (%d): %s\n", len(others), list(others))
	}
	if len(private) > 0 {
		fmt.Printf("private lines to voters (%d): %s\n", len(private), list(private))
	}
	if len(sendErrs) > 0 {
		fail("voter connection errors: %s", list(sendErrs))
	}
	if len(lat) > 0 {
		fmt.Printf("latency vote line -> ack (client clocks): p50 %s  p90 %s  p99 %s  max %s  (min %s)\n",
			secs(percentile(lat, .5)), secs(percentile(lat, .9)), secs(percentile(lat, .99)), secs(lat[len(lat)-1]), secs(lat[0]))
	}
	if len(srvLat) > 0 {
		fmt.Printf("latency by server-time tags (InspIRCd relayed vote -> relayed ack, ms resolution, %d voters): p50 %s  p90 %s  p99 %s  max %s\n",
			len(srvLat), secs(percentile(srvLat, .5)), secs(percentile(srvLat, .9)), secs(percentile(srvLat, .99)), secs(srvLat[len(srvLat)-1]))
	}
	if late > 0 {
		fail("%d voters acknowledged later than %v after their vote line", late, cfg.limit)
	}

	// Throughput.
	if !firstSent.IsZero() {
		fmt.Printf("storm: votes sent over %s (%.1f votes/s offered)\n", secs(lastSent.Sub(firstSent)), float64(n)/max(lastSent.Sub(firstSent).Seconds(), 1e-3))
		if !db.last.IsZero() {
			span := db.last.Sub(firstSent)
			fmt.Printf("throughput: %d votes recorded in %s from the first vote line to the last vote's commit = %.1f votes/s (commits from %+.2fs to %+.2fs)\n",
				db.total, secs(span), float64(db.total)/max(span.Seconds(), 1e-3), db.first.Sub(firstSent).Seconds(), db.last.Sub(firstSent).Seconds())
		}
		if !lastAck.IsZero() {
			span := lastAck.Sub(firstSent)
			fmt.Printf("acknowledged throughput: %d acks in %s from the first vote line to the last ack = %.1f acks/s\n",
				len(lat), secs(span), float64(len(lat))/max(span.Seconds(), 1e-3))
		}
	}

	// The bot's send rate, as the observer (and voters, for private lines)
	// saw it: every line since the bot joined, proposal answers included.
	obs.mu.Lock()
	lines := slices.Clone(obs.lines)
	ackCount := obs.ackCount
	obs.mu.Unlock()
	slices.SortFunc(lines, func(a, b lineEvent) int { return a.at.Compare(b.at) })
	var (
		local, server  []time.Duration
		stormLines     int
		stormAcks      int
		linesWithAcks  int
		maxAcksPerLine int
	)
	for _, l := range lines {
		local = append(local, l.at.Sub(lines[0].at))
		if !l.server.IsZero() {
			server = append(server, l.server.Sub(lines[0].server))
		}
		if !l.at.Before(firstSent) {
			stormLines++
			stormAcks += l.acks
			if l.acks > 0 {
				linesWithAcks++
			}
			maxAcksPerLine = max(maxAcksPerLine, l.acks)
		}
	}
	slices.Sort(server)
	obsAcks, obsDups := 0, 0
	for _, c := range ackCount {
		obsAcks++
		if c > 1 {
			obsDups++
		}
	}
	fmt.Printf("bot lines: %d in all (%d during the storm, %d of them carrying acks); %.1f acks per storm line (max %d in one line)\n",
		len(lines), stormLines, linesWithAcks, float64(stormAcks)/max(float64(stormLines), 1), maxAcksPerLine)
	fmt.Printf("observer cross-check: %d distinct nicks acknowledged in the channel, %d acknowledged more than once\n", obsAcks, obsDups)
	fmt.Printf("send rate (allowed in a window w: send_burst + send_rate·w lines, +1 tolerance for network timing):\n")
	fmt.Printf("  %8s  %10s  %12s  %7s\n", "window", "max lines", "server-time", "allowed")
	for _, w := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 20 * time.Second, 30 * time.Second, 60 * time.Second} {
		allowed := cfg.burst + int(math.Floor(cfg.rate*w.Seconds()+1e-9))
		got := maxInWindow(local, w)
		gotSrv := maxInWindow(server, w)
		mark := ""
		if got > allowed+1 {
			mark = "  EXCEEDED"
			fail("the bot sent %d lines within %v; allowed %d (+1)", got, w, allowed)
		}
		fmt.Printf("  %8v  %10d  %12d  %7d%s\n", w, got, gotSrv, allowed, mark)
	}
	if cfg.verbose {
		fmt.Printf("bot lines (seconds from the storm's first vote line, by the observer's clock):\n")
		for _, l := range lines {
			text := l.text
			if r := []rune(text); len(r) > 100 {
				text = string(r[:97]) + "..."
			}
			fmt.Printf("  %+7.2fs  acks %2d  %3d B  %s  %s\n", l.at.Sub(firstSent).Seconds(), l.acks, len(l.text), l.target, text)
		}
	}
	if ok {
		fmt.Println("PASS: every vote recorded exactly once, every voter acknowledged within", cfg.limit, "and the bot within its send rate")
	}
	return ok
}

// list shows up to 10 items.
func list(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	if len(items) > 10 {
		return strings.Join(items[:10], "; ") + fmt.Sprintf("; … (%d more)", len(items)-10)
	}
	return strings.Join(items, "; ")
}
