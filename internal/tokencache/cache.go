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
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/oatcli/oat/internal/fsutil"

	"github.com/gofrs/flock"
)

// ErrNotFound means no entry is cached under the key.
var ErrNotFound = errors.New("no cached token")

// ErrBusy is wrapped by Lock's error when another process held the lock
// for the whole wait: a temporary condition (exit 4).
var ErrBusy = errors.New("another oat process holds the renewal lock")

// BusyError says who held the lock for the whole wait.
type BusyError struct {
	Key string
	PID int           // the holder's process ID, 0 when unknown
	For time.Duration // how long this process waited
	Err error         // the wait's end: context.DeadlineExceeded
}

func (e *BusyError) Unwrap() error { return e.Err }

func (e *BusyError) Error() string {
	who := "another oat process"
	if e.PID > 0 {
		who += " (PID " + strconv.Itoa(e.PID) + ")"
	}
	waited := ""
	if e.For >= time.Second {
		waited = " (" + e.For.Round(time.Second).String() + ")"
	}
	return fmt.Sprintf("%s held the renewal lock of profile %q for the whole wait%s: try again shortly, or end that process if it is stuck", who, e.Key, waited)
}

func (e *BusyError) Is(target error) bool { return target == ErrBusy }

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
	// DPoPJKT is the thumbprint of the DPoP key the token was requested
	// with (RFC 9449), "" without DPoP. It is public; the key itself is in
	// the refresh-token store, needed only when a proof is made.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// NeedsLogin records that the server answered invalid_grant.
	NeedsLogin bool      `json:"needs_login,omitempty"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// Usable reports whether e's access token may be handed out at now to a
// profile whose settings have the fingerprint fp and the dpop setting: it is
// there, no login is needed, it was issued for these settings (and with a
// DPoP key exactly when dpop is set), and it expires no sooner than minTTL
// from now. A token that lives no longer than minTTL would never be good
// enough, and every call would renew it: half its lifetime is asked of it
// then. A token without an expiry is usable until the server refuses it.
// The cached `oat token` (internal/session) and the one answered before
// package initialisation (internal/fastpath) both decide with this.
func (e *Entry) Usable(fp string, dpop bool, minTTL time.Duration, now time.Time) bool {
	if e == nil || e.AccessToken == "" || e.NeedsLogin || e.Fingerprint != fp {
		return false
	}
	if (e.DPoPJKT != "") != dpop {
		return false // dpop turned on or off since: renew
	}
	if e.Expiry.IsZero() {
		return true
	}
	if life := e.Expiry.Sub(e.UpdatedAt); life > 0 && life <= minTTL {
		minTTL = life / 2
	}
	return e.Expiry.Sub(now) >= minTTL
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
	if err := decodeEntry(b, e); err != nil {
		// json's message can quote the file, which holds tokens: leave it out.
		return nil, fmt.Errorf("%w: %s is not a valid entry (it will be replaced)", ErrCorrupt, p)
	}
	return e, nil
}

// Save writes e under key: a 0600 temp file in the 0700 folder, renamed
// over the old file, so a reader sees the old or the new entry, never part
// of one. A zero UpdatedAt is set to now in the file.
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
	// Not synced: the refresh token (synced in its store) rebuilds the entry,
	// and Load reads a damaged file as a miss (ErrCorrupt).
	if err := fsutil.WriteCacheFile(p, b); err != nil {
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
// Call unlock once done. The holder writes its PID into the lock file (and
// empties it on unlock), so that a process that gave up waiting can say
// who holds it: when ctx's deadline passes, the error is a *BusyError.
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
	start := time.Now()
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
		return checkLock(fl, p)
	}
	if err := ctx.Err(); err != nil {
		fl.Close()
		return nil, waitError(ctx, key, p, start)
	}
	done := make(chan error, 1)
	go func() { done <- fl.Lock() }()
	select {
	case err := <-done:
		if err != nil {
			fl.Close()
			return nil, fmt.Errorf("locking the token cache: %w", err)
		}
		return checkLock(fl, p)
	case <-ctx.Done():
		// The blocked flock cannot be interrupted: release the lock as soon
		// as it is taken (Close waits for Lock to return).
		go func() {
			<-done
			fl.Close()
		}()
		return nil, waitError(ctx, key, p, start)
	}
}

// held records this process as the holder of the lock file at p and returns
// the unlock function, which empties the file again. The PID goes only into
// the very file that was locked, and only while it is a small regular file
// (not a link, not some other file linked there): a lock file is never a way
// to overwrite anything else. Best effort: Windows may refuse a write to a
// locked file, and the PID is then unknown.
func held(fl *flock.Flock, p string) func() {
	var f *os.File
	locked, err1 := fl.Stat()
	named, err2 := os.Lstat(p)
	if err1 == nil && err2 == nil && named.Mode().IsRegular() && named.Size() <= maxPIDFile && os.SameFile(named, locked) {
		if g, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			if opened, err := g.Stat(); err == nil && os.SameFile(opened, locked) && g.Truncate(0) == nil {
				_, _ = g.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
				f = g
			} else {
				g.Close()
			}
		}
	}
	return func() {
		if f != nil {
			_ = f.Truncate(0)
			f.Close()
		}
		fl.Close()
	}
}

// maxPIDFile bounds what a lock file may hold: a PID and a newline.
const maxPIDFile = 32

// waitError is the error of a wait for the lock that ended with ctx: a
// *BusyError naming the holder when the deadline passed.
func waitError(ctx context.Context, key, p string, start time.Time) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("waiting for another oat process renewing %q: %w", key, ctx.Err())
	}
	waited := time.Since(start)
	if dl, ok := ctx.Deadline(); ok {
		waited = dl.Sub(start)
	}
	return &BusyError{Key: key, PID: holderPID(p), For: waited, Err: ctx.Err()}
}

// holderPID reads the PID the lock's holder wrote, 0 when there is none.
func holderPID(p string) int {
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	f, err := os.Open(p)
	if err != nil {
		return 0
	}
	defer f.Close()
	b := make([]byte, 24)
	n, _ := io.ReadFull(f, b)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// checkLock checks the lock file fl holds open, then records this process as
// its holder (held) and returns the unlock.
func checkLock(fl *flock.Flock, p string) (func(), error) {
	fi, err := fl.Stat()
	if err == nil {
		err = fsutil.CheckFile(fl.Path(), fi, -1)
	}
	if err != nil {
		fl.Close()
		return nil, err
	}
	return held(fl, p), nil
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
