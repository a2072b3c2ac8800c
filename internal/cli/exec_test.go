package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExecPutsTheTokenInTheEnvironment(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 11, 25, 21, 4, 5, 0, time.UTC)
	const tok = `tok'$(touch PWNED)`
	e := cachedTokenEnv(t, tok, "", exp)
	e.mustRun(0, "exec", "--", "sh", "-c", `printf '%s|%s' "$OAT_ACCESS_TOKEN" "$OAT_ACCESS_TOKEN_EXPIRES_AT"`)
	if want := tok + "|2026-11-25T21:04:05Z"; e.out.String() != want {
		t.Errorf("child saw %q, want %q", e.out, want)
	}

	// --env-var; flags after CMD are CMD's, with or without "--".
	e.mustRun(0, "exec", "--env-var", "API_TOKEN", "sh", "-c", `printf '%s|%s|%s' "$API_TOKEN" "$API_TOKEN_EXPIRES_AT" "$1"`, "sh", "-p")
	if want := tok + "|2026-11-25T21:04:05Z|-p"; e.out.String() != want {
		t.Errorf("--env-var API_TOKEN: child saw %q, want %q", e.out, want)
	}

	// stdin passes through.
	if code := e.runStdin("from stdin\n", "exec", "--", "cat"); code != 0 || e.out.String() != "from stdin\n" {
		t.Errorf("stdin: exit %d, %q", code, e.out)
	}
}

func TestExecExitCodes(t *testing.T) {
	t.Parallel()
	e := cachedTokenEnv(t, "tok", "", time.Now().Add(time.Hour))
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"exec", "--", "sh", "-c", "echo oops >&2; exit 42"}, 42, "oops\n"},
		{[]string{"exec", "--", "sh", "-c", "kill -TERM $$"}, 128 + 15, ""},
		{[]string{"exec", "--", "sh", "-c", "kill -KILL $$"}, 128 + 9, ""},
		{[]string{"exec"}, 2, "oat: no command given: oat exec [flags] -- CMD [ARGS...]"},
		{[]string{"exec", "--"}, 2, "oat: no command given"},
		{[]string{"exec", "--", "oat-no-such-command-x"}, 127, `oat: exec: "oat-no-such-command-x" not found: executable file not found in $PATH`},
		{[]string{"exec", "--env-var", "1X", "--", "true"}, 2, `--env-var "1X": want a shell variable name`},
	} {
		code := e.run(c.args...)
		if code != c.code || !strings.Contains(e.errOut.String(), c.msg) {
			t.Errorf("oat %q: exit %d, stderr %q; want exit %d and %q", c.args, code, e.errOut, c.code, c.msg)
		}
	}
	// A file that is not executable: 126, as shells say.
	script := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := e.run("exec", "--", script); code != 126 || !strings.Contains(e.errOut.String(), "cannot be run: permission denied") {
		t.Errorf("non-executable CMD: exit %d, %q", code, e.errOut)
	}
}

func TestExecLoginRequiredRunsNothing(t *testing.T) {
	t.Parallel()
	e := cachedTokenEnv(t, "tok", "", time.Now().Add(time.Hour))
	e.env["OAT_STORAGE"] = "file"
	marker := filepath.Join(t.TempDir(), "ran")
	// Another profile: nothing cached, nothing stored.
	code := e.run("exec", "--issuer", "https://other.example.com", "--client-id", "x", "--", "touch", marker)
	if code != 3 {
		t.Errorf("exit %d, want 3; stderr %q", code, e.errOut)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("CMD ran without a token")
	}
}

func TestExecMasksTheTokenInGitHubActions(t *testing.T) {
	t.Parallel()
	e := cachedTokenEnv(t, "secret%tok", "", time.Now().Add(time.Hour))
	e.env["GITHUB_ACTIONS"] = "true"
	e.mustRun(0, "exec", "--", "sh", "-c", `printf %s "$OAT_ACCESS_TOKEN"`)
	if got := parseAddMasks(e.errOut.String()); len(got) != 1 || got[0] != "secret%tok" {
		t.Errorf("masks %q (stderr %q)", got, e.errOut)
	}
	if e.out.String() != "secret%tok" {
		t.Errorf("child's stdout %q", e.out)
	}
}

// The child of oat exec gets the access token, not the client secret that
// can mint more: OAT_CLIENT_SECRET is dropped from its environment, as it
// is from a browser launcher's.
func TestExecChildGetsNoClientSecret(t *testing.T) {
	t.Parallel()
	e := cachedTokenEnv(t, "tok", "", time.Date(2026, 11, 25, 21, 4, 5, 0, time.UTC))
	e.env["OAT_CLIENT_SECRET"] = "oat-secret-value"
	e.env["KEEP_ME"] = "kept"
	e.configure = func(f *Factory) {
		f.Environ = func() []string {
			env := []string{"PATH=" + os.Getenv("PATH")}
			for k, v := range e.env {
				env = append(env, k+"="+v)
			}
			return env
		}
	}
	e.mustRun(0, "exec", "--", "sh", "-c", `printf '%s|%s|%s' "${OAT_CLIENT_SECRET-unset}" "$KEEP_ME" "$OAT_ACCESS_TOKEN"`)
	if want := "unset|kept|tok"; e.out.String() != want {
		t.Errorf("child saw %q, want %q", e.out, want)
	}
}
