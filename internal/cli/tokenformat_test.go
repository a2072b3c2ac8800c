package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/tokencache"
)

// cachedTokenEnv is a testEnv with a profile "work" and, in the cache, the
// given access and ID tokens valid until exp (zero: no expiry): `oat token`
// is a cache hit that prints exactly these tokens.
func cachedTokenEnv(t *testing.T, access, id string, exp time.Time) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	e.now = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	e.writeConfig(`default_profile = "work"

[profiles.work]
issuer = "https://login.example.com"
client_id = "cli-app"
scopes = ["openid", "profile", "offline_access"]
`)
	p := config.Profile{Issuer: "https://login.example.com", ClientID: "cli-app", Scopes: []string{"openid", "profile", "offline_access"}}
	ent := &tokencache.Entry{AccessToken: access, IDToken: id, TokenType: "Bearer", Expiry: exp,
		Fingerprint: config.Fingerprint(p), UpdatedAt: e.now.Add(-time.Minute)}
	if err := tokencache.New(filepath.Join(e.dir, "cache", "oat")).Save("work", ent); err != nil {
		t.Fatal(err)
	}
	return e
}

// hostileTokens are tokens a hostile server could send: each must reach the
// shell variable byte for byte and run nothing.
var hostileTokens = []string{
	"plain.jwt-like_token~1",
	`a'b"c$(touch PWNED)d` + "`touch PWNED`" + `e;touch PWNED;'`,
	`'`, `''`, `\`, `\'`, `'\''`, `"`, `$`, `${HOME}`, `$HOME!!`, "%0A%25%",
	"line1\nline2\r\n'$(touch PWNED)'\n",
	"\x01\x02\x1b[31m\x7f\ttab",
	"ends with newline\n",
	"‘smart’ ‚quotes‛ $(touch PWNED)",
	"; touch PWNED #",
	"\xff\xfe not utf-8 \xc3",
}

type shellCase struct {
	name string
	// argv runs the file of -o env output ($1 or $argv[1]) in the shell,
	// then the check command ($2) with the resulting environment.
	argv func(file, check string) []string
}

func shellCases() []shellCase {
	return []shellCase{
		{name: "bash", argv: func(file, check string) []string {
			return []string{"bash", "--noprofile", "--norc", "-c", `eval "$(cat "$1")" && exec sh -c "$2"`, "bash", file, check}
		}},
		{name: "zsh", argv: func(file, check string) []string {
			return []string{"zsh", "-f", "-c", `eval "$(cat "$1")" && exec sh -c "$2"`, "zsh", file, check}
		}},
		{name: "fish", argv: func(file, check string) []string {
			return []string{"fish", "--no-config", "-c", `source $argv[1]; and exec sh -c $argv[2]`, file, check}
		}},
		{name: "fish-eval", argv: func(file, check string) []string {
			return []string{"fish", "--no-config", "-c", `eval (cat $argv[1]); and exec sh -c $argv[2]`, file, check}
		}},
		{name: "powershell", argv: func(file, check string) []string {
			return []string{"pwsh", "-NoProfile", "-NonInteractive", "-Command",
				`Get-Content -LiteralPath '` + file + `' | Invoke-Expression; sh -c '` + check + `'; exit $LASTEXITCODE`}
		}},
	}
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "") == s }

// TestTokenEnvIsSafeInEveryShell evaluates `oat token -o env` in each shell
// that is installed (bash must be) for tokens built to break out of quotes,
// and checks the exported variables hold the token byte for byte and that
// nothing ran.
func TestTokenEnvIsSafeInEveryShell(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 11, 25, 21, 4, 5, 0, time.UTC)
	const check = `printf '%s\000%s' "$OAT_ACCESS_TOKEN" "$OAT_ACCESS_TOKEN_EXPIRES_AT"`
	for _, sc := range shellCases() {
		bin := sc.argv("", "")[0]
		if _, err := exec.LookPath(bin); err != nil {
			if sc.name == "bash" {
				t.Fatalf("bash is needed for this test: %v", err)
			}
			t.Logf("%s: not installed (%s), skipping that shell", sc.name, bin)
			continue
		}
		shell := strings.TrimSuffix(sc.name, "-eval")
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			for _, tok := range hostileTokens {
				for _, withExp := range []bool{true, false} {
					if sc.name == "powershell" && !isValidUTF8(tok) {
						continue // refused: see TestTokenEnvRefusals
					}
					var when time.Time
					if withExp {
						when = exp
					}
					var script string
					if isValidUTF8(tok) {
						e := cachedTokenEnv(t, tok, "", when)
						e.mustRun(0, "token", "-o", "env", "--shell", shell)
						script = e.out.String()
					} else {
						// The cache is JSON and holds only UTF-8, but a
						// form-encoded token response can carry any byte
						// to the first print after a renewal.
						var err error
						if script, err = envStatements(shell, defaultEnvVar, tok, when); err != nil {
							t.Fatal(err)
						}
					}
					dir := t.TempDir()
					file := filepath.Join(dir, "env.out")
					if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
						t.Fatal(err)
					}
					argv := sc.argv(file, check)
					cmd := exec.Command(argv[0], argv[1:]...)
					cmd.Dir = dir
					cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "OAT_ACCESS_TOKEN_EXPIRES_AT=stale", "LC_ALL=C.UTF-8"}
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					out, err := cmd.Output()
					if err != nil {
						t.Fatalf("%s on %q: %v\noutput evaluated:\n%s\nstderr: %s", sc.name, tok, err, script, stderr.String())
					}
					got, gotExp, _ := strings.Cut(string(out), "\x00")
					if got != tok {
						t.Errorf("%s: OAT_ACCESS_TOKEN = %q, want %q\noutput evaluated:\n%s", sc.name, got, tok, script)
					}
					wantExp := ""
					if withExp {
						wantExp = "2026-11-25T21:04:05Z"
					}
					if gotExp != wantExp {
						t.Errorf("%s: OAT_ACCESS_TOKEN_EXPIRES_AT = %q, want %q", sc.name, gotExp, wantExp)
					}
					if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
						t.Fatalf("%s: evaluating the output for %q ran a command", sc.name, tok)
					}
				}
			}
		})
	}
}

