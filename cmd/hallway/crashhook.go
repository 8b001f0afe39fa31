package main

import "os"

// crashEnv names a point of the work at which the process kills itself
// with SIGKILL (see bot.Options.TestHook for the points). It exists for
// the crash tests only: they must die at one precise moment (after a
// command's commit and before its slow part, for "release"), which no
// signal sent from outside can hit reliably. Unset, nothing happens.
const crashEnv = "HALLWAY_TEST_CRASH"

// crashHook returns the hook that kills the process at the point crashEnv
// names, or nil.
func crashHook() func(point string) {
	want := os.Getenv(crashEnv)
	if want == "" {
		return nil
	}
	return func(point string) {
		if point != want {
			return
		}
		// SIGKILL on Unix: no deferred function runs, nothing is flushed.
		self, err := os.FindProcess(os.Getpid())
		if err == nil {
			self.Kill()
		}
		select {} // the signal is on its way
	}
}
