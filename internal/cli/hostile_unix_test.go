//go:build unix

package cli

import (
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/keychain"
)

// Item 11: the browser launcher ($OAT_BROWSER) gets the URL as its one
// argument and oat's environment without the client secret's variables.
func TestBrowserLauncherGetsNoSecrets(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowDevice, authtest.WithDeviceInterval(1))
	// The device client is public; a client_secret_env named in the profile
	// must still stay out of the launcher's environment.
	p := e.op.Profile(config.FlowDevice)
	p.ClientSecretEnv, p.ClientAuth = "MY_APP_SECRET", config.ClientAuthNone
	cfg := &config.File{Path: e.configPath(), DefaultProfile: "work", Profiles: map[string]config.Profile{"work": p}}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "launched")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	script := filepath.Join(dir, "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n{ printf 'ARGC=%s\\nARG=%s\\n' \"$#\" \"$1\"; /usr/bin/env; } > "+fifo+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.env["OAT_BROWSER"] = script
	e.env["OAT_CLIENT_SECRET"] = "oat-secret-value"
	e.env["MY_APP_SECRET"] = "app-secret-value"
	e.env["KEEP_ME"] = "kept"
	// The launcher's output is copied to oat's stderr from another
	// goroutine: a locked writer (browser_choice_test.go).
	var stderr *lineWatcher
	e.configure = func(f *Factory) {
		stderr = &lineWatcher{w: f.IO.ErrOut, found: func(string) {}}
		f.IO.ErrOut = stderr
		f.StoreFor = func(string) (keychain.Store, error) { return e.store, nil }
		f.Environ = func() []string {
			var env []string
			for k, v := range e.env {
				env = append(env, k+"="+v)
			}
			return env
		}
	}
	done := make(chan int, 1)
	go func() { done <- e.run("login", "--timeout", "1m") }()
	// Opening the FIFO waits for the launcher to write it.
	f, err := os.Open(fifo)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := io.ReadAll(f)
	f.Close()
	got := string(rec)
	arg := ""
	for line := range strings.SplitSeq(got, "\n") {
		if v, ok := strings.CutPrefix(line, "ARG="); ok {
			arg = v
		}
	}
	u, err := url.Parse(arg)
	if err != nil || u.Query().Get("user_code") == "" || !strings.Contains(got, "ARGC=1\n") {
		t.Fatalf("launcher arguments: %q", got)
	}
	e.op.ApproveDevice(t, u.Query().Get("user_code"))
	if code := <-done; code != 0 {
		t.Fatalf("login: exit %d, stderr %q", code, stderr.String())
	}
	if strings.Contains(got, "secret-value") || strings.Contains(got, "OAT_CLIENT_SECRET") || strings.Contains(got, "MY_APP_SECRET") {
		t.Errorf("the launcher's environment holds a secret:\n%s", got)
	}
	if !strings.Contains(got, "KEEP_ME=kept") {
		t.Errorf("the launcher lost the rest of the environment:\n%s", got)
	}
	// Item 17: the device flow says it opened a browser.
	if msg := stderr.String(); !strings.Contains(msg, "Opened a browser at the server's verification page") {
		t.Errorf("stderr = %q", msg)
	}
}
