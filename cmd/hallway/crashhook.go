package main

import (
	"os"
	"sync"
)

// crashEnv names a point of the work at which the process kills itself
// with SIGKILL (see bot.Options.TestHook and irc.Options.TestHook for the points). It exists for
// the crash tests only: they must die at one precise moment (after a
// command's commit and before its slow part, for "release"), which no
// signal sent from outside can hit reliably. Unset, nothing happens.
const crashEnv = "HALLWAY_TEST_CRASH"

// pauseEnv names a point at which the process stops itself with SIGSTOP,
// once, until the test sends SIGCONT: a leader frozen at that moment (as a
// long GC pause or a suspended VM would) while another takes over.
const pauseEnv = "HALLWAY_TEST_PAUSE"

// crashHook returns the hook that kills the process at the point crashEnv
// names, or stops it at the point pauseEnv names; nil if neither is set.
func crashHook() func(point string) {
	crash, pause := os.Getenv(crashEnv), os.Getenv(pauseEnv)
	if crash == "" && pause == "" {
		return nil
	}
	var paused sync.Once
	return func(point string) {
		switch point {
		case crash:
			// SIGKILL on Unix: no deferred function runs, nothing is flushed.
			self, err := os.FindProcess(os.Getpid())
			if err == nil {
				self.Kill()
			}
			select {} // the signal is on its way
		case pause:
			paused.Do(stopSelf)
		}
	}
}
