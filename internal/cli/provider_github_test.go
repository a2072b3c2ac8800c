package cli

import (
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/provtest"
)

// GitHub through the whole CLI, against provtest.GitHub (its quirks and their
// doc pages are there). The README line (a GitHub App's client ID, no
// secret) runs as written, plus one flag: --domain points at the emulator as
// at a GitHub Enterprise Server (http allowed for a loopback host only), so
// the endpoints and the API root (/api/v3) come from the preset.
func TestProviderGitHubApp(t *testing.T) {
	t.Parallel()
	args := readmeLine(t, "github")
	emu := provtest.NewGitHub(t, argAfter(t, args, "--client-id"), "", true)
	e := newProvEnvA(t)
	e.mustRun(0, append(args, "--domain", emu.URL)...)
	name := args[2]
	cfg := e.readConfig()
	for _, want := range []string{"token_url = '" + emu.URL + "/login/oauth/access_token'", "device_authorization_url = '" + emu.URL + "/login/device/code'", "flow = 'device'"} {
		if !strings.Contains(cfg, want) {
			t.Fatalf("config lacks %s:\n%s", want, cfg)
		}
	}

	// No secret: the device flow. The first poll is answered
	// authorization_pending with HTTP 200, form-encoded.
	e.configure = chain(e.configure, func(f *Factory) { f.Browser = authtest.NoBrowser(t) })
	e.mustRun(0, "login")
	if got := e.errOut.String(); !strings.Contains(got, "To log in, visit:\n\n  "+emu.URL+"/login/device") || !strings.Contains(got, "Logged in as "+provtest.GitHubLogin+" ") {
		t.Errorf("login: %s", got)
	}
	if n := emu.Grants("urn:ietf:params:oauth:grant-type:device_code"); n != 2 {
		t.Errorf("%d device polls, want 2 (pending, then the token)", n)
	}
	tok := provTokenJSON(e)
	if tok["token_type"] != "Bearer" || tok["expires_at"] == nil {
		t.Errorf("token -o json = %v (GitHub says bearer, and the App token expires)", tok)
	}

	// Renewal after expiry: the refresh token rotates.
	old, _ := e.store.Get(name)
	e.expire(name)
	e.mustRun(0, "token")
	if now, _ := e.store.Get(name); now == old || !strings.HasPrefix(now, "ghr_") {
		t.Error("the rotated refresh token was not stored")
	}

	// status names the user by login (GET /user).
	rows := e.statusJSON()
	if len(rows) != 1 || deref(rows[0].Subject, "") != provtest.GitHubLogin || !rows[0].LoggedIn {
		t.Errorf("status = %+v", rows)
	}

	// A dead refresh token is refused with HTTP 200 and bad_refresh_token:
	// the session is over (exit 3), status says so.
	emu.DropRefreshTokens()
	e.expire(name)
	if code := e.run("token"); code != ExitLoginRequired || !strings.Contains(e.errOut.String(), "bad_refresh_token") {
		t.Errorf("dead refresh token: exit %d, %s", code, e.errOut)
	}
	if rows := e.statusJSON(); len(rows) != 1 || !rows[0].NeedsLogin {
		t.Errorf("status = %+v", rows)
	}

	// Re-login, then revoke: without a secret GitHub revokes nothing, and
	// oat says so.
	e.mustRun(0, "login")
	e.mustRun(0, "revoke")
	for _, want := range []string{
		"cannot revoke a refresh token on its own",
		"revokes a token only for a client that sends its secret (client_secret_env), and this profile has none: the access token stays valid there until it expires",
		"To end the session there: revoke the app's authorization at " + emu.URL + "/settings/applications.",
		"Deleted the local tokens",
	} {
		if !strings.Contains(e.errOut.String(), want) {
			t.Errorf("revoke stderr lacks %q:\n%s", want, e.errOut)
		}
	}
}

// A GitHub OAuth app with its secret: the web flow (PKCE), the secret in
// the form body, tokens that never expire and come without a refresh
// token, revocation through the REST API.
func TestProviderGitHubOAuthApp(t *testing.T) {
	t.Parallel()
	emu := provtest.NewGitHub(t, "Ov23liAbCdEf01234567", "s3cr3t-"+t.Name(), false)
	e := newProvEnvA(t)
	e.env["GH_SECRET"] = emu.ClientSecret
	e.mustRun(0, "profile", "add", "gho", "--provider", "github", "--client-id", emu.ClientID, "--client-secret-env", "GH_SECRET", "--domain", emu.URL)
	e.mustRun(0, "login")
	if f := emu.LastForm("authorization_code"); f.Get("client_secret") != emu.ClientSecret || f.Get("code_verifier") == "" {
		t.Errorf("code exchange: secret in the body %v, PKCE %v", f.Get("client_secret") != "", f.Get("code_verifier") != "")
	}
	if !strings.Contains(e.errOut.String(), "Logged in as "+provtest.GitHubLogin+" ") || !strings.Contains(e.errOut.String(), "the server sent no refresh token") {
		t.Errorf("login: %s", e.errOut)
	}
	tok := provTokenJSON(e)
	at, _ := tok["access_token"].(string)
	if tok["token_type"] != "Bearer" || tok["expires_at"] != nil || !strings.HasPrefix(at, "gho_") {
		t.Errorf("token -o json = %v", tok)
	}
	// Never expires: used until GitHub refuses it, no request to renew it.
	grants := emu.Grants("authorization_code")
	e.mustRun(0, "token")
	if strings.TrimSpace(e.out.String()) != at || emu.Grants("authorization_code") != grants || emu.Grants("refresh_token") != 0 {
		t.Error("a token without expiry was not reused")
	}
	rows := e.statusJSON()
	if len(rows) != 1 || deref(rows[0].Subject, "") != provtest.GitHubLogin || !rows[0].LoggedIn {
		t.Errorf("status = %+v", rows)
	}

	e.mustRun(0, "revoke")
	if !strings.Contains(e.errOut.String(), "Revoked the access token at the server.") || emu.AccessTokenValid(at) {
		t.Errorf("revoke: still valid at GitHub %v; %s", emu.AccessTokenValid(at), e.errOut)
	}

	// GitHub's errors come with HTTP 200: a wrong secret is shown as sent.
	e.env["GH_SECRET"] = "wrong"
	e.browser.ExpectFailure = true
	e.mustRun(0, "profile", "add", "bad", "--provider", "github", "--client-id", emu.ClientID, "--client-secret-env", "GH_SECRET", "--domain", emu.URL)
	if code := e.run("login", "-p", "bad"); code != 1 || !strings.Contains(e.errOut.String(), "incorrect_client_credentials: The client_id and/or client_secret passed are incorrect.") {
		t.Errorf("wrong secret: exit %d, %s", code, e.errOut)
	}
}
