// Command mailbench is the mail throughput benchmark: N registration mails
// (default 10,000, each from its own address) are put into the bot's IMAP
// folder in the test Dovecot (scripts/testenv.sh), then hallway takes them
// in (IMAP IDLE intake, one SQLite transaction per mail, MOVE to the
// processed folder) and mails a confirmation to each through the test
// OpenSMTPD, which delivers it to the address's own Dovecot mailbox by
// LMTP.
//
// It reports mails per second for the intake (in the folder → recorded
// and moved away) and end to end (→ every confirmation delivered into
// Dovecot and the outbox drained), hallway's peak RSS, the CPU each
// server used, and checks that every mail was taken in once and every
// confirmation delivered once.
//
// By default it runs the real binary (hallway run -config FILE), so the
// RSS is the process's own (VmHWM). -inprocess wires the same parts in
// this process instead (the IMAP intake, mail desk, bot and SMTP sender,
// without IRC), which -cpuprofile needs, and times where the intake's and
// the sender's wall time goes (SQLite vs IMAP vs SMTP); -smtptrace adds a
// proxy in front of OpenSMTPD that times each SMTP command's reply.
//
//	bench/mailbench.sh                      # 10,000 mails, the real binary
//	bench/mailbench.sh -inprocess -smtptrace -cpuprofile cpu.out
//
// The exit status is 0 when the target rate is met exactly once, 1 when a
// target is missed, 2 when the benchmark could not run.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
	_ "modernc.org/sqlite"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/mail"
	"github.com/hallwayhq/hallway/mail/mailtest"
	"github.com/hallwayhq/hallway/store"
)

type config struct {
	mails      int
	imapAddr   string
	smtpAddr   string
	ircAddr    string
	envDir     string
	bin        string
	inProcess  bool
	cpuProfile string
	smtpTrace  bool
	perf       string
	sinkOnly   bool
	conns      int
	target     float64
	timeout    time.Duration
	keep       bool
	verbose    bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.mails, "mails", 10000, "registration mails, each from its own address")
	flag.StringVar(&cfg.imapAddr, "imap", os.Getenv(irctest.EnvIMAP), "Dovecot IMAP host:port (default $"+irctest.EnvIMAP+")")
	flag.StringVar(&cfg.smtpAddr, "smtp", os.Getenv(irctest.EnvSMTP), "OpenSMTPD host:port (default $"+irctest.EnvSMTP+")")
	flag.StringVar(&cfg.ircAddr, "irc", os.Getenv(irctest.EnvIRC), "InspIRCd host:port, which the binary also connects to (default $"+irctest.EnvIRC+")")
	flag.StringVar(&cfg.envDir, "envdir", os.Getenv(irctest.EnvDir), "the test environment's state directory, for OpenSMTPD's log and Dovecot's mail (default $"+irctest.EnvDir+")")
	flag.StringVar(&cfg.bin, "bin", "", "the hallway binary (default: go build ./cmd/hallway into a temporary directory)")
	flag.BoolVar(&cfg.inProcess, "inprocess", false, "run intake, desk, bot and sender in this process (no IRC) and time their parts")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (implies -inprocess)")
	flag.BoolVar(&cfg.smtpTrace, "smtptrace", false, "with -inprocess: time each SMTP reply through a proxy in front of OpenSMTPD")
	flag.StringVar(&cfg.perf, "perf", "", "record the whole machine with perf (perf record -a) into this file while hallway runs, and print the CPU share of each program")
	flag.BoolVar(&cfg.sinkOnly, "sinkonly", false, "no hallway: submit the confirmations' worth of mail straight to OpenSMTPD (-conns connections) and time their delivery into Dovecot, the test servers' own ceiling")
	flag.IntVar(&cfg.conns, "conns", 4, "with -sinkonly: SMTP connections at once")
	flag.Float64Var(&cfg.target, "target", 200, "target: mails per second end to end")
	flag.DurationVar(&cfg.timeout, "timeout", 15*time.Minute, "give up after this long")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the database, the IMAP folders and the addresses' mailboxes")
	flag.BoolVar(&cfg.verbose, "v", false, "copy hallway's log to stderr")
	flag.Parse()
	if cfg.cpuProfile != "" {
		cfg.inProcess = true
	}
	if cfg.smtpTrace && !cfg.inProcess {
		fmt.Fprintln(os.Stderr, "mailbench: -smtptrace needs -inprocess")
		os.Exit(2)
	}
	if cfg.imapAddr == "" || cfg.smtpAddr == "" || cfg.envDir == "" || (!cfg.inProcess && cfg.ircAddr == "") {
		fmt.Fprintln(os.Stderr, "mailbench: no test servers: run `eval \"$(scripts/testenv.sh env)\"` or pass -imap, -smtp, -irc and -envdir (bench/mailbench.sh does it all)")
		os.Exit(2)
	}
	if cfg.mails < 1 || cfg.mails > 99999 {
		fmt.Fprintln(os.Stderr, "mailbench: -mails must be within 1..99999")
		os.Exit(2)
	}
	if cfg.sinkOnly {
		if err := sinkOnly(cfg); err != nil {
			fmt.Fprintln(os.Stderr, "mailbench:", err)
			os.Exit(2)
		}
		return
	}
	ok, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailbench:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mailbench: "+format+"\n", args...)
}

