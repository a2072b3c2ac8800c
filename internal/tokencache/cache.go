// Package tokencache keeps each profile's access and ID tokens, with their
// expiry, in a small JSON file: $XDG_CACHE_HOME/oat/<key>.json (else
// ~/.cache/oat/), mode 0600 in a 0700 folder, written atomically. It never
// holds a refresh token. Lock serialises renewals of one key across processes.
//
// Load is on the hot path of `oat token`: one small file read and a JSON
// decode, nothing else.
package tokencache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oatcli/oat/internal/fsutil"

	"github.com/gofrs/flock"
)

// ErrNotFound means no entry is cached under the key.
var ErrNotFound = errors.New("no cached token")

// ErrCorrupt is wrapped by Load when the file exists but cannot be read as
// an entry. Callers treat it as a miss; the next Save replaces the file.
var ErrCorrupt = errors.New("token cache file is corrupt")

// Entry is what is cached for one key. It never holds a refresh token.
type Entry struct {
	AccessToken string    `json:"access_token,omitempty"`
	TokenType   string    `json:"token_type,omitempty"`
	IDToken     string    `json:"id_token,omitempty"`
	Scope       string    `json:"scope,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"` // zero: no known expiry
	Subject     string    `json:"subject,omitempty"`
	// Fingerprint names the settings that shaped the token; a caller whose
	// settings differ treats the entry as a miss.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Storage is where the refresh token lives: "keychain", "file" or "" (none).
	Storage string `json:"storage,omitempty"`
	// NeedsLogin records that the server answered invalid_grant.
	NeedsLogin bool      `json:"needs_login,omitempty"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// Cache is a folder of entries.
type Cache struct{ dir string }

// Dir returns the cache folder: $XDG_CACHE_HOME/oat, else ~/.cache/oat (on
// every OS). A relative XDG_CACHE_HOME is ignored, as the XDG spec says.
func Dir(env func(string) string) (string, error) {
	return fsutil.XDGDir(env, "XDG_CACHE_HOME", "token cache folder", ".cache")
}

// New returns the cache in dir (see Dir). Nothing is touched until used.
func New(dir string) *Cache { return &Cache{dir: dir} }

// Dir returns the cache's folder.
func (c *Cache) Dir() string { return c.dir }

const (
	entrySuffix = ".json"
	lockSuffix  = ".lock"
)

func (c *Cache) path(key, suffix string) (string, error) {
	name, err := fsutil.FileName(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(c.dir, name+suffix), nil
}

// Load returns the entry for key: ErrNotFound when there is none, an error
// wrapping ErrCorrupt when the file is not a valid entry, and an
// *fsutil.UnsafeError when the folder or the file is not safely oat's own
// (a link, another user's, writable by others, too large...).
func (c *Cache) Load(key string) (*Entry, error) {
	p, err := c.path(key, entrySuffix)
	if err != nil {
		return nil, err
	}
	// One lstat of the folder, then the file without following a link:
	// the cache hit stays one small read.
	b, err := fsutil.ReadFile(p, fsutil.MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if errors.Is(err, fsutil.ErrUnsafe) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reading the token cache: %w", err)
	}
	e := new(Entry)
	if err := json.Unmarshal(b, e); err != nil {
		// json's message can quote the file, which holds tokens: leave it out.
		return nil, fmt.Errorf("%w: %s is not a valid entry (it will be replaced)", ErrCorrupt, p)
	}
	return e, nil
}

// Save writes e under key: a 0600 temp file in the 0700 folder, synced and
// renamed over the old file, so a reader sees the old or the new entry,
// never part of one. A zero UpdatedAt is set to now in the file.
func (c *Cache) Save(key string, e *Entry) error {
	p, err := c.path(key, entrySuffix)
	if err != nil {
		return err
	}
	v := *e
	if v.UpdatedAt.IsZero() {
		v.UpdatedAt = time.Now().UTC().Truncate(time.Second)
	}
	b, err := json.Marshal(&v)
	if err != nil {
		return fmt.Errorf("encoding the token cache: %w", err)
	}
	if err := c.mkdir(); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(p, b); err != nil {
		return fmt.Errorf("writing the token cache: %w", err)
	}
	return nil
}

// Delete removes the entry for key; an absent entry is not an error. The
// lock file stays: removing it could let two processes lock different files.
func (c *Cache) Delete(key string) error {
	p, err := c.path(key, entrySuffix)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting the token cache: %w", err)
	}
	return nil
}

// Keys lists the keys that have an entry, in file-name order. A missing
// folder is an empty list.
func (c *Cache) Keys() ([]string, error) {
	ents, err := os.ReadDir(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the token cache: %w", err)
	}
	var keys []string
	for _, d := range ents {
		name, ok := strings.CutSuffix(d.Name(), entrySuffix)
		if !ok || d.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if key, ok := fsutil.KeyName(name); ok {
			keys = append(keys, key)
		}
	}
	return keys, nil
}

// Check makes sure entries can be written: the folder exists (or can be
// made) and takes files.
func (c *Cache) Check() error {
	if err := c.mkdir(); err != nil {
		return err
	}
	f, err := os.CreateTemp(c.dir, ".check*")
	if err != nil {
		return fmt.Errorf("the token cache folder is not writable: %w", err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// Lock takes the exclusive lock for key (an flock on <key>.lock, separate
// from the entry so atomic renames do not disturb it), waiting until it is
// free or ctx ends. The OS releases it when the holder exits or is killed.
// Call unlock once done.
//
// The wait is a blocking flock, not a poll: a waiter wakes as soon as the
// holder is done, so 20 processes on an expired token finish about one
// refresh after the first (a 25 ms poll cost each of them up to 25 ms more).
func (c *Cache) Lock(ctx context.Context, key string) (unlock func(), err error) {
	p, err := c.path(key, lockSuffix)
	if err != nil {
		return nil, err
	}
	if err := c.mkdir(); err != nil {
		return nil, err
	}
	// Never through a link, never blocking on a named pipe; once open, the
	// lock file must be a regular file of the user's own (checkLock).
	fl := flock.New(p, flock.SetPermissions(0o600), flock.SetFlag(os.O_CREATE|os.O_RDWR|fsutil.OpenFlags))
	if fi, err := os.Lstat(p); err == nil {
		if err := fsutil.CheckFile(p, fi, -1); err != nil {
			return nil, err
		}
	}
	ok, err := fl.TryLock()
	if err != nil {
		fl.Close()
		return nil, fmt.Errorf("locking the token cache: %w", err)
	}
	if ok {
		return checkLock(fl)
	}
	if err := ctx.Err(); err != nil {
		fl.Close()
		return nil, fmt.Errorf("waiting for another oat process renewing %q: %w", key, err)
	}
	done := make(chan error, 1)
	go func() { done <- fl.Lock() }()
	select {
	case err := <-done:
		if err != nil {
			fl.Close()
			return nil, fmt.Errorf("locking the token cache: %w", err)
		}
		return checkLock(fl)
	case <-ctx.Done():
		// The blocked flock cannot be interrupted: release the lock as soon
		// as it is taken (Close waits for Lock to return).
		go func() {
			<-done
			fl.Close()
		}()
		return nil, fmt.Errorf("waiting for another oat process renewing %q: %w", key, ctx.Err())
	}
}

// checkLock checks the lock file fl holds open, and returns its unlock.
func checkLock(fl *flock.Flock) (func(), error) {
	fi, err := fl.Stat()
	if err == nil {
		err = fsutil.CheckFile(fl.Path(), fi, -1)
	}
	if err != nil {
		fl.Close()
		return nil, err
	}
	return func() { fl.Close() }, nil
}

// mkdir makes the cache folder 0700, or checks the one there (fsutil.PrivateDir).
func (c *Cache) mkdir() error {
	if err := fsutil.PrivateDir(c.dir); err != nil {
		if errors.Is(err, fsutil.ErrUnsafe) {
			return err
		}
		return fmt.Errorf("creating the token cache folder: %w", err)
	}
	return nil
}
