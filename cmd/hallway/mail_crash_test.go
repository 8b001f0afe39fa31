package main

// The crash test: the real binary is killed with SIGKILL in the middle of
// a backlog of registration mails in the real Dovecot and restarted; in
// the end every registration exists once and every confirmation went out
// through the real OpenSMTPD once.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/mail"
	"github.com/hallwayhq/hallway/mail/mailtest"
	"github.com/hallwayhq/hallway/store/storetest"
)

// crashMails is the size of the backlog.
const crashMails = 1000

func TestMailCrashBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and pushes 1,000 mails through Dovecot and OpenSMTPD")
	}
	imapAddr := irctest.RequireEnv(t, irctest.EnvIMAP)
	smtpAddr := irctest.RequireEnv(t, irctest.EnvSMTP)
	envDir := irctest.RequireEnv(t, irctest.EnvDir)
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	t0 := time.Now()
	dir := t.TempDir()

	// The confirmations are counted where they end up: each address's
	// Maildir in Dovecot (its static userdb makes a home for any address),
	// cross-checked with OpenSMTPD's log of accepted and delivered mail.
	mailRoot, err := mailtest.MailRoot(envDir)
	if err != nil {
		t.Fatal(err)
	}
	smtpLog := mailtest.FollowSMTPLog(envDir)

	bin := filepath.Join(dir, "hallway")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tBuilt := time.Now()

	// Everything is named after this run: the addresses' mailboxes and the
	// bot's IMAP folders outlive test runs, and another test may be using
	// bot@test.local's INBOX right now. A folder of our own starts empty.
	tag := fmt.Sprintf("c%x", time.Now().UnixNano()%(1<<40))
	mailbox, processed := "crash-"+tag, "crash-"+tag+"-done"
	addrs := make([]string, crashMails)
	msgids := make([]string, crashMails)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("%s-%04d@test.local", tag, i)
		msgids[i] = fmt.Sprintf("%s-%04d@crash.test.local", tag, i)
	}
	t.Cleanup(func() {
		mailtest.DeleteMailboxes(imapAddr, mailbox, processed)
		if !t.Failed() {
			// Only this run ever delivers there.
			for _, a := range addrs {
				os.RemoveAll(filepath.Join(mailRoot, a))
			}
		}
	})
	if err := mailtest.MultiAppend(imapAddr, mailbox, processed, addrs, msgids); err != nil {
		t.Fatal(err)
	}
	tAppended := time.Now()

	dbPath := filepath.Join(dir, "hallway.db")
	cfgPath := filepath.Join(dir, "hallway.toml")
	host, port, _ := strings.Cut(ircAddr, ":")
	cfg := fmt.Sprintf(`[store]
%s[irc]
server = %q
port = %s
tls = false
nick = "hw%s"
[mail]
imap = %q
imap_security = "none"
imap_user = "bot@test.local"
imap_password_env = "HALLWAY_TEST_IMAP_PASSWORD"
mailbox = %q
processed_mailbox = %q
smtp = %q
smtp_security = "none"
from = "Crash Day <bot@test.local>"
[[event]]
slug = "crash-day"
name = "Crash Day"
timezone = "Europe/Brussels"
channel = "#%s"
organizers = ["nobody"]
registration_capacity = 5000
`, storeKeys(t, dbPath), host, port, tag, imapAddr, mailbox, processed, smtpAddr, tag)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	db := storetest.OpenDB(t, testSource(t, dbPath))

	// Kill points, by progress seen in the database: early and late in
	// the intake (the sender runs alongside), then once the intake is done
	// while the sender may still be at work. Each restart begins where the
	// last one died.
	kills := []struct {
		name string
		when func(s crashStats) bool
	}{
		{"intake at 25%", func(s crashStats) bool { return s.received >= crashMails/4 }},
		{"intake at 60%", func(s crashStats) bool { return s.received >= crashMails*6/10 }},
		{"intake done, sender draining", func(s crashStats) bool {
			return s.received == crashMails && s.sent > 0
		}},
	}
	var logs []string
	killed := 0
	// Addresses whose confirmation was unsent at a kill (may be sent
	// twice), and of those the ones OpenSMTPD had taken (will be).
	mayRepeat, willRepeat := map[string]bool{}, map[string]bool{}
	for gen := 0; ; gen++ {
		logPath := filepath.Join(dir, fmt.Sprintf("hallway-%d.log", gen))
		logs = append(logs, logPath)
		p, err := crashStart(bin, cfgPath, logPath)
		if err != nil {
			t.Fatal(err)
		}
		if gen < len(kills) {
			s, err := crashWaitFor(ctx, db, p, kills[gen].when)
			if err != nil {
				p.kill()
				crashShowLogs(t, logs)
				t.Fatalf("before kill %d (%s): %v", gen+1, kills[gen].name, err)
			}
			p.kill()
			killed++
			// What the database and the sender's journal held when the
			// process died. A mail OpenSMTPD took whose row is not marked
			// sent, nor its id in the journal, will be sent again: that is
			// the duplicate a kill can cause, one for each connection at
			// most, in the microseconds between OpenSMTPD's 250 and the
			// journal's write. OpenSMTPD logs a mail once it
			// has queued it; a mail whose final dot was on its way when
			// the bot died is queued within milliseconds, hence the
			// pause.
			after, err := crashRead(db)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			unsent, err := crashUnsent(db, dbPath+"-sent")
			if err != nil {
				t.Fatal(err)
			}
			accepted, _, _, err := smtpLog.Read(tag)
			if err != nil {
				t.Fatal(err)
			}
			var predicted []string
			for a := range unsent {
				if accepted[a] > 0 {
					predicted = append(predicted, a)
					willRepeat[a] = true
				}
				mayRepeat[a] = true
			}
			t.Logf("SIGKILL %d (%s, seen %d received/%d sent) %s after the mails were in: %d mails received, %d confirmations sent, %d waiting; OpenSMTPD already took %d of those waiting %v",
				killed, kills[gen].name, s.received, s.sent, time.Since(tAppended).Round(time.Millisecond), after.received, after.sent, after.pending, len(predicted), predicted)
			continue
		}
		s, err := crashWaitFor(ctx, db, p, func(s crashStats) bool { return s.received >= crashMails && s.pending == 0 && s.sent >= crashMails })
		if err != nil {
			p.kill()
			crashShowLogs(t, logs)
			t.Fatalf("after %d kills: %v", killed, err)
		}
		// The last batch's MOVE follows its deliveries.
		if err := crashWaitEmpty(ctx, imapAddr, mailbox); err != nil {
			p.kill()
			crashShowLogs(t, logs)
			t.Fatal(err)
		}
		// A clean stop now: it must also work, and nothing may be sent
		// after the counts below are taken.
		if err := p.term(); err != nil {
			crashShowLogs(t, logs)
			t.Fatalf("hallway after SIGTERM: %v", err)
		}
		t.Logf("all %d mails received and %d confirmations sent %s after the mails were in the mailbox",
			s.received, s.sent, time.Since(tAppended).Round(time.Millisecond))
		break
	}

	// The mailbox: everything moved to the processed folder, nothing left.
	left, done, err := crashCount(imapAddr, mailbox, processed)
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 || done != crashMails {
		t.Errorf("IMAP: %d mails left in %s, %d in %s; want 0 and %d", left, mailbox, done, processed, crashMails)
	}

	// The database: each mail received once under each of its two keys,
	// one pending registration per address with its own token, one
	// confirmation per address, all sent.
	checkCrashDB(t, db, tag, addrs, msgids)

	// OpenSMTPD: wait until every mail it accepted from the bot for this
	// run's addresses has been delivered by LMTP; then nothing is in
	// flight and the Maildirs can be counted exactly.
	accepted, delivered, err := smtpLog.WaitDelivered(ctx, tag, 1)
	if err != nil {
		crashShowLogs(t, logs)
		t.Fatalf("OpenSMTPD: %v", err)
	}
	tokens, err := crashTokens(db)
	if err != nil {
		t.Fatal(err)
	}
	var dups []string
	for i, a := range addrs {
		got, err := mailtest.ReadMaildir(filepath.Join(mailRoot, a, "Maildir"))
		if err != nil {
			t.Fatal(err)
		}
		if accepted[a] != len(got) || delivered[a] != len(got) {
			t.Errorf("%s: OpenSMTPD accepted %d and delivered %d mails, its Maildir holds %d", a, accepted[a], delivered[a], len(got))
		}
		switch {
		case len(got) == 0:
			t.Errorf("%s: no confirmation delivered", a)
			continue
		case len(got) > 2:
			t.Errorf("%s: %d confirmations delivered", a, len(got))
		case len(got) == 2:
			dups = append(dups, a)
			if !mayRepeat[a] {
				t.Errorf("%s: confirmation delivered twice, but it was marked sent before every kill", a)
			}
			if !willRepeat[a] {
				t.Logf("%s: confirmation delivered twice; OpenSMTPD logged taking it more than 300 ms after the kill", a)
			}
		}
		for _, raw := range got {
			err := mailtest.CheckConfirmation(raw, msgids[i], tokens[a])
			if err == nil && !bytes.Contains(raw, []byte(tokens[a])) {
				err = fmt.Errorf("the body lacks the token %s", tokens[a])
			}
			if err != nil {
				t.Errorf("%s: %v\n%s", a, err, raw)
			}
		}
		if len(got) == 2 && crashMessageID(got[0]) != crashMessageID(got[1]) {
			t.Errorf("%s: the two confirmations have different Message-IDs", a)
		}
	}
	for a := range willRepeat {
		if !slices.Contains(dups, a) {
			t.Errorf("%s: OpenSMTPD took its confirmation before a kill that left it unsent, yet it was delivered once", a)
		}
	}
	// The sender is at-least-once at one point: a kill after OpenSMTPD
	// has the mail's final dot and before the outbox row is marked sent
	// makes the next process send that mail again, with the same
	// Message-ID. It sends one mail at a time on each of its connections,
	// so each kill can repeat at most one a connection; more would be a
	// bug.
	if len(dups) > 0 {
		slices.Sort(dups)
		t.Logf("AT-LEAST-ONCE: %d confirmation(s) delivered twice (same Message-ID) after %d kills: %v", len(dups), killed, dups)
	}
	if len(dups) > killed*mail.DefaultConnections {
		t.Errorf("%d addresses got a confirmation twice, more than %d kills with %d connections each can explain: %v",
			len(dups), killed, mail.DefaultConnections, dups)
	}
	t.Logf("%d mails, %d SIGKILLs, %d duplicate confirmations; build %s, APPEND %s, processing %s, total %s",
		crashMails, killed, len(dups), tBuilt.Sub(t0).Round(time.Millisecond), tAppended.Sub(tBuilt).Round(time.Millisecond),
		time.Since(tAppended).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	if t.Failed() || os.Getenv("HALLWAY_TEST_DEBUG") != "" {
		crashShowLogs(t, logs)
	}
}