// hallway is the bot under test, a child process or in this process.
type hallway interface {
	// rss is the resident set now and at its peak, in KiB.
	rss() (now, peak int64)
	// exited is closed when it stopped by itself.
	exited() <-chan struct{}
	stop() error
	// report prints what it knows about itself.
	report(w io.Writer, cfg config)
}

func run(cfg config) (ok bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if !cfg.inProcess {
		// The binary connects to IRC: keep a test from restarting
		// InspIRCd under it, as irctest.TestEnv does.
		unlock, err := irctest.LockEnv()
		if err != nil {
			return false, err
		}
		defer unlock()
	}
	dir, err := os.MkdirTemp("", "mailbench-")
	if err != nil {
		return false, err
	}
	if cfg.keep {
		logf("keeping %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if !cfg.inProcess && cfg.bin == "" {
		cfg.bin = filepath.Join(dir, "hallway")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", cfg.bin, "./cmd/hallway").CombinedOutput()
		if err != nil {
			return false, fmt.Errorf("go build ./cmd/hallway (run from the repository's root, or pass -bin): %v\n%s", err, out)
		}
	}
	mailRoot, err := mailtest.MailRoot(cfg.envDir)
	if err != nil {
		return false, err
	}
	smtpLog := mailtest.FollowSMTPLog(cfg.envDir)

	// Names unique to this run: mailboxes outlive runs, and tests may use
	// the bot's INBOX meanwhile; a folder of our own starts empty.
	tag := fmt.Sprintf("mb%x", time.Now().UnixNano()%(1<<36))
	folder, processed := "bench-"+tag, "bench-"+tag+"-done"
	addrs := make([]string, cfg.mails)
	msgids := make([]string, cfg.mails)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("%s-%05d@test.local", tag, i)
		msgids[i] = fmt.Sprintf("%s-%05d@bench.test.local", tag, i)
	}
	defer func() {
		if cfg.keep {
			logf("kept IMAP folders %s and %s of bot@test.local, and the mailboxes %s/%s-*", folder, processed, mailRoot, tag)
			return
		}
		mailtest.DeleteMailboxes(cfg.imapAddr, folder, processed)
		for _, a := range addrs {
			os.RemoveAll(filepath.Join(mailRoot, a))
		}
	}()

	t0 := time.Now()
	if err := mailtest.MultiAppend(cfg.imapAddr, folder, processed, addrs, msgids); err != nil {
		return false, err
	}
	logf("%d register mails put into bot@test.local's folder %s in %s (MULTIAPPEND)", cfg.mails, folder, time.Since(t0).Round(time.Millisecond))

	dbPath := filepath.Join(dir, "hallway.db")
	logPath := filepath.Join(dir, "hallway.log")
	procs := newCPUSampler()
	sys0 := readProcStat()
	var perf *exec.Cmd
	if cfg.perf != "" {
		// System wide: short-lived processes (an MDA that OpenSMTPD
		// forks per delivery, if configured so) escape the /proc sampler.
		perf = exec.Command("perf", "record", "-a", "-F", "499", "-o", cfg.perf)
		perf.Stdout, perf.Stderr = io.Discard, io.Discard
		if err := perf.Start(); err != nil {
			return false, fmt.Errorf("perf: %w", err)
		}
		defer func() {
			if perf.ProcessState == nil {
				perf.Process.Signal(os.Interrupt)
				perf.Wait()
			}
		}()
	}
	var h hallway
	start := time.Now()
	if cfg.inProcess {
		h, err = startInProcess(ctx, cfg, dbPath, logPath, folder, processed)
	} else {
		h, err = startBinary(cfg, dir, dbPath, logPath, folder, processed, tag)
	}
	if err != nil {
		return false, err
	}
	stopped := false
	defer func() {
		if !stopped {
			h.stop()
		}
	}()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return false, err
	}
	defer db.Close()
	mon, err := mailtest.Dial(cfg.imapAddr)
	if err != nil {
		return false, err
	}
	defer mon.Close()

	// Watch until every confirmation is delivered and the outbox drained.
	var (
		tl                            timeline
		ingestAt, sentAt, deliveredAt time.Time
		marks                         = map[int]time.Duration{} // % delivered → when
		peakRSS                       int64
		lastPrint                     = start
		s                             progress
		deliveredN, inFlight          int
		timedOut, hallwayDied         bool
		tick                          = time.NewTicker(200 * time.Millisecond)
		cpuTick                       = time.NewTicker(time.Second)
	)
	defer tick.Stop()
	defer cpuTick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			timedOut = true
			break loop
		case <-h.exited():
			hallwayDied = true
			break loop
		case <-cpuTick.C:
			procs.sample()
			continue
		case <-tick.C:
		}
		now := time.Now()
		if p, err := readProgress(db); err == nil {
			s = p
		}
		if rssNow, _ := h.rss(); rssNow > peakRSS {
			peakRSS = rssNow
		}
		if _, del, open, err := smtpLog.Read(tag); err == nil {
			deliveredN, inFlight = len(del), open
		}
		for _, pc := range []int{50, 90, 99} {
			if _, ok := marks[pc]; !ok && deliveredN*100 >= cfg.mails*pc {
				marks[pc] = now.Sub(start)
			}
		}
		// The processed folder's count says the intake is done: moves
		// follow each batch's commits.
		if ingestAt.IsZero() && s.received == cfg.mails {
			if n, err := mailtest.Count(mon, folder); err == nil && n == 0 {
				ingestAt = now
			}
		}
		if sentAt.IsZero() && s.sent >= cfg.mails && s.pending == 0 {
			// Exactly, once it looks done (IRC rows share the ids).
			var sent int
			if err := db.QueryRow(`SELECT count(*) FROM outbox WHERE channel = 'mail' AND sent_at IS NOT NULL`).Scan(&sent); err == nil && sent >= cfg.mails {
				sentAt = now
			}
		}
		if deliveredN >= cfg.mails && inFlight == 0 && !sentAt.IsZero() && !ingestAt.IsZero() {
			deliveredAt = now
			tl.add(now.Sub(start), s, deliveredN, peakRSS)
			break
		}
		if now.Sub(lastPrint) >= 5*time.Second {
			lastPrint = now
			tl.add(now.Sub(start), s, deliveredN, peakRSS)
			logf("%5.1fs: %d received, %d sent (%d waiting), %d delivered, RSS %.1f MiB", now.Sub(start).Seconds(), s.received, s.sent, s.pending, deliveredN, float64(peakRSS)/1024)
		}
	}
	procs.sample()
	sys1 := readProcStat()
	if perf != nil {
		perf.Process.Signal(os.Interrupt)
		perf.Wait()
	}
	_, hwm := h.rss()
	stopped = true
	stopErr := h.stop()
	total := time.Since(start)

	out := os.Stdout
	fmt.Fprintf(out, "\nmailbench: %d registration mails, hallway %s\n", cfg.mails, map[bool]string{true: "in process (no IRC)", false: "binary (hallway run)"}[cfg.inProcess])
	fmt.Fprintf(out, "machine: %d CPUs, %s; %s\n", runtime.NumCPU(), cpuModel(), time.Now().UTC().Format("2006-01-02 15:04:05 UTC"))
	rate := func(at time.Time) string {
		if at.IsZero() {
			return "not reached"
		}
		d := at.Sub(start)
		return fmt.Sprintf("%.1f s, %.0f mails/s", d.Seconds(), float64(cfg.mails)/d.Seconds())
	}
	fmt.Fprintf(out, "intake (folder → recorded + moved): %s\n", rate(ingestAt))
	fmt.Fprintf(out, "outbox drained (all sent to OpenSMTPD): %s\n", rate(sentAt))
	fmt.Fprintf(out, "end to end (all delivered into Dovecot): %s\n", rate(deliveredAt))
	var pcs []string
	for _, pc := range []int{50, 90, 99} {
		if d, ok := marks[pc]; ok {
			pcs = append(pcs, fmt.Sprintf("%d%% at %.1f s (%.0f/s)", pc, d.Seconds(), float64(cfg.mails*pc/100)/d.Seconds()))
		}
	}
	fmt.Fprintf(out, "confirmations delivered: %s\n", strings.Join(pcs, ", "))
	fmt.Fprintf(out, "hallway peak RSS: %.1f MiB (VmHWM; highest VmRSS sampled %.1f MiB)\n", float64(hwm)/1024, float64(peakRSS)/1024)
	h.report(out, cfg)
	busy, all, iowait := sys1.sub(sys0)
	fmt.Fprintf(out, "machine CPU during the run: %.0f%% busy of %d CPUs (%.0f%% iowait)\n", 100*busy/all, runtime.NumCPU(), 100*iowait/all)
	procs.report(out, total)
	if perf != nil {
		perfReport(out, cfg.perf)
	}
	tl.print(out)

	ok = !timedOut && !hallwayDied && !deliveredAt.IsZero()
	switch {
	case timedOut:
		fmt.Fprintf(out, "TIMED OUT after %s: %d received, %d sent, %d waiting, %d delivered\n", cfg.timeout, s.received, s.sent, s.pending, deliveredN)
	case hallwayDied:
		fmt.Fprintf(out, "HALLWAY EXITED: %v\n", stopErr)
	}
	if stopErr != nil && !hallwayDied {
		fmt.Fprintf(out, "hallway's exit: %v\n", stopErr)
		ok = false
	}
	warnings(out, logPath)

	// Exactly once, checked after the stop so nothing moves any more.
	if _, _, err := smtpLog.WaitDelivered(ctx, tag, 0); err != nil {
		fmt.Fprintf(out, "OpenSMTPD: %v\n", err)
		ok = false
	}
	if !check(out, db, cfg, mon, folder, processed, smtpLog, tag, mailRoot, addrs, msgids) {
		ok = false
	}
	if e2e := deliveredAt.Sub(start).Seconds(); deliveredAt.IsZero() || float64(cfg.mails)/e2e < cfg.target {
		fmt.Fprintf(out, "TARGET MISSED: %.0f mails/s end to end wanted\n", cfg.target)
		ok = false
	} else {
		fmt.Fprintf(out, "target met: ≥ %.0f mails/s end to end\n", cfg.target)
	}
	if cfg.verbose || !ok {
		logf("hallway's log: %s%s", logPath, map[bool]string{true: "", false: " (removed at exit; -keep keeps it)"}[cfg.keep])
	}
	return ok, nil
}

