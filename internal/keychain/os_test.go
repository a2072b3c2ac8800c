//go:build linux

package keychain_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/keychain/keychaintest"
)

// Tests against the real Secret keychain.Service. Run them with
//
//	.ci/keyring-session go test ./internal/keychain/...
//
// which starts a private, unlocked gnome-keyring and sets OAT_REQUIRE_KEYRING=1
// (turning every skip below into a failure). They never run in parallel: one of
// them locks the collection.

// secretService skips (or, with OAT_REQUIRE_KEYRING=1, fails) the test unless
// the private Secret keychain.Service of .ci/keyring-session is reachable, and returns
// an OS store.
func secretService(t *testing.T, o keychain.OSOptions) keychain.Store {
	t.Helper()
	s := keychain.NewOS(o)
	keychaintest.SecretService(t, s.Check)
	return s
}

// uniqueKey returns a key no other test run uses, and deletes it (with all
// its parts) when the test ends.
func uniqueKey(t *testing.T, s keychain.Store) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	key := "oat-test-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if err := s.Delete(key); err != nil {
			t.Errorf("cleanup: deleting %s: %v", key, err)
		}
	})
	return key
}

// randomSecret returns n bytes of token-like text.
func randomSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// lookup runs `secret-tool lookup service oat username user`: what a user
// would type. ok is false when secret-tool finds nothing.
func lookup(t *testing.T, user string) (value string, ok bool) {
	t.Helper()
	return keychaintest.Lookup(t, user)
}

// sameSecret compares without ever printing a secret.
func sameSecret(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %d bytes that differ from the expected %d bytes", what, len(got), len(want))
	}
}

func TestSecretServiceStoreReadDelete(t *testing.T) {
	s := secretService(t, keychain.OSOptions{})
	key := uniqueKey(t, s)
	secret := randomSecret(120)

	keychain.MustSet(t, s, key, secret)
	got, err := s.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	sameSecret(t, "Get", got, secret)
	v, ok := lookup(t, key)
	if !ok {
		t.Fatalf("secret-tool lookup service oat username %s found nothing", key)
	}
	sameSecret(t, "secret-tool lookup", v, secret)

	// Logging in again replaces the secret.
	secret2 := randomSecret(80)
	keychain.MustSet(t, s, key, secret2)
	v, _ = lookup(t, key)
	sameSecret(t, "secret-tool lookup after overwrite", v, secret2)

	if err := s.Delete(key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(key); !errors.Is(err, keychain.ErrNotFound) || errors.Is(err, keychain.ErrUnavailable) {
		t.Fatalf("Get after Delete: err = %v, want keychain.ErrNotFound", err)
	}
	if _, ok := lookup(t, key); ok {
		t.Fatal("secret-tool still finds the entry after Delete")
	}
}

func TestSecretServiceNotFound(t *testing.T) {
	s := secretService(t, keychain.OSOptions{})
	key := uniqueKey(t, s)
	if _, err := s.Get(key); !errors.Is(err, keychain.ErrNotFound) || errors.Is(err, keychain.ErrUnavailable) {
		t.Fatalf("Get of a key never stored: err = %v, want keychain.ErrNotFound", err)
	}
	if err := s.Delete(key); err != nil {
		t.Fatalf("Delete of a key never stored: %v, want nil", err)
	}
}

func TestSecretServiceChunks(t *testing.T) {
	s := secretService(t, keychain.OSOptions{ChunkSize: 100})
	key := uniqueKey(t, s)
	secret := randomSecret(1000)

	keychain.MustSet(t, s, key, secret)
	got, err := s.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	sameSecret(t, "Get of a chunked secret", got, secret)

	marker, _ := lookup(t, key)
	if !strings.HasPrefix(marker, "oat-chunked:10:") {
		t.Fatalf("secret-tool shows %d bytes under %s, want the oat-chunked:10:… marker", len(marker), key)
	}
	var joined strings.Builder
	for i := 1; i <= 10; i++ {
		part, ok := lookup(t, keychain.ChunkUser(key, i))
		if !ok || len(part) > 100 {
			t.Fatalf("part %d: found=%v, %d bytes; want ≤100 bytes", i, ok, len(part))
		}
		joined.WriteString(part)
	}
	sameSecret(t, "parts joined by hand", joined.String(), secret)

	// A small value replaces the chunked one: no parts are left behind.
	keychain.MustSet(t, s, key, "rt-small")
	v, _ := lookup(t, key)
	sameSecret(t, "secret-tool after a small overwrite", v, "rt-small")
	for i := 1; i <= 10; i++ {
		if _, ok := lookup(t, keychain.ChunkUser(key, i)); ok {
			t.Fatalf("stale part %s#%d left after overwriting with a small value", key, i)
		}
	}

	// Delete removes every part.
	keychain.MustSet(t, s, key, secret)
	if err := s.Delete(key); err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= 10; i++ {
		u := key
		if i > 0 {
			u = keychain.ChunkUser(key, i)
		}
		if _, ok := lookup(t, u); ok {
			t.Fatalf("%s left after Delete", u)
		}
	}
}

func TestSecretServiceLargeSecretDefaultChunks(t *testing.T) {
	// Bigger than Windows (2560) and macOS (~3000) take in one entry.
	s := secretService(t, keychain.OSOptions{})
	key := uniqueKey(t, s)
	secret := randomSecret(7000)
	keychain.MustSet(t, s, key, secret)
	got, err := s.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	sameSecret(t, "Get of a 7000-byte secret", got, secret)
	if _, ok := lookup(t, keychain.ChunkUser(key, 4)); !ok {
		t.Fatal("7000 bytes with 2000-byte chunks: no 4th part")
	}
}

// Locking: gnome-keyring's Lock needs no prompt; unlocking without a prompt
// needs its internal UnlockWithMasterPassword and the password, which only
// .ci/keyring-session knows (OAT_TEST_KEYRING_PASSWORD).
const (
	ssName          = "org.freedesktop.secrets"
	ssPath          = dbus.ObjectPath("/org/freedesktop/secrets")
	loginCollection = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
)

func setLocked(t *testing.T, locked bool) {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	svc := conn.Object(ssName, ssPath)
	if locked {
		var done []dbus.ObjectPath
		var prompt dbus.ObjectPath
		if err := svc.Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{loginCollection}).Store(&done, &prompt); err != nil {
			t.Fatalf("locking the login collection: %v", err)
		}
		if len(done) != 1 || prompt != "/" {
			t.Fatalf("Lock: locked %v, prompt %s; want the collection locked without a prompt", done, prompt)
		}
		return
	}
	var out dbus.Variant
	var session dbus.ObjectPath
	if err := svc.Call("org.freedesktop.Secret.Service.OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &session); err != nil {
		t.Fatalf("opening a Secret keychain.Service session: %v", err)
	}
	defer conn.Object(ssName, session).Call("org.freedesktop.Secret.Session.Close", 0)
	password := struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}{session, []byte{}, []byte(os.Getenv("OAT_TEST_KEYRING_PASSWORD")), "text/plain"}
	call := svc.Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword", 0, loginCollection, password)
	if call.Err != nil {
		t.Fatalf("unlocking the login collection: %v", call.Err)
	}
}

