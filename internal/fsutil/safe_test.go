//go:build unix

package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadFileRefusesHostileFiles: every kind of file that is not safely
// oat's own is refused with a one-line *UnsafeError naming it, before a
// byte is read, and nothing outside the folder is changed.
func TestReadFileRefusesHostileFiles(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("not a token"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, p string)
		want  string // in the error
	}{
		{"symlink to another file", func(t *testing.T, p string) { must(t, os.Symlink(outside, p)) }, "is a symbolic link"},
		{"symlink to /dev/zero", func(t *testing.T, p string) { must(t, os.Symlink("/dev/zero", p)) }, "is a symbolic link"},
		{"dangling symlink", func(t *testing.T, p string) { must(t, os.Symlink(p+".nowhere", p)) }, "is a symbolic link"},
		{"named pipe", func(t *testing.T, p string) { must(t, syscall.Mkfifo(p, 0o600)) }, "is a named pipe, not a regular file"},
		{"folder", func(t *testing.T, p string) { must(t, os.Mkdir(p, 0o700)) }, "is a folder, not a regular file"},
		{"hard link to another file", func(t *testing.T, p string) { must(t, os.Link(outside, p)) }, "has 2 hard links"},
		{"sparse file over the cap", func(t *testing.T, p string) {
			must(t, os.WriteFile(p, nil, 0o600))
			must(t, os.Truncate(p, 8<<30)) // 8 GiB, no disk used
		}, "is larger than 1 MiB"},
		{"another user's file", func(t *testing.T, p string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown")
			}
			must(t, os.WriteFile(p, []byte("planted"), 0o600))
			must(t, os.Chown(p, 4242, 4242))
		}, "is owned by uid 4242, not by you"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "oat")
			must(t, os.Mkdir(dir, 0o700))
			p := filepath.Join(dir, "work.refresh_token")
			tt.setup(t, p)
			b, err := ReadFile(p, MaxFileSize)
			var ue *UnsafeError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnsafe) || b != nil {
				t.Fatalf("got %q, %v; want an *UnsafeError", b, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "file "+p+" ") || strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error %q: want one line naming %s and saying %q", msg, p, tt.want)
			}
			if got, _ := os.ReadFile(outside); string(got) != "not a token" {
				t.Errorf("the file outside changed: %q", got)
			}
		})
	}

	// The config file: a symbolic link is followed (dotfile managers), but
	// what it points to must still be a regular, small file.
	dir := t.TempDir()
	link := filepath.Join(dir, "config.toml")
	must(t, os.Symlink(outside, link))
	if b, err := ReadUserFile(link, MaxFileSize); err != nil || string(b) != "not a token" {
		t.Errorf("ReadUserFile through a link: %q, %v", b, err)
	}
	zero := filepath.Join(dir, "zero.toml")
	must(t, os.Symlink("/dev/zero", zero))
	if _, err := ReadUserFile(zero, MaxFileSize); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "is a device, not a regular file") {
		t.Errorf("ReadUserFile of /dev/zero: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), MaxFileSize); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestFoldersRefusedNotRepaired: a folder of oat's own that is a link, is
// writable by others or is another user's is refused with what to run,
// and oat changes nothing (no chmod through a link, no chmod at all).
func TestFoldersRefusedNotRepaired(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, dir, target string)
		want  string
	}{
		{"writable by others", func(t *testing.T, dir, _ string) {
			must(t, os.Mkdir(dir, 0o700))
			must(t, os.Chmod(dir, 0o777))
		}, "is writable by others; run chmod 700 "},
		{"writable by the group", func(t *testing.T, dir, _ string) {
			must(t, os.Mkdir(dir, 0o700))
			must(t, os.Chmod(dir, 0o770))
		}, "is writable by its group; run chmod 700 "},
		{"symlink to a folder", func(t *testing.T, dir, target string) { must(t, os.Symlink(target, dir)) }, "is a symbolic link"},
		{"a file", func(t *testing.T, dir, _ string) { must(t, os.WriteFile(dir, nil, 0o600)) }, "is a regular file"},
		{"another user's folder", func(t *testing.T, dir, _ string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown")
			}
			must(t, os.Mkdir(dir, 0o700))
			must(t, os.Chown(dir, 4242, 4242))
		}, "is owned by uid 4242"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			target := filepath.Join(base, "elsewhere")
			must(t, os.Mkdir(target, 0o755))
			dir := filepath.Join(base, "oat")
			tt.setup(t, dir, target)
			before, _ := os.Lstat(dir)
			for name, f := range map[string]func() error{
				"CheckDir":   func() error { return CheckDir(dir) },
				"PrivateDir": func() error { return PrivateDir(dir) },
				"ReadFile": func() error {
					_, err := ReadFile(filepath.Join(dir, "work.json"), MaxFileSize)
					return err
				},
			} {
				err := f()
				if !errors.Is(err, ErrUnsafe) || !strings.HasPrefix(err.Error(), "folder "+dir+" ") || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: %v; want %q", name, err, tt.want)
				}
			}
			if after, _ := os.Lstat(dir); after.Mode() != before.Mode() {
				t.Errorf("mode changed: %v → %v", before.Mode(), after.Mode())
			}
			if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o755 {
				t.Errorf("link target's mode changed to %v", fi.Mode().Perm())
			}
		})
	}
	// A 0755 folder (readable, not writable, by others) is fine as it is.
	dir := filepath.Join(t.TempDir(), "oat")
	must(t, os.Mkdir(dir, 0o755))
	must(t, os.Chmod(dir, 0o755))
	if err := PrivateDir(dir); err != nil {
		t.Error(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestLinkTarget(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "real.toml")
	must(t, os.WriteFile(file, nil, 0o644))
	must(t, os.Symlink("real.toml", filepath.Join(dir, "rel")))               // relative
	must(t, os.Symlink(filepath.Join(dir, "rel"), filepath.Join(dir, "abs"))) // chain
	must(t, os.Symlink("missing.toml", filepath.Join(dir, "dangling")))
	must(t, os.Symlink("loop", filepath.Join(dir, "loop")))
	for name, want := range map[string]string{"real.toml": file, "rel": file, "abs": file,
		"dangling": filepath.Join(dir, "missing.toml"), "none": filepath.Join(dir, "none")} {
		if got, err := LinkTarget(filepath.Join(dir, name)); err != nil || got != want {
			t.Errorf("LinkTarget(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := LinkTarget(filepath.Join(dir, "loop")); err == nil || !strings.Contains(err.Error(), "too many symbolic links") {
		t.Errorf("loop: %v", err)
	}
}
