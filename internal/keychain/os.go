package keychain

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

// Service is the go-keyring service name of every entry oat writes.
const Service = "oat"

// Defaults for OSOptions.
const (
	DefaultTimeout   = 3 * time.Second
	DefaultChunkSize = 2000 // Windows takes 2560 bytes, macOS about 3000 with the names
	minChunkSize     = 64
)

// chunkPrefix starts the value stored under KEY when the secret is split
// across KEY#1..KEY#N: "oat-chunked:N:<first 16 hex of sha256(secret)>".
const chunkPrefix = "oat-chunked:"

// checkKey is the entry Check looks up; no profile name can start with '#'.
const checkKey = "#oat-check"

// OSOptions tune the OS keychain store. Zero values take the defaults.
type OSOptions struct {
	// Timeout bounds each keychain call, so a hung D-Bus cannot freeze oat.
	Timeout time.Duration
	// ChunkSize is the largest value stored in one entry; larger secrets are
	// split. Tests make it small to force the split.
	ChunkSize int
}

// backend is the part of go-keyring oat uses; tests replace it.
type backend interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, secret string) error   { return keyring.Set(service, user, secret) }
func (goKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// osStore is the OS keychain: service "oat", user = key, secret = the token.
type osStore struct {
	b         backend
	timeout   time.Duration
	chunkSize int
	preflight func() string // reason the keychain cannot work at all, or ""
	describe  func(error) string
}

// NewOS returns the OS keychain store (macOS Keychain, Windows Credential
// Manager, the Secret Service on Linux) through go-keyring.
func NewOS(o OSOptions) Store { return newOS(o, goKeyring{}) }

func newOS(o OSOptions, b backend) *osStore {
	s := &osStore{b: b, timeout: o.Timeout, chunkSize: o.ChunkSize, preflight: preflight, describe: describe}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.chunkSize <= 0 {
		s.chunkSize = DefaultChunkSize
	}
	s.chunkSize = max(s.chunkSize, minChunkSize)
	return s
}

func (s *osStore) Kind() string { return KindKeychain }

// errTimeout is the cause of an unavailable error when a call hung.
var errTimeout = errors.New("keychain call timed out")

// call runs f with the timeout. A hung call is abandoned: its goroutine ends
// whenever go-keyring returns, and its result is dropped.
func (s *osStore) call(f func() (string, error)) (string, error) {
	if r := s.preflight(); r != "" {
		return "", &UnavailableError{What: KindKeychain, Reason: r, Hint: OptInHint}
	}
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		switch {
		case r.err == nil:
			return r.v, nil
		case errors.Is(r.err, keyring.ErrNotFound):
			return "", ErrNotFound
		case errors.Is(r.err, keyring.ErrSetDataTooBig):
			return "", r.err
		}
		return "", &UnavailableError{What: KindKeychain, Reason: s.describe(r.err), Hint: OptInHint, Cause: r.err}
	case <-t.C:
		return "", &UnavailableError{
			What:   KindKeychain,
			Reason: fmt.Sprintf("no answer within %s (a locked keyring waiting for its password prompt, or a hung D-Bus session)", s.timeout),
			Hint:   OptInHint,
			Cause:  errTimeout,
		}
	}
}

func (s *osStore) get(user string) (string, error) {
	return s.call(func() (string, error) { return s.b.Get(Service, user) })
}

func (s *osStore) set(user, secret string) error {
	_, err := s.call(func() (string, error) { return "", s.b.Set(Service, user, secret) })
	return err
}

