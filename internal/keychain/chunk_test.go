package keychain

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

// fakeKeyring is a go-keyring stand-in: entries by user, an optional size
// limit (like Windows' 2560 bytes), an optional hang and an optional failure.
type fakeKeyring struct {
	mu      sync.Mutex
	entries map[string]string
	limit   int           // >0: Set above this many bytes fails with ErrSetDataTooBig
	hang    chan struct{} // non-nil: every call blocks until it is closed
	fail    error         // non-nil: every call fails with it
	calls   atomic.Int32  // calls made, counted before any hang
}

func newFake() *fakeKeyring { return &fakeKeyring{entries: map[string]string{}} }

func (f *fakeKeyring) wait() error {
	f.calls.Add(1)
	if f.hang != nil {
		<-f.hang
	}
	return f.fail
}

func (f *fakeKeyring) Get(service, user string) (string, error) {
	if err := f.wait(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.entries[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeyring) Set(service, user, secret string) error {
	if err := f.wait(); err != nil {
		return err
	}
	if f.limit > 0 && len(secret) > f.limit {
		return keyring.ErrSetDataTooBig
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries[service+"/"+user] = secret
	return nil
}

func (f *fakeKeyring) Delete(service, user string) error {
	if err := f.wait(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.entries[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.entries, service+"/"+user)
	return nil
}

func (f *fakeKeyring) users() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.entries))
}

func newFakeOS(t *testing.T, o OSOptions, f *fakeKeyring) *osStore {
	t.Helper()
	s := newOS(o, f)
	s.preflight = func() string { return "" }
	return s
}

// secretOf returns a token-like secret of n bytes.
func secretOf(n int, seed byte) string {
	const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = abc[(int(seed)+i*7+i/64)%len(abc)]
	}
	return string(b)
}

func mustSet(t *testing.T, s Store, key, secret string) {
	t.Helper()
	if err := s.Set(key, secret); err != nil {
		t.Fatalf("Set(%q, <%d bytes>): %v", key, len(secret), err)
	}
}

func mustGet(t *testing.T, s Store, key, want string) {
	t.Helper()
	got, err := s.Get(key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if got != want {
		t.Fatalf("Get(%q) returned %d bytes that differ from the %d bytes stored", key, len(got), len(want))
	}
}

func TestChunkedSecretIsSplitAndJoined(t *testing.T) {
	f := newFake()
	s := newFakeOS(t, OSOptions{ChunkSize: 100}, f)
	secret := secretOf(350, 1)
	mustSet(t, s, "work", secret)

	want := []string{"oat/work", "oat/work#1", "oat/work#2", "oat/work#3", "oat/work#4"}
	if got := f.users(); !slices.Equal(got, want) {
		t.Fatalf("entries = %v, want %v", got, want)
	}
	marker := f.entries["oat/work"]
	if !strings.HasPrefix(marker, "oat-chunked:4:") || len(marker) > 40 {
		t.Errorf("main entry = %q, want a short oat-chunked:4:… marker", marker)
	}
	for _, u := range want[1:] {
		if len(f.entries[u]) > 100 {
			t.Errorf("%s holds %d bytes, more than the chunk size 100", u, len(f.entries[u]))
		}
	}
	mustGet(t, s, "work", secret)
}

func TestSmallSecretIsOneEntryHoldingTheSecret(t *testing.T) {
	f := newFake()
	s := newFakeOS(t, OSOptions{ChunkSize: 100}, f)
	mustSet(t, s, "work", "rt-small")
	if got := f.users(); !slices.Equal(got, []string{"oat/work"}) || f.entries["oat/work"] != "rt-small" {
		t.Fatalf("entries = %v, want only oat/work holding the secret itself", got)
	}
}

func TestOverwriteLeavesNoStaleChunks(t *testing.T) {
	f := newFake()
	s := newFakeOS(t, OSOptions{ChunkSize: 100}, f)

	mustSet(t, s, "work", secretOf(450, 1)) // 5 parts
	mustSet(t, s, "work", secretOf(250, 2)) // 3 parts
	if got, want := f.users(), []string{"oat/work", "oat/work#1", "oat/work#2", "oat/work#3"}; !slices.Equal(got, want) {
		t.Fatalf("after a shorter chunked value: entries = %v, want %v", got, want)
	}
	mustGet(t, s, "work", secretOf(250, 2))

	mustSet(t, s, "work", "rt-small")
	if got := f.users(); !slices.Equal(got, []string{"oat/work"}) {
		t.Fatalf("after a small value: entries = %v, want only oat/work", got)
	}
	mustGet(t, s, "work", "rt-small")
}

func TestDeleteRemovesAllChunks(t *testing.T) {
	f := newFake()
	s := newFakeOS(t, OSOptions{ChunkSize: 100}, f)
	mustSet(t, s, "work", secretOf(450, 1))
	mustSet(t, s, "other", "keep-me")
	if err := s.Delete("work"); err != nil {
		t.Fatal(err)
	}
	if got := f.users(); !slices.Equal(got, []string{"oat/other"}) {
		t.Fatalf("entries after Delete = %v, want only oat/other", got)
	}
	if _, err := s.Get("work"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete("work"); err != nil {
		t.Fatalf("deleting an absent key: %v, want nil", err)
	}
}

func TestSecretAboveWindowsLimitIsStored(t *testing.T) {
	f := newFake()
	f.limit = 2560 // wincred's limit
	// A chunk size above the limit: parts must shrink until they fit.
	s := newFakeOS(t, OSOptions{ChunkSize: 4000}, f)
	secret := secretOf(9000, 3)
	mustSet(t, s, "work", secret)
	mustGet(t, s, "work", secret)

	f2 := newFake()
	f2.limit = 2560
	s2 := newFakeOS(t, OSOptions{}, f2) // default chunk size fits at once
	mustSet(t, s2, "work", secret)
	mustGet(t, s2, "work", secret)
	if n := len(f2.users()); n != 6 {
		t.Errorf("default chunk size: %d entries for 9000 bytes, want 6 (marker + 5 parts of ≤2000)", n)
	}
}

func TestSecretLookingLikeAMarkerRoundTrips(t *testing.T) {
	f := newFake()
	s := newFakeOS(t, OSOptions{ChunkSize: 100}, f)
	for _, secret := range []string{"oat-chunked:2:0000000000000000", "oat-chunked:"} {
		mustSet(t, s, "work", secret)
		mustGet(t, s, "work", secret)
	}
}

func TestChunksNeverSplitAUTF8Sequence(t *testing.T) {
	f := newFake()
	s := newFakeOS(t, OSOptions{ChunkSize: 64}, f)
	secret := strings.Repeat("aé€😀", 40)
	mustSet(t, s, "work", secret)
	for _, u := range f.users() {
		if !utf8.ValidString(f.entries[u]) {
			t.Errorf("%s is not valid UTF-8: a rune was cut", u)
		}
	}
	mustGet(t, s, "work", secret)
}

func TestMissingOrDamagedChunkIsNotFoundWithoutTheSecret(t *testing.T) {
	f := newFake()
	s := newFakeOS(t, OSOptions{ChunkSize: 100}, f)
	secret := secretOf(350, 1)

	mustSet(t, s, "work", secret)
	delete(f.entries, "oat/work#2")
	_, err := s.Get("work")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "part 2 of 4 is missing") {
		t.Fatalf("missing part: err = %v, want ErrNotFound naming part 2 of 4", err)
	}

	mustSet(t, s, "work", secret)
	f.entries["oat/work#3"] = secretOf(100, 9)
	_, err = s.Get("work")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("changed part: err = %v, want ErrNotFound saying it is damaged", err)
	}
	if strings.Contains(err.Error(), secret[:20]) {
		t.Fatal("the error contains the secret")
	}
}