// progress is what the database shows.
type progress struct {
	received int // mails recorded in the inbox
	sent     int // outbox mails marked sent
	pending  int // outbox mails not sent yet
}

// readProgress is polled while hallway runs, so it must cost next to
// nothing on a 2-CPU machine: counting rows of the outbox reads every
// mail's body, 10 MB at 10,000 mails. Rows are never deleted, so the
// highest ids count them; each mail has two inbox rows (its IMAP key and
// its Message-ID), and the unsent count comes from the outbox's partial
// index. check counts exactly at the end.
func readProgress(db *sql.DB) (progress, error) {
	var p progress
	var inboxRows, outboxRows int
	err := db.QueryRow(`SELECT
		(SELECT COALESCE(max(id), 0) FROM inbox),
		(SELECT COALESCE(max(id), 0) FROM outbox),
		(SELECT count(*) FROM outbox WHERE channel = 'mail' AND sent_at IS NULL)`).Scan(&inboxRows, &outboxRows, &p.pending)
	p.received = inboxRows / 2
	p.sent = outboxRows - p.pending
	return p, err
}

// timeline is the progress every few seconds.
type timeline struct {
	rows []string
}

func (t *timeline) add(at time.Duration, p progress, delivered int, rss int64) {
	t.rows = append(t.rows, fmt.Sprintf("  %6.1f s %9d %9d %9d %9d %8.1f", at.Seconds(), p.received, p.sent, p.pending, delivered, float64(rss)/1024))
}

