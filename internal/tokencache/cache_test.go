package tokencache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/fsutil"
)

func fullEntry() *Entry {
	return &Entry{
		AccessToken: "at-" + strings.Repeat("a", 900),
		TokenType:   "Bearer",
		IDToken:     "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("b", 600) + ".sig",
		Scope:       "openid profile offline_access",
		Expiry:      time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC),
		Subject:     "user-123",
		Fingerprint: "0123456789abcdef",
		Storage:     "keychain",
		NeedsLogin:  true,
		UpdatedAt:   time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC),
	}
}

func sameEntry(t *testing.T, got, want *Entry) {
	t.Helper()
	if got.AccessToken != want.AccessToken || got.TokenType != want.TokenType || got.IDToken != want.IDToken ||
		got.Scope != want.Scope || !got.Expiry.Equal(want.Expiry) || got.Subject != want.Subject ||
		got.Fingerprint != want.Fingerprint || got.Storage != want.Storage || got.NeedsLogin != want.NeedsLogin ||
		!got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("loaded entry differs from the saved one (sub %q/%q, exp %v/%v, storage %q/%q)",
			got.Subject, want.Subject, got.Expiry, want.Expiry, got.Storage, want.Storage)
	}
}

func TestRoundTrip(t *testing.T) {
	c := New(filepath.Join(t.TempDir(), "cache", "oat"))
	want := fullEntry()
	if err := c.Save("work", want); err != nil {
		t.Fatal(err)
	}
	got, err := c.Load("work")
	if err != nil {
		t.Fatal(err)
	}
	sameEntry(t, got, want)

	// No expiry and no update time given: expiry stays unknown, UpdatedAt is now.
	before := time.Now().Add(-time.Second)
	if err := c.Save("ci", &Entry{AccessToken: "at-ci", TokenType: "Bearer"}); err != nil {
		t.Fatal(err)
	}
	got, err = c.Load("ci")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Expiry.IsZero() {
		t.Errorf("Expiry = %v, want zero (no known expiry)", got.Expiry)
	}
	if got.UpdatedAt.Before(before) || got.UpdatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("UpdatedAt = %v, want about now", got.UpdatedAt)
	}
}

func TestFileHoldsNoRefreshTokenField(t *testing.T) {
	c := New(t.TempDir())
	if err := c.Save("work", fullEntry()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(c.Dir(), "work.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "refresh") {
		t.Fatalf("cache file mentions a refresh token: %.80s…", b)
	}
	for _, field := range []string{`"access_token"`, `"expiry":"2026-11-25T21:00:00Z"`, `"storage":"keychain"`, `"needs_login":true`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("cache file lacks %s", field)
		}
	}
}

func TestModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "oat") // made by Save
	c := New(dir)
	if err := c.Save("work", fullEntry()); err != nil {
		t.Fatal(err)
	}
	unlock, err := c.Lock(t.Context(), "work")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	for path, want := range map[string]os.FileMode{
		dir:                             0o700,
		filepath.Join(dir, "work.json"): 0o600,
		filepath.Join(dir, "work.lock"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
}

func TestNotFound(t *testing.T) {
	c := New(filepath.Join(t.TempDir(), "never-made"))
	if _, err := c.Load("work"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load of a missing entry: err = %v, want ErrNotFound", err)
	}
	if err := c.Delete("work"); err != nil {
		t.Fatalf("Delete of a missing entry: %v", err)
	}
	keys, err := entryNames(c)
	if err != nil || len(keys) != 0 {
		t.Fatalf("Keys of a missing folder = %v, %v; want none", keys, err)
	}
}

func TestDelete(t *testing.T) {
	c := New(t.TempDir())
	if err := c.Save("work", fullEntry()); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("work"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load("work"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after Delete: err = %v, want ErrNotFound", err)
	}
}

func TestCorruptFile(t *testing.T) {
	c := New(t.TempDir())
	path := filepath.Join(c.Dir(), "work.json")
	for _, content := range []string{
		"",
		`{"access_token":"at-SECRET-PART`, // truncated
		"not json at all at-SECRET-PART",
		`{"expiry":"at-SECRET-PART"}`, // wrong type
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := c.Load("work")
		if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotFound) {
			t.Fatalf("Load of %q: err = %v, want ErrCorrupt", content, err)
		}
		if !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), path) {
			t.Errorf("message %q should say the file %s is corrupt", err, path)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("message %q quotes the file's content", err)
		}
	}
	// The next Save replaces it.
	if err := c.Save("work", fullEntry()); err != nil {
		t.Fatal(err)
	}
	got, err := c.Load("work")
	if err != nil {
		t.Fatal(err)
	}
	sameEntry(t, got, fullEntry())
}

