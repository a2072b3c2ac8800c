//go:build unix

package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/oatcli/oat/internal/config"
)

// TestHostileLocalFiles is the table of #11's hostile local files: each
// case plants something in oat's own folders (or at the config path) of a
// logged-in profile with file storage, runs `oat token`, and checks the
// exit code, one line on stderr naming the file and the fix, nothing on
// stdout, no request at the OpenID Provider, and nothing outside oat's
// folders changed.
func TestHostileLocalFiles(t *testing.T) {
	t.Parallel()
	type paths struct {
		state, cache, config, outside, outsideDir string
	}
	symlink := func(target string) func(*testing.T, string) {
		return func(t *testing.T, p string) { replace(t, p, func() error { return os.Symlink(target, p) }) }
	}
	fifo := func(t *testing.T, p string) { replace(t, p, func() error { return syscall.Mkfifo(p, 0o600) }) }
	for _, tt := range []struct {
		name    string
		expired bool // the cached access token has expired: oat token renews
		plant   func(t *testing.T, p paths)
		exit    int
		want    []string // on stderr
	}{
		{name: "refresh token file is a symlink to another file", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) { symlink(p.outside)(t, filepath.Join(p.state, "work.refresh_token")) },
			want:  []string{"work.refresh_token is a symbolic link", "rm "}},
		{name: "refresh token file is a symlink to dev-zero", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) { symlink("/dev/zero")(t, filepath.Join(p.state, "work.refresh_token")) },
			want:  []string{"is a symbolic link"}},
		{name: "refresh token file is a FIFO", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) { fifo(t, filepath.Join(p.state, "work.refresh_token")) },
			want:  []string{"is a named pipe, not a regular file"}},
		{name: "refresh token file is huge", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) {
				if err := os.Truncate(filepath.Join(p.state, "work.refresh_token"), 8<<30); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"is larger than 1 MiB"}},
		{name: "refresh token file is a hard link to another file", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) {
				f := filepath.Join(p.state, "work.refresh_token")
				replace(t, f, func() error { return os.Link(p.outside, f) })
			},
			want: []string{"has 2 hard links"}},
		{name: "refresh token file is another user's", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) { chownOther(t, filepath.Join(p.state, "work.refresh_token")) },
			want:  []string{"is owned by uid 4242"}},
		{name: "state folder is writable by others", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) { chmod(t, p.state, 0o777) },
			want:  []string{"folder " + "STATE is writable by others; run chmod 700 STATE"}},
		{name: "state folder is a symlink", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) { moveAndLink(t, p.state, p.outsideDir) },
			want:  []string{"folder STATE is a symbolic link"}},
		{name: "cache folder is writable by others (cache hit)", exit: ExitStorage,
			plant: func(t *testing.T, p paths) { chmod(t, p.cache, 0o777) },
			want:  []string{"folder CACHE is writable by others; run chmod 700 CACHE"}},
		{name: "cache folder is a symlink (cache hit)", exit: ExitStorage,
			plant: func(t *testing.T, p paths) { moveAndLink(t, p.cache, p.outsideDir) },
			want:  []string{"folder CACHE is a symbolic link"}},
		{name: "cache folder is a symlink (renewal)", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) { moveAndLink(t, p.cache, p.outsideDir) },
			want:  []string{"folder CACHE is a symbolic link"}},
		{name: "cache folder is another user's", exit: ExitStorage,
			plant: func(t *testing.T, p paths) { chownOther(t, p.cache) },
			want:  []string{"folder CACHE is owned by uid 4242"}},
		{name: "cache entry is a symlink", exit: ExitStorage,
			plant: func(t *testing.T, p paths) { symlink(p.outside)(t, filepath.Join(p.cache, "work.json")) },
			want:  []string{"work.json is a symbolic link"}},
		{name: "cache entry is a FIFO", exit: ExitStorage,
			plant: func(t *testing.T, p paths) { fifo(t, filepath.Join(p.cache, "work.json")) },
			want:  []string{"work.json is a named pipe"}},
		{name: "lock file is a symlink to another file", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) { symlink(p.outside)(t, filepath.Join(p.cache, "work.lock")) },
			want:  []string{"work.lock is a symbolic link"}},
		{name: "lock file is a dangling symlink", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) {
				symlink(filepath.Join(p.outsideDir, "created-by-oat"))(t, filepath.Join(p.cache, "work.lock"))
			},
			want: []string{"work.lock is a symbolic link"}},
		{name: "lock file is a FIFO", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) { fifo(t, filepath.Join(p.cache, "work.lock")) },
			want:  []string{"work.lock is a named pipe"}},
		{name: "discovery cache is a symlink", expired: true, exit: ExitStorage,
			plant: func(t *testing.T, p paths) {
				files, _ := filepath.Glob(filepath.Join(p.cache, "discovery", "[0-9a-f]*.json"))
				if len(files) != 1 {
					t.Fatalf("discovery cache files: %v", files)
				}
				symlink(p.outside)(t, files[0])
			},
			want: []string{"is a symbolic link"}},
		{name: "config file is a FIFO", exit: ExitUsage,
			plant: func(t *testing.T, p paths) { fifo(t, p.config) },
			want:  []string{"config CONFIG: the file is a named pipe, not a regular file"}},
		{name: "config file is a symlink to dev-zero", exit: ExitUsage,
			plant: func(t *testing.T, p paths) { symlink("/dev/zero")(t, p.config) },
			want:  []string{"the file is a device, not a regular file"}},
		{name: "config file is another user's", exit: ExitUsage,
			plant: func(t *testing.T, p paths) { chownOther(t, p.config) },
			want:  []string{"the file is owned by uid 4242"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newOPEnv(t, config.FlowPKCE)
			e.configure = func(f *Factory) { f.Browser = e.browser.Open } // real stores
			e.env["OAT_STORAGE"] = "file"
			e.mustRun(0, "login")
			if tt.expired {
				e.expire("work")
			}
			outsideDir := t.TempDir()
			p := paths{
				state: filepath.Join(e.dir, "state", "oat"), cache: filepath.Join(e.dir, "cache", "oat"),
				config: e.configPath(), outside: filepath.Join(outsideDir, "secret"), outsideDir: outsideDir,
			}
			if err := os.WriteFile(p.outside, []byte("not a refresh token"), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(outsideDir, 0o750); err != nil {
				t.Fatal(err)
			}
			tt.plant(t, p)

			var requests atomic.Int32
			e.op.SetFault(func(http.ResponseWriter, *http.Request) bool { requests.Add(1); return false })
			code := e.run("token")

			if code != tt.exit {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.exit, e.errOut)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("%d requests reached the OpenID Provider", n)
			}
			if e.out.Len() != 0 {
				t.Errorf("stdout %q", e.out)
			}
			msg := e.errOut.String()
			if !strings.HasPrefix(msg, "oat: ") || strings.Count(msg, "\n") != 1 {
				t.Errorf("stderr is not one oat: line: %q", msg)
			}
			for _, w := range tt.want {
				w = strings.NewReplacer("STATE", p.state, "CACHE", p.cache, "CONFIG", p.config).Replace(w)
				if !strings.Contains(msg, w) {
					t.Errorf("stderr %q\nwant it to say %q", msg, w)
				}
			}
			// Nothing outside oat's folders changed.
			if b, err := os.ReadFile(p.outside); err != nil || string(b) != "not a refresh token" {
				t.Errorf("outside file: %q, %v", b, err)
			}
			for path, want := range map[string]os.FileMode{p.outside: 0o640, outsideDir: 0o750} {
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
					t.Errorf("%s: mode changed (%v, %v)", path, fi.Mode().Perm(), err)
				}
			}
			if _, err := os.Lstat(filepath.Join(outsideDir, "created-by-oat")); err == nil {
				t.Error("oat created a file through a dangling link")
			}
		})
	}
}

