package cli

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/provtest"
)

// The README's Auth0 line, run as written against the Auth0 emulator (its
// --domain pointed there), logs in, renews, logs in again, runs the device
// flow and revokes, through the whole CLI. Not parallel: the preset's fixed
// redirect port (config.FixedRedirectPort) is one port for the machine.
//
// Quirks proved here (the emulator cites Auth0's pages):
//   - audience on /authorize, /oauth/device/code and the client-credentials
//     request: without it Auth0 issues an opaque token the API refuses;
//   - callback URLs matched exactly, port included: the preset's fixed port;
//   - rotation with reuse detection: oat always sends the newest refresh
//     token (a reused one would revoke the whole family);
//   - /oauth/revoke revokes the refresh token; access tokens cannot be
//     revoked, and oat says so.
func TestProviderAuth0(t *testing.T) {
	callback := "http://127.0.0.1:" + strconv.Itoa(config.FixedRedirectPort) + "/callback"
	a0 := provtest.NewAuth0(t, "abc", callback)
	e := newProvEnv(t)
	args := readmeProfileAdd(t, "auth0", map[string]string{"--domain": a0.URL})
	e.mustRun(0, args...)
	name := args[2]
	cfg := e.readConfig()
	for _, want := range []string{"issuer = '" + a0.URL + "/'", "redirect_port = " + strconv.Itoa(config.FixedRedirectPort),
		"audience = '" + a0.Audience + "'", "offline_access"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %s:\n%s", want, cfg)
		}
	}

	e.mustRun(0, "login")
	if !strings.Contains(e.errOut.String(), "Logged in as "+provtest.User) {
		t.Errorf("login: %s", e.errOut)
	}
	tok := e.token()
	if !a0.APIAccepts(tok) {
		t.Errorf("the API refuses the access token after login (sent without audience?)")
	}
	auth := a0.Requests("/authorize")
	if len(auth) != 1 || auth[0].Query.Get("redirect_uri") != callback || auth[0].Query.Get("audience") != a0.Audience {
		t.Errorf("authorization requests: %+v", auth)
	}
	rt := e.refreshToken(name)
	if rt == "" {
		t.Fatal("no refresh token stored after login")
	}

	// Renewal after expiry, then a forced refresh: each rotates, and oat
	// sends the newest refresh token every time (no reuse detected).
	e.expireAccess(name)
	tok2 := e.token()
	if tok2 == tok || !a0.APIAccepts(tok2) {
		t.Errorf("renewal gave the same or an unusable token")
	}
	e.mustRun(0, "refresh", "-q")
	e.expireAccess(name)
	tok3 := e.token()
	if !a0.APIAccepts(tok3) || a0.Reuses() != 0 {
		t.Errorf("after two rotations: API accepts %v, %d reused refresh tokens", a0.APIAccepts(tok3), a0.Reuses())
	}
	if rt3 := e.refreshToken(name); rt3 == rt || rt3 == "" {
		t.Errorf("the rotated refresh token was not stored")
	}
	for _, r := range a0.Requests("/oauth/token") {
		if r.Form.Get("grant_type") == "refresh_token" && r.Status != http.StatusOK {
			t.Errorf("a refresh was refused: %d", r.Status)
		}
	}

	// Re-login, then the device flow: both with the API's audience.
	e.mustRun(0, "login")
	if !a0.APIAccepts(e.token()) {
		t.Errorf("the API refuses the token of the second login")
	}
	e.mustRun(0, "login", "--flow", "device")
	dev := a0.Requests("/oauth/device/code")
	if len(dev) != 1 || dev[0].Form.Get("audience") != a0.Audience {
		t.Errorf("device authorization requests: %+v", dev)
	}
	if !a0.APIAccepts(e.token()) {
		t.Errorf("the API refuses the device flow's token")
	}
	if rows := e.status(); len(rows) != 1 || !rows[0].LoggedIn || deref(rows[0].Subject, "") != provtest.User || deref(rows[0].RefreshToken, "") != "keychain" {
		t.Errorf("status: %+v", rows)
	}

	// A login that returns no refresh token (the API's Allow Offline
	// Access turned off) keeps the stored one, which still renews.
	rt = e.refreshToken(name)
	a0.SetAllowOfflineAccess(false)
	e.mustRun(0, "login")
	a0.SetAllowOfflineAccess(true)
	if e.refreshToken(name) != rt {
		t.Errorf("a login without a refresh token replaced or deleted the stored one")
	}
	e.expireAccess(name)
	if tok := e.token(); !a0.APIAccepts(tok) || a0.Reuses() != 0 {
		t.Errorf("renewal with the kept refresh token: API accepts %v, %d reuses", a0.APIAccepts(tok), a0.Reuses())
	}

	// Revoke: the refresh token goes to /oauth/revoke and is dead there.
	rt = e.refreshToken(name)
	e.mustRun(0, "revoke")
	var revoked bool
	for _, r := range a0.Requests("/oauth/revoke") {
		revoked = revoked || (r.Form.Get("token") == rt && r.Status == http.StatusOK)
	}
	if !revoked || e.refreshToken(name) != "" {
		t.Errorf("revoke: refresh token revoked at Auth0 %v, still stored %v", revoked, e.refreshToken(name) != "")
	}
	// Auth0 cannot revoke access tokens: oat does not pretend it did.
	if msg := e.errOut.String(); !strings.Contains(msg, "Auth0 does not revoke access tokens: the access token stays valid") || strings.Contains(msg, "Revoked the access token") ||
		len(a0.Requests("/oauth/revoke")) != 1 {
		t.Errorf("revoke said %q after %d requests to /oauth/revoke", msg, len(a0.Requests("/oauth/revoke")))
	}
	resp, err := http.PostForm(a0.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {a0.ClientID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("the revoked refresh token still works")
	}
	if code := e.run("token"); code != ExitLoginRequired {
		t.Errorf("token after revoke: exit %d, want %d", code, ExitLoginRequired)
	}
}

