//go:build unix

package cli

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestExecBinaryForwardsSignals runs the built oat: signals sent to oat reach
// the child, whose exit code oat passes on; the token is on no argv.
func TestExecBinaryForwardsSignals(t *testing.T) {
	bin := oatBinary(t)
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