func TestSecretServiceLockedCollectionIsUnavailable(t *testing.T) {
	const timeout = 2 * time.Second
	s := secretService(t, keychain.OSOptions{Timeout: timeout})
	if os.Getenv("OAT_TEST_KEYRING_PASSWORD") == "" {
		if os.Getenv("OAT_REQUIRE_KEYRING") == "1" {
			t.Fatal("OAT_REQUIRE_KEYRING=1 but OAT_TEST_KEYRING_PASSWORD is not set: run under .ci/keyring-session")
		}
		t.Skip("locking needs the private keyring of .ci/keyring-session (OAT_TEST_KEYRING_PASSWORD); it would lock your own keyring")
	}
	keychaintest.LockKeyring(t) // no other package's test uses the keyring meanwhile
	key := uniqueKey(t, s)
	keychain.MustSet(t, s, key, "rt-before-lock")

	setLocked(t, true)
	relocked := false
	t.Cleanup(func() {
		if !relocked {
			setLocked(t, false)
		}
	})

	for _, op := range []struct {
		name string
		f    func() error
	}{
		{"Check", s.Check},
		{"Get", func() error { _, err := s.Get(key); return err }},
		{"Set", func() error { return s.Set(key, "rt-while-locked") }},
		{"Delete", func() error { return s.Delete(key) }},
	} {
		// No wall-clock bound here: the call's timer is proven with a hung
		// fake (TestHungKeychainTimesOutAsUnavailable); this test proves
		// what a real locked collection gives.
		err := op.f()
		if !errors.Is(err, keychain.ErrUnavailable) {
			t.Errorf("%s on a locked collection: err = %v, want keychain.ErrUnavailable", op.name, err)
			continue
		}
		msg := err.Error()
		t.Logf("%s: %s", op.name, msg)
		if !strings.Contains(msg, "locked") || !strings.Contains(msg, "OAT_STORAGE=file") {
			t.Errorf("%s: message %q should say the keyring is locked and how to use file storage", op.name, msg)
		}
		if strings.Contains(msg, "rt-while-locked") || strings.Contains(msg, "rt-before-lock") {
			t.Errorf("%s: the error contains a secret", op.name)
		}
	}

	setLocked(t, false)
	relocked = true
	got, err := s.Get(key)
	if err != nil {
		t.Fatalf("Get after unlocking: %v", err)
	}
	sameSecret(t, "the value after unlocking (nothing was written while locked)", got, "rt-before-lock")
}
