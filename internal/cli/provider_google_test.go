package cli

import (
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/provtest"
)

// Google through the whole CLI, against provtest.Google (its quirks and
// their doc pages are there). The README line runs as written, plus one
// flag: --issuer points at the emulator instead of https://accounts.google.com
// (--provider google keeps Google's handling on 127.0.0.1).
func TestProviderGoogle(t *testing.T) {
	t.Parallel()
	args := readmeLine(t, "google")
	secretEnv := argAfter(t, args, "--client-secret-env")
	emu := provtest.NewGoogle(t, argAfter(t, args, "--client-id"), "GOCSPX-test-"+t.Name())
	e := newProvEnvA(t)
	e.env[secretEnv] = emu.ClientSecret
	e.mustRun(0, append(args, "--issuer", emu.URL)...)
	name := args[2]

	// access_type=offline + prompt=consent give a refresh token; no
	// offline_access scope is asked for; the secret goes in the body.
	e.mustRun(0, "login")
	rt, err := e.store.Get(name)
	if err != nil {
		t.Fatalf("no refresh token stored after login: %v", err)
	}
	if f := emu.LastForm("authorization_code"); f.Get("client_secret") != emu.ClientSecret || f.Get("code_verifier") == "" {
		t.Errorf("code exchange: client_secret in the body %v, PKCE verifier %v", f.Get("client_secret") != "", f.Get("code_verifier") != "")
	}
	e.mustRun(0, "token")
	first := e.out.String()

	// Renewal: Google does not rotate, the stored refresh token stays.
	e.expire(name)
	e.mustRun(0, "token")
	if e.out.String() == first || emu.Grants("refresh_token") != 1 {
		t.Errorf("not renewed: %d refresh grants", emu.Grants("refresh_token"))
	}
	if now, _ := e.store.Get(name); now != rt {
		t.Error("the refresh token changed although Google sent none")
	}

	// A second login without prompt=consent gets no refresh token (the user
	// consented before): the stored one is kept and still renews.
	e.mustRun(0, "profile", "set", name, "auth_params.prompt", "select_account")
	e.mustRun(0, "login")
	if !strings.Contains(e.errOut.String(), "refresh token in the keychain") {
		t.Errorf("re-login: %s", e.errOut)
	}
	e.expire(name)
	e.mustRun(0, "token")
	if now, _ := e.store.Get(name); now != rt {
		t.Error("the stored refresh token did not survive a login that returned none")
	}

	// status names the user by e-mail (Google's ID tokens have no
	// preferred_username).
	rows := e.statusJSON()
	if len(rows) != 1 || deref(rows[0].Subject, "") != provtest.GoogleEmail || deref(rows[0].RefreshToken, "") != "keychain" {
		t.Errorf("status = %+v", rows)
	}

	// Revocation at Google's revoke endpoint ends the grant.
	e.mustRun(0, "revoke")
	if !strings.Contains(e.errOut.String(), "Revoked the refresh token at the server.") {
		t.Errorf("revoke: %s", e.errOut)
	}
	if code := e.run("token"); code != ExitLoginRequired {
		t.Errorf("token after revoke: exit %d", code)
	}
}

// The quirks oat's Google defaults avoid, shown against the emulator:
// offline_access is refused, and the device flow refuses a Desktop client.
func TestProviderGoogleRefusals(t *testing.T) {
	t.Parallel()
	emu := provtest.NewGoogle(t, "123.apps.googleusercontent.com", "GOCSPX-refusals")
	e := newProvEnvA(t)
	e.env["GOOGLE_SECRET"] = emu.ClientSecret
	e.mustRun(0, "profile", "add", "g", "--provider", "google", "--client-id", emu.ClientID, "--client-secret-env", "GOOGLE_SECRET", "--issuer", emu.URL)
	if cfg := e.readConfig(); strings.Contains(cfg, "offline_access") {
		t.Errorf("the google profile asks for offline_access:\n%s", cfg)
	}
	e.browser.ExpectFailure = true
	if code := e.run("login", "--scope", "openid email offline_access"); code != 1 || !strings.Contains(e.errOut.String(), "invalid_scope") {
		t.Errorf("offline_access: exit %d, stderr %s", code, e.errOut)
	}
	if code := e.run("login", "--flow", "device"); code != 1 || !strings.Contains(e.errOut.String(), "Invalid client type.") {
		t.Errorf("device flow: exit %d, stderr %s", code, e.errOut)
	}
}
