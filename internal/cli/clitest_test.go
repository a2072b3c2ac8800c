package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/output"
)

// testEnv is one isolated oat installation: its own config, cache and state
// folders, environment and streams.
type testEnv struct {
	t      *testing.T
	dir    string
	env    map[string]string
	in     *bytes.Buffer
	out    *bytes.Buffer
	errOut *bytes.Buffer
	// now is a fixed clock; the zero time means the real clock (flows
	// against the OP).
	now time.Time
	// configure runs on each new Factory before the command (inject fakes).
	configure func(*Factory)
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	return &testEnv{
		t:   t,
		dir: dir,
		env: map[string]string{
			"HOME":            dir,
			"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
			"XDG_CACHE_HOME":  filepath.Join(dir, "cache"),
			"XDG_STATE_HOME":  filepath.Join(dir, "state"),
		},
	}
}

func (e *testEnv) configPath() string {
	return filepath.Join(e.dir, "config", "oat", "config.toml")
}

func (e *testEnv) factory() *Factory {
	io, in, out, errOut := output.Test()
	e.in, e.out, e.errOut = in, out, errOut
	now := time.Now
	if !e.now.IsZero() {
		now = func() time.Time { return e.now }
	}
	f := &Factory{IO: io, Getenv: func(k string) string { return e.env[k] }, Now: now}
	if e.configure != nil {
		e.configure(f)
	}
	return f
}

// run executes oat in-process and returns the exit code; stdout and stderr
// are in e.out and e.errOut afterwards.
func (e *testEnv) run(args ...string) int {
	e.t.Helper()
	return e.runStdin("", args...)
}

func (e *testEnv) runStdin(stdin string, args ...string) int {
	e.t.Helper()
	f := e.factory()
	e.in.WriteString(stdin)
	return Run(context.Background(), f, args)
}

// mustRun runs and fails the test unless the exit code is want.
func (e *testEnv) mustRun(want int, args ...string) {
	e.t.Helper()
	if got := e.run(args...); got != want {
		e.t.Fatalf("oat %q: exit %d, want %d\nstdout: %s\nstderr: %s", args, got, want, e.out, e.errOut)
	}
}

func (e *testEnv) writeConfig(s string) {
	e.t.Helper()
	if err := os.MkdirAll(filepath.Dir(e.configPath()), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.configPath(), []byte(s), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) readConfig() string {
	e.t.Helper()
	b, err := os.ReadFile(e.configPath())
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}
