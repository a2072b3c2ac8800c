package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileNameRoundTripAndSafety(t *testing.T) {
	for _, key := range []string{"work", "adhoc-0123abcd", "a.b_c-d", ".hidden", "../../etc/passwd", "名前", "a/b\\c%"} {
		name, err := FileName(key)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(name) != name || name == "." || name == ".." || name[0] == '.' {
			t.Errorf("FileName(%q) = %q is not a plain file name", key, name)
		}
		if back, ok := KeyName(name); !ok || back != key {
			t.Errorf("KeyName(FileName(%q)) = %q, %v", key, back, ok)
		}
	}
	if _, err := FileName(""); err == nil {
		t.Error("empty key accepted")
	}
	if _, ok := KeyName("%zz"); ok {
		t.Error("KeyName accepted a name FileName never makes")
	}
}

func TestXDGDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	got, _ := XDGDir(env(map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/h"}), "XDG_CACHE_HOME", "cache", ".cache")
	if got != "/x/oat" {
		t.Errorf("got %q", got)
	}
	got, _ = XDGDir(env(map[string]string{"XDG_CACHE_HOME": "relative", "HOME": "/h"}), "XDG_CACHE_HOME", "cache", ".cache")
	if got != "/h/.cache/oat" {
		t.Errorf("relative XDG var: got %q", got)
	}
	got, _ = XDGDir(env(map[string]string{"HOME": "/h"}), "XDG_STATE_HOME", "state", ".local", "state")
	if got != "/h/.local/state/oat" {
		t.Errorf("got %q", got)
	}
}

func TestWriteFileAtomicAndPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "oat")
	if err := PrivateDir(dir); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "f")
	for _, data := range []string{"one", "two"} {
		if err := WriteFileAtomic(p, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != data {
			t.Errorf("content %q, want %q", b, data)
		}
	}
	fi, _ := os.Stat(p)
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("modes: file %v, dir %v", fi.Mode().Perm(), di.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temp files left behind: %d entries", len(entries))
	}
}

func TestWriteCacheFileReplacesPrivately(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "entry.json")
	for _, content := range []string{"old", "new"} {
		if err := WriteCacheFile(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != content {
			t.Fatalf("read %q, %v; want %q", b, err, content)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the folder, want 1 (no temp file left)", len(ents))
	}
}

// KeyName reverses FileName (a test of it); ok is false for names FileName never makes.
func KeyName(name string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] != '%' {
			b.WriteByte(name[i])
			continue
		}
		if i+2 >= len(name) {
			return "", false
		}
		hi, lo := unhex(name[i+1]), unhex(name[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	return b.String(), b.Len() > 0
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
