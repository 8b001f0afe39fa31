//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockTestEnv takes the test environment's IRC lock shared (the flock on
// $HALLWAY_TESTENV_DIR/irc.lock that irc/irctest uses), so a test in
// another process that restarts InspIRCd waits until the benchmark is done.
// It returns the unlock function; without a test environment directory it
// does nothing.
func lockTestEnv(dir string, wait time.Duration) (func(), error) {
	if dir == "" {
		return func() {}, nil
	}
	f, err := os.OpenFile(filepath.Join(dir, "irc.lock"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666)
	if err != nil {
		return nil, fmt.Errorf("IRC lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("IRC lock %s: %w", f.Name(), err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("waited %v for the IRC lock %s: another process is restarting the IRC server", wait, f.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// raiseNoFile lifts the soft file descriptor limit to the hard one (Go
// already does so at start on most systems) and returns the soft limit.
func raiseNoFile() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	return uint64(rl.Cur)
}
