//go:build !unix

package cli

import "os"

// forwardedSignals: on Windows a console's Ctrl-C reaches every process
// attached to it, the child included; oat only has to outlive it.
var forwardedSignals = []os.Signal{os.Interrupt}

func shouldForward(os.Signal) bool { return false }

func childExitCode(ps *os.ProcessState) int { return ps.ExitCode() }
