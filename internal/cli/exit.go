package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
)

// Exit codes of the contract (docs/cli.md).
const (
	ExitOK            = 0
	ExitFailure       = 1
	ExitUsage         = 2
	ExitLoginRequired = 3
	ExitTemporary     = 4
	ExitVerify        = 5
	ExitStorage       = 6
	ExitInterrupted   = 130
)

// UsageError is a bad flag, argument or command (exit 2, usage printed).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// errorKinds lets lower packages' error kinds join the mapping without this
// file importing every package: each command file that brings a package in
// registers its kinds in an init-free table below.
var exitKinds []func(error) (int, bool)

// ExitCode maps an error to the contract's exit code.
func ExitCode(err error, interrupted bool) int {
	if err == nil {
		return ExitOK
	}
	if interrupted && errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var ue *UsageError
	var ce *config.Error
	var te *httpx.TemporaryError
	switch {
	case errors.As(err, &ue), errors.As(err, &ce):
		return ExitUsage
	case errors.As(err, &te):
		return ExitTemporary
	}
	for _, k := range exitKinds {
		if code, ok := k(err); ok {
			return code
		}
	}
	return ExitFailure
}

// oneLine flattens an error message for the single stderr line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