// crashProc is one run of the binary.
type crashProc struct {
	cmd  *exec.Cmd
	done chan error
}

func crashStart(bin, cfgPath, logPath string) (*crashProc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Env = append(os.Environ(), "HALLWAY_TEST_IMAP_PASSWORD=botpass")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &crashProc{cmd: cmd, done: make(chan error, 1)}
	go func() {
		p.done <- cmd.Wait()
		logf.Close()
	}()
	return p, nil
}

// kill is SIGKILL: no deferred function, no flush, no clean close.
func (p *crashProc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// term stops the process the polite way and returns how it exited.
func (p *crashProc) term() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(20 * time.Second):
		p.kill()
		return errors.New("still running 20 s after SIGTERM")
	}
}

// crashStats is the progress the database shows.
type crashStats struct {
	received int // mails recorded in the inbox (by their IMAP key)
	sent     int // mails in the outbox marked sent
	pending  int // mails in the outbox not sent yet
}

func crashRead(db *storetest.DB) (crashStats, error) {
	var s crashStats
	err := db.QueryRow(`SELECT
		(SELECT count(*) FROM inbox WHERE channel = 'mail' AND key LIKE 'imap:%'),
		(SELECT count(*) FROM outbox WHERE channel = 'mail' AND sent_at IS NOT NULL),
		(SELECT count(*) FROM outbox WHERE channel = 'mail' AND sent_at IS NULL)`).Scan(&s.received, &s.sent, &s.pending)
	return s, err
}