func (t *timeline) print(w io.Writer) {
	fmt.Fprintf(w, "timeline:\n  %8s %9s %9s %9s %9s %8s\n", "t", "received", "sent", "waiting", "delivered", "RSS MiB")
	for _, r := range t.rows {
		fmt.Fprintln(w, r)
	}
}

// warnings counts the warnings and errors in hallway's log by message
// and error text, numbers and addresses taken out.
func warnings(w io.Writer, logPath string) {
	f, err := os.Open(logPath)
	if err != nil {
		return
	}
	defer f.Close()
	counts := map[string]int{}
	msgRe := regexp.MustCompile(`msg="([^"]*)"`)
	errRe := regexp.MustCompile(`err="([^"]*)"`)
	digits := regexp.MustCompile(`[0-9a-z-]*@test\.local|[0-9]+`)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "level=WARN") && !strings.Contains(line, "level=ERROR") {
			continue
		}
		key := ""
		if m := msgRe.FindStringSubmatch(line); m != nil {
			key = m[1]
		}
		if m := errRe.FindStringSubmatch(line); m != nil {
			key += ": " + digits.ReplaceAllString(m[1], "N")
		}
		counts[key]++
	}
	if len(counts) == 0 {
		fmt.Fprintln(w, "hallway logged no warnings")
		return
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "hallway's warnings and errors:")
	for _, k := range keys {
		fmt.Fprintf(w, "  %5d × %s\n", counts[k], k)
	}
}

// check verifies exactly once: each mail recorded once under each of its
// keys and moved away, one pending registration per address with its own
// token, one confirmation per address, sent, accepted by OpenSMTPD and
// delivered into the address's Maildir once, answering that address's
// mail with that registration's token.
func check(w io.Writer, db *sql.DB, cfg config, mon *imapclient.Client, folder, processed string, smtpLog *mailtest.SMTPLog, tag, mailRoot string, addrs, msgids []string) bool {
	ok := true
	fail := func(format string, args ...any) {
		ok = false
		fmt.Fprintf(w, "FAIL: "+format+"\n", args...)
	}
	n := cfg.mails
	var regs, emails, tokens, pending int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT email), count(DISTINCT token), count(*) FILTER (WHERE status = 'pending')
		FROM registration`).Scan(&regs, &emails, &tokens, &pending); err != nil {
		fail("registrations: %v", err)
	} else if regs != n || emails != n || tokens != n || pending != n {
		fail("registrations: %d rows, %d addresses, %d tokens, %d pending; want %d of each", regs, emails, tokens, pending, n)
	}
	var all, keys, imapKeys, msgidKeys int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT key), count(*) FILTER (WHERE key LIKE 'imap:%'),
		count(*) FILTER (WHERE key LIKE 'msgid:%') FROM inbox WHERE channel = 'mail'`).Scan(&all, &keys, &imapKeys, &msgidKeys); err != nil {
		fail("inbox: %v", err)
	} else if all != 2*n || keys != 2*n || imapKeys != n || msgidKeys != n {
		fail("inbox: %d rows, %d keys, %d IMAP keys, %d Message-ID keys; want %d, %d, %d, %d", all, keys, imapKeys, msgidKeys, 2*n, 2*n, n, n)
	}
	var out, targets, sent, retried int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT target), count(sent_at), count(*) FILTER (WHERE attempts > 1)
		FROM outbox WHERE channel = 'mail'`).Scan(&out, &targets, &sent, &retried); err != nil {
		fail("outbox: %v", err)
	} else if out != n || targets != n || sent != n {
		fail("outbox: %d mails to %d addresses, %d sent; want %d, all sent", out, targets, sent, n)
	}
	left, err1 := mailtest.Count(mon, folder)
	done, err2 := mailtest.Count(mon, processed)
	if err := errors.Join(err1, err2); err != nil {
		fail("IMAP: %v", err)
	} else if left != 0 || done != n {
		fail("IMAP: %d mails left in %s, %d in %s; want 0 and %d", left, folder, done, processed, n)
	}

	tokenOf := map[string]string{}
	if rows, err := db.Query(`SELECT email, token FROM registration`); err == nil {
		for rows.Next() {
			var e, t string
			rows.Scan(&e, &t)
			tokenOf[e] = t
		}
		rows.Close()
	}
	accepted, delivered, _, err := smtpLog.Read(tag)
	if err != nil {
		fail("OpenSMTPD's log: %v", err)
	}
	var missing, twice, wrong, logOff int
	for i, a := range addrs {
		got, err := mailtest.ReadMaildir(filepath.Join(mailRoot, a, "Maildir"))
		if err != nil {
			fail("%v", err)
			return false
		}
		switch {
		case len(got) == 0:
			missing++
		case len(got) > 1:
			twice++
		}
		if accepted[a] != len(got) || delivered[a] != len(got) {
			logOff++
		}
		for _, raw := range got {
			if err := mailtest.CheckConfirmation(raw, msgids[i], tokenOf[a]); err != nil {
				if wrong == 0 {
					fmt.Fprintf(w, "first wrong confirmation, to %s: %v\n", a, err)
				}
				wrong++
			}
		}
	}
	if missing+twice+wrong+logOff > 0 {
		fail("confirmations: %d addresses got none, %d more than one, %d mails wrong, %d addresses where OpenSMTPD's log disagrees with the Maildir", missing, twice, wrong, logOff)
	}
	if ok {
		fmt.Fprintf(w, "exactly once: %d mails recorded once (IMAP and Message-ID keys), %d moved; %d pending registrations, %d tokens; %d confirmations sent (%d after a retry), each address's Maildir holds exactly its one confirmation, OpenSMTPD accepted and delivered %d\n",
			n, done, regs, tokens, sent, retried, mailtest.Sum(delivered))
	}
	return ok
}

// ---------------------------------------------------------------- the binary

type binary struct {
	cmd   *exec.Cmd
	done  chan struct{}
	err   error
	usage *syscall.Rusage
}

func startBinary(cfg config, dir, dbPath, logPath, folder, processed, tag string) (*binary, error) {
	host, port, _ := strings.Cut(cfg.ircAddr, ":")
	text := fmt.Sprintf(`[store]
