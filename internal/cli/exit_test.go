package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/fsutil"
	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/jwt"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/output"
)

func TestExitCodeMapping(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("outer: %w", err) }
	cases := []struct {
		name        string
		err         error
		interrupted bool
		want        int
	}{
		{"nil", nil, false, 0},
		{"plain", errors.New("boom"), false, 1},
		{"usage", usageErrorf("bad flag"), false, 2},
		{"config", wrap(&config.Error{Msg: "bad"}), false, 2},
		{"malformed jwt", wrap(&jwt.MalformedError{}), false, 2},
		{"login required", wrap(auth.ErrLoginRequired), false, 3},
		{"invalid_grant", wrap(&auth.ServerError{Code: "invalid_grant"}), false, 3},
		{"other server error", wrap(&auth.ServerError{Code: "invalid_client"}), false, 1},
		{"temporary", wrap(&httpx.TemporaryError{Op: "refresh", StatusCode: 503}), false, 4},
		{"verify", wrap(&jwt.VerifyError{}), false, 5},
		{"storage", wrap(fmt.Errorf("%w: locked", keychain.ErrUnavailable)), false, 6},
		{"storage beats login", wrap(errors.Join(keychain.ErrUnavailable, auth.ErrLoginRequired)), false, 6},
		{"unsafe file or folder", wrap(&fsutil.UnsafeError{Kind: "folder", Path: "/x", Problem: "is writable by others", Fix: "run chmod 700 /x"}), false, 6},
		{"interrupted", wrap(context.Canceled), true, 130},
		{"canceled without a signal", wrap(context.Canceled), false, 1},
	}
	for _, tc := range cases {
		if got := ExitCode(tc.err, tc.interrupted); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestRunPrintsOneLineErrors checks the shape every error takes on stderr.
func TestRunPrintsOneLineErrors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if code := e.run("bogus-command"); code != ExitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
	if got := e.errOut.String(); got != "oat: unknown command \"bogus-command\" for \"oat\"\nRun 'oat --help' for usage.\n" {
		t.Errorf("stderr = %q", got)
	}
	if code := e.run("token", "--min-ttl", "soon"); code != ExitUsage || e.out.Len() != 0 {
		t.Errorf("bad duration: exit %d", code)
	}
	// A configuration error is one line without usage text.
	e.writeConfig("[profiles.a\n")
	if code := e.run("token"); code != ExitUsage {
		t.Errorf("malformed config: exit %d", code)
	}
	if got := e.errOut.String(); len(got) == 0 || got[len(got)-1] != '\n' || countLines(got) != 1 {
		t.Errorf("stderr = %q, want one line", got)
	}
	// Help and version go to stdout and succeed.
	e.mustRun(0, "--help")
	if e.out.Len() == 0 || e.errOut.Len() != 0 {
		t.Errorf("--help: stdout %d bytes, stderr %q", e.out.Len(), e.errOut)
	}
	e.mustRun(0, "version", "-o", "json")
	if e.out.Len() == 0 {
		t.Error("version printed nothing")
	}
}

func TestNoColorFlag(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.writeConfig("[profiles.a]\nissuer = \"https://a\"\nclient_id = \"a\"\n")
	f := e.factory()
	f.IO.SetTTY(false, true, true)
	if code := Run(context.Background(), f, []string{"profile", "list"}); code != 0 {
		t.Fatal(code)
	}
	if !containsESC(e.out.String()) {
		t.Errorf("a TTY without NO_COLOR should get colour: %q", e.out)
	}
	f = e.factory()
	f.IO.SetTTY(false, true, true)
	if code := Run(context.Background(), f, []string{"--no-color", "profile", "list"}); code != 0 {
		t.Fatal(code)
	}
	if containsESC(e.out.String()) {
		t.Errorf("--no-color: %q", e.out)
	}
	e.env["NO_COLOR"] = "1"
	f = e.factory()
	f.IO = output.New(f.IO.In, f.IO.Out, f.IO.ErrOut, f.Getenv)
	f.IO.SetTTY(false, true, true)
	if code := Run(context.Background(), f, []string{"profile", "list"}); code != 0 {
		t.Fatal(code)
	}
	if containsESC(e.out.String()) {
		t.Errorf("NO_COLOR: %q", e.out)
	}
}

func containsESC(s string) bool {
	for _, r := range s {
		if r == 0x1b {
			return true
		}
	}
	return false
}

func countLines(s string) int {
	n := 0
	for _, r := range s {
		if r == '\n' {
			n++
		}
	}
	return n
}