// crashWaitFor polls the database until cond holds. Before the process
// has created its schema the queries fail; that is waited out too.
func crashWaitFor(ctx context.Context, db *storetest.DB, p *crashProc, cond func(crashStats) bool) (crashStats, error) {
	var last crashStats
	var lastErr error
	for {
		s, err := crashRead(db)
		if err == nil {
			last = s
			if cond(s) {
				return s, nil
			}
		}
		lastErr = err
		select {
		case err := <-p.done:
			p.done <- err
			return last, fmt.Errorf("hallway exited (%v) at %+v", err, last)
		case <-ctx.Done():
			return last, fmt.Errorf("%w waiting; last seen %+v (query error: %v)", ctx.Err(), last, lastErr)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func crashShowLogs(t *testing.T, paths []string) {
	t.Helper()
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		if len(b) > 8000 {
			b = append([]byte("…"), b[len(b)-8000:]...)
		}
		t.Logf("%s:\n%s", filepath.Base(p), b)
	}
}

// crashCount returns how many mails are in the two mailboxes.
func crashCount(addr, mailbox, processed string) (left, done int, err error) {
	c, err := mailtest.Dial(addr)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	var n [2]int
	for i, m := range []string{mailbox, processed} {
		if n[i], err = mailtest.Count(c, m); err != nil {
			return 0, 0, fmt.Errorf("status %s: %w", m, err)
		}
	}
	return n[0], n[1], nil
}

// crashWaitEmpty waits until the intake has moved every mail away.
func crashWaitEmpty(ctx context.Context, addr, mailbox string) error {
	for {
		left, _, err := crashCount(addr, mailbox, mailbox)
		if err != nil || left == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d mails still in %s: %w", left, mailbox, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkCrashDB checks the database against the mails put in.
func checkCrashDB(t *testing.T, db *storetest.DB, tag string, addrs, msgids []string) {
	t.Helper()
	n := len(addrs)
	var regs, emails, tokens, pending int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT email), count(DISTINCT token), count(*) FILTER (WHERE status = 'pending')
		FROM registration`).Scan(&regs, &emails, &tokens, &pending); err != nil {
		t.Fatal(err)
	}
	if regs != n || emails != n || tokens != n || pending != n {
		t.Errorf("registrations: %d rows, %d addresses, %d tokens, %d pending; want %d of each", regs, emails, tokens, pending, n)
	}
	want := map[string]bool{}
	for _, a := range addrs {
		want[a] = true
	}
	rows, err := db.Query(`SELECT email FROM registration`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e string
		rows.Scan(&e)
		if !want[e] {
			t.Errorf("registration for %q, which sent no mail", e)
		}
	}
	rows.Close()

	var all, keys, imapKeys, msgidKeys int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT key), count(*) FILTER (WHERE key LIKE 'imap:%'),
		count(*) FILTER (WHERE key LIKE 'msgid:%') FROM inbox WHERE channel = 'mail'`).Scan(&all, &keys, &imapKeys, &msgidKeys); err != nil {
		t.Fatal(err)
	}
	if all != 2*n || keys != 2*n || imapKeys != n || msgidKeys != n {
		t.Errorf("inbox: %d rows, %d keys, %d IMAP keys, %d Message-ID keys; want %d, %d, %d, %d", all, keys, imapKeys, msgidKeys, 2*n, 2*n, n, n)
	}
	for _, id := range msgids {
		var k int
		if err := db.QueryRow(`SELECT count(*) FROM inbox WHERE key = ?`, "msgid:"+id).Scan(&k); err != nil {
			t.Fatal(err)
		}
		if k != 1 {
			t.Errorf("inbox: Message-ID %s recorded %d times", id, k)
		}
	}

	var out, targets, sent, unsent int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT target), count(sent_at), count(*) - count(sent_at)
		FROM outbox WHERE channel = 'mail'`).Scan(&out, &targets, &sent, &unsent); err != nil {
		t.Fatal(err)
	}
	if out != n || targets != n || sent != n || unsent != 0 {
		t.Errorf("outbox: %d mails to %d addresses, %d sent, %d not; want %d to %d, all sent", out, targets, sent, unsent, n, n)
	}
	// Every attempt counts, including one cut short by a kill and
	// repeated: more than one attempt is what a duplicate looks like here
	// (if the kill came after OpenSMTPD took the mail).
	var retried int
	if err := db.QueryRow(`SELECT count(*) FROM outbox WHERE channel = 'mail' AND attempts > 1`).Scan(&retried); err != nil {
		t.Fatal(err)
	}
	if retried > 0 {
		t.Logf("outbox: %d mails took more than one attempt", retried)
	}
}

// crashUnsent returns the addresses whose confirmation is not marked sent.
func crashUnsent(db *storetest.DB, journal string) (map[string]bool, error) {
	// The sender's journal (whole lines only) counts as marked: the next
	// process marks those ids sent before it sends anything.
	marked := map[int64]bool{}
	if b, err := os.ReadFile(journal); err == nil {
		for line := range strings.Lines(string(b)) {
			if id, err := strconv.ParseInt(strings.TrimSuffix(line, "\n"), 10, 64); err == nil && strings.HasSuffix(line, "\n") {
				marked[id] = true
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	rows, err := db.Query(`SELECT id, target FROM outbox WHERE channel = 'mail' AND sent_at IS NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]bool{}
	for rows.Next() {
		var id int64
		var a string
		if err := rows.Scan(&id, &a); err != nil {
			return nil, err
		}
		if !marked[id] {
			m[a] = true
		}
	}
	return m, rows.Err()
}

// crashTokens maps each registered address to its confirmation token.
func crashTokens(db *storetest.DB) (map[string]string, error) {
	rows, err := db.Query(`SELECT email, token FROM registration`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var e, tok string
		if err := rows.Scan(&e, &tok); err != nil {
			return nil, err
		}
		m[e] = tok
	}
	return m, rows.Err()
}

func crashMessageID(raw []byte) string {
	if m := messageIDRe.FindSubmatch(raw); m != nil {
		return string(m[1])
	}
	return ""
}
