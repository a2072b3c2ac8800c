package fastpath

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/tokencache"
)

// world is a HOME with a config file, a cached token under key "work" and
// the memo of its resolution, as the full path leaves them.
type world struct {
	t       *testing.T
	environ []string
	config  string   // the config file's path
	cache   string   // the cache folder
	exe     string   // the executable's identity, as executable would give it
	args    []string // the command line remembered
	memo    Memo
	token   string
	now     time.Time
}

const configText = "default_profile = \"work\"\n\n[profiles.work]\nissuer = \"https://login.example.com\"\nclient_id = \"cli-app\"\n"

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{t: t, args: []string{"token"}, exe: "/usr/bin/oat\x0012345\x001700000000", token: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
		now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	w.environ = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"), "PATH=/usr/bin", "TERM=xterm"}
	w.config = filepath.Join(dir, "config", "oat", "config.toml")
	w.cache = filepath.Join(dir, "cache", "oat")
	if err := os.MkdirAll(filepath.Dir(w.config), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.config, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	w.memo = Memo{Config: w.config, Key: "work", Fingerprint: "issuer=https://login.example.com\ntoken_url=\nclient_id=cli-app\nscopes=\naudience=\nresource="}
	w.save(&tokencache.Entry{AccessToken: w.token, TokenType: "bearer", Fingerprint: w.memo.Fingerprint,
		Expiry: w.now.Add(time.Hour), UpdatedAt: w.now.Add(-time.Minute)})
	w.remember()
	return w
}

// setenv sets k in w's environment, as a changed shell would have it.
func (w *world) setenv(k, v string) {
	for i, kv := range w.environ {
		if strings.HasPrefix(kv, k+"=") {
			w.environ[i] = k + "=" + v
			return
		}
	}
	w.environ = append(w.environ, k+"="+v)
}

func (w *world) in(args []string) inputs {
	return inputs{args: args, environ: w.environ, exe: func() (string, error) { return w.exe, nil }}
}

func (w *world) memoPath() string { return filepath.Join(w.cache, memoName(w.args)) }

func (w *world) save(e *tokencache.Entry) {
	w.t.Helper()
	if err := tokencache.New(w.cache).Save("work", e); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) remember() {
	w.t.Helper()
	data, err := os.ReadFile(w.config)
	if errors.Is(err, os.ErrNotExist) {
		data, err = nil, nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	if err := remember(w.in(w.args), data, w.memo); err != nil {
		w.t.Fatal(err)
	}
}

// answer runs Answer's decision for args in w and returns what it printed.
func (w *world) answer(args ...string) (bool, string) {
	w.t.Helper()
	var out bytes.Buffer
	ok, err := answer(w.in(args), &out, w.now)
	if err != nil {
		w.t.Fatal(err)
	}
	if !ok && out.Len() > 0 {
		w.t.Fatalf("declined, but printed %q", out.String())
	}
	return ok, out.String()
}

func TestAnswerPrintsTheRememberedProfilesToken(t *testing.T) {
	w := newWorld(t)
	ok, out := w.answer("token")
	if !ok || out != w.token+"\n" {
		t.Fatalf("answered %v with %q, want the token and a newline", ok, out)
	}
	// A missing config file is remembered as such (the ad hoc profile of
	// OAT_ISSUER and OAT_CLIENT_ID), and is then not the same as an empty one.
	if err := os.Remove(w.config); err != nil {
		t.Fatal(err)
	}
	w.remember()
	if ok, _ := w.answer("token"); !ok {
		t.Fatal("declined after remembering a resolution without a config file")
	}
	if err := os.WriteFile(w.config, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, _ := w.answer("token"); ok {
		t.Fatal("answered with an empty config file where there was none")
	}
}

// Every input of the resolution, and every test the full path makes of the
// cached token before printing it, sends `oat token` the full way.
func TestAnswerDeclines(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		change   func(w *world)
		unixOnly bool // fsutil checks owners, links and folder modes on Unix only
	}{
		{name: "another command line: a profile flag", args: []string{"token", "-p", "work"}},
		{name: "another command line: the same profile flag spelled otherwise", change: func(w *world) {
			w.args = []string{"token", "-p", "work"}
			w.remember()
		}, args: []string{"token", "--profile=work"}},
		{name: "another command line: an output format", args: []string{"token", "-o", "json"}},
		{name: "another command", args: []string{"refresh"}},
		{name: "no command", args: nil},
		{name: "GitHub Actions, where the full path masks the token first", change: func(w *world) {
			w.setenv("GITHUB_ACTIONS", "true")
			w.remember() // as the full path would, run in the same job: it remembers nothing there
			if _, err := os.Stat(w.memoPath()); err != nil {
				t.Fatal(err) // the memo from before the job
			}
			// A memo that matches the job's inputs all the same.
			d, err := w.in(w.args).digest(w.config, []byte(configText))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(w.memoPath(), []byte(memoText(d, w.memo)), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "an OAT_ variable set since", change: func(w *world) { w.setenv("OAT_PROFILE", "other") }},
		{name: "an OAT_ variable changed since", change: func(w *world) {
			w.setenv("OAT_STORAGE", "file")
			w.remember()
			w.setenv("OAT_STORAGE", "keychain")
		}},
		{name: "HOME changed since (the cache and config folders stay where XDG_* put them)", change: func(w *world) {
			w.setenv("HOME", "/elsewhere")
		}},
		{name: "the config file edited since", change: func(w *world) {
			if err := os.WriteFile(w.config, []byte(configText+"scopes = [\"openid\"]\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "the config file removed since", change: func(w *world) { os.Remove(w.config) }},
		{name: "the config file a folder now (the full path refuses it)", change: func(w *world) {
			os.Remove(w.config)
			if err := os.Mkdir(w.config, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "another executable (a new build or version)", change: func(w *world) { w.exe = "/usr/bin/oat\x0012346\x001700000001" }},
		{name: "no memo", change: func(w *world) { os.Remove(w.memoPath()) }},
		{name: "a memo of another format", change: func(w *world) {
			p := w.memoPath()
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), memoHeader, "oat fast-token 2", 1)), 0o600)
		}},
		{name: "a truncated memo", change: func(w *world) {
			p := w.memoPath()
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o600)
		}},
		{name: "a memo with a second hard link", unixOnly: true, change: func(w *world) {
			os.Link(w.memoPath(), filepath.Join(w.cache, "elsewhere"))
		}},
		{name: "a memo that is a symbolic link", change: func(w *world) {
			p := w.memoPath()
			os.Rename(p, p+".real")
			os.Symlink(p+".real", p)
		}},
		{name: "no cached token", change: func(w *world) { tokencache.New(w.cache).Delete("work") }},
		{name: "a token expiring within a minute", change: func(w *world) {
			w.save(&tokencache.Entry{AccessToken: w.token, Fingerprint: w.memo.Fingerprint, Expiry: w.now.Add(59 * time.Second), UpdatedAt: w.now.Add(-time.Hour)})
		}},
		{name: "a token issued for other settings", change: func(w *world) {
			w.save(&tokencache.Entry{AccessToken: w.token, Fingerprint: w.memo.Fingerprint + " ", Expiry: w.now.Add(time.Hour)})
		}},
		{name: "a token the server refused (needs login)", change: func(w *world) {
			w.save(&tokencache.Entry{AccessToken: w.token, Fingerprint: w.memo.Fingerprint, Expiry: w.now.Add(time.Hour), NeedsLogin: true})
		}},
		{name: "a DPoP-bound token for a profile without dpop", change: func(w *world) {
			w.save(&tokencache.Entry{AccessToken: w.token, TokenType: "DPoP", DPoPJKT: "abc", Fingerprint: w.memo.Fingerprint, Expiry: w.now.Add(time.Hour)})
		}},
		{name: "a token with a line break", change: func(w *world) {
			w.save(&tokencache.Entry{AccessToken: w.token + "\nX-Evil: 1", Fingerprint: w.memo.Fingerprint, Expiry: w.now.Add(time.Hour)})
		}},
		{name: "a token type with a space", change: func(w *world) {
			w.save(&tokencache.Entry{AccessToken: w.token, TokenType: "Bearer x", Fingerprint: w.memo.Fingerprint, Expiry: w.now.Add(time.Hour)})
		}},
		{name: "the cache folder writable by others (the full path refuses it)", unixOnly: true, change: func(w *world) {
			os.Chmod(w.cache, 0o777)
		}},
		{name: "a cache file with a second hard link", unixOnly: true, change: func(w *world) {
			os.Link(filepath.Join(w.cache, "work.json"), filepath.Join(w.cache, "elsewhere"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unixOnly && runtime.GOOS == "windows" {
				t.Skip("not checked on Windows")
			}
			w := newWorld(t)
			if tc.change != nil {
				tc.change(w)
			}
			args := tc.args
			if args == nil && tc.change != nil {
				args = w.args
			}
			if ok, out := w.answer(args...); ok {
				t.Fatalf("answered %q", out)
			}
		})
	}
}

// Variables no resolution reads do not matter; the order of the
// environment does not either.
func TestAnswerIgnoresOtherVariables(t *testing.T) {
	w := newWorld(t)
	w.environ = append([]string{"SHLVL=2", "PWD=/tmp", "OLDPWD=/"}, w.environ...)
	for i, j := 0, len(w.environ)-1; i < j; i, j = i+1, j-1 {
		w.environ[i], w.environ[j] = w.environ[j], w.environ[i]
	}
	if ok, _ := w.answer("token"); !ok {
		t.Fatal("declined")
	}
}

func TestRememberWritesOnlyAChange(t *testing.T) {
	w := newWorld(t)
	p := w.memoPath()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	w.remember()
	if fi, err := os.Stat(p); err != nil || !fi.ModTime().Equal(old) {
		t.Fatalf("the same memo was written again (%v)", err)
	}
	w.memo.DPoP = true
	w.remember()
	if fi, err := os.Stat(p); err != nil || fi.ModTime().Equal(old) || fi.Mode().Perm() != 0o600 {
		t.Fatalf("a changed memo: %v, %v", fi.Mode(), err)
	}
	// Nothing is remembered in GitHub Actions, where Answer never answers.
	os.Remove(p)
	w.setenv("GITHUB_ACTIONS", "true")
	w.remember()
	if _, err := os.Stat(p); err == nil {
		t.Fatal("remembered a resolution in GitHub Actions")
	}
	// A key or config path with a line break is never remembered (it would
	// not read back as written).
	if err := remember(w.in(w.args), nil, Memo{Config: w.config, Key: "a\nb"}); err == nil {
		t.Fatal("remembered a key with a line break")
	}
}

func TestMemoReadsBackAsWritten(t *testing.T) {
	for _, m := range []Memo{
		{Config: "/c/config.toml", Key: "work", Fingerprint: "issuer=x\nclient_id=y", DPoP: true},
		{Config: "C:\\Users\\a b\\config.toml", Key: "adhoc-0123abcd", Fingerprint: ""},
	} {
		d, got, ok := parseMemo([]byte(memoText("ab12", m)))
		if !ok || d != "ab12" || got != m {
			t.Errorf("%+v read back as %+v, %q, %v", m, got, d, ok)
		}
	}
}

// Each command line has its own memo: `oat token -p a` and `oat token -p b`
// in turn are both answered, and neither answers for the other.
func TestEachCommandLineHasItsMemo(t *testing.T) {
	w := newWorld(t)
	w.args = []string{"token", "-p", "work"}
	w.remember()
	for _, args := range [][]string{{"token"}, {"token", "-p", "work"}} {
		if ok, out := w.answer(args...); !ok || out != w.token+"\n" {
			t.Errorf("oat %s: answered %v, %q", strings.Join(args, " "), ok, out)
		}
	}
	// The memo of "token -p work" under the name of "token -p other" (a
	// file moved or a name collision) does not answer "token -p other".
	if err := os.Rename(w.memoPath(), filepath.Join(w.cache, memoName([]string{"token", "-p", "other"}))); err != nil {
		t.Fatal(err)
	}
	if ok, out := w.answer("token", "-p", "other"); ok {
		t.Fatalf("answered %q with another command line's memo", out)
	}
}

// profileOnly lets through every command line cli remembers (an `oat token`
// whose only flag is the profile, however spelled) and stops the others
// before any file is read.
func TestProfileOnly(t *testing.T) {
	for _, args := range [][]string{{"token"}, {"token", "-p", "work"}, {"-p", "work", "token"}, {"token", "-pwork"},
		{"token", "--profile", "work"}, {"--profile=work", "token"}} {
		if !profileOnly(args) {
			t.Errorf("%q stopped", args)
		}
	}
	for _, args := range [][]string{nil, {"status"}, {"token", "-o", "raw"}, {"-v", "token"}, {"token", "--min-ttl=2m"},
		{"token", "-p", "work", "-o", "json"}, {"token", "--id-token"}, {"token", "-p", "work", "-v"}} {
		if profileOnly(args) {
			t.Errorf("%q let through", args)
		}
	}
}