path = %q
[irc]
server = %q
port = %s
tls = false
nick = "hw%s"
[mail]
imap = %q
imap_security = "none"
imap_user = "bot@test.local"
imap_password_env = "HALLWAY_BENCH_IMAP_PASSWORD"
mailbox = %q
processed_mailbox = %q
smtp = %q
smtp_security = "none"
from = "Bench Day <bot@test.local>"
[[event]]
slug = "bench-day"
name = "Bench Day"
timezone = "Europe/Brussels"
channel = "#%s"
organizers = ["nobody"]
registration_capacity = 100000
`, dbPath, host, port, tag, cfg.imapAddr, folder, processed, cfg.smtpAddr, tag)
	cfgPath := filepath.Join(dir, "hallway.toml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.bin, "run", "-config", cfgPath)
	cmd.Env = append(os.Environ(), "HALLWAY_BENCH_IMAP_PASSWORD=botpass")
	cmd.Stdout = logf
	cmd.Stderr = logf
	if cfg.verbose {
		cmd.Stderr = io.MultiWriter(logf, os.Stderr)
		cmd.Stdout = cmd.Stderr
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	b := &binary{cmd: cmd, done: make(chan struct{})}
	go func() {
		b.err = cmd.Wait()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			b.usage = ru
		}
		logf.Close()
		close(b.done)
	}()
	return b, nil
}

func (b *binary) rss() (now, peak int64) {
	return procStatusKB(b.cmd.Process.Pid)
}

func (b *binary) exited() <-chan struct{} { return b.done }

func (b *binary) stop() error {
	select {
	case <-b.done:
		return fmt.Errorf("exited by itself: %v", b.err)
	default:
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
		return b.err
	case <-time.After(20 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
		return errors.New("still running 20 s after SIGTERM")
	}
}

func (b *binary) report(w io.Writer, cfg config) {
	if b.usage != nil {
		u := time.Duration(b.usage.Utime.Nano())
		s := time.Duration(b.usage.Stime.Nano())
		fmt.Fprintf(w, "hallway CPU: %.1f s user + %.1f s system (%.2f ms a mail); max RSS (rusage) %.1f MiB\n",
			u.Seconds(), s.Seconds(), float64((u+s).Microseconds())/1000/float64(cfg.mails), float64(b.usage.Maxrss)/1024)
	}
}

// procStatusKB reads VmRSS and VmHWM of a process, in KiB.
func procStatusKB(pid int) (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm
}

// ---------------------------------------------------------------- in process

// inProcess runs the mail parts as cmd/hallway's Open wires them (the
// defaults of config: intake, desk, bot with prefix "!" and
// require_account, sender), without IRC, with timing wrappers around the
// store calls of the intake and the sender.
type inProcess struct {
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
	store   *store.Store
	logFile *os.File
	deliver *timedDesk
	outbox  *timedOutbox
	trace   *smtpTracer
	prof    *os.File
	start   time.Time
}

func startInProcess(ctx context.Context, cfg config, dbPath, logPath, folder, processed string) (*inProcess, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	var lw io.Writer = logFile
	if cfg.verbose {
		lw = io.MultiWriter(logFile, os.Stderr)
	}
	log := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelInfo}))
	p := &inProcess{logFile: logFile, done: make(chan struct{}), start: time.Now()}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		p.prof = f
	}
	s, err := store.Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	p.store = s
	zone, _ := time.LoadLocation("Europe/Brussels")
	b := bot.New(s, []*bot.Event{{Slug: "bench-day", Name: "Bench Day", Channel: "#bench", Organizers: []bot.Identity{bot.IRCIdentity("nobody")}, Capacity: 100000, Zone: zone}},
		&bot.Options{Prefix: "!", RequireAccount: true, Nick: "hallway", Logger: log})
	if err := b.Init(ctx); err != nil {
		return nil, err
	}
	const from = "Bench Day <bot@test.local>"
	desk := &mail.Desk{Bot: b, Store: s, From: from, Logger: log}
	b.SetReplier(bot.Mail, desk)
	b.SetMailer(desk)
	b.SetAnnouncer(desk)
	smtpAddr := cfg.smtpAddr
	if cfg.smtpTrace {
		p.trace, err = newSMTPTracer(cfg.smtpAddr)
		if err != nil {
			return nil, err
		}
		smtpAddr = p.trace.addr
	}
	p.outbox = &timedOutbox{s: s}
	sender, err := mail.NewSender(p.outbox, &mail.SenderOptions{Addr: smtpAddr, Security: mail.SecurityNone, From: "bot@test.local", Logger: log})
	if err != nil {
		return nil, err
	}
	b.OnQueued(sender.Wake)
	desk.Wake = sender.Wake
	p.deliver = &timedDesk{d: desk}
	intake := mail.NewIntake(&mail.IntakeOptions{Addr: cfg.imapAddr, Security: "none", Username: "bot@test.local", Password: "botpass",
		Mailbox: folder, Processed: processed, Logger: log}, p.deliver)
	runCtx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	var wg sync.WaitGroup
	for _, f := range []func(context.Context) error{sender.Run, intake.Run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(runCtx); err != nil && p.err == nil {
				p.err = err
			}
		}()
	}
	go func() {
		wg.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *inProcess) rss() (now, peak int64) { return procStatusKB(os.Getpid()) }

// exited never fires: the parts run until stopped.
func (p *inProcess) exited() <-chan struct{} { return nil }

func (p *inProcess) stop() error {
	p.cancel()
	<-p.done
	if p.prof != nil {
		pprof.StopCPUProfile()
		p.prof.Close()
	}
	if p.trace != nil {
		p.trace.close()
	}
	p.store.Close()
	p.logFile.Close()
	return p.err
}

func (p *inProcess) report(w io.Writer, cfg config) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "(in process, the RSS includes the benchmark's own; Go heap now %.1f MiB, %d GCs)\n", float64(ms.HeapAlloc)/(1<<20), ms.NumGC)
	d := p.deliver
	d.mu.Lock()
	fmt.Fprintf(w, "intake: %d Deliver calls (parse + bot + SQLite commit) took %.1f s in all, %.2f ms each; intake busy from first to last Deliver %.1f s, so IMAP (search, fetch, move) ≈ %.1f s\n",
		d.n, d.total.Seconds(), ms1(d.total, d.n), d.last.Sub(d.first).Seconds(), (d.last.Sub(d.first) - d.total).Seconds())
	d.mu.Unlock()
	o := p.outbox
	o.mu.Lock()
	fmt.Fprintf(w, "sender: Pending %d calls %.1f s (%.2f ms); MarkSent %d calls %.1f s (%.2f ms); MarkFailed %d calls %.1f s\n",
		o.pendingN, o.pending.Seconds(), ms1(o.pending, o.pendingN), o.sentN, o.sent.Seconds(), ms1(o.sent, o.sentN), o.failedN, o.failed.Seconds())
	o.mu.Unlock()
	if p.trace != nil {
		p.trace.report(w)
	}
	if cfg.cpuProfile != "" {
		fmt.Fprintf(w, "CPU profile: %s (go tool pprof -top %s)\n", cfg.cpuProfile, cfg.cpuProfile)
	}
}

func ms1(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / 1000 / float64(n)
}

// timedDesk times each mail the intake hands over.
type timedDesk struct {
	d           *mail.Desk
	mu          sync.Mutex
	n           int
	total       time.Duration
	first, last time.Time
}

func (t *timedDesk) Deliver(ctx context.Context, dv mail.Delivery) error {
	start := time.Now()
	err := t.d.Deliver(ctx, dv)
	end := time.Now()
	t.mu.Lock()
	if t.n == 0 {
		t.first = start
	}
	t.n++
	t.total += end.Sub(start)
	t.last = end
	t.mu.Unlock()
	return err
}

func (t *timedDesk) Failed(ctx context.Context, dv mail.Delivery, cause error) (bool, error) {
	return t.d.Failed(ctx, dv, cause)
}

// timedOutbox times the sender's store calls. (The sender works over
// several connections at once: -smtptrace times the SMTP replies.)
type timedOutbox struct {
	s                        *store.Store
	mu                       sync.Mutex
	pending, sent, failed    time.Duration
	pendingN, sentN, failedN int
}

func (o *timedOutbox) Pending(ctx context.Context, channel string, after int64, limit int) ([]store.Message, error) {
	start := time.Now()
	msgs, err := o.s.Pending(ctx, channel, after, limit)
	o.mu.Lock()
	o.pendingN++
	o.pending += time.Since(start)
	o.mu.Unlock()
	return msgs, err
}

// ClaimOutbox is timed with Pending: both are the sender's reading.
func (o *timedOutbox) ClaimOutbox(ctx context.Context, ids ...int64) ([]int64, error) {
	start := time.Now()
	claimed, err := o.s.ClaimOutbox(ctx, ids...)
	o.mu.Lock()
	o.pending += time.Since(start)
	o.mu.Unlock()
	return claimed, err
}

func (o *timedOutbox) MarkSent(ctx context.Context, ids ...int64) error {
	start := time.Now()
	err := o.s.MarkSent(ctx, ids...)
	o.mu.Lock()
	o.sentN++
	o.sent += time.Since(start)
	o.mu.Unlock()
	return err
}

func (o *timedOutbox) MarkFailed(ctx context.Context, id int64, cause error, retryAt time.Time) error {
	start := time.Now()
	err := o.s.MarkFailed(ctx, id, cause, retryAt)
	o.mu.Lock()
	o.failedN++
	o.failed += time.Since(start)
	o.mu.Unlock()
	return err
}

// smtpTracer is a proxy in front of OpenSMTPD that times, for each SMTP
// command, the wait from the command's last byte to the reply's last
// line: "." is the end of DATA, answered once OpenSMTPD has queued the
// mail.
type smtpTracer struct {
	addr string
	ln   net.Listener
	up   string
	mu   sync.Mutex
	lat  map[string][]time.Duration
}

func newSMTPTracer(upstream string) (*smtpTracer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &smtpTracer{addr: ln.Addr().String(), ln: ln, up: upstream, lat: map[string][]time.Duration{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go t.serve(c)
		}
	}()
	return t, nil
}

func (t *smtpTracer) close() { t.ln.Close() }

func (t *smtpTracer) serve(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", t.up)
	if err != nil {
		return
	}
	defer server.Close()
	type sent struct {
		cmd string
		at  time.Time
	}
	// go-smtp waits for each reply (no PIPELINING), so a queue of one
	// would do; a channel keeps it simple either way.
	cmds := make(chan sent, 64)
	cmds <- sent{"CONNECT", time.Now()}
	go func() {
		r := bufio.NewReader(client)
		inData := false
		for {
			line, err := r.ReadString('\n')
			// The command is queued before it is passed on: the reply
			// can come back before this goroutine runs again.
			text := strings.TrimRight(line, "\r\n")
			now := time.Now()
			switch {
			case err != nil:
			case inData:
				if text == "." {
					inData = false
					cmds <- sent{"end of DATA", now}
				}
			default:
				verb, _, _ := strings.Cut(text, " ")
				verb = strings.ToUpper(verb)
				if i := strings.IndexByte(verb, ':'); i >= 0 {
					verb = verb[:i]
				}
				cmds <- sent{verb, now}
				// The body follows the 354; after a refused DATA the
				// sender hangs up.
				inData = verb == "DATA"
			}
			if len(line) > 0 {
				if _, err := io.WriteString(server, line); err != nil {
					return
				}
			}
			if err != nil {
				server.(*net.TCPConn).CloseWrite()
				return
			}
		}
	}()
	r := bufio.NewReader(server)
	for {
		line, err := r.ReadString('\n')
		if len(line) > 0 {
			if _, err := io.WriteString(client, line); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
		// "250-…" continues, "250 …" is the last line of a reply.
		if len(line) >= 4 && line[3] == ' ' {
			now := time.Now()
			select {
			case c := <-cmds:
				key := c.cmd + " → " + line[:3]
				t.mu.Lock()
				t.lat[key] = append(t.lat[key], now.Sub(c.at))
				t.mu.Unlock()
			default:
			}
		}
	}
}

func (t *smtpTracer) report(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.lat))
	for k := range t.lat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "OpenSMTPD's reply times (proxy: command sent → reply):")
	for _, k := range keys {
		d := t.lat[k]
		slices.Sort(d)
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		fmt.Fprintf(w, "  %-22s %6d × mean %6.2f ms, median %6.2f, p99 %6.2f, total %6.1f s\n", k, len(d),
			ms1(sum, len(d)), ms1(d[len(d)/2], 1), ms1(d[len(d)*99/100], 1), sum.Seconds())
	}
}

// ---------------------------------------------------------------- CPU

// cpuSampler keeps the CPU time of every process seen, so the servers'
// share shows: Dovecot's imap and lmtp, OpenSMTPD's smtpd processes,
// hallway. A process that lives less than a sample interval (1 s) is
// missed.
type cpuSampler struct {
	started bool
	first   map[int]int64 // pid → ticks when first seen (0 if born since)
	last    map[int]int64
	comm    map[int]string
}

func newCPUSampler() *cpuSampler {
	c := &cpuSampler{first: map[int]int64{}, last: map[int]int64{}, comm: map[int]string{}}
	c.sample()
	c.started = true
	return c
}

func (c *cpuSampler) sample() {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid … utime stime: fields 14 and 15, counted
		// after the ")" that ends comm (which may hold spaces).
		s := string(b)
		i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(s[j+1:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		if _, ok := c.first[pid]; !ok {
			if !c.started {
				c.first[pid] = ut + st
			}
		}
		c.last[pid] = ut + st
		c.comm[pid] = s[i+1 : j]
	}
}

func (c *cpuSampler) report(w io.Writer, wall time.Duration) {
	const hz = 100 // USER_HZ
	by := map[string]float64{}
	for pid, t := range c.last {
		if d := t - c.first[pid]; d > 0 {
			by[c.comm[pid]] += float64(d) / hz
		}
	}
	type kv struct {
		k string
		v float64
	}
	var list []kv
	for k, v := range by {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v })
	fmt.Fprintf(w, "CPU seconds by process name over %.1f s (sampled every second):", wall.Seconds())
	for i, e := range list {
		if i == 10 || e.v < 0.05 {
			break
		}
		fmt.Fprintf(w, " %s %.1f;", e.k, e.v)
	}
	fmt.Fprintln(w)
}

// perfReport prints the programs with the largest share of the CPU
// samples perf took.
func perfReport(w io.Writer, file string) {
	out, err := exec.Command("perf", "report", "-i", file, "--sort", "comm", "--stdio").Output()
	if err != nil {
		fmt.Fprintf(w, "perf report: %v\n", err)
		return
	}
	var top []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || !strings.HasSuffix(f[0], "%") {
			continue
		}
		top = append(top, f[1]+" "+f[0])
		if len(top) == 14 {
			break
		}
	}
	fmt.Fprintf(w, "perf, share of all CPU samples on the machine (idle is swapper): %s\n", strings.Join(top, ", "))
}

// procStat is the machine's CPU time from /proc/stat.
type procStat struct{ busy, all, iowait float64 }

func readProcStat() procStat {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return procStat{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)[1:]
	var p procStat
	for i, x := range f {
		v, _ := strconv.ParseFloat(x, 64)
		p.all += v
		switch i {
		case 3: // idle
		case 4: // iowait
			p.iowait += v
		default:
			p.busy += v
		}
	}
	return p
}

func (p procStat) sub(q procStat) (busy, all, iowait float64) {
	all = p.all - q.all
	if all <= 0 {
		all = 1
	}
	return p.busy - q.busy, all, p.iowait - q.iowait
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// ---------------------------------------------------------------- the sink alone

// sinkOnly measures OpenSMTPD → LMTP → Dovecot without hallway: mails
// like the confirmations, one per new address, submitted over -conns
// connections at once (a new one every 100 mails, OpenSMTPD's limit per
// session), timed until OpenSMTPD logs every delivery.
func sinkOnly(cfg config) error {
	mailRoot, err := mailtest.MailRoot(cfg.envDir)
	if err != nil {
		return err
	}
	smtpLog := mailtest.FollowSMTPLog(cfg.envDir)
	tag := fmt.Sprintf("sk%x", time.Now().UnixNano()%(1<<36))
	addrs := make([]string, cfg.mails)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("%s-%05d@test.local", tag, i)
	}
	defer func() {
		if !cfg.keep {
			for _, a := range addrs {
				os.RemoveAll(filepath.Join(mailRoot, a))
			}
		}
	}()
	body := strings.Repeat("To confirm your registration for Bench Day, reply to this mail.\r\n", 8)
	work := make(chan int)
	errs := make(chan error, cfg.conns)
	start := time.Now()
	procs := newCPUSampler()
	for range cfg.conns {
		go func() {
			var c *smtp.Client
			sent := 0
			defer func() {
				if c != nil {
					c.Quit()
				}
			}()
			for i := range work {
				if c == nil || sent == 100 {
					if c != nil {
						c.Quit()
					}
					if c, err = smtp.Dial(cfg.smtpAddr); err == nil {
						err = c.Hello("localhost")
					}
					if err != nil {
						errs <- err
						return
					}
					sent = 0
				}
				msg := fmt.Sprintf("From: Bench Day <bot@test.local>\r\nTo: %s\r\nSubject: Confirm\r\nMessage-ID: <%s.%d@test.local>\r\n\r\n%s", addrs[i], tag, i, body)
				if err := c.SendMail("bot@test.local", []string{addrs[i]}, strings.NewReader(msg)); err != nil {
					errs <- err
					return
				}
				sent++
			}
			errs <- nil
		}()
	}
	for i := range addrs {
		work <- i
	}
	close(work)
	for range cfg.conns {
		if err := <-errs; err != nil {
			return err
		}
	}
	accepted := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	for {
		_, del, open, err := smtpLog.Read(tag)
		if err != nil {
			return err
		}
		if len(del) >= cfg.mails && open == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d delivered: %w", len(del), cfg.mails, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		procs.sample()
	}
	done := time.Since(start)
	fmt.Printf("sink alone: %d mails to new addresses over %d SMTP connections: accepted by OpenSMTPD in %.1f s (%.0f/s), delivered into Dovecot in %.1f s (%.0f/s)\n",
		cfg.mails, cfg.conns, accepted.Seconds(), float64(cfg.mails)/accepted.Seconds(), done.Seconds(), float64(cfg.mails)/done.Seconds())
	procs.report(os.Stdout, done)
	return nil
}
