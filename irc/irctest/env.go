package irctest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables set by `scripts/testenv.sh env` (scripts/test.sh
// exports them).
const (
	EnvIRC     = "HALLWAY_TEST_IRC"  // host:port of InspIRCd
	EnvIMAP    = "HALLWAY_TEST_IMAP" // host:port of Dovecot IMAP
	EnvSMTP    = "HALLWAY_TEST_SMTP" // host:port of OpenSMTPD
	EnvLMTP    = "HALLWAY_TEST_LMTP" // host:port of Dovecot LMTP
	EnvDir     = "HALLWAY_TESTENV_DIR"
	EnvScript  = "HALLWAY_TESTENV_SCRIPT"
	EnvRequire = "HALLWAY_REQUIRE_TESTENV" // "1": a missing test environment fails instead of skipping
)

// RequireEnv returns the value of the environment variable name (one of
// the Env* addresses). When it is unset the test is skipped, or fails if
// HALLWAY_REQUIRE_TESTENV=1 (as in CI, so integration tests cannot
// silently skip).
func RequireEnv(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	msg := fmt.Sprintf("%s is not set: start the real servers with `scripts/testenv.sh start && eval \"$(scripts/testenv.sh env)\"`, or run scripts/test.sh", name)
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s (and %s=1 forbids skipping)", msg, EnvRequire)
	}
	t.Skip(msg)
	return ""
}

// TestEnv returns the address of the test IRC server (HALLWAY_TEST_IRC),
// skipping or failing the test as RequireEnv does. For the rest of the test
// it holds the test environment's IRC lock shared, so RestartIRC in
// another test process waits until this test has finished.
func TestEnv(t testing.TB) string {
	t.Helper()
	addr := RequireEnv(t, EnvIRC)
	unlock, err := LockEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	return addr
}

// LockEnv takes the test environment's IRC lock shared, as TestEnv does,
// for programs that are not tests (load generators): while it is held,
// RestartIRC and `scripts/testenv.sh restart-irc` in other processes wait.
// Without HALLWAY_TESTENV_DIR it does nothing.
func LockEnv() (unlock func(), err error) {
	if err := lockShared(); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(unlockShared) }, nil
}

// DialT dials for a test: 30 s to connect, fails the test on error, closes
// the client when the test ends.
func DialT(t testing.TB, addr, nick string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, nick)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// RestartIRC kills the test InspIRCd and starts it again (scripts/testenv.sh
// restart-irc); it returns once Anope has relinked, so accounts and SASL
// work again. Every connected client is disconnected. It first waits for
// tests in other processes that hold the IRC lock (see TestEnv).
func RestartIRC(t testing.TB) {
	t.Helper()
	if err := lockExclusive(); err != nil {
		t.Fatal(err)
	}
	defer unlockExclusive()
	if err := runScript("restart-irc"); err != nil {
		t.Fatal(err)
	}
}

// StopIRC kills the test InspIRCd and returns a function that starts it
// again (and waits for Anope to relink). If the test does not call it, it
// runs when the test ends. Other test processes wait on the IRC lock
// meanwhile.
func StopIRC(t testing.TB) (start func()) {
	t.Helper()
	if err := lockExclusive(); err != nil {
		t.Fatal(err)
	}
	if err := runScript("stop-irc"); err != nil {
		unlockExclusive()
		t.Fatal(err)
	}
	var once sync.Once
	start = func() {
		once.Do(func() {
			defer unlockExclusive()
			if err := runScript("start-irc"); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(start)
	return start
}

// script finds scripts/testenv.sh: $HALLWAY_TESTENV_SCRIPT, or up from the
// working directory (go test runs in the package directory).
func script() (string, error) {
	if s := os.Getenv(EnvScript); s != "" {
		return s, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "testenv.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("irctest: scripts/testenv.sh not found (set " + EnvScript + ")")
		}
		dir = parent
	}
}

func runScript(cmd string) error {
	s, err := script()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", s, cmd)
	// we hold the IRC lock ourselves
	c.Env = append(os.Environ(), "HALLWAY_TESTENV_IRC_LOCKED=1")
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("irctest: %s %s: %v\n%s", s, cmd, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// The IRC lock is a flock on $HALLWAY_TESTENV_DIR/irc.lock, held shared
// while tests of this process use the server and exclusive while one of
// them restarts it. Within one process it is counted: parallel tests in the
// same package are not kept apart (a test that restarts the server should
// not call t.Parallel; Go runs it before or after the parallel ones).
var lk struct {
	mu        sync.Mutex
	f         *os.File
	shared    int
	exclusive bool
}

const lockWait = 5 * time.Minute

func lockFile() (*os.File, error) {
	if lk.f != nil {
		return lk.f, nil
	}
	dir := os.Getenv(EnvDir)
	if dir == "" {
		return nil, nil // no shared test environment: nothing to coordinate
	}
	f, err := os.OpenFile(filepath.Join(dir, "irc.lock"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666)
	if err != nil {
		return nil, fmt.Errorf("irctest: IRC lock: %w", err)
	}
	lk.f = f
	return f, nil
}

// flockWait takes the lock (exclusive or shared), polling so it can give
// up with a clear message.
func flockWait(f *os.File, exclusive bool) error {
	deadline := time.Now().Add(lockWait)
	for {
		ok, err := tryFlock(f, exclusive)
		if err != nil {
			return fmt.Errorf("irctest: IRC lock %s: %w", f.Name(), err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("irctest: waited %v for the IRC lock %s: another test process is restarting or using the IRC server", lockWait, f.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lockShared() error {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	f, err := lockFile()
	if err != nil || f == nil {
		return err
	}
	lk.shared++
	if lk.shared == 1 && !lk.exclusive {
		if err := flockWait(f, false); err != nil {
			lk.shared--
			return err
		}
	}
	return nil
}

func unlockShared() {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	if lk.f == nil || lk.shared == 0 {
		return
	}
	lk.shared--
	if lk.shared == 0 && !lk.exclusive {
		_ = funlock(lk.f)
	}
}

func lockExclusive() error {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	f, err := lockFile()
	if err != nil || f == nil {
		return err
	}
	if lk.exclusive {
		return errors.New("irctest: IRC server already stopped by this test process (StopIRC without start?)")
	}
	// Drop our shared hold first, or we would wait for ourselves.
	if lk.shared > 0 {
		_ = funlock(f)
	}
	if err := flockWait(f, true); err != nil {
		if lk.shared > 0 {
			_ = flockWait(f, false)
		}
		return err
	}
	lk.exclusive = true
	return nil
}

func unlockExclusive() {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	if lk.f == nil || !lk.exclusive {
		return
	}
	lk.exclusive = false
	if lk.shared > 0 {
		_ = flockWait(lk.f, false)
	} else {
		_ = funlock(lk.f)
	}
}