func TestHungKeychainTimesOutAsUnavailable(t *testing.T) {
	f := newFake()
	f.hang = make(chan struct{})
	defer close(f.hang)
	s := newFakeOS(t, OSOptions{Timeout: 50 * time.Millisecond}, f)

	for name, op := range map[string]func() error{
		"Get":    func() error { _, err := s.Get("work"); return err },
		"Set":    func() error { return s.Set("work", "rt-secret-value") },
		"Delete": func() error { return s.Delete("work") },
		"Check":  s.Check,
	} {
		// The fake answers only once f.hang is closed, after this loop:
		// returning at all proves the call was given up at the timeout.
		err := op()
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("%s: err = %v, want ErrUnavailable", name, err)
		}
		msg := err.Error()
		for _, want := range []string{"no answer within 50ms", "locked", `storage = "file"`, "OAT_STORAGE=file"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: message %q lacks %q", name, msg, want)
			}
		}
		if strings.Contains(msg, "rt-secret-value") {
			t.Errorf("%s: the error contains the secret", name)
		}
	}
}

func TestKeychainFailureIsUnavailableWithReasonAndHint(t *testing.T) {
	f := newFake()
	f.fail = errors.New("boom from the backend")
	s := newFakeOS(t, OSOptions{}, f)
	s.describe = func(err error) string { return "described: " + err.Error() }

	err := s.Set("work", "rt-secret-value")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	want := `keychain unavailable: described: boom from the backend; to keep the refresh token in a file instead, set storage = "file" in the profile or OAT_STORAGE=file`
	if err.Error() != want {
		t.Fatalf("message:\n got %s\nwant %s", err, want)
	}
	if !errors.Is(err, f.fail) {
		t.Error("the backend's error is not wrapped")
	}
	if err := s.Check(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Check: err = %v, want ErrUnavailable", err)
	}
}

func TestCheckPassesOnAnEmptyKeychain(t *testing.T) {
	s := newFakeOS(t, OSOptions{}, newFake())
	if err := s.Check(); err != nil {
		t.Fatalf("Check on a working, empty keychain: %v", err)
	}
	if k := s.Kind(); k != "keychain" {
		t.Errorf("Kind = %q", k)
	}
}

func TestPreflightFailureSkipsTheKeychain(t *testing.T) {
	f := newFake()
	s := newFakeOS(t, OSOptions{}, f)
	s.preflight = func() string { return "no D-Bus session bus" }
	err := s.Check()
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no D-Bus session bus") {
		t.Fatalf("err = %v, want ErrUnavailable with the preflight reason", err)
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("preflight failure still called the keychain (%d calls)", n)
	}
}

func TestKeyWithHashIsRefused(t *testing.T) {
	s := newFakeOS(t, OSOptions{}, newFake())
	for _, key := range []string{"", "work#1"} {
		if err := s.Set(key, "x"); err == nil || errors.Is(err, ErrUnavailable) {
			t.Errorf("Set(%q): err = %v, want an invalid-key error", key, err)
		}
	}
}
