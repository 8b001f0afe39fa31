package main

// End-to-end tests of hallway backup and hallway db copy: backups taken
// while hallway runs against the real servers with commands coming in,
// and a backup restored that does not send again the mail the SMTP
// server already took.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/store/storetest"
)

// hallwayCmd runs the hallway command line and returns its exit code and
// output.
func hallwayCmd(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(ctx, args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// configFor writes a copy of cfg's file whose store is dbPath.
func configFor(t *testing.T, cfg *config.Config, dbPath string) string {
	t.Helper()
	text, err := os.ReadFile(cfg.File)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(text), `path = "hallway.db"`, fmt.Sprintf("path = %q", dbPath), 1)
	if changed == string(text) {
		t.Fatalf("no store path to change in %s", cfg.File)
	}
	path := filepath.Join(t.TempDir(), "hallway.toml")
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkBackup checks a backup as a restore would use it: hallway check
// accepts it, it opens (PRAGMA quick_check), its integrity and foreign
// keys hold, and every command in it is whole: each proposal has its
// speaker and the answer that said it was proposed (one transaction), and
// the numbers run 1..N; printed (what hallway backup or db copy said)
// gives that count. It returns the number of proposals.
func checkBackup(t *testing.T, ctx context.Context, cfg *config.Config, path, printed string) int {
	t.Helper()
	if code, _, stderr := hallwayCmd(ctx, "check", "-config", configFor(t, cfg, path)); code != 0 || !strings.Contains(stderr, ": OK") {
		t.Errorf("hallway check of the backup %s: exit %d\n%s", path, code, stderr)
	}
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatalf("backup %s: %v", path, err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("backup %s: integrity_check %q, %v", path, ok, err)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Errorf("backup %s: a foreign key does not hold", path)
	}
	rows.Close()
	var proposals, maxNumber, speakers, answers int
	if err := db.QueryRow(`SELECT count(*), COALESCE(max(number), 0), (SELECT count(*) FROM speaker),
		(SELECT count(*) FROM outbox WHERE body LIKE '%proposed #%') FROM proposal`).Scan(&proposals, &maxNumber, &speakers, &answers); err != nil {
		t.Fatal(err)
	}
	if maxNumber != proposals || speakers != proposals || answers != proposals {
		t.Errorf("backup %s is not one state: %d proposals numbered up to %d, %d speakers, %d answers",
			path, proposals, maxNumber, speakers, answers)
	}
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^proposal +%d( +%d)?$`, proposals, proposals)).MatchString(printed) {
		t.Errorf("backup %s holds %d proposals; hallway backup printed:\n%s", path, proposals, printed)
	}
	return proposals
}

// TestBackupWhileRunning: backups taken while hallway runs on the real
// servers, with proposals pouring in from several people and a mail
// registration in flight, are each one consistent state that hallway
// check and Open accept; an existing file is not replaced unless
// -force; a backup copies with db copy.
func TestBackupWhileRunning(t *testing.T) {
	storetest.SQLiteOnly(t) // hallway backup copies a SQLite file; PostgreSQL has pg_dump
	e := startMailEnv(t, 2*time.Minute, nil)
	ctx := e.ctx
	var (
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		proposed atomic.Int64
		failures = make(chan error, 4)
	)
	for w := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// A new person each time: no one is held back by the rate limit.
				account := fmt.Sprintf("w%d-%s-%d", w, e.tag, i)
				err := e.m.Bot.Handle(ctx, bot.Request{Transport: bot.IRC, Can: bot.ChatCapabilities, Who: bot.IRCIdentity(account), Nick: account,
					Text: fmt.Sprintf(`propose "Backups, part %d.%d"`, w, i)})
				if err != nil {
					failures <- err
					return
				}
				proposed.Add(1)
			}
		})
	}
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWriters()
	// A registration by mail on its way meanwhile: its confirmation is
	// sent through OpenSMTPD (and the sent-mail journal).
	code := e.pendingByMail("ann", "")
	dir := t.TempDir()
	var paths []string
	var took []time.Duration
	last := 0
	for i := range 3 {
		// Proposals keep coming between two backups.
		floor := proposed.Load() + 15
		e.waitFor("more proposals", func() bool { return proposed.Load() >= floor })
		path := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		start := time.Now()
		code, stdout, stderr := hallwayCmd(ctx, "backup", "-config", e.cfg.File, "-o", path)
		took = append(took, time.Since(start))
		if code != 0 || !strings.Contains(stdout, "wrote "+path+": ") {
			t.Fatalf("hallway backup: exit %d\n%s%s", code, stdout, stderr)
		}
		if beside, _ := filepath.Glob(path + "-*"); len(beside) > 0 {
			t.Errorf("the backup is not one file: %v beside it", beside)
		}
		n := checkBackup(t, ctx, e.cfg, path, stdout)
		if n <= last {
			t.Errorf("backup %d holds %d proposals, the one before %d: it missed what came since", i, n, last)
		}
		last = n
		paths = append(paths, path)
	}
	stopWriters()
	select {
	case err := <-failures:
		t.Fatalf("a command failed while backups were taken: %v", err)
	default:
	}
	if got := e.count(`SELECT count(*) FROM proposal`); got <= last {
		t.Errorf("the database holds %d proposals, the last backup %d", got, last)
	}
	t.Logf("%d backups under a stream of proposals (%d in all), each %v; ann's code %s", len(paths), proposed.Load(), took, code)

	// An existing file is kept unless -force.
	before, _ := os.ReadFile(paths[0])
	code2, _, stderr := hallwayCmd(ctx, "backup", "-config", e.cfg.File, "-o", paths[0])
	if after, _ := os.ReadFile(paths[0]); code2 != 1 || !strings.Contains(stderr, "exists: name another file with -o, or add -force to replace it") || !bytes.Equal(before, after) {
		t.Errorf("backup over an existing file: exit %d, %s(file kept: %v)", code2, stderr, bytes.Equal(before, after))
	}
	if code, stdout, stderr := hallwayCmd(ctx, "backup", "-config", e.cfg.File, "-o", paths[0], "-force"); code != 0 {
		t.Errorf("backup -force: exit %d\n%s%s", code, stdout, stderr)
	} else {
		checkBackup(t, ctx, e.cfg, paths[0], stdout)
	}
	if leftover, _ := filepath.Glob(filepath.Join(dir, ".*partial*")); len(leftover) > 0 {
		t.Errorf("partial files left behind: %v", leftover)
	}

	// The last backup copies into a new file; the counts are printed.
	copyPath := filepath.Join(dir, "copy.db")
	code3, stdout, stderr := hallwayCmd(ctx, "db", "copy", "-from", "sqlite:"+paths[len(paths)-1], "-to", copyPath)
	if code3 != 0 || !regexp.MustCompile(fmt.Sprintf(`(?m)^proposal +%d +%d$`, last, last)).MatchString(stdout) ||
		!strings.Contains(stdout, "the counts match") {
		t.Fatalf("db copy: exit %d\n%s%s", code3, stdout, stderr)
	}
	checkBackup(t, ctx, e.cfg, copyPath, stdout)
}

// TestBackupRestoreSendsNoMailTwice: mail the SMTP server took but
// hallway had not marked sent when the backup was taken (its id only in
// the sent-mail journal) is marked sent in the backup; restored, the
// backup sends the mail still due, and not that one again. The database
// backed up is not changed.
func TestBackupRestoreSendsNoMailTwice(t *testing.T) {
	storetest.SQLiteOnly(t) // hallway backup copies a SQLite file; PostgreSQL has pg_dump
	// No SMTP at first: the answers wait in the outbox.
	e := startMailEnv(t, 2*time.Minute, func(c *config.Config) { c.Mail.SMTP = "" })
	ctx := e.ctx
	bea := e.addr("bea")
	for i, subject := range []string{"register", "help"} {
		e.appendMail(fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <restore-%d-%s@test.local>\n\n", bea, e.botAddr, subject, i, e.tag))
		e.waitFor("the answer queued", func() bool {
			return e.count(`SELECT count(*) FROM outbox WHERE channel = 'mail' AND target = ?`, bea) == i+1
		})
	}
	var taken, due int64
	if err := e.db.QueryRow(`SELECT min(id), max(id) FROM outbox WHERE channel = 'mail' AND target = ?`, bea).Scan(&taken, &due); err != nil {
		t.Fatal(err)
	}
	// The server took the confirmation; the process died before marking
	// it. An id past the end stands for mail the backup does not hold.
	journal := e.cfg.Store.Path + "-sent"
	if err := os.WriteFile(journal, fmt.Appendf(nil, "%d\n%d\n", taken, due+1000), 0o600); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "hallway.db")
	code, stdout, stderr := hallwayCmd(ctx, "backup", "-config", e.cfg.File, "-o", backup)
	if code != 0 || !strings.Contains(stdout, "sent-mail journal (2 ids)") {
		t.Fatalf("hallway backup: exit %d\n%s%s", code, stdout, stderr)
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE id = ? AND sent_at IS NULL`, taken); n != 1 {
		t.Errorf("the backup changed the database it copied")
	}

	// Restored: the backup is the store of a hallway that sends mail.
	cfg := testConfig(t, e.ircAddr, e.imap, e.smtp)
	cfg.Mail.IMAP = ""
	cfg.Mail.From = e.cfg.Mail.From
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.Store.Path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	runHallway(t, ctx, cfg)
	// Same address, same lane, in id order: had the confirmation gone
	// again, it would have arrived before the answer to help.
	e.waitMail(bea, func(raw string) bool { return strings.Contains(raw, "Subject: Re: help") })
	got := e.mails(bea)
	if len(got) != 1 {
		t.Errorf("after the restore %s got %d mails, want only the one still due:\n%s", bea, len(got), strings.Join(got, "\n----\n"))
	}
}
