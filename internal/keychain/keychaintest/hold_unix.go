//go:build unix

package keychaintest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

var held sync.Map // testing.TB → *os.File holding its lock

// hold takes a shared (or exclusive) lock on a file named after the D-Bus
// session until t ends. go test runs packages in parallel: the lock keeps a
// test that locks the keyring from meeting another package's test using it.
// A test that holds the lock already converts it (flock locks of two open
// files conflict, even in one process).
func hold(t testing.TB, exclusive bool) {
	t.Helper()
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if f, ok := held.Load(t); ok {
		if err := syscall.Flock(int(f.(*os.File).Fd()), how); err != nil {
			t.Fatalf("taking the Secret Service test lock: %v", err)
		}
		return
	}
	sum := sha256.Sum256([]byte(os.Getenv("DBUS_SESSION_BUS_ADDRESS")))
	path := filepath.Join(os.TempDir(), "oat-secret-service-test-"+hex.EncodeToString(sum[:8])+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatalf("opening the Secret Service test lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatalf("taking the Secret Service test lock: %v", err)
	}
	held.Store(t, f)
	t.Cleanup(func() { held.Delete(t); f.Close() })
}