func TestSaveIsAtomic(t *testing.T) {
	c := New(t.TempDir())
	a, b := fullEntry(), fullEntry()
	a.AccessToken = strings.Repeat("A", 32<<10)
	b.AccessToken = strings.Repeat("B", 32<<10)
	if err := c.Save("work", a); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			e := a
			if i%2 == 1 {
				e = b
			}
			if err := c.Save("work", e); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 150 {
		got, err := c.Load("work")
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("a reader saw a partial file: %v", err)
		}
		if got.AccessToken != a.AccessToken && got.AccessToken != b.AccessToken {
			close(stop)
			wg.Wait()
			t.Fatalf("a reader saw a mixed access token of %d bytes", len(got.AccessToken))
		}
	}
	close(stop)
	wg.Wait()

	ents, _ := os.ReadDir(c.Dir())
	for _, e := range ents {
		if e.Name() != "work.json" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestKeysAndFileNames(t *testing.T) {
	root := t.TempDir()
	c := New(filepath.Join(root, "oat"))
	keys := []string{"work", "adhoc-0123456789abcdef", "../escape", "a/b", ".hidden", "x%41", "my.profile"}
	for _, k := range keys {
		if err := c.Save(k, &Entry{AccessToken: "at-" + k}); err != nil {
			t.Fatalf("Save(%q): %v", k, err)
		}
	}
	// Things that are not entries: a lock file, a temp file, another folder.
	unlock, err := c.Lock(t.Context(), "work")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	os.WriteFile(filepath.Join(c.Dir(), ".work.json.tmp123"), []byte("{}"), 0o600)
	os.MkdirAll(filepath.Join(c.Dir(), "discovery"), 0o700)

	got, err := entryNames(c)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	var want []string
	for _, k := range keys {
		name, err := fsutil.FileName(k)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Keys = %q, want %q", got, want)
	}
	for _, k := range keys {
		e, err := c.Load(k)
		if err != nil || e.AccessToken != "at-"+k {
			t.Fatalf("Load(%q): %v", k, err)
		}
	}
	if ents, _ := os.ReadDir(root); len(ents) != 1 {
		t.Fatalf("files escaped the cache folder: %d entries in its parent", len(ents))
	}
	if err := c.Save("", &Entry{}); err == nil {
		t.Error("an empty key was accepted")
	}
}

func TestDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	home := filepath.FromSlash("/home/u")
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_CACHE_HOME": filepath.Join(home, "c"), "HOME": home}, filepath.Join(home, "c", "oat")},
		{map[string]string{"HOME": home}, filepath.Join(home, ".cache", "oat")},
		{map[string]string{"XDG_CACHE_HOME": "rel", "HOME": home}, filepath.Join(home, ".cache", "oat")},
	} {
		got, err := Dir(env(tc.env))
		if err != nil || got != tc.want {
			t.Errorf("Dir(%v) = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	c := New(filepath.Join(t.TempDir(), "oat"))
	if err := c.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if ents, _ := os.ReadDir(c.Dir()); len(ents) != 0 {
		t.Errorf("Check left %d files behind", len(ents))
	}
	parent := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(parent, nil, 0o600)
	if err := New(filepath.Join(parent, "oat")).Check(); err == nil {
		t.Error("Check passed for a folder that cannot be made")
	}
}

func BenchmarkLoad(b *testing.B) {
	c := New(b.TempDir())
	if err := c.Save("work", fullEntry()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Load("work"); err != nil {
			b.Fatal(err)
		}
	}
}

// entryNames lists the file names (fsutil.FileName of the key, without
// the suffix) of the entries in c's folder. A missing folder is an empty list.
func entryNames(c *Cache) ([]string, error) {
	ents, err := os.ReadDir(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range ents {
		name, ok := strings.CutSuffix(d.Name(), entrySuffix)
		if ok && !d.IsDir() && !strings.HasPrefix(name, ".") {
			names = append(names, name)
		}
	}
	return names, nil
}
