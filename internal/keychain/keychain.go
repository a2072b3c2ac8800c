// Package keychain keeps refresh tokens: in the OS keychain (go-keyring), in
// 0600 files when the user opted in to file storage (keychaintest.Memory
// keeps them in memory for tests).
//
// A key is a storage key (a profile name or adhoc-<hex>); the secret is the
// refresh token itself. Errors never contain a secret.
package keychain

import (
	"errors"

	"github.com/oatcli/oat/internal/config"
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

// Kinds of store, as Store.Kind returns them: the storage setting's values.
const (
	KindKeychain = config.StorageKeychain
	KindFile     = config.StorageFile
)

// OptInHint tells the user how to leave the keychain out.
const OptInHint = `to keep the refresh token in a file instead, set storage = "file" in the profile or OAT_STORAGE=file`

// UnavailableError is an ErrUnavailable with its reason and, apart, what to
// do about it: a caller to whom the hint makes no sense (removing a profile)
// shows Problem alone.
type UnavailableError struct {
	What   string // "keychain" or "file storage"
	Reason string
	Hint   string // what to do (OptInHint for the keychain); may be ""
	Cause  error  // may be nil; never holds a secret
}

// Problem is the error without its hint.
func (e *UnavailableError) Problem() string { return e.What + " unavailable: " + e.Reason }

func (e *UnavailableError) Error() string {
	if e.Hint == "" {
		return e.Problem()
	}
	return e.Problem() + "; " + e.Hint
}

func (e *UnavailableError) Unwrap() []error {
	if e.Cause == nil {
		return []error{ErrUnavailable}
	}
	return []error{ErrUnavailable, e.Cause}
}

// StateDir is where file storage keeps refresh tokens: $XDG_STATE_HOME/oat,
// else ~/.local/state/oat (on every OS). A relative XDG_STATE_HOME is ignored,
// as the XDG spec says.
func StateDir(env func(string) string) (string, error) {
	return fsutil.XDGDir(env, "XDG_STATE_HOME", "state folder for file storage", ".local", "state")
}
