package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLeanBuildRunsTheIssuerBinary builds oat as releases do (-tags
// noissuer) next to oat-issuer, and checks that `oat demo` runs through it
// with its output and exit code, and that a lone lean oat says what to do.
func TestLeanBuildRunsTheIssuerBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries; skipped with -short")
	}
	full, err := buildOat()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lean := filepath.Join(dir, "oat")
	build := exec.Command("go", "build", "-tags", "noissuer", "-o", lean, "github.com/oatcli/oat/cmd/oat")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags noissuer: %v\n%s", err, out)
	}
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=/nonexistent"}

	// Alone, the lean oat explains (exit 1), and its other commands work.
	cmd := exec.Command(lean, "demo")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "built without the local issuer and oat-issuer is neither next to it nor on PATH") {
		t.Errorf("lean oat demo without oat-issuer: exit %d, %s", code, out)
	}

	// Next to oat-issuer, it runs the demo there.
	b, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oat-issuer"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(lean, "demo")
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("lean oat demo: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "every step worked") || !strings.Contains(stdout.String(), `"sub": "alice"`) {
		t.Errorf("lean oat demo: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	// Exit codes pass through.
	cmd = exec.Command(lean, "issuer", "serve", "--addr", "0.0.0.0:0")
	cmd.Env = env
	out, err = cmd.CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), "--allow-non-loopback") {
		t.Errorf("lean oat issuer serve --addr 0.0.0.0:0: exit %d, %s", code, out)
	}
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
