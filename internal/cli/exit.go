package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/fsutil"
	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/jwt"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/termsafe"
	"github.com/oatcli/oat/internal/tokencache"
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

// SilentExit ends oat with Code and prints nothing: whoever failed has
// already said why (a child program oat ran).
type SilentExit struct{ Code int }

func (e *SilentExit) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// CodeError is a failure with its own exit code (oat exec: 127 when the
// command is not found, 126 when it cannot be run, as shells do).
type CodeError struct {
	Code int
	Err  error
}

func (e *CodeError) Error() string { return e.Err.Error() }
func (e *CodeError) Unwrap() error { return e.Err }

func usageErrorf(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// ExitCode maps an error to the contract's exit code.
func ExitCode(err error, interrupted bool) int {
	if err == nil {
		return ExitOK
	}
	if interrupted && errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var se *SilentExit
	if errors.As(err, &se) {
		return se.Code
	}
	var codeErr *CodeError
	if errors.As(err, &codeErr) {
		return codeErr.Code
	}
	var (
		ue *UsageError
		ce *config.Error
		me *jwt.MalformedError
		te *httpx.TemporaryError
		ve *jwt.VerifyError
	)
	switch {
	case errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &me):
		return ExitUsage
	case errors.Is(err, keychain.ErrUnavailable), errors.Is(err, fsutil.ErrUnsafe):
		// Before login-required: a refresh that could not even read the
		// keychain is a storage problem, not a rejected session.
		return ExitStorage
	case errors.Is(err, auth.ErrLoginRequired):
		return ExitLoginRequired
	case errors.As(err, &te), errors.Is(err, tokencache.ErrBusy):
		return ExitTemporary
	case errors.As(err, &ve):
		return ExitVerify
	}
	return ExitFailure
}

// oneLine flattens an error message for the single stderr line. Errors carry
// server text (error_description, reason phrases, issuer names): controls and
// bidi characters in it are shown escaped (termsafe), never sent raw.
func oneLine(s string) string { return termsafe.Line(s) }
