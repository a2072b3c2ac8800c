package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
)

// jwtPayload decodes a JWT's claims without checking them (test helper).
func jwtPayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// RFC 8693 token exchange against zitadel's OP, through the whole CLI: a
// subject token from a file (re-read on every renewal) and another
// profile's access token (obtained as oat token would, renewed when needed).
func TestTokenExchangeWholeCLI(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithJWTAccessTokens())
	e := newTestEnv(t)
	e.env[authtest.SecretEnv] = op.ClientSecret
	subjectFile := filepath.Join(e.dir, "subject.jwt")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(subjectFile, []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	first := op.SubjectToken(t, "system:serviceaccount:ci:deployer", 10*time.Minute)
	write(first)
	e.writeConfig(fmt.Sprintf(`[profiles.ci]
issuer = %[1]q
client_id = %[2]q
client_secret_env = %[3]q
flow = "token-exchange"
subject_token_from = "file:%[4]s"
audience = "https://api.example.test"

[profiles.other]
issuer = %[1]q
client_id = %[2]q
client_secret_env = %[3]q
flow = "client-credentials"

[profiles.chained]
issuer = %[1]q
client_id = %[2]q
client_secret_env = %[3]q
flow = "token-exchange"
subject_token_from = "profile:other"
`, op.Issuer, op.ConfidentialClientID, authtest.SecretEnv, subjectFile))

	// Login: one exchange, nothing on stdout, who and which profile on stderr.
	e.mustRun(0, "login", "-p", "ci")
	if e.out.Len() != 0 || !strings.Contains(e.errOut.String(), `Logged in as system:serviceaccount:ci:deployer (profile "ci")`) ||
		strings.Contains(e.errOut.String(), "refresh token") {
		t.Fatalf("stdout %q stderr %q", e.out, e.errOut)
	}
	if seen := op.SubjectTokensSeen(); len(seen) != 1 || seen[0] != first {
		t.Fatalf("subject tokens sent: %d, want the file's one", len(seen))
	}
	// The token: a cache hit, for the subject and the audience asked for.
	e.mustRun(0, "token", "-p", "ci")
	tok1 := strings.TrimSpace(e.out.String())
	claims := jwtPayload(t, tok1)
	if claims["sub"] != "system:serviceaccount:ci:deployer" || !strings.Contains(fmt.Sprint(claims["aud"]), "https://api.example.test") {
		t.Fatalf("exchanged token claims %v", claims)
	}
	if n := op.Grants(auth.GrantTypeTokenExchange); n != 1 {
		t.Fatalf("%d exchanges after login + cached token, want 1", n)
	}
	// -v logs the exchange, never the subject token.
	e.mustRun(0, "refresh", "-p", "ci", "-q", "-v")
	if log := e.errOut.String(); !strings.Contains(log, "/oauth/token") || strings.Contains(log, first) {
		t.Fatalf("-v log: %q", log)
	}
	e.mustRun(0, "token", "-p", "ci")
	tok1 = strings.TrimSpace(e.out.String())

	// Renewal once the token has expired (the clock moved past its 5
	// minutes): the file is read again and its new subject token is sent.
	second := op.SubjectToken(t, "system:serviceaccount:ci:deployer", 10*time.Minute)
	write(second)
	e.now = time.Now().Add(6 * time.Minute)
	e.mustRun(0, "token", "-p", "ci")
	e.now = time.Time{}
	if seen := op.SubjectTokensSeen(); len(seen) != 3 || seen[2] != second {
		t.Fatalf("renewal did not send the file's new subject token (%d exchanges)", len(seen))
	}
	if strings.TrimSpace(e.out.String()) == tok1 {
		t.Fatal("renewal printed the old token")
	}

	// profile:other: its client-credentials token, obtained through its own
	// session (and cached there), is the subject token.
	e.mustRun(0, "login", "-p", "chained")
	if op.Grants("client_credentials") != 1 {
		t.Fatalf("%d client-credentials grants, want 1 (the other profile's)", op.Grants("client_credentials"))
	}
	e.mustRun(0, "token", "-p", "other")
	otherTok := strings.TrimSpace(e.out.String())
	if seen := op.SubjectTokensSeen(); seen[len(seen)-1] != otherTok {
		t.Fatal("profile:other did not send the other profile's access token")
	}
	e.mustRun(0, "refresh", "-p", "chained")
	if op.Grants("client_credentials") != 1 || len(op.SubjectTokensSeen()) != 5 {
		t.Fatalf("renewal: %d client-credentials grants (the other's token is still valid: want 1), %d exchanges", op.Grants("client_credentials"), len(op.SubjectTokensSeen()))
	}
	// Once the other profile's token has expired, it is renewed first.
	e.now = time.Now().Add(6 * time.Minute)
	e.mustRun(0, "token", "-p", "chained")
	e.now = time.Time{}
	if op.Grants("client_credentials") != 2 || len(op.SubjectTokensSeen()) != 6 {
		t.Fatalf("after expiry: %d client-credentials grants (want 2), %d exchanges (want 6)", op.Grants("client_credentials"), len(op.SubjectTokensSeen()))
	}

	// A subject token the server refuses (signed by an issuer it does not
	// trust): exit 1, the server's error and description on one line, and
	// the token stays out of the message.
	other := authtest.NewOP(t)
	bad := other.SubjectToken(t, "intruder", 10*time.Minute)
	write(bad)
	code := e.run("refresh", "-p", "ci")
	msg := e.errOut.String()
	if code != ExitFailure || !strings.Contains(msg, "token exchange: server answered invalid_request: subject_token is invalid") ||
		strings.Count(msg, "\n") != 1 || strings.Contains(msg, bad) || e.out.Len() != 0 {
		t.Fatalf("refused subject token: exit %d, stdout %q, stderr %q", code, e.out, msg)
	}
	// Not a JWT at all: refused before anything is sent.
	write("not-a-token")
	sent := len(op.SubjectTokensSeen())
	if code := e.run("refresh", "-p", "ci"); code != ExitFailure ||
		!strings.Contains(e.errOut.String(), "subject_token_from file:"+subjectFile+": the value is not a JWT") || len(op.SubjectTokensSeen()) != sent {
		t.Fatalf("non-JWT subject token: exit %d, stderr %q", code, e.errOut)
	}
}

