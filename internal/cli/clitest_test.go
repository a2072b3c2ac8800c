package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/keychain"
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
	// realStores leaves Factory.StoreFor unset, so that oat picks its real
	// stores. Only for a test that keychaintest.SecretService has let run:
	// the OS keychain is then the throwaway one of .ci/keyring-session.
	realStores bool
}

// No test opens a real browser: the system opener always fails here. Tests
// that need a browser set Factory.Browser (or $OAT_BROWSER/$BROWSER in e.env).
func init() {
	runSystemOpener = func(*exec.Cmd) error { return errors.New("tests never open the system browser") }
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
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	io := output.New(in, out, errOut, nil) // buffers: no TTY
	e.in, e.out, e.errOut = in, out, errOut
	now := time.Now
	if !e.now.IsZero() {
		now = func() time.Time { return e.now }
	}
	getenv := func(k string) string {
		v := e.env[k]
		if k == "HOME" && v == "" {
			// fsutil.XDGDir would fall back to os.UserHomeDir: the real home.
			e.t.Errorf("the test removed HOME from its environment: oat would fall back to the real home folder")
		}
		return v
	}
	f := &Factory{IO: io, Getenv: getenv, Now: now}
	if e.configure != nil {
		e.configure(f)
	}
	if f.StoreFor == nil && !e.realStores {
		f.StoreFor = isolatedStores(e.t, f.Getenv)
	}
	return f
}

// isolatedStores is the refresh-token store of a test that injects none:
// file storage in the test's own XDG_STATE_HOME, as oat does; the OS keychain
// is refused and fails the test, because it would be the user's real one.
// A test that needs the keychain injects a store (keychaintest.NewMemory, or
// keychain.NewOS inside .ci/keyring-session's private keyring).
func isolatedStores(t testing.TB, getenv func(string) string) func(kind string) (keychain.Store, error) {
	return func(kind string) (keychain.Store, error) {
		if kind == config.StorageFile {
			dir, err := keychain.StateDir(getenv)
			if err != nil {
				return nil, err
			}
			return keychain.NewFile(dir), nil
		}
		t.Errorf("the command reached the real OS keychain (storage %q): inject a store with Factory.StoreFor", kind)
		return nil, fmt.Errorf("%w: tests never use the real OS keychain", keychain.ErrUnavailable)
	}
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
	// A bound on every command: a login whose redirect an emulator refuses
	// (the user would see the provider's error page and give up) then
	// fails the test in this time instead of waiting out login's 5-minute
	// --timeout. Generous: no command here takes more than seconds.
	ctx, cancel := context.WithTimeout(context.Background(), commandBound)
	defer cancel()
	return Run(ctx, f, args)
}

// commandBound is the longest one in-process oat command may run in a test.
const commandBound = 90 * time.Second

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
