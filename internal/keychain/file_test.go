package keychain

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestFileStoreRoundTripAndModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "oat")
	s := NewFile(dir)
	if s.Kind() != "file" {
		t.Errorf("Kind = %q, want file", s.Kind())
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if _, err := s.Get("work"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: err = %v, want ErrNotFound", err)
	}
	secret := secretOf(5000, 4) // no size limit in files
	mustSet(t, s, "work", secret)
	mustGet(t, s, "work", secret)

	b, err := os.ReadFile(filepath.Join(dir, "work.refresh_token"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != secret {
		t.Fatal("the file does not hold exactly the secret")
	}
	if runtime.GOOS != "windows" {
		assertMode(t, dir, 0o700)
		assertMode(t, filepath.Join(dir, "work.refresh_token"), 0o600)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"work.refresh_token"}) {
		t.Errorf("folder holds %v, want only work.refresh_token (no temp or check files)", names)
	}

	mustSet(t, s, "work", "rt-2")
	mustGet(t, s, "work", "rt-2")
	if err := s.Delete("work"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("work"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete("work"); err != nil {
		t.Fatalf("deleting an absent key: %v", err)
	}
}

// TestFileStoreRefusesAnOpenFolder: a state folder others can write to is
// refused (exit 6, saying what to run), never silently chmod'ed; a merely
// readable one is used as it is.
func TestFileStoreRefusesAnOpenFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := filepath.Join(t.TempDir(), "oat")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	mustSet(t, NewFile(dir), "work", "rt")
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	want := "file storage unavailable: folder " + dir + " is writable by others; run chmod 700 " + dir
	if _, err := NewFile(dir).Get("work"); !errors.Is(err, ErrUnavailable) || err.Error() != want {
		t.Errorf("Get: %v\nwant %s", err, want)
	}
	if err := NewFile(dir).Set("work", "rt2"); !errors.Is(err, ErrUnavailable) || err.Error() != want {
		t.Errorf("Set: %v\nwant %s", err, want)
	}
	assertMode(t, dir, 0o777)

	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := NewFile(dir).Get("work"); err != nil || got != "rt" {
		t.Errorf("Get from a 0755 folder: %q, %v", got, err)
	}
	assertMode(t, dir, 0o755)
}

func TestFileStoreKeysStayInTheFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "oat")
	s := NewFile(dir)
	keys := []string{"../escape", "a/b", `a\b`, ".hidden", "..", "adhoc-0123abcd", "x%2F"}
	for i, k := range keys {
		mustSet(t, s, k, secretOf(10, byte(i)))
	}
	for i, k := range keys {
		mustGet(t, s, k, secretOf(10, byte(i)))
	}
	if names := dirNames(t, root); !slices.Equal(names, []string{"oat"}) {
		t.Fatalf("files escaped the folder: %v", names)
	}
	if n := len(dirNames(t, dir)); n != len(keys) {
		t.Fatalf("%d files for %d distinct keys", n, len(keys))
	}
	for _, name := range dirNames(t, dir) {
		if strings.HasPrefix(name, ".") || strings.ContainsAny(name, `/\`) {
			t.Errorf("unsafe file name %q", name)
		}
	}
	if err := s.Set("", "x"); err == nil {
		t.Error("an empty key was accepted")
	}
}

func TestFileStoreWritesAtomically(t *testing.T) {
	dir := t.TempDir()
	s := NewFile(dir)
	a, b := secretOf(64<<10, 1), secretOf(64<<10, 2)
	mustSet(t, s, "work", a)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v := a
			if i%2 == 1 {
				v = b
			}
			if err := s.Set("work", v); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 500 {
		got, err := s.Get("work")
		if err != nil {
			t.Fatal(err)
		}
		if got != a && got != b {
			close(stop)
			wg.Wait()
			t.Fatalf("a reader saw %d bytes: a partial write", len(got))
		}
	}
	close(stop)
	wg.Wait()
	if names := dirNames(t, dir); !slices.Equal(names, []string{"work.refresh_token"}) {
		t.Errorf("temp files left behind: %v", names)
	}
}

func TestFileStoreUnavailable(t *testing.T) {
	// A folder that cannot exist: its parent is a file (fails even as root).
	parent := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(parent, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := NewFile(filepath.Join(parent, "oat"))
	for name, err := range map[string]error{
		"Check": s.Check(),
		"Set":   s.Set("work", "rt-secret-value"),
	} {
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("%s: err = %v, want ErrUnavailable", name, err)
		}
		if !strings.HasPrefix(err.Error(), "file storage unavailable: ") || strings.Contains(err.Error(), "rt-secret-value") {
			t.Errorf("%s: message %q", name, err)
		}
		if strings.Contains(err.Error(), "OAT_STORAGE") {
			t.Errorf("%s: file storage errors should not suggest file storage: %q", name, err)
		}
	}
}

func TestStateDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	home := filepath.FromSlash("/home/u")
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": filepath.Join(home, "st"), "HOME": home}, filepath.Join(home, "st", "oat")},
		{map[string]string{"HOME": home}, filepath.Join(home, ".local", "state", "oat")},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": home}, filepath.Join(home, ".local", "state", "oat")},
	} {
		got, err := StateDir(env(tc.env))
		if err != nil || got != tc.want {
			t.Errorf("StateDir(%v) = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %o, want %o", filepath.Base(path), got, want)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