// Ad hoc from flags alone, and the configuration errors (exit 2).
func TestTokenExchangeFlagsAndConfigErrors(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	e := newTestEnv(t)
	e.env[authtest.SecretEnv] = op.ClientSecret
	e.env["CI_SUBJECT"] = op.SubjectToken(t, "ci-job", 10*time.Minute)
	flags := []string{"--issuer", op.Issuer, "--client-id", op.ConfidentialClientID, "--client-secret-env", authtest.SecretEnv,
		"--flow", "token-exchange", "--subject-token-from", "env:CI_SUBJECT", "--subject-token-type", "jwt", "--requested-token-type", "access_token"}
	e.mustRun(0, append([]string{"token", "-o", "json"}, flags...)...)
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(e.out.Bytes(), &out); err != nil || out.AccessToken == "" || out.TokenType != "Bearer" {
		t.Fatalf("stdout %q: %v", e.out, err)
	}

	e.writeConfig(fmt.Sprintf(`[profiles.nosource]
issuer = %[1]q
client_id = "c"
flow = "token-exchange"

[profiles.loop]
issuer = %[1]q
client_id = "c"
flow = "token-exchange"
subject_token_from = "profile:loop2"

[profiles.loop2]
issuer = %[1]q
client_id = "c"
flow = "token-exchange"
subject_token_from = "profile:loop"
`, op.Issuer))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "-p", "nosource"}, "flow token-exchange needs subject_token_from"},
		{[]string{"token", "-p", "loop"}, "profiles loop → loop2 → loop form a loop"},
		{append(slices.Clone(flags[:8]), "--subject-token-from", "secret-value", "token"), "subject_token_from must be"},
		{append(slices.Clone(flags), "--subject-token-type", "not a type", "token"), "subject_token_type \"not a type\" is not a token type"},
		{append(slices.Clone(flags), "--requested-token-type", "refresh_token", "token"), "oat keeps no refresh token from a token exchange"},
	} {
		code := e.run(tc.args...)
		if code != ExitUsage || !strings.Contains(e.errOut.String(), tc.want) {
			t.Errorf("oat %q: exit %d, stderr %q; want exit 2 with %q", tc.args, code, e.errOut, tc.want)
		}
	}
	// github-actions outside a job with id-token: write: the shared reader's
	// error, named for subject_token_from (exit 1).
	ga := append(slices.Clone(flags[:8]), "--subject-token-from", "github-actions", "token")
	if code := e.run(ga...); code != ExitFailure || !strings.Contains(e.errOut.String(), "subject_token_from github-actions: ACTIONS_ID_TOKEN_REQUEST_URL") {
		t.Errorf("github-actions outside Actions: exit %d, stderr %q", code, e.errOut)
	}
	if n := op.Grants(auth.GrantTypeTokenExchange); n != 1 {
		t.Errorf("%d exchanges, want 1 (configuration errors send nothing)", n)
	}
}