func TestTokenEnvFormat(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 11, 25, 21, 4, 5, 0, time.UTC)
	cases := []struct {
		args  []string
		shell string // $SHELL
		want  string
	}{
		{[]string{}, "/bin/bash", "export OAT_ACCESS_TOKEN='tok'\nexport OAT_ACCESS_TOKEN_EXPIRES_AT='2026-11-25T21:04:05Z'\n"},
		{[]string{}, "", "export OAT_ACCESS_TOKEN='tok'\nexport OAT_ACCESS_TOKEN_EXPIRES_AT='2026-11-25T21:04:05Z'\n"},
		{[]string{}, "/usr/local/bin/fish", "set -gx OAT_ACCESS_TOKEN 'tok'; set -gx OAT_ACCESS_TOKEN_EXPIRES_AT '2026-11-25T21:04:05Z'\n"},
		{[]string{"--shell", "zsh", "--env-var", "API_TOKEN"}, "/usr/bin/fish", "export API_TOKEN='tok'\nexport API_TOKEN_EXPIRES_AT='2026-11-25T21:04:05Z'\n"},
		{[]string{"--shell", "powershell"}, "", "$env:OAT_ACCESS_TOKEN = 'tok'\n$env:OAT_ACCESS_TOKEN_EXPIRES_AT = '2026-11-25T21:04:05Z'\n"},
		{[]string{}, "/opt/pwsh", "$env:OAT_ACCESS_TOKEN = 'tok'\n$env:OAT_ACCESS_TOKEN_EXPIRES_AT = '2026-11-25T21:04:05Z'\n"},
	}
	for _, c := range cases {
		e := cachedTokenEnv(t, "tok", "", exp)
		e.env["SHELL"] = c.shell
		e.mustRun(0, append([]string{"token", "-o", "env"}, c.args...)...)
		if e.out.String() != c.want {
			t.Errorf("oat token -o env %q with SHELL=%q:\n%s\nwant:\n%s", c.args, c.shell, e.out, c.want)
		}
	}
	// No expiry: the variable is unset, so a stale one does not linger.
	e := cachedTokenEnv(t, "tok", "", time.Time{})
	e.mustRun(0, "token", "-o", "env", "--shell", "bash")
	if want := "export OAT_ACCESS_TOKEN='tok'\nunset OAT_ACCESS_TOKEN_EXPIRES_AT\n"; e.out.String() != want {
		t.Errorf("no expiry: %q, want %q", e.out, want)
	}
}

func TestTokenEnvRefusals(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 11, 25, 21, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--env-var", "1BAD"}, 2, `--env-var "1BAD": want a shell variable name`},
		{[]string{"--env-var", "A;rm -rf /"}, 2, `want a shell variable name`},
		{[]string{"--env-var", ""}, 2, `want a shell variable name`},
		{[]string{"--shell", "tcsh"}, 2, `--shell "tcsh": want bash, zsh, fish or powershell`},
	} {
		e := cachedTokenEnv(t, "tok", "", exp)
		code := e.run(append([]string{"token", "-o", "env"}, c.args...)...)
		if code != c.code || !strings.Contains(e.errOut.String(), c.msg) || e.out.Len() != 0 {
			t.Errorf("oat token -o env %q: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, e.out, e.errOut, c.code, c.msg)
		}
	}
	e := cachedTokenEnv(t, "tok", "", exp)
	if code := e.run("token", "--shell", "bash"); code != 2 || !strings.Contains(e.errOut.String(), "--shell goes with -o env") {
		t.Errorf("--shell without -o env: exit %d, %q", code, e.errOut)
	}
	if s, err := envStatements(shellPowerShell, defaultEnvVar, "bad\xff", exp); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("non-UTF-8 token for PowerShell: %q, %v", s, err)
	}
	if s, err := envStatements(shellBash, defaultEnvVar, "nul\x00", exp); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("token with NUL: %q, %v", s, err)
	}
}