// replace removes p and makes something else there.
func replace(t *testing.T, p string, make func() error) {
	t.Helper()
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := make(); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// chownOther gives p to uid 4242 (root only).
func chownOther(t *testing.T, p string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	if err := os.Chown(p, 4242, 4242); err != nil {
		t.Fatal(err)
	}
}

// moveAndLink moves folder dir into outsideDir and leaves a symbolic link
// to it at dir: a "cache folder" that is someone else's folder.
func moveAndLink(t *testing.T, dir, outsideDir string) {
	t.Helper()
	target := filepath.Join(outsideDir, "moved")
	if err := os.Rename(dir, target); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("the link's target %s: mode changed (%v)", target, err)
		}
	})
}

// TestProfileSetWritesThroughASymlinkedConfig: a dotfile manager's
// config.toml → ~/dotfiles/oat.toml stays a link; oat rewrites the file it
// points to (through a chain and a relative link too), atomically in that
// file's folder, keeping its mode, and leaves no temp file behind.
func TestProfileSetWritesThroughASymlinkedConfig(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	dotfiles := filepath.Join(e.dir, "dotfiles")
	if err := os.MkdirAll(filepath.Join(dotfiles, "oat"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dotfiles, "oat", "config.toml")
	if err := os.WriteFile(target, []byte("[profiles.work]\nissuer = \"https://login.example.com\"\nclient_id = \"cli\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o644); err != nil {
		t.Fatal(err)
	}
	// config.toml → ../../dotfiles/current.toml (relative) → oat/config.toml
	middle := filepath.Join(dotfiles, "current.toml")
	if err := os.Symlink(filepath.Join("oat", "config.toml"), middle); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(e.configPath()), 0o700); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(filepath.Dir(e.configPath()), middle)
	if err := os.Symlink(rel, e.configPath()); err != nil {
		t.Fatal(err)
	}

	e.mustRun(0, "profile", "set", "work", "scopes", "openid offline_access")

	for _, link := range []string{e.configPath(), middle} {
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symbolic link (%v)", link, err)
		}
	}
	fi, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("target mode %v, want 0644 kept", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(target); !strings.Contains(string(b), "offline_access") || !strings.HasPrefix(string(b), "# oat configuration") {
		t.Errorf("target not updated:\n%s", b)
	}
	for _, dir := range []string{filepath.Dir(e.configPath()), dotfiles, filepath.Join(dotfiles, "oat")} {
		ents, _ := os.ReadDir(dir)
		for _, d := range ents {
			if strings.Contains(d.Name(), ".tmp") {
				t.Errorf("temp file %s left in %s", d.Name(), dir)
			}
		}
	}
	e.mustRun(0, "profile", "show", "work", "-o", "json")
	if !strings.Contains(e.out.String(), "offline_access") {
		t.Errorf("profile show after set: %s", e.out)
	}
}