// The new flags complete like --flow does.
func TestTokenExchangeFlagCompletion(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for args, want := range map[string]string{
		"login --flow ":                 "token-exchange\n",
		"token --subject-token-type ":   "jwt\n",
		"token --requested-token-type ": "access_token\n",
	} {
		e.mustRun(0, append(append([]string{"__complete"}, strings.Fields(args)...), "")...)
		if !strings.Contains(e.out.String(), want) {
			t.Errorf("%s<TAB>: %q, want %q", args, e.out, want)
		}
	}
}

// The server's error for an exchange is shown as sent — error and
// error_description — with control characters escaped, on one line.
func TestTokenExchangeServerErrorShownSafely(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	op.SetFault(authtest.OnGrant(auth.GrantTypeTokenExchange, 1, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_target", "error_description": "no such audience \x1b[31mhttps://evil\x1b[0m\u202e"})
	}))
	e := newTestEnv(t)
	e.env[authtest.SecretEnv] = op.ClientSecret
	e.env["CI_SUBJECT"] = op.SubjectToken(t, "ci-job", 10*time.Minute)
	code := e.run("token", "--issuer", op.Issuer, "--client-id", op.ConfidentialClientID, "--client-secret-env", authtest.SecretEnv,
		"--flow", "token-exchange", "--subject-token-from", "env:CI_SUBJECT", "--audience", "https://evil")
	msg := e.errOut.String()
	if code != ExitFailure || !strings.Contains(msg, "token exchange: server answered invalid_target: no such audience") ||
		strings.ContainsAny(msg, "\x1b\u202e") || strings.Count(msg, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", code, msg)
	}
}

// A token-exchange key on a client-credentials profile was silently
// ignored (the grant ran as plain client credentials, for another token
// than the user asked for): now a configuration error, exit 2, with
// nothing sent. Flags meet the profile's flow once merged: --flow device
// on a par profile is refused too, --subject-token-from on a
// token-exchange profile is fine.
func TestTokenExchangeKeysOnAnotherFlowRefused(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	e := newTestEnv(t)
	e.env[authtest.SecretEnv] = op.ClientSecret
	e.env["CI_SUBJECT"] = op.SubjectToken(t, "ci-job", 10*time.Minute)
	e.writeConfig(fmt.Sprintf(`[profiles.cc]
issuer = %[1]q
client_id = %[2]q
client_secret_env = %[3]q
flow = "client-credentials"
subject_token_from = "env:CI_SUBJECT"
`, op.Issuer, op.ConfidentialClientID, authtest.SecretEnv))
	if code := e.run("token", "-p", "cc"); code != ExitUsage ||
		!strings.Contains(e.errOut.String(), `profile "cc": subject_token_from is read only by flow "token-exchange", and this profile's flow is "client-credentials"`) {
		t.Fatalf("exit %d, stderr %q; want exit 2 naming the key", code, e.errOut)
	}
	e.writeConfig(fmt.Sprintf(`[profiles.web]
issuer = %[1]q
client_id = "c"
par = true

[profiles.x]
issuer = %[1]q
client_id = %[2]q
client_secret_env = %[3]q
flow = "token-exchange"
`, op.Issuer, op.ConfidentialClientID, authtest.SecretEnv))
	if code := e.run("login", "-p", "web", "--flow", "device"); code != ExitUsage || !strings.Contains(e.errOut.String(), `par is read only by flow "pkce"`) {
		t.Fatalf("par with --flow device: exit %d, stderr %q", code, e.errOut)
	}
	if code := e.run("token", "-p", "x", "--flow", "client-credentials", "--subject-token-from", "env:CI_SUBJECT"); code != ExitUsage {
		t.Fatalf("--subject-token-from with --flow client-credentials: exit %d, stderr %q", code, e.errOut)
	}
	if n := op.Grants("client_credentials") + op.Grants(auth.GrantTypeTokenExchange); n != 0 {
		t.Fatalf("%d grants: a configuration error sent a request", n)
	}
	e.mustRun(0, "token", "-p", "x", "--subject-token-from", "env:CI_SUBJECT")
}

