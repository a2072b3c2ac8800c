package cli

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
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

// TestExecBinaryForwardsSignals runs the built oat: signals sent to oat reach
// the child, whose exit code oat passes on; the token is on no argv.
func TestExecBinaryForwardsSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("POSIX signals")
	}
	bin, err := buildOat()
	if err != nil {
		t.Fatal(err)
	}
	const tok = "binary-exec-token"
	e := cachedTokenEnv(t, tok, "", time.Now().Add(time.Hour))
	env := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range e.env {
		env = append(env, k+"="+v)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGUSR1} {
		t.Run(sigName(sig), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // a safety net, not a synchronisation
			defer cancel()
			name := strings.TrimPrefix(sigName(sig), "SIG")
			// The child traps the signal, says it is ready, and waits;
			// on the signal it says so and exits 7.
			script := `trap 'echo got-` + name + `; kill $p 2>/dev/null; exit 7' ` + name + `
sleep 1000 & p=$!
tr '\0' ' ' </proc/$PPID/cmdline; echo; tr '\0' ' ' </proc/$$/cmdline; echo
echo ready
wait $p`
			cmd := exec.CommandContext(ctx, bin, "exec", "--", "sh", "-c", script)
			cmd.Env = env
			// Its own process group: not the terminal's foreground one
			// (where oat leaves ^C to the terminal), and killable whole
			// when the safety net trips.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			var lines []string
			for sc.Scan() {
				lines = append(lines, sc.Text())
				if sc.Text() == "ready" {
					break
				}
			}
			if len(lines) < 3 {
				t.Fatalf("child never got ready: %q, stderr %q", lines, stderr.String())
			}
			for _, argv := range lines[:len(lines)-1] {
				if strings.Contains(argv, tok) {
					t.Errorf("the token is on an argv: %q", argv)
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			err = cmd.Wait()
			if code := exitCode(err); code != 7 || lines[len(lines)-1] != "got-"+name {
				t.Errorf("after %s: exit %d, stdout %q, stderr %q; want the child's exit 7 after got-%s", name, code, lines, stderr.String(), name)
			}
		})
	}
}

func sigName(s syscall.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	}
	return s.String()
}