// Mirrors of k8s.io/client-go/pkg/apis/clientauthentication/{v1,v1beta1}
// ExecCredential (types.go), decoded with DisallowUnknownFields: oat's
// output may hold only fields the published schema has.
type k8sTypeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

type k8sCluster struct {
	Server                   string          `json:"server"`
	TLSServerName            string          `json:"tls-server-name,omitempty"`
	InsecureSkipTLSVerify    bool            `json:"insecure-skip-tls-verify,omitempty"`
	CertificateAuthorityData []byte          `json:"certificate-authority-data,omitempty"`
	ProxyURL                 string          `json:"proxy-url,omitempty"`
	DisableCompression       bool            `json:"disable-compression,omitempty"` // v1 only
	Config                   json.RawMessage `json:"config,omitempty"`
}

type k8sExecCredentialV1 struct {
	k8sTypeMeta
	Spec struct {
		Cluster     *k8sCluster `json:"cluster,omitempty"`
		Interactive *bool       `json:"interactive"` // required
	} `json:"spec,omitempty"`
	Status *struct {
		ExpirationTimestamp   *string           `json:"expirationTimestamp,omitempty"`
		Token                 string            `json:"token,omitempty"`
		AuthProxyHeaders      map[string]string `json:"authProxyHeaders,omitempty"`
		ClientCertificateData string            `json:"clientCertificateData,omitempty"`
		ClientKeyData         string            `json:"clientKeyData,omitempty"`
	} `json:"status,omitempty"`
}

type k8sExecCredentialV1beta1 struct {
	k8sTypeMeta
	Spec struct {
		Cluster     *k8sCluster `json:"cluster,omitempty"`
		Interactive *bool       `json:"interactive"`
	} `json:"spec,omitempty"`
	Status *struct {
		ExpirationTimestamp   *string `json:"expirationTimestamp,omitempty"`
		Token                 string  `json:"token,omitempty"`
		ClientCertificateData string  `json:"clientCertificateData,omitempty"`
		ClientKeyData         string  `json:"clientKeyData,omitempty"`
	} `json:"status,omitempty"`
}

