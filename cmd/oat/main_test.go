package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/tokencache"
)

// TestEarlyRunsBeforeNetHTTP builds oat as `go install` does and runs a
// cached `oat token` (and `oat token -p work`) twice: the first run takes the
// full path and remembers the profile's resolution; the second is answered
// by package early before
// net/http, crypto/tls and the command tree are initialised
// (GODEBUG=inittrace=1 lists each package as its init ends). A command line
// or an environment the memo does not cover still takes the full path.
func TestEarlyRunsBeforeNetHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds oat")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build oat with")
	}
	dir := t.TempDir()
	oat := filepath.Join(dir, "oat")
	if runtime.GOOS == "windows" {
		oat += ".exe"
	}
	build := exec.Command(goBin, "build", "-trimpath", "-o", oat, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	home := filepath.Join(dir, "home")
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "XDG_STATE_HOME=" + filepath.Join(home, "state"),
		"PATH=" + os.Getenv("PATH"),
		// A cache hit never touches the keychain; if it did, this fails.
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(dir, "no-such-bus")}
	cfgPath := filepath.Join(home, "config", "oat", "config.toml")
	if err := os.MkdirAll(filepath.Dir(cfgPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte("default_profile = \"work\"\n\n[profiles.work]\nissuer = \"https://login.example.com\"\nclient_id = \"cli-app\"\nscopes = [\"openid\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cfg.Resolve("", config.Overrides{}, func(k string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	const token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJlYXJseSJ9.c2ln"
	if err := tokencache.New(filepath.Join(home, "cache", "oat")).Save(r.Key, &tokencache.Entry{
		AccessToken: token, TokenType: "Bearer", Fingerprint: r.Fingerprint, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	run := func(extraEnv []string, args ...string) (code int, stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(oat, args...)
		cmd.Env = append(append(append([]string{}, env...), "GODEBUG=inittrace=1"), extraEnv...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errOut.String()
	}
	initialised := func(stderr, pkg string) bool { return strings.Contains(stderr, "init "+pkg+" @") }

	for _, args := range [][]string{{"token"}, {"token", "-p", "work"}} {
		code, out, stderr := run(nil, args...)
		if code != 0 || out != token+"\n" {
			t.Fatalf("first oat %s: exit %d, %q\n%s", strings.Join(args, " "), code, out, stderr)
		}
		if !initialised(stderr, "net/http") || !initialised(stderr, "github.com/oatcli/oat/internal/cli") {
			t.Fatalf("the first oat %s, with nothing remembered, did not take the full path", strings.Join(args, " "))
		}
		code, out, stderr = run(nil, args...)
		if code != 0 || out != token+"\n" {
			t.Fatalf("second oat %s: exit %d, %q\n%s", strings.Join(args, " "), code, out, stderr)
		}
		for _, pkg := range []string{"net/http", "crypto/tls", "github.com/spf13/cobra", "github.com/oatcli/oat/internal/cli"} {
			if initialised(stderr, pkg) {
				t.Errorf("the second oat %s initialised %s: package early did not answer first", strings.Join(args, " "), pkg)
			}
		}
	}

	// What the memo does not cover goes the full way.
	if _, out, stderr := run(nil, "token", "-o", "header"); out != "Authorization: Bearer "+token+"\n" || !initialised(stderr, "net/http") {
		t.Errorf("oat token -o header: %q (full path: %v)", out, initialised(stderr, "net/http"))
	}
	code, out, stderr := run([]string{"OAT_PROFILE=staging"}, "token")
	if code != 2 || out != "" || !strings.Contains(stderr, `unknown profile "staging"`) {
		t.Errorf("OAT_PROFILE=staging oat token: exit %d, %q\n%s", code, out, stderr)
	}
}