// requested_token_type id_token: zitadel's OP answers token_type N_A, as
// RFC 8693 §2.2.1 says for a token that is not an access token. -o raw and
// -o json hand it on as issued; -o header refuses to make it an
// Authorization header ("Authorization: N_A …" is no scheme any server
// takes), and so do git-credential and curl (authScheme).
func TestTokenExchangeNotAnAccessToken(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	e := newTestEnv(t)
	e.env[authtest.SecretEnv] = op.ClientSecret
	e.env["CI_SUBJECT"] = op.SubjectToken(t, authtest.Subject /* a user of the OP: its ID token names one */, 10*time.Minute)
	flags := []string{"--issuer", op.Issuer, "--client-id", op.ConfidentialClientID, "--client-secret-env", authtest.SecretEnv,
		"--flow", "token-exchange", "--subject-token-from", "env:CI_SUBJECT", "--requested-token-type", "id_token", "--scope", "openid"}
	e.mustRun(0, append([]string{"token", "-o", "json"}, flags...)...)
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(e.out.Bytes(), &out); err != nil || out.TokenType != auth.TokenTypeNA || out.AccessToken == "" {
		t.Fatalf("stdout %q: %v; want token_type N_A", e.out, err)
	}
	e.mustRun(0, append([]string{"token"}, flags...)...)
	if got := strings.TrimSpace(e.out.String()); got != out.AccessToken {
		t.Errorf("-o raw printed %q, want the issued token", got)
	}
	code := e.run(append([]string{"token", "-o", "header"}, flags...)...)
	if code != ExitFailure || e.out.Len() != 0 || !strings.Contains(e.errOut.String(), "-o header: the server issued this token with token_type N_A: it is not an access token") {
		t.Fatalf("-o header: exit %d, stdout %q, stderr %q", code, e.out, e.errOut)
	}
	if _, err := authScheme("N_A", "oat curl"); err == nil || !strings.Contains(err.Error(), "oat curl: the server issued this token with token_type N_A") {
		t.Errorf("authScheme(N_A) = %v", err)
	}
}

// oat exec's child gets the exchanged token, not the subject token it was
// minted from (subject_token_from env:VAR), nor a client assertion read
// from a variable: either mints more tokens, like the client secret that
// childEnv already drops.
func TestExecChildGetsNoSubjectTokenOrAssertion(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	e := newTestEnv(t)
	e.env[authtest.SecretEnv] = op.ClientSecret
	e.env["CI_SUBJECT"] = op.SubjectToken(t, "ci-job", 10*time.Minute)
	e.env["CI_ASSERTION"] = "not.used.here"
	e.env["KEEP_ME"] = "kept"
	e.configure = func(f *Factory) {
		f.Environ = func() []string {
			env := []string{"PATH=" + os.Getenv("PATH")}
			for k, v := range e.env {
				env = append(env, k+"="+v)
			}
			return env
		}
	}
	e.writeConfig(fmt.Sprintf(`[profiles.x]
issuer = %[1]q
client_id = %[2]q
client_secret_env = %[3]q
flow = "token-exchange"
subject_token_from = "env:CI_SUBJECT"
`, op.Issuer, op.ConfidentialClientID, authtest.SecretEnv))
	e.mustRun(0, "exec", "-p", "x", "--", "sh", "-c", `printf '%s|%s|%s' "${CI_SUBJECT-unset}" "$KEEP_ME" "${#OAT_ACCESS_TOKEN}"`)
	if got := e.out.String(); !strings.HasPrefix(got, "unset|kept|") || strings.HasSuffix(got, "|0") {
		t.Errorf("child saw %q, want the subject token unset and a token", got)
	}
	f := &Factory{Environ: func() []string { return []string{"CI_ASSERTION=a.b.c", "KEEP_ME=kept"} }}
	if got := f.childEnv(config.Profile{ClientAssertion: "env:CI_ASSERTION"}); !slices.Equal(got, []string{"KEEP_ME=kept"}) {
		t.Errorf("childEnv with client_assertion env:CI_ASSERTION = %q", got)
	}
}
