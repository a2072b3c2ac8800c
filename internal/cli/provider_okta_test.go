package cli

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/provtest"
)

// The README's Okta line, run as written against the Okta emulator (its
// --domain pointed there), writes a profile for the custom authorization
// server "default", and oat logs in (PKCE and device at
// /v1/device/authorize), renews, introspects, logs in again and revokes
// at /v1/revoke through the whole CLI. Not parallel: the preset's fixed
// redirect port (Okta matches sign-in redirect URIs exactly, port
// included).
func TestProviderOkta(t *testing.T) {
	callback := "http://127.0.0.1:" + strconv.Itoa(config.FixedRedirectPort) + "/callback"
	ok := provtest.NewOkta(t, "0oa1b2c3d4e5f6g7h8i9", "default", callback)
	e := newProvEnv(t)
	args := readmeProfileAdd(t, "okta", map[string]string{"--domain": ok.URL})
	e.mustRun(0, args...)
	name := args[2]
	cfg := e.readConfig()
	for _, want := range []string{"issuer = '" + ok.URL + "/oauth2/default'", "redirect_port = " + strconv.Itoa(config.FixedRedirectPort), "offline_access"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %s:\n%s", want, cfg)
		}
	}

	e.mustRun(0, "login")
	if !strings.Contains(e.errOut.String(), "Logged in as "+provtest.User) {
		t.Errorf("login: %s", e.errOut)
	}
	tok := e.token()
	// A public client introspects its own token (client_id, no secret).
	e.mustRun(0, "introspect")
	var in struct {
		Active bool   `json:"active"`
		Sub    string `json:"sub"`
	}
	if err := json.Unmarshal(e.out.Bytes(), &in); err != nil || !in.Active || in.Sub != provtest.User {
		t.Errorf("introspect: %v %s", err, e.out)
	}

	rt := e.refreshToken(name)
	e.expireAccess(name)
	if tok2 := e.token(); tok2 == tok {
		t.Errorf("no renewal after expiry")
	}
	if rt2 := e.refreshToken(name); rt2 == rt || rt2 == "" {
		t.Errorf("the rotated refresh token was not stored")
	}

	e.mustRun(0, "login")
	e.mustRun(0, "login", "--flow", "device")
	if n := len(ok.Requests("/oauth2/default/v1/device/authorize")); n != 1 {
		t.Errorf("%d requests to /v1/device/authorize", n)
	}
	tok = e.token()
	if rows := e.status(); len(rows) != 1 || !rows[0].LoggedIn || deref(rows[0].Subject, "") != provtest.User || deref(rows[0].RefreshToken, "") != "keychain" {
		t.Errorf("status: %+v", rows)
	}

	// /v1/revoke takes the refresh token and the access token: the access
	// token is inactive afterwards.
	rt = e.refreshToken(name)
	e.mustRun(0, "revoke")
	var sent []string
	for _, r := range ok.Requests("/oauth2/default/v1/revoke") {
		if r.Status == http.StatusOK {
			sent = append(sent, r.Form.Get("token"))
		}
	}
	if len(sent) != 2 || sent[0] != rt || sent[1] != tok {
		t.Errorf("revoked at /v1/revoke: %d tokens (want the refresh token, then the access token)", len(sent))
	}
	if code := e.run("introspect", tok); code != ExitVerify || !strings.Contains(e.out.String(), `"active": false`) {
		t.Errorf("introspect after revoke: exit %d, %s", code, e.out)
	}
}

// --authorization-server picks Okta's authorization server: a custom one
// by ID, or org for the org authorization server (issuer https://DOMAIN,
// endpoints under /oauth2/v1/). Logging in works against each.
func TestProviderOktaAuthorizationServers(t *testing.T) {
	callback := "http://127.0.0.1:" + strconv.Itoa(config.FixedRedirectPort) + "/callback"
	for _, as := range []string{"org", "aus1a2b3c4d5e6f7g8h9"} {
		srv := as
		if as == "org" {
			srv = ""
		}
		ok := provtest.NewOkta(t, "0oa1b2c3d4e5f6g7h8i9", srv, callback)
		e := newProvEnv(t)
		e.mustRun(0, "profile", "add", "ok", "--provider", "okta", "--domain", ok.URL, "--authorization-server", as, "--client-id", ok.ClientID)
		if cfg := e.readConfig(); !strings.Contains(cfg, "issuer = '"+ok.Issuer+"'") {
			t.Errorf("%s: config:\n%s", as, cfg)
		}
		e.mustRun(0, "login")
		e.token()
		if n := len(ok.Requests(strings.TrimPrefix(ok.Endpoint("token"), ok.URL))); n != 1 {
			t.Errorf("%s: %d token requests at %s", as, n, ok.Endpoint("token"))
		}
	}
	e := newTestEnv(t)
	if code := e.run("profile", "add", "x", "--provider", "auth0", "--domain", "d.example.com", "--authorization-server", "default", "--client-id", "c"); code != ExitUsage {
		t.Errorf("--authorization-server with auth0: exit %d", code)
	}
}
