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

// bareTokenWorld is benchEnv's logged-in HOME (a cached token for profile
// "work") as an environment list, and a run of the full path in it.
type bareTokenWorld struct {
	t       *testing.T
	env     map[string]string
	environ func() []string
}

func newBareTokenWorld(t *testing.T) *bareTokenWorld {
	getenv := benchEnv(t)
	w := &bareTokenWorld{t: t, env: map[string]string{}}
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

func (w *bareTokenWorld) getenv(k string) string { return w.env[k] }

// full runs oat with args the full way, remembering as Main does.
func (w *bareTokenWorld) full(args ...string) (code int, stdout, stderr string) {
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
func (w *bareTokenWorld) fast(args ...string) (bool, string) {
	w.t.Helper()
	var out bytes.Buffer
	ok, err := fastpath.Answer(args, w.environ(), &out, time.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	return ok, out.String()
}

func (w *bareTokenWorld) memo() string {
	return filepath.Join(w.env["XDG_CACHE_HOME"], "oat", "fast-token")
}

// A bare `oat token` answered before package initialisation prints what
// the full path printed, and only while the full path's resolution holds.
func TestBareTokenAnsweredAsTheFullPathAnswers(t *testing.T) {
	w := newBareTokenWorld(t)
	if ok, out := w.fast("token"); ok {
		t.Fatalf("answered %q before any full run remembered a resolution", out)
	}
	code, want, stderr := w.full("token")
	if code != 0 || want == "" || stderr != "" { // the fast path prints nothing on stderr either
		t.Fatalf("oat token: exit %d, %q, %q", code, want, stderr)
	}
	ok, got := w.fast("token")
	if !ok || got != want {
		t.Fatalf("the fast path answered %v with %q; the full path printed %q", ok, got, want)
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

// Only a bare `oat token` printing the raw token is remembered, and only
// by Main's process (fastEnviron set).
func TestOnlyABareTokenIsRemembered(t *testing.T) {
	for _, args := range [][]string{{"token", "-o", "raw"}, {"token", "-p", "work"}, {"token", "--min-ttl", "2m"}, {"decode", "x.y.z"}, {"version"}} {
		w := newBareTokenWorld(t)
		w.full(args...)
		if _, err := os.Stat(w.memo()); err == nil {
			t.Errorf("oat %s remembered a resolution", strings.Join(args, " "))
		}
	}
	w := newBareTokenWorld(t)
	f := NewFactory(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, w.getenv)
	f.StoreFor = isolatedStores(t, w.getenv)
	if code := Run(context.Background(), f, []string{"token"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Stat(w.memo()); err == nil {
		t.Error("a Factory without fastEnviron remembered a resolution")
	}
	w.full("token")
	if _, err := os.Stat(w.memo()); err != nil {
		t.Errorf("a bare oat token remembered nothing: %v", err)
	}
}

// The fast path's digest covers every variable a cached `oat token` reads:
// a variable outside it could change the resolution unseen.
func TestResolutionReadsOnlyDigestedVariables(t *testing.T) {
	w := newBareTokenWorld(t)
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
