// Package keychaintest holds keychain test doubles and helpers: Memory, a
// Store in memory that can be made unavailable; and, for tests of any
// package, the real Secret Service, with entries read back the way a user
// would, with secret-tool.
//
// A test that needs the Secret Service skips when none is reachable, saying
// why and how to run it; with OAT_REQUIRE_KEYRING=1 (set by
// .ci/keyring-session, which starts a private, unlocked gnome-keyring) it
// fails instead. Package keychain's own tests that use it are external
// (package keychain_test).
package keychaintest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"
)

// Required reports whether OAT_REQUIRE_KEYRING=1: tests that need the
// Secret Service must then fail, not skip.
func Required() bool { return os.Getenv("OAT_REQUIRE_KEYRING") == "1" }

// Unusable skips t, or fails it when the keyring is required, saying why.
func Unusable(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("OAT_REQUIRE_KEYRING=1 but %s", reason)
	}
	t.Skipf("skipping real Secret Service test: %s; run it under bash .ci/keyring-session (e.g. bash .ci/keyring-session go test ./internal/keychain/... ./internal/cli/)", reason)
}

// SecretService calls Unusable unless a D-Bus session is named, it is the
// private keyring of .ci/keyring-session, and check (an OS store's Check)
// succeeds. It holds a shared lock on the Secret Service
// until t ends (see LockKeyring).
func SecretService(t testing.TB, check func() error) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		Unusable(t, "DBUS_SESSION_BUS_ADDRESS is not set (no D-Bus session)")
	}
	// On a desktop the session bus leads to the user's own keyring, which no
	// test may touch: only the private one of .ci/keyring-session will do,
	// and only it sets OAT_TEST_KEYRING_PASSWORD.
	if os.Getenv("OAT_TEST_KEYRING_PASSWORD") == "" {
		Unusable(t, "OAT_TEST_KEYRING_PASSWORD is not set, so this is not the private keyring of .ci/keyring-session (tests never use your own keyring)")
	}
	hold(t, false)
	if err := check(); err != nil {
		Unusable(t, "the Secret Service is not usable: "+err.Error())
	}
}

// Lookup runs `secret-tool lookup service oat username user`: what a user
// would type. ok is false when secret-tool finds nothing.
func Lookup(t testing.TB, user string) (value string, ok bool) {
	t.Helper()
	if _, err := exec.LookPath("secret-tool"); err != nil {
		if Required() {
			t.Fatal("OAT_REQUIRE_KEYRING=1 but secret-tool is not installed (apt-get install libsecret-tools)")
		}
		t.Skip("secret-tool is not installed (apt-get install libsecret-tools)")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("secret-tool", "lookup", "service", "oat", "username", user)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && stdout.Len() == 0 {
		return "", false
	}
	if err != nil {
		t.Fatalf("secret-tool lookup %s: %v: %s", user, err, stderr.String())
	}
	return stdout.String(), true
}

// LockKeyring is for a test that locks the keyring: it waits until no test
// of any package (go test runs packages in parallel) holds the Secret
// Service through SecretService, and keeps them out until t ends (after
// SecretService, its shared lock becomes exclusive).
func LockKeyring(t testing.TB) {
	t.Helper()
	hold(t, true)
}
