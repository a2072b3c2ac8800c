package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/keychain/keychaintest"
)

func TestProfileAddListShowUse(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.mustRun(0, "profile", "add", "work", "--issuer", "https://login.example.com", "--client-id", "cli-app",
		"--scope", "openid profile", "--scope", "offline_access")
	if e.out.Len() != 0 {
		t.Errorf("profile add wrote to stdout: %q", e.out)
	}
	if !strings.Contains(e.errOut.String(), `Added profile "work"`) || !strings.Contains(e.errOut.String(), "now the default profile") {
		t.Errorf("stderr = %q", e.errOut)
	}
	e.mustRun(0, "profile", "add", "ci", "--token-url", "https://auth.example.com/oauth/token", "--client-id", "deploy-bot",
		"--client-secret-env", "DEPLOY_BOT_SECRET", "--flow", "client-credentials", "--audience", "https://api.example.com")

	// Files: 0600 in a 0700 folder.
	fi, err := os.Stat(e.configPath())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode = %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(filepath.Dir(e.configPath()))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode = %v, want 0700", di.Mode().Perm())
	}

	e.mustRun(0, "profile", "list", "-o", "json")
	var items []map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &items); err != nil {
		t.Fatalf("list -o json: %v\n%s", err, e.out)
	}
	want := []map[string]any{
		{"name": "ci", "default": false, "issuer": "https://auth.example.com/oauth/token", "client_id": "deploy-bot", "flow": "client-credentials"},
		{"name": "work", "default": true, "issuer": "https://login.example.com", "client_id": "cli-app", "flow": "pkce"},
	}
	if got, _ := json.Marshal(items); string(got) != mustJSON(t, want) {
		t.Errorf("list -o json = %s\nwant %s", got, mustJSON(t, want))
	}

	e.mustRun(0, "profile", "list")
	lines := strings.Split(strings.TrimSpace(e.out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "*") || !strings.Contains(lines[2], "work") || strings.Contains(e.out.String(), "\x1b[") {
		t.Errorf("list table =\n%s", e.out)
	}

	e.mustRun(0, "profile", "show", "ci", "-o", "json")
	var shown map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &shown); err != nil {
		t.Fatal(err)
	}
	if shown["name"] != "ci" || shown["client_secret_env"] != "DEPLOY_BOT_SECRET" || shown["audience"] != "https://api.example.com" {
		t.Errorf("show -o json = %v", shown)
	}
	e.mustRun(0, "profile", "show")
	if !strings.Contains(e.out.String(), "[profiles.work]") || !strings.Contains(e.out.String(), "client_id = 'cli-app'") {
		t.Errorf("show (default profile) =\n%s", e.out)
	}

	e.mustRun(0, "profile", "use", "ci")
	e.mustRun(0, "profile", "show", "-o", "json")
	if !strings.Contains(e.out.String(), `"name": "ci"`) {
		t.Errorf("after use ci, show = %s", e.out)
	}
	// -p beats default_profile, OAT_PROFILE beats default_profile, -p beats OAT_PROFILE.
	e.env["OAT_PROFILE"] = "work"
	e.mustRun(0, "profile", "show", "-o", "json")
	if !strings.Contains(e.out.String(), `"name": "work"`) {
		t.Errorf("OAT_PROFILE=work: show = %s", e.out)
	}
	e.mustRun(0, "-p", "ci", "profile", "show", "-o", "json")
	if !strings.Contains(e.out.String(), `"name": "ci"`) {
		t.Errorf("-p ci with OAT_PROFILE=work: show = %s", e.out)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestProfileSetKeepsHandEdits(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.writeConfig(`# my notes
default_profile = "b"

[profiles.a]
issuer = "https://a.example.com"
client_id = "app-a"
scopes = ["openid", "email"]
auth_params = { prompt = "consent", acr_values = "mfa" }

[profiles.b]
token_url = "http://127.0.0.1:8080/token"
client_id = "app-b"
redirect_port = 8123
storage = "file"
`)
	e.mustRun(0, "profile", "set", "a", "scopes", "openid profile offline_access")
	e.mustRun(0, "profile", "set", "a", "auth_params.login_hint", "me@example.com")
	e.mustRun(0, "profile", "set", "b", "audience", "https://api")
	e.mustRun(0, "profile", "set", "b", "redirect_port", "")

	e.mustRun(0, "profile", "show", "a", "-o", "json")
	var a map[string]any
	_ = json.Unmarshal(e.out.Bytes(), &a)
	if got := mustJSON(t, a["scopes"]); got != `["openid","profile","offline_access"]` {
		t.Errorf("scopes = %s", got)
	}
	if got := mustJSON(t, a["auth_params"]); got != `{"acr_values":"mfa","login_hint":"me@example.com","prompt":"consent"}` {
		t.Errorf("auth_params = %s", got)
	}
	e.mustRun(0, "profile", "show", "b", "-o", "json")
	var b map[string]any
	_ = json.Unmarshal(e.out.Bytes(), &b)
	if b["token_url"] != "http://127.0.0.1:8080/token" || b["storage"] != "file" || b["audience"] != "https://api" || b["default"] != true {
		t.Errorf("profile b after edits = %v", b)
	}
	if _, ok := b["redirect_port"]; ok {
		t.Errorf("redirect_port should be unset, got %v", b["redirect_port"])
	}
}

func TestProfileBadInputLeavesFileUnchanged(t *testing.T) {
	t.Parallel()
	const original = `[profiles.a]
issuer = "https://a.example.com"
client_id = "app-a"
`
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"unknown key", []string{"profile", "set", "a", "colour", "blue"}, `unknown key "colour"`},
		{"bad url", []string{"profile", "set", "a", "issuer", "not a url"}, `issuer "not a url" is not an absolute http(s) URL`},
		{"http non-loopback", []string{"profile", "set", "a", "token_url", "http://auth.example.com/token"}, "only https is allowed, except for loopback hosts"},
		{"unknown flow", []string{"profile", "set", "a", "flow", "implicit"}, `flow "implicit" is not one of pkce, device, client-credentials`},
		{"secret in set", []string{"profile", "set", "a", "client_secret", "hunter2"}, "secrets are not kept in the config file"},
		{"secret env holding a secret", []string{"profile", "set", "a", "client_secret_env", "s3cr3t-value!"}, "must name an environment variable"},
		{"secret flag", []string{"profile", "add", "b", "--issuer", "https://b", "--client-id", "b", "--client-secret", "hunter2"}, "never taken on the command line"},
		{"bad port", []string{"profile", "set", "a", "redirect_port", "99999"}, "redirect_port 99999 is out of range"},
		{"unknown profile set", []string{"profile", "set", "zzz", "flow", "device"}, `unknown profile "zzz"`},
		{"unknown profile use", []string{"profile", "use", "zzz"}, `unknown profile "zzz"`},
		{"duplicate add", []string{"profile", "add", "a", "--issuer", "https://a", "--client-id", "x"}, `profile "a" already exists`},
		{"add without server", []string{"profile", "add", "c", "--client-id", "x"}, "needs a server"},
		{"add http issuer", []string{"profile", "add", "c", "--issuer", "http://evil.example.com", "--client-id", "x"}, "only https is allowed"},
		{"bad name", []string{"profile", "add", "../x", "--issuer", "https://a", "--client-id", "x"}, "invalid profile name"},
		{"wrong arg count", []string{"profile", "set", "a", "flow"}, "takes NAME KEY VALUE"},
		{"unknown subcommand", []string{"profile", "frobnicate"}, `unknown command "frobnicate"`},
		{"bad output", []string{"profile", "list", "-o", "yaml"}, `unknown output format "yaml"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			e.writeConfig(original)
			if code := e.run(tc.args...); code != ExitUsage {
				t.Fatalf("exit %d, want 2; stderr: %s", code, e.errOut)
			}
			first := strings.SplitN(e.errOut.String(), "\n", 2)[0]
			if !strings.HasPrefix(first, "oat: ") || !strings.Contains(first, tc.msg) {
				t.Errorf("stderr first line = %q, want it to contain %q", first, tc.msg)
			}
			if strings.Contains(e.errOut.String(), "hunter2") {
				t.Errorf("the secret was echoed: %s", e.errOut)
			}
			if e.out.Len() != 0 {
				t.Errorf("stdout = %q, want empty", e.out)
			}
			if got := e.readConfig(); got != original {
				t.Errorf("config changed:\n%s", got)
			}
		})
	}
}

func TestMalformedConfigFile(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, file, msg string }{
		{"toml syntax", "[profiles.a\nissuer = 1", "line 1"},
		{"unknown profile key", "[profiles.a]\nissuer = \"https://a\"\nclient_id = \"x\"\ncolour = \"blue\"\n", `line 4: unknown key "profiles.a.colour"`},
		{"secret in file", "[profiles.a]\nclient_id = \"x\"\nclient_secret = \"hunter2\"\n", "secrets are not kept in the config file"},
		{"wrong type", "[profiles.a]\nredirect_port = \"abc\"\n", "line 2: redirect_port must be a number"},
		{"scopes as a string", "[profiles.a]\nscopes = \"openid\"\n", `line 2: scopes must be an array of strings, e.g. scopes = ["openid", "offline_access"]`},
		{"bad flow", "[profiles.a]\nflow = \"implicit\"\n", `profile "a": flow "implicit" is not one of`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			e.writeConfig(tc.file)
			for _, args := range [][]string{{"profile", "list"}, {"profile", "set", "a", "flow", "device"}} {
				if code := e.run(args...); code != ExitUsage {
					t.Fatalf("%v: exit %d, want 2; stderr: %s", args, code, e.errOut)
				}
				line := e.errOut.String()
				if strings.Count(line, "\n") != 1 || !strings.Contains(line, e.configPath()) || !strings.Contains(line, tc.msg) {
					t.Errorf("%v: stderr = %q, want one line naming the file and %q", args, line, tc.msg)
				}
				if strings.Contains(line, "hunter2") {
					t.Errorf("secret echoed: %s", line)
				}
				if got := e.readConfig(); got != tc.file {
					t.Errorf("config changed:\n%s", got)
				}
			}
		})
	}
}

// A default_profile that names no profile breaks only what uses the default:
// the profile commands that fix it work.
func TestDanglingDefaultProfile(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.configure = func(f *Factory) { // profile remove deletes b's keychain entry
		f.StoreFor = func(string) (keychain.Store, error) { return keychaintest.NewMemory(), nil }
	}
	e.writeConfig("default_profile = \"nope\"\n\n[profiles.a]\nissuer = \"https://a.example.com\"\nclient_id = \"x\"\n")
	hint := "default_profile \"nope\" names no profile in " + e.configPath() + ": run `oat profile use NAME`"

	e.mustRun(ExitOK, "profile", "list")
	if !strings.Contains(e.out.String(), "a") {
		t.Errorf("profile list: stdout = %q", e.out)
	}
	e.mustRun(ExitOK, "profile", "show", "a")
	e.mustRun(ExitOK, "-p", "a", "profile", "show")
	e.mustRun(ExitOK, "profile", "add", "b", "--issuer", "https://b.example.com", "--client-id", "y")
	e.mustRun(ExitOK, "profile", "remove", "b")

	// What resolves the default fails with exit 2 and says how to fix it.
	e.mustRun(ExitUsage, "token")
	if line := e.errOut.String(); strings.Count(line, "\n") != 1 || !strings.Contains(line, hint) {
		t.Errorf("token: stderr = %q, want one line with %q", line, hint)
	}
	e.mustRun(ExitUsage, "profile", "show")
	if !strings.Contains(e.errOut.String(), `"nope"`) {
		t.Errorf("profile show: stderr = %q, want it to name the default", e.errOut)
	}

	e.mustRun(ExitOK, "profile", "use", "a")
	if got := e.readConfig(); !strings.Contains(got, `default_profile = 'a'`) && !strings.Contains(got, `default_profile = "a"`) {
		t.Errorf("config after profile use:\n%s", got)
	}
	e.mustRun(ExitOK, "profile", "show")
}

func TestConfigLocation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	// OAT_CONFIG wins over XDG_CONFIG_HOME; --config wins over both.
	e.env["OAT_CONFIG"] = filepath.Join(e.dir, "env.toml")
	e.mustRun(0, "profile", "add", "x", "--issuer", "https://x.example.com", "--client-id", "x")
	if _, err := os.Stat(filepath.Join(e.dir, "env.toml")); err != nil {
		t.Errorf("OAT_CONFIG not used: %v", err)
	}
	e.mustRun(0, "--config", filepath.Join(e.dir, "flag.toml"), "profile", "add", "y", "--issuer", "https://y.example.com", "--client-id", "y")
	if _, err := os.Stat(filepath.Join(e.dir, "flag.toml")); err != nil {
		t.Errorf("--config not used: %v", err)
	}
	if _, err := os.Stat(e.configPath()); err == nil {
		t.Errorf("XDG config written although OAT_CONFIG/--config were set")
	}
	delete(e.env, "OAT_CONFIG")
	delete(e.env, "XDG_CONFIG_HOME")
	e.mustRun(0, "profile", "add", "z", "--issuer", "https://z.example.com", "--client-id", "z")
	if _, err := os.Stat(filepath.Join(e.dir, ".config", "oat", "config.toml")); err != nil {
		t.Errorf("~/.config/oat/config.toml not used: %v", err)
	}
}