// A Machine-to-Machine application gets a token for the API with the
// client-credentials grant, the audience sent by oat (Auth0 has no default
// audience unless the tenant sets one).
func TestProviderAuth0ClientCredentials(t *testing.T) {
	t.Parallel()
	a0 := provtest.NewAuth0(t, "abc")
	e := newProvEnv(t)
	e.env["AUTH0_M2M_SECRET"] = a0.MachineSecret
	e.mustRun(0, "profile", "add", "m2m", "--provider", "auth0", "--domain", a0.URL, "--client-id", a0.MachineClient,
		"--client-secret-env", "AUTH0_M2M_SECRET", "--audience", a0.Audience, "--flow", "client-credentials")
	if tok := e.token(); !a0.APIAccepts(tok) {
		t.Errorf("the API refuses the client-credentials token")
	}
	e.mustRun(0, "profile", "set", "m2m", "audience", "")
	if code := e.run("token"); code == 0 || !strings.Contains(e.errOut.String(), "No audience parameter was provided") {
		t.Errorf("without audience: exit %d, stderr %s", code, e.errOut)
	}
}

// Two `oat token` at once, both finding the access token expired, renew
// once: the second waits for the first and uses its result, so Auth0 never
// sees a rotated refresh token again (which would revoke the family and
// log the user out). Device login, so no fixed port is needed.
func TestProviderAuth0ConcurrentRenewal(t *testing.T) {
	t.Parallel()
	a0 := provtest.NewAuth0(t, "abc")
	e := newProvEnv(t)
	args := readmeProfileAdd(t, "auth0", map[string]string{"--domain": a0.URL})
	e.mustRun(0, args...)
	name := args[2]
	e.mustRun(0, "login", "--flow", "device")
	for range 3 {
		e.expireAccess(name)
		other := &provEnv{testEnv: &testEnv{t: t, dir: e.dir, env: e.env, configure: e.configure}, store: e.store}
		done := make(chan int)
		go func() { done <- other.run("token") }()
		code := e.run("token")
		if code2 := <-done; code != 0 || code2 != 0 {
			t.Fatalf("concurrent oat token: exit %d and %d\n%s\n%s", code, code2, e.errOut, other.errOut)
		}
		if e.out.String() != other.out.String() || !a0.APIAccepts(strings.TrimSpace(e.out.String())) {
			t.Errorf("the two printed different or unusable tokens")
		}
	}
	var refreshes int
	for _, r := range a0.Requests("/oauth/token") {
		if r.Form.Get("grant_type") == "refresh_token" {
			refreshes++
		}
	}
	if refreshes != 3 || a0.Reuses() != 0 {
		t.Errorf("%d refresh requests for 3 expiries, %d reused refresh tokens", refreshes, a0.Reuses())
	}
}
