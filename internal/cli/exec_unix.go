//go:build unix

package cli

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwardedSignals are passed on to oat exec's child.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// shouldForward reports whether s must be sent on to the child. The terminal
// sends ^C (SIGINT) and ^\ (SIGQUIT) to its whole foreground process group,
// child included: when oat is in that group the child has its own copy, and
// a second one would make programs that take two interrupts as "quit now"
// (terraform, docker compose) skip their clean shutdown.
func shouldForward(s os.Signal) bool {
	if s != syscall.SIGINT && s != syscall.SIGQUIT {
		return true
	}
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return true // no controlling terminal: the signal came from kill
	}
	defer tty.Close()
	fg, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err != nil || fg != syscall.Getpgrp()
}

// childExitCode is the child's exit status as a shell reports it: 128+N when
// signal N killed it.
func childExitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
