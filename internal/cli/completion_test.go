package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and completions/")

// TestCompletionsUpToDate regenerates completions/ from the command tree and
// fails when the committed scripts drifted (run with -update to rewrite).
func TestCompletionsUpToDate(t *testing.T) {
	files := map[string]string{"bash": "oat.bash", "zsh": "_oat", "fish": "oat.fish", "powershell": "oat.ps1"}
	for shell, name := range files {
		e := newTestEnv(t)
		e.mustRun(0, "completion", shell)
		got := e.out.Bytes()
		if len(got) < 500 {
			t.Fatalf("%s completion suspiciously short: %q", shell, got)
		}
		path := filepath.Join("..", "..", "completions", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/cli -run TestCompletionsUpToDate -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("completions/%s is out of date: run go test ./internal/cli -run TestCompletionsUpToDate -update", name)
		}
	}
}

func TestCompletionOfProfileNames(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.writeConfig("[profiles.work]\nissuer = \"https://a\"\nclient_id = \"a\"\n[profiles.ci]\ntoken_url = \"https://b/token\"\nclient_id = \"b\"\n")
	for _, args := range [][]string{
		{"__complete", "-p", ""},
		{"__complete", "profile", "show", ""},
		{"__complete", "profile", "use", ""},
		{"__complete", "profile", "set", ""},
	} {
		e.mustRun(0, args...)
		lines := strings.Split(strings.TrimSpace(e.out.String()), "\n")
		if len(lines) < 3 || lines[0] != "ci" || lines[1] != "work" {
			t.Errorf("%v: got %q, want ci, work then the directive", args, e.out)
		}
	}
	e.mustRun(0, "__complete", "profile", "set", "work", "")
	if !strings.Contains(e.out.String(), "client_id\n") {
		t.Errorf("profile set NAME <TAB> should offer keys, got %q", e.out)
	}
}
