//go:build unix

package main

import (
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// processAlive says whether a process of this id runs on this machine.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// stopSelf stops this process with SIGSTOP until it gets SIGCONT. The
// stop takes the other threads a moment: the caller waits for SIGCONT, so
// that it is not the one to go on meanwhile.
func stopSelf() {
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	defer signal.Stop(cont)
	syscall.Kill(syscall.Getpid(), syscall.SIGSTOP)
	<-cont
}