func (s *osStore) del(user string) error {
	_, err := s.call(func() (string, error) { return "", s.b.Delete(Service, user) })
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func chunkUser(key string, i int) string { return key + "#" + strconv.Itoa(i) }

func validKey(key string) error {
	if key == "" || strings.Contains(key, "#") {
		return fmt.Errorf("invalid storage key %q: it must be non-empty and have no '#'", key)
	}
	return nil
}

// Get implements Store, joining a chunked secret.
func (s *osStore) Get(key string) (string, error) {
	if err := validKey(key); err != nil {
		return "", err
	}
	v, err := s.get(key)
	if err != nil {
		return "", err
	}
	n, sum, ok := parseMarker(v)
	if !ok {
		return v, nil
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		part, err := s.get(chunkUser(key, i))
		if errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("keychain entry %q is incomplete (part %d of %d is missing); log in again: %w", key, i, n, ErrNotFound)
		}
		if err != nil {
			return "", err
		}
		b.WriteString(part)
	}
	secret := b.String()
	if checksum(secret) != sum {
		return "", fmt.Errorf("keychain entry %q is damaged (its %d parts do not match); log in again: %w", key, n, ErrNotFound)
	}
	return secret, nil
}

// Set implements Store. A secret above the chunk size (or one that looks like
// a chunk marker) is split across KEY#1..KEY#N, with the marker under KEY.
// The new value is written before old parts are removed, so a failure never
// loses the previous secret's main entry. A backend that still finds a part
// too big gets smaller parts.
func (s *osStore) Set(key, secret string) error {
	if err := validKey(key); err != nil {
		return err
	}
	oldParts := 0
	if v, err := s.get(key); err == nil {
		if n, _, ok := parseMarker(v); ok {
			oldParts = n
		}
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}

	size := s.chunkSize
	for {
		n, err := s.write(key, secret, size)
		if errors.Is(err, keyring.ErrSetDataTooBig) && size/2 >= minChunkSize {
			size /= 2
			continue
		}
		if errors.Is(err, keyring.ErrSetDataTooBig) {
			return &UnavailableError{What: KindKeychain, Reason: "the keychain refuses the secret even in small parts", Hint: OptInHint}
		}
		if err != nil {
			return err
		}
		// Remove parts the new value does not use; a failure here leaves
		// only unused entries behind, so it is not reported.
		for i := n + 1; i <= oldParts; i++ {
			_ = s.del(chunkUser(key, i))
		}
		return nil
	}
}

// write stores secret under key in parts of at most size bytes and returns
// the number of parts (0 = stored whole).
func (s *osStore) write(key, secret string, size int) (int, error) {
	if len(secret) <= size && !strings.HasPrefix(secret, chunkPrefix) {
		return 0, s.set(key, secret)
	}
	parts := split(secret, size)
	for i, p := range parts {
		if err := s.set(chunkUser(key, i+1), p); err != nil {
			return 0, err
		}
	}
	marker := chunkPrefix + strconv.Itoa(len(parts)) + ":" + checksum(secret)
	return len(parts), s.set(key, marker)
}

// Delete implements Store: the entry and all its parts.
func (s *osStore) Delete(key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	v, err := s.get(key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if n, _, ok := parseMarker(v); ok {
		for i := 1; i <= n; i++ {
			if err := s.del(chunkUser(key, i)); err != nil {
				return err
			}
		}
	}
	return s.del(key)
}

// Check implements Store: one lookup of an entry that never exists. It goes
// through the same steps as Get (connect, unlock the collection, search), so
// an answer of "not found" means the keychain works.
func (s *osStore) Check() error {
	_, err := s.get(checkKey)
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// split cuts s into parts of at most size bytes, never inside a UTF-8
// sequence.
func split(s string, size int) []string {
	var parts []string
	for len(s) > size {
		cut := size
		for cut > size-utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	return append(parts, s)
}

func checksum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// parseMarker reads "oat-chunked:N:SUM".
func parseMarker(v string) (n int, sum string, ok bool) {
	rest, ok := strings.CutPrefix(v, chunkPrefix)
	if !ok {
		return 0, "", false
	}
	ns, sum, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, "", false
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n < 1 || n > 10000 {
		return 0, "", false
	}
	return n, sum, true
}
