//go:build linux

package keychain

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// These tests reach go-keyring's real Linux code path with a session bus that
// is broken on purpose. They run in a child process (this test binary again,
// TestHelperProcess) because godbus shares one session-bus connection per
// process, and a hung connect would block every later test.

// helperResult is what the child prints for each call.
type helperResult struct {
	Op          string
	Unavailable bool
	NotFound    bool
	Msg         string
}

func TestHelperProcess(t *testing.T) {
	if os.Getenv("OAT_KEYCHAIN_HELPER") != "1" {
		t.Skip("helper for the broken-bus tests; runs only as their child process")
	}
	timeout, _ := time.ParseDuration(os.Getenv("OAT_KEYCHAIN_TIMEOUT"))
	s := NewOS(OSOptions{Timeout: timeout})
	ops := []struct {
		name string
		f    func() error
	}{
		{"Check", s.Check},
		{"Set", func() error { return s.Set("oat-helper", "rt-helper-secret") }},
		{"Get", func() error { _, err := s.Get("oat-helper"); return err }},
	}
	var out []helperResult
	for _, op := range ops {
		err := op.f()
		r := helperResult{Op: op.name}
		if err != nil {
			r.Msg = err.Error()
			r.Unavailable = errors.Is(err, ErrUnavailable)
			r.NotFound = errors.Is(err, ErrNotFound)
		}
		out = append(out, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		t.Fatal(err)
	}
}

// runHelper runs TestHelperProcess with the given bus address and timeout.
func runHelper(t *testing.T, busAddress string, timeout time.Duration) []helperResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(),
		"OAT_KEYCHAIN_HELPER=1",
		"OAT_KEYCHAIN_TIMEOUT="+timeout.String(),
		"DBUS_SESSION_BUS_ADDRESS="+busAddress,
	)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper process: %v\n%s", err, stdout)
	}
	// `go test` adds PASS and ok lines after the JSON.
	line, _, _ := strings.Cut(string(stdout), "\n")
	var res []helperResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("helper output %q: %v", stdout, err)
	}
	if len(res) != 3 {
		t.Fatalf("helper returned %d results, want 3", len(res))
	}
	return res
}

func TestDeadBusIsUnavailable(t *testing.T) {
	addr := "unix:path=" + filepath.Join(t.TempDir(), "no-bus-here")
	for _, r := range runHelper(t, addr, 3*time.Second) {
		if !r.Unavailable {
			t.Errorf("%s with no bus: %q, want ErrUnavailable", r.Op, r.Msg)
		}
		for _, want := range []string{"keychain unavailable: cannot connect to the D-Bus session bus", "no-bus-here", "OAT_STORAGE=file"} {
			if !strings.Contains(r.Msg, want) {
				t.Errorf("%s: message %q lacks %q", r.Op, r.Msg, want)
			}
		}
		if strings.Contains(r.Msg, "rt-helper-secret") {
			t.Errorf("%s: the error contains the secret", r.Op)
		}
	}
}

func TestHungBusTimesOut(t *testing.T) {
	// A socket that accepts connections and never answers: godbus waits
	// forever for the authentication reply.
	sock := filepath.Join(t.TempDir(), "hung")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()

	// The bus never answers, so a result at all, saying so, proves each
	// call was given up at the timeout.
	const timeout = 300 * time.Millisecond
	for _, r := range runHelper(t, "unix:path="+sock, timeout) {
		if !r.Unavailable || !strings.Contains(r.Msg, "no answer within 300ms") {
			t.Errorf("%s on a hung bus: %q, want ErrUnavailable after the timeout", r.Op, r.Msg)
		}
	}
}

// withUserRunDir points preflight's /run/user/UID at dir for the test.
func withUserRunDir(t *testing.T, dir string) {
	old := userRunDir
	userRunDir = func() string { return dir }
	t.Cleanup(func() { userRunDir = old })
}

func TestNoSessionBusIsUnavailableBeforeTrying(t *testing.T) {
	// An empty /run/user/UID, whether or not this machine has a user bus.
	withUserRunDir(t, t.TempDir())
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	err := NewOS(OSOptions{}).Check()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	want := `keychain unavailable: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so the Secret Service cannot be reached; to keep the refresh token in a file instead, set storage = "file" in the profile or OAT_STORAGE=file`
	if err.Error() != want {
		t.Fatalf("message:\n got %s\nwant %s", err, want)
	}
}

func TestSystemdUserBusPassesPreflight(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	for _, f := range []string{"bus", "dbus-session"} {
		dir := t.TempDir()
		withUserRunDir(t, dir)
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if r := preflight(); r != "" {
			t.Errorf("with /run/user/UID/%s: preflight = %q, want it to let godbus find that bus", f, r)
		}
	}
}

func TestDescribeNamesTheCause(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown"}, "no Secret Service on the D-Bus session bus"},
		{&dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked"}, "the keyring is locked"},
		{fmt.Errorf("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"), "the keyring is locked"},
		{dbus.Error{Name: "org.freedesktop.Secret.Error.NoSuchObject"}, "no default keyring"},
	} {
		if got := describe(tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("describe(%v) = %q, want it to contain %q", tc.err, got, tc.want)
		}
	}
}