func TestTokenExecCredential(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 11, 25, 21, 4, 5, 0, time.UTC)
	const access, id = "access-tok", "id.tok.en"
	for _, c := range []struct {
		name, info, wantVersion string
		idToken, interactive    bool
	}{
		{name: "no KUBERNETES_EXEC_INFO", wantVersion: k8sAuthV1},
		{name: "v1", info: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`, wantVersion: k8sAuthV1},
		{name: "v1 interactive with cluster", info: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://k8s.example.com","certificate-authority-data":"AAAA","config":{"audience":"x"}},"interactive":true}}`, wantVersion: k8sAuthV1, interactive: true},
		{name: "v1beta1", info: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`, wantVersion: k8sAuthV1beta1},
		{name: "v1beta1 id token", info: `{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{}}`, wantVersion: k8sAuthV1beta1, idToken: true},
	} {
		e := cachedTokenEnv(t, access, id, exp)
		if c.info != "" {
			e.env["KUBERNETES_EXEC_INFO"] = c.info
		}
		args := []string{"token", "-p", "work", "-o", "exec-credential"}
		if c.idToken {
			args = append(args, "--id-token")
		}
		e.mustRun(0, args...)
		dec := json.NewDecoder(bytes.NewReader(e.out.Bytes()))
		dec.DisallowUnknownFields()
		var (
			tm          k8sTypeMeta
			interactive *bool
			token       string
			expTS       *string
		)
		switch c.wantVersion {
		case k8sAuthV1:
			var v k8sExecCredentialV1
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s: not a v1 ExecCredential: %v\n%s", c.name, err, e.out)
			}
			if v.Status == nil {
				t.Fatalf("%s: no status", c.name)
			}
			tm, interactive, token, expTS = v.k8sTypeMeta, v.Spec.Interactive, v.Status.Token, v.Status.ExpirationTimestamp
		default:
			var v k8sExecCredentialV1beta1
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s: not a v1beta1 ExecCredential: %v\n%s", c.name, err, e.out)
			}
			if v.Status == nil {
				t.Fatalf("%s: no status", c.name)
			}
			tm, interactive, token, expTS = v.k8sTypeMeta, v.Spec.Interactive, v.Status.Token, v.Status.ExpirationTimestamp
		}
		if tm.Kind != "ExecCredential" || tm.APIVersion != c.wantVersion {
			t.Errorf("%s: kind %q apiVersion %q", c.name, tm.Kind, tm.APIVersion)
		}
		if interactive == nil || *interactive != c.interactive {
			t.Errorf("%s: spec.interactive = %v, want %v (required by the schema)", c.name, interactive, c.interactive)
		}
		want := access
		if c.idToken {
			want = id
		}
		if token != want {
			t.Errorf("%s: status.token = %q, want %q", c.name, token, want)
		}
		if expTS == nil {
			t.Fatalf("%s: no status.expirationTimestamp", c.name)
		}
		if ts, err := time.Parse(time.RFC3339, *expTS); err != nil || !ts.Equal(exp) {
			t.Errorf("%s: expirationTimestamp %q (%v), want %s", c.name, *expTS, err, exp.Format(time.RFC3339))
		}
	}
}

func TestTokenExecCredentialBadExecInfo(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ info, msg string }{
		{`{"apiVersion":`, "KUBERNETES_EXEC_INFO is not an ExecCredential in JSON (invalid JSON at byte"},
		{`not json`, "KUBERNETES_EXEC_INFO is not an ExecCredential in JSON"},
		{`{"apiVersion":"client.authentication.k8s.io/v1alpha1","kind":"ExecCredential"}`, `KUBERNETES_EXEC_INFO asks for apiVersion "client.authentication.k8s.io/v1alpha1": oat writes client.authentication.k8s.io/v1 and client.authentication.k8s.io/v1beta1`},
		{`{"apiVersion":"client.authentication.k8s.io/v1","kind":"Pod"}`, `KUBERNETES_EXEC_INFO has kind "Pod", not ExecCredential`},
		{`{"apiVersion":1}`, `field "apiVersion" has the wrong type`},
	} {
		e := cachedTokenEnv(t, "tok", "", time.Now().Add(time.Hour))
		e.env["KUBERNETES_EXEC_INFO"] = c.info
		code := e.run("token", "-o", "exec-credential")
		if code != 2 || !strings.Contains(e.errOut.String(), c.msg) || e.out.Len() != 0 {
			t.Errorf("KUBERNETES_EXEC_INFO=%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.info, code, e.out, e.errOut, c.msg)
		}
	}
}

// parseWorkflowCommands reads lines as the Actions runner does
// (ActionCommand.TryParseV2 + UnescapeData) and returns the add-mask values.
func parseAddMasks(s string) []string {
	var masks []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimLeft(line, " \t")
		if !strings.HasPrefix(line, "::") {
			continue
		}
		end := strings.Index(line[2:], "::")
		if end < 0 || line[2:2+end] != "add-mask" {
			continue
		}
		data := line[2+end+2:]
		data = strings.ReplaceAll(data, "%0D", "\r")
		data = strings.ReplaceAll(data, "%0A", "\n")
		data = strings.ReplaceAll(data, "%25", "%")
		masks = append(masks, data)
	}
	return masks
}

func TestGitHubActionsMasksEveryPrintedToken(t *testing.T) {
	t.Parallel()
	exp := time.Now().Add(time.Hour)
	const access, id = "acc%0A%25ess-tok::x", "id.tok.en"
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"token"}, []string{access}},
		{[]string{"token", "-o", "header"}, []string{access}},
		{[]string{"token", "-o", "json"}, []string{access, id}},
		{[]string{"token", "-o", "env"}, []string{access}},
		{[]string{"token", "-o", "exec-credential"}, []string{access}},
		{[]string{"token", "--id-token"}, []string{id}},
	} {
		e := cachedTokenEnv(t, access, id, exp)
		e.env["GITHUB_ACTIONS"] = "true"
		e.mustRun(0, c.args...)
		if strings.Contains(e.out.String(), "::add-mask::") {
			t.Errorf("oat %q: the mask went to stdout, where $(…) captures it: %q", c.args, e.out)
		}
		got := parseAddMasks(e.errOut.String())
		if strings.Join(got, "\x00") != strings.Join(c.want, "\x00") {
			t.Errorf("oat %q in GitHub Actions: runner would mask %q, want %q (stderr %q)", c.args, got, c.want, e.errOut)
		}
		// Outside GitHub Actions, nothing of the kind.
		e = cachedTokenEnv(t, access, id, exp)
		e.mustRun(0, c.args...)
		if strings.Contains(e.errOut.String(), "add-mask") {
			t.Errorf("oat %q outside Actions printed a mask: %q", c.args, e.errOut)
		}
	}
}
