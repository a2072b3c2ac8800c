package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/fastpath"
)

// tokenWorld is benchEnv's logged-in HOME (a cached token for profile
// "work") as an environment list, and a run of the full path in it.
type tokenWorld struct {
	t       *testing.T
	env     map[string]string
	environ func() []string
}

func newTokenWorld(t *testing.T) *tokenWorld {
	getenv := benchEnv(t)
	w := &tokenWorld{t: t, env: map[string]string{}}
	for _, k := range []string{"HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"} {
		w.env[k] = getenv(k)
	}
	w.environ = func() []string {
		var l []string
		for k, v := range w.env {
			l = append(l, k+"="+v)
		}
		return l
	}
	return w
}

func (w *tokenWorld) getenv(k string) string { return w.env[k] }

// full runs oat with args the full way, remembering as Main does.
func (w *tokenWorld) full(args ...string) (code int, stdout, stderr string) {
	w.t.Helper()
	var out, errOut bytes.Buffer
	f := NewFactory(strings.NewReader(""), &out, &errOut, w.getenv)
	f.StoreFor = isolatedStores(w.t, w.getenv) // a cache hit must not touch a store
	f.fastEnviron = w.environ
	ctx, cancel := context.WithTimeout(context.Background(), commandBound)
	defer cancel()
	code = Run(ctx, f, args)
	return code, out.String(), errOut.String()
}

// fast is what package early would do in a process with w's environment.
func (w *tokenWorld) fast(args ...string) (bool, string) {
	w.t.Helper()
	var out bytes.Buffer
	ok, err := fastpath.Answer(args, w.environ(), &out, time.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	return ok, out.String()
}

// memos lists the memos in the cache folder.
func (w *tokenWorld) memos() []string {
	m, _ := filepath.Glob(filepath.Join(w.env["XDG_CACHE_HOME"], "oat", "fast-token-*"))
	return m
}

// An `oat token` answered before package initialisation prints what the
// full path printed, and only while the full path's resolution holds.
func TestTokenAnsweredAsTheFullPathAnswers(t *testing.T) {
	w := newTokenWorld(t)
	for _, args := range [][]string{{"token"}, {"token", "-p", "work"}, {"--profile=work", "token"}} {
		if ok, out := w.fast(args...); ok {
			t.Fatalf("answered %q before any full run remembered a resolution", out)
		}
		code, want, stderr := w.full(args...)
		if code != 0 || want == "" || stderr != "" { // the fast path prints nothing on stderr either
			t.Fatalf("oat %s: exit %d, %q, %q", strings.Join(args, " "), code, want, stderr)
		}
		ok, got := w.fast(args...)
		if !ok || got != want {
			t.Fatalf("oat %s: the fast path answered %v with %q; the full path printed %q", strings.Join(args, " "), ok, got, want)
		}
	}

	// A resolution that no longer holds: the fast path declines, and the
	// full path says what is wrong.
	w.env["OAT_PROFILE"] = "staging"
	if ok, out := w.fast("token"); ok {
		t.Fatalf("answered %q for another profile", out)
	}
	if code, _, stderr := w.full("token"); code != ExitUsage || !strings.Contains(stderr, `unknown profile "staging"`) {
		t.Fatalf("the full path for another profile: exit %d, %q", code, stderr)
	}
	delete(w.env, "OAT_PROFILE")
	if ok, _ := w.fast("token"); !ok {
		t.Fatal("declined once the environment was as remembered again")
	}
	cfg := filepath.Join(w.env["XDG_CONFIG_HOME"], "oat", "config.toml")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, append(b, "flow = \"telepathy\"\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, out := w.fast("token"); ok {
		t.Fatalf("answered %q from a config file the full path refuses", out)
	}
	if code, _, stderr := w.full("token"); code != ExitUsage || !strings.Contains(stderr, "telepathy") {
		t.Fatalf("the full path with a bad config file: exit %d, %q", code, stderr)
	}
}

// Only an `oat token` with no flag but --profile is remembered, and only by
// Main's process (fastEnviron set).
func TestOnlyTokenWithAtMostAProfileIsRemembered(t *testing.T) {
	for _, args := range [][]string{{"token", "-o", "raw"}, {"token", "-p", "work", "-o", "raw"}, {"token", "--min-ttl", "2m"},
		{"token", "--no-color"}, {"-v", "token"}, {"token", "--id-token"}, {"decode", "x.y.z"}, {"version"}} {
		w := newTokenWorld(t)
		w.full(args...)
		if m := w.memos(); len(m) != 0 {
			t.Errorf("oat %s remembered a resolution: %v", strings.Join(args, " "), m)
		}
	}
	w := newTokenWorld(t)
	f := NewFactory(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, w.getenv)
	f.StoreFor = isolatedStores(t, w.getenv)
	if code := Run(context.Background(), f, []string{"token"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if m := w.memos(); len(m) != 0 {
		t.Errorf("a Factory without fastEnviron remembered a resolution: %v", m)
	}
	w.full("token")
	w.full("token", "-p", "work")
	if m := w.memos(); len(m) != 2 {
		t.Errorf("oat token and oat token -p work remembered %v", m)
	}
}

// The fast path's digest covers every variable a cached `oat token` reads:
// a variable outside it could change the resolution unseen.
func TestResolutionReadsOnlyDigestedVariables(t *testing.T) {
	w := newTokenWorld(t)
	// The streams' colour settings (NO_COLOR, CLICOLOR, TERM), read as the
	// Factory is made, do not shape a raw token: from there on, every read
	// counts.
	f := NewFactory(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, w.getenv)
	f.StoreFor = isolatedStores(t, w.getenv)
	var read []string
	f.Getenv = func(k string) string {
		read = append(read, k)
		return w.env[k]
	}
	if code := Run(context.Background(), f, []string{"token"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	slices.Sort(read)
	read = slices.Compact(read)
	if len(read) == 0 {
		t.Fatal("no variable read: the recording getenv is not the one in use")
	}
	for _, k := range read {
		if !fastpath.Digested(k) {
			t.Errorf("a cached oat token reads $%s, which the fast path's digest leaves out", k)
		}
	}
}
