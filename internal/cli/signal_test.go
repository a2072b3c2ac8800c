//go:build unix

package cli

import (
	"bufio"
	"io"
	"net"
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
	bin := oatBinary(t)
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

// TestInterruptWhileWaiting: Ctrl-C (SIGINT) stops a command that waits,
// with exit 130: `oat token` waiting on the token endpoint (it sets up its
// handler only once the cache misses) and `oat issuer serve` (exit 0: it
// stops cleanly).
func TestInterruptWhileWaiting(t *testing.T) {
	bin, _, env := builtOat(t)
	env = append(env, "OAT_STORAGE=file", "OAT_CLIENT_SECRET=s3cret")

	t.Run("token", func(t *testing.T) {
		// A token endpoint that accepts the connection and never answers.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			if c, err := ln.Accept(); err == nil {
				accepted <- c
			}
		}()
		cmd := exec.Command(bin, "token", "--flow", "client-credentials", "--client-id", "bot",
			"--token-url", "http://"+ln.Addr().String()+"/token")
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c := <-accepted
		defer c.Close()
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		if code := exitCode(err); code != ExitInterrupted || stderr.String() != "oat: interrupted\n" {
			t.Errorf("oat token interrupted while waiting: exit %d, stderr %q", code, stderr.String())
		}
	})

	t.Run("issuer serve", func(t *testing.T) {
		cmd := exec.Command(bin, "issuer", "serve")
		cmd.Env = env
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "http://127.0.0.1:") {
			t.Fatalf("first line %q, %v", line, err)
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil || !strings.HasSuffix(stderr.String(), "Issuer stopped.\n") {
			t.Errorf("oat issuer serve after SIGINT: %v, stderr %q", err, stderr.String())
		}
	})
}
