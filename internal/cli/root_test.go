package cli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestFastCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string // "" = the whole tree
	}{
		{[]string{"token"}, "token"},
		{[]string{"decode", "x.y.z"}, "decode"},
		{[]string{"-p", "work", "token"}, "token"},
		{[]string{"--profile", "work", "-v", "--no-color", "token", "--min-ttl", "1m"}, "token"},
		{[]string{"--profile=work", "--config=c.toml", "-pwork", "--verbose", "token"}, "token"},
		{[]string{"--config", "token", "status"}, ""}, // "token" is the value of --config
		{[]string{"-p", "token"}, ""},
		{[]string{"status"}, ""},
		{[]string{"refresh"}, ""},
		{[]string{"help", "token"}, ""},
		{[]string{"__complete", "token", ""}, ""},
		{[]string{"--bogus", "token"}, ""},
		{[]string{"-vp", "work", "token"}, ""},
		{[]string{"--verbose=true", "token"}, ""},
		{nil, ""},
	} {
		got := fastCommand(tc.args)
		if want := fastCommands[tc.want]; (got == nil) != (want == nil) ||
			(got != nil && reflect.ValueOf(got).Pointer() != reflect.ValueOf(want).Pointer()) {
			t.Errorf("fastCommand(%q): got the %s, want %q", tc.args, map[bool]string{true: "whole tree", false: "fast root"}[got == nil], tc.want)
		}
	}
}

// A command run from the fast root behaves as from the whole tree: same
// output, same exit code, for help, usage errors and work.
func TestFastRootSameAsWholeTree(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"token", "--help"},
		{"-p", "nope", "token"},
		{"token", "extra"},
		{"token", "--bogus"},
		{"decode", "--help"},
		{"decode", "not-a-jwt"},
		{"decode", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0."},
	} {
		e := newTestEnv(t)
		run := func(only func(*Factory) *cobra.Command) (int, string, string) {
			f := e.factory()
			root := newRootCmd(f, only)
			root.SetArgs(args)
			_, err := root.ExecuteContextC(context.Background())
			code := ExitOK
			if err != nil {
				code = ExitCode(err, false)
			}
			return code, e.out.String(), e.errOut.String()
		}
		wc, wo, we := run(nil)
		fc, fo, fe := run(fastCommand(args))
		if fastCommand(args) == nil {
			t.Fatalf("%q does not take the fast path", args)
		}
		if wc != fc || wo != fo || we != fe {
			t.Errorf("oat %q: whole tree exit %d\n%s%s\nfast root exit %d\n%s%s", args, wc, wo, we, fc, fo, fe)
		}
	}
}

// A cached `oat token` and a plain `oat decode` set up no Ctrl-C handler
// (it costs a process three threads); commands that may wait do.
func TestInterruptHandlerOnlyWhenWaiting(t *testing.T) {
	t.Parallel()
	getenv := benchEnv(t)
	tok := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0."
	for _, tc := range []struct {
		args  []string
		armed bool
	}{
		{[]string{"token"}, false},
		{[]string{"token", "-o", "json"}, false},
		{[]string{"decode", tok}, false},
		{[]string{"decode", "--access-token"}, false},
		{[]string{"token", "--issuer", "https://other.example.com", "--client-id", "x"}, true}, // nothing cached: renewal
		{[]string{"decode", "--verify", "--jwks-url", "https://keys.example.com/jwks", tok}, true},
		{[]string{"refresh"}, true},
		{[]string{"status"}, true},
		{[]string{"version"}, true},
	} {
		f := NewFactory(strings.NewReader(""), io.Discard, io.Discard, getenv)
		f.HTTPTransport = roundTripFunc(func(*http.Request) (*http.Response, error) {
			return nil, errors.New("no network in this test")
		})
		armed := 0
		f.watchInterrupt = func() { armed++ }
		Run(context.Background(), f, tc.args)
		if (armed > 0) != tc.armed {
			t.Errorf("oat %q: Ctrl-C handler set up %d times, want it %v", tc.args, armed, tc.armed)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A fast root holds its command and cobra's help, nothing more: no
// `completion` command (cobra formats four shells' help texts for it) and
// no --version (the build information is not read). A cached `oat token`
// stays near 200 allocations in-process; the whole tree was over 600.
func TestFastRootBuildsOnlyItsCommand(t *testing.T) {
	getenv := benchEnv(t)
	run := func() *cobra.Command {
		f := NewFactory(strings.NewReader(""), io.Discard, io.Discard, getenv)
		f.StoreFor = isolatedStores(t, getenv)
		root := newRootCmd(f, fastCommand([]string{"token"}))
		root.SetArgs([]string{"token"})
		if _, err := root.ExecuteContextC(context.Background()); err != nil {
			t.Fatalf("oat token: %v", err)
		}
		return root
	}
	root := run()
	var names []string
	for _, c := range root.Commands() {
		names = append(names, c.Name())
	}
	if strings.Join(names, " ") != "help token" || root.Version != "" {
		t.Errorf("fast root of `oat token`: commands %q, version %q; want help and token only, no version", names, root.Version)
	}
	if raceEnabled {
		return // the race detector changes allocation counts
	}
	if n := testing.AllocsPerRun(20, func() { run() }); n > 300 {
		t.Errorf("a cached oat token took %.0f allocations in-process, want at most 300", n)
	}
}
