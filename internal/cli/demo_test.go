package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoEndToEnd(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.mustRun(0, "demo")
	stderr := e.errOut.String()
	for _, want := range []string{
		"a local OpenID Provider is running at http://127.0.0.1:",
		"[2/8] Log in",
		`Logged in as alice (profile "demo")`,
		"signature valid: ES256",
		"Revoked the refresh token at the server.",
		`oat: profile "demo" needs login: run oat login -p demo`,
		"every step worked",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// stdout: the access token on its own line first, then the decoded token.
	lines := strings.Split(e.out.String(), "\n")
	if len(lines) < 3 || strings.Count(lines[0], ".") != 2 || strings.Contains(lines[0], " ") {
		t.Errorf("stdout does not start with the access token: %q", e.out.String())
	}
	if !strings.Contains(e.out.String(), `"sub": "alice"`) {
		t.Errorf("stdout lacks the decoded token")
	}
	// The user's own config, cache and state are never touched.
	for _, d := range []string{"config", "cache", "state"} {
		if _, err := os.Stat(filepath.Join(e.dir, d)); err == nil {
			t.Errorf("the demo wrote to the user's %s folder", d)
		}
	}
}
