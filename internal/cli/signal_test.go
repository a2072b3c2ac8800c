//go:build unix

package cli

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oatcli/oat/internal/config"
)

// TestCtrlCInterruptsLogin sends a real SIGINT to an oat login waiting for
// its browser callback: Main's signal wiring must turn it into exit 130 and
// "oat: interrupted", with nothing stored.
func TestCtrlCInterruptsLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin, err := buildOat()
	if err != nil {
		t.Fatal(err)
	}
	e := newOPEnv(t, config.FlowPKCE)
	env := []string{"PATH=" + os.Getenv("PATH"), "OAT_STORAGE=file", "OAT_BROWSER=true"} // a browser that does nothing
	for k, v := range e.env {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(bin, "login")
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	// Ready: the URL line is printed once the loopback listener waits.
	var text strings.Builder
	r := bufio.NewReader(stderr)
	for {
		line, err := r.ReadString('\n')
		text.WriteString(line)
		if strings.HasPrefix(line, "  http://127.0.0.1:") {
			break
		}
		if err != nil {
			t.Fatalf("oat login ended before printing the URL: %v\n%s", err, text.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	text.Write(rest)
	err = cmd.Wait()
	killed = true
	if code := exitCode(err); code != ExitInterrupted {
		t.Fatalf("exit %d (%v), want 130\nstderr: %s", code, err, text.String())
	}
	if !strings.HasSuffix(text.String(), "\noat: interrupted\n") {
		t.Errorf("stderr does not end with \"oat: interrupted\":\n%s", text.String())
	}
	for _, dir := range []string{filepath.Join(e.dir, "state", "oat"), filepath.Join(e.dir, "cache", "oat")} {
		entries, _ := os.ReadDir(dir)
		for _, en := range entries {
			if en.Name() != "discovery" && !strings.HasSuffix(en.Name(), ".lock") {
				t.Errorf("an interrupted login left %s", filepath.Join(dir, en.Name()))
			}
		}
	}
}
