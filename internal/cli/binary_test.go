package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// heavyPackages are what oat must not link: they add package
// initialisation (and size) to every command, the cached `oat token` first
// of all. zitadel/oidc's provider brought them all; it is a test
// dependency only (internal/auth/authtest).
var heavyPackages = []string{
	"github.com/zitadel/",
	"go.opentelemetry.io/",
	"github.com/gorilla/securecookie",
	"encoding/gob",
	"html/template",
	"golang.org/x/text/", // not vendor/golang.org/x/text: net/http's own copy
}

// TestBinaryLinksNoProviderStack lists what `go install …/cmd/oat` links.
func TestBinaryLinksNoProviderStack(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "github.com/oatcli/oat/cmd/oat").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps printed %d packages: %s", len(deps), out)
	}
	for _, d := range deps {
		for _, h := range heavyPackages {
			if d == strings.TrimSuffix(h, "/") || strings.HasPrefix(d, h) {
				t.Errorf("oat links %s", d)
			}
		}
	}
}

// TestBinaryRunsDemoAndIssuer: the one oat binary, built as `go install`
// builds it, holds `oat demo` and `oat issuer serve`.
func TestBinaryRunsDemoAndIssuer(t *testing.T) {
	bin, home, env := builtOat(t)

	cmd := exec.Command(bin, "demo")
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("oat demo: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "every step worked") || !strings.Contains(stdout.String(), `"sub": "alice"`) {
		t.Errorf("oat demo: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Errorf("oat demo wrote into HOME: %v", entries)
	}

	cmd = exec.Command(bin, "issuer", "serve", "--addr", "0.0.0.0:0")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != ExitUsage || !strings.Contains(string(out), "--allow-non-loopback") {
		t.Errorf("oat issuer serve --addr 0.0.0.0:0: exit %d, %s", code, out)
	}
}

// builtOat skips under -short, else runs t in parallel and returns the
// built oat with a private HOME and XDG folders (and TMPDIR) for it.
func builtOat(t *testing.T) (bin, home string, env []string) {
	t.Helper()
	t.Parallel()
	bin = oatBinary(t)
	home = t.TempDir()
	env = []string{"HOME=" + home, "TMPDIR=" + t.TempDir(), "PATH=/nonexistent",
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"XDG_STATE_HOME=" + filepath.Join(home, "state")}
	return bin, home, env
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
