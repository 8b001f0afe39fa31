package main

// The release crash test: the real binary, connected to the real InspIRCd,
// dies by SIGKILL in the middle of an organizer's `!schedule release`
// (after the command's commit, before the schedule is made: the test hook
// HALLWAY_TEST_CRASH=release makes it kill itself there) and is started
// again; the release is then made once and the organizer told.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/store/storetest"
)

// releaseCrashSetup builds the binary and writes a config for an event
// organized by org, with one day of session slots.
func releaseCrashSetup(t *testing.T, ctx context.Context, ircAddr, botNick, org, channel string) (bin, cfgPath, dbPath string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "hallway")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dbPath = filepath.Join(dir, "hallway.db")
	cfgPath = filepath.Join(dir, "hallway.toml")
	host, port, _ := strings.Cut(ircAddr, ":")
	cfg := fmt.Sprintf(`[store]
%s[web]
listen = "127.0.0.1:0"
[irc]
server = %q
port = %s
tls = false
nick = %q
[[event]]
slug = "crash-release"
name = "Crash Release Day"
timezone = "Europe/Brussels"
channel = %q
organizers = [%q]
  [[event.room]]
  name = "Room 1"
  capacity = 30
  [[event.day]]
  date = "2027-03-04"
  slots = [
    { start = "13:00", minutes = 50, kind = "session", rooms = ["Room 1"] },
    { start = "14:00", minutes = 50, kind = "session", rooms = ["Room 1"] },
  ]
`, storeKeys(t, dbPath), host, port, botNick, channel, org)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, cfgPath, dbPath
}

// startHallway starts `hallway run` with extra environment variables.
func startHallway(t *testing.T, bin, cfgPath, logPath string, env ...string) *crashProc {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	p := &crashProc{cmd: cmd, done: make(chan error, 1)}
	go func() {
		p.done <- cmd.Wait()
		logf.Close()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.kill()
		}
	})
	return p
}

// waitKilled waits until p died of SIGKILL.
func waitKilled(t *testing.T, ctx context.Context, p *crashProc, logs []string) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			crashShowLogs(t, logs)
			t.Fatalf("hallway ended with %v, want SIGKILL by its crash hook", err)
		}
	case <-ctx.Done():
		crashShowLogs(t, logs)
		t.Fatal("hallway did not kill itself at the release")
	}
}

// releaseCounts reads how many releases and pending releases there are.
func releaseCounts(t *testing.T, db *storetest.DB) (released, pending int) {
	t.Helper()
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM release), (SELECT count(*) FROM pending_release)`).Scan(&released, &pending); err != nil {
		t.Fatal(err)
	}
	return released, pending
}

// TestReleaseCrash: killed after `!schedule release` committed, hallway
// makes the release at its next start and the organizer gets the answer
// over IRC; a release that kills it at every attempt is given up after
// two and the organizer told.
func TestReleaseCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	org := uniqueNick("org")
	botNick, channel := uniqueNick("hw"), "#"+uniqueNick("rel")
	bin, cfgPath, dbPath := releaseCrashSetup(t, ctx, ircAddr, botNick, org, channel)
	dir := filepath.Dir(cfgPath)
	var logs []string
	start := func(env ...string) *crashProc {
		logPath := filepath.Join(dir, fmt.Sprintf("hallway-%d.log", len(logs)))
		logs = append(logs, logPath)
		return startHallway(t, bin, cfgPath, logPath, env...)
	}
	defer func() {
		if t.Failed() {
			crashShowLogs(t, logs)
		}
	}()
	crash := crashEnv + "=release"

	c := ircPerson(t, ctx, ircAddr, org)
	if err := c.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	p := start(crash)
	waitOnline(t, ctx, c, botNick)
	c.Privmsg(botNick, `!propose "Crash-proof schedules"`)
	fromBot(t, ctx, c, botNick, "#1")
	c.Privmsg(botNick, "!vote 1")
	fromBot(t, ctx, c, botNick, "#1")
	db := storetest.OpenDB(t, testSource(t, dbPath))

	// 1. Killed once, at the command: the next start finishes it.
	c.Privmsg(botNick, "!schedule release -- first")
	waitKilled(t, ctx, p, logs)
	waitISON(t, ctx, c, botNick, false) // the next start gets the same nick
	if released, pending := releaseCounts(t, db); released != 0 || pending != 1 {
		t.Fatalf("after the kill: %d releases, %d pending; want 0 and 1", released, pending)
	}
	tKilled := time.Now()
	p = start()
	// The answer to the organizer, and the announcement in the channel.
	var answer, announced string
	if _, err := c.Expect(ctx, func(m irctest.Message) bool {
		if m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, botNick) && strings.Contains(m.Last(), "version 1 released") {
			if strings.EqualFold(m.Param(0), channel) {
				announced = m.Last()
			} else {
				answer = m.Last()
			}
		}
		return answer != "" && announced != ""
	}); err != nil {
		t.Fatalf("after the restart: answer %q, announcement %q: %v", answer, announced, err)
	}
	if !strings.Contains(answer, "finished after a restart") {
		t.Errorf("answer after the restart: %q", answer)
	}
	t.Logf("release made and answered %s after the restart", time.Since(tKilled).Round(time.Millisecond))
	if released, pending := releaseCounts(t, db); released != 1 || pending != 0 {
		t.Errorf("after the restart: %d releases, %d pending; want 1 and 0", released, pending)
	}

	// 2. A release that kills hallway at the command and at every attempt
	// after: given up after two, the organizer told, nothing released.
	if err := p.term(); err != nil {
		t.Fatalf("hallway after SIGTERM: %v", err)
	}
	waitISON(t, ctx, c, botNick, false)
	p = start(crash)
	waitOnline(t, ctx, c, botNick)
	c.Privmsg(botNick, "!schedule release -- second")
	waitKilled(t, ctx, p, logs)
	for attempt := 1; attempt <= 2; attempt++ {
		p = start(crash)
		waitKilled(t, ctx, p, logs)
	}
	waitISON(t, ctx, c, botNick, false)
	p = start()
	failed := fromBot(t, ctx, c, botNick, "failed")
	if !strings.Contains(failed, "hallway stopped while making it, 2 times") || !strings.Contains(failed, "!schedule release to try again") {
		t.Errorf("answer after giving up: %q", failed)
	}
	if released, pending := releaseCounts(t, db); released != 1 || pending != 0 {
		t.Errorf("after giving up: %d releases, %d pending; want 1 and 0", released, pending)
	}
	if err := p.term(); err != nil {
		t.Errorf("hallway after SIGTERM: %v", err)
	}
}
