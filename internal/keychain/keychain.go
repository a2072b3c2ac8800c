// Package keychain keeps refresh tokens: in the OS keychain (go-keyring), in
// 0600 files when the user opted in to file storage, or in memory for tests.
//
// A key is a storage key (a profile name or adhoc-<hex>); the secret is the
// refresh token itself. Errors never contain a secret.
package keychain

import (
	"errors"

	"github.com/oatcli/oat/internal/fsutil"
)

var (
	// ErrNotFound means no secret is stored under the key.
	ErrNotFound = errors.New("no refresh token stored")
	// ErrUnavailable means the storage cannot be reached (exit 6). Errors
	// returned by a Store wrap it together with the reason and what to do.
	ErrUnavailable = errors.New("token storage unavailable")
)

// Store keeps one secret per key.
type Store interface {
	// Get returns the secret stored under key, or an error wrapping
	// ErrNotFound or ErrUnavailable.
	Get(key string) (string, error)
	// Set stores secret under key, replacing what was there.
	Set(key, secret string) error
	// Delete removes the secret under key; an absent key is not an error.
	Delete(key string) error
	// Check reports whether secrets can be stored now (reachable, unlocked);
	// otherwise it returns an error wrapping ErrUnavailable that says why.
	Check() error
	// Kind is "keychain" or "file", as `oat status` shows it.
	Kind() string
}

// Kinds of store, as Store.Kind returns them.
const (
	KindKeychain = "keychain"
	KindFile     = "file"
)

// optInHint tells the user how to leave the keychain out.
const optInHint = `to keep the refresh token in a file instead, set storage = "file" in the profile or OAT_STORAGE=file`

// unavailableError is an ErrUnavailable with its reason.
type unavailableError struct {
	what   string // "keychain" or "file storage"
	reason string
	hint   bool  // add how to opt in to file storage
	cause  error // may be nil; never holds a secret
}

func (e *unavailableError) Error() string {
	s := e.what + " unavailable: " + e.reason
	if e.hint {
		s += "; " + optInHint
	}
	return s
}

func (e *unavailableError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrUnavailable}
	}
	return []error{ErrUnavailable, e.cause}
}

// StateDir is where file storage keeps refresh tokens: $XDG_STATE_HOME/oat,
// else ~/.local/state/oat (on every OS). A relative XDG_STATE_HOME is ignored,
// as the XDG spec says.
func StateDir(env func(string) string) (string, error) {
	return fsutil.XDGDir(env, "XDG_STATE_HOME", "state folder for file storage", ".local", "state")
}
