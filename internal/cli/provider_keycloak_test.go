package cli

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/provtest"
)

// The README's Keycloak line, run as written against the Keycloak emulator
// (its --issuer host pointed there): --issuer is all the profile needs
// (discovery names every endpoint), and oat logs in (PKCE on any loopback
// port, and the device flow), renews with a rotating refresh token, logs
// in again and revokes, through the whole CLI.
func TestProviderKeycloak(t *testing.T) {
	t.Parallel()
	kc := provtest.NewKeycloak(t, "acme", "oat")
	e := newProvEnv(t)
	args := readmeProfileAdd(t, "keycloak", map[string]string{"--issuer": kc.URL})
	e.mustRun(0, args...)
	name := args[2]
	cfg := e.readConfig()
	if !strings.Contains(cfg, "issuer = '"+kc.Issuer+"'") || !strings.Contains(cfg, "offline_access") || strings.Contains(cfg, "redirect_port") {
		t.Errorf("config:\n%s", cfg)
	}

	e.mustRun(0, "login")
	if !strings.Contains(e.errOut.String(), "Logged in as "+provtest.User) {
		t.Errorf("login: %s", e.errOut)
	}
	tok := e.token()
	rt := e.refreshToken(name)
	e.expireAccess(name)
	if e.token() == tok {
		t.Errorf("no renewal after expiry")
	}
	if rt2 := e.refreshToken(name); rt2 == rt || rt2 == "" {
		t.Errorf("the rotated refresh token was not stored")
	}
	e.mustRun(0, "refresh", "-q")

	e.mustRun(0, "login")
	e.mustRun(0, "login", "--flow", "device")
	if n := len(kc.Requests("/realms/acme/protocol/openid-connect/auth/device")); n != 1 {
		t.Errorf("%d device authorization requests", n)
	}
	e.token()
	if rows := e.status(); len(rows) != 1 || !rows[0].LoggedIn || deref(rows[0].Subject, "") != provtest.User {
		t.Errorf("status: %+v", rows)
	}

	rt = e.refreshToken(name)
	e.mustRun(0, "revoke")
	var revoked bool
	for _, r := range kc.Requests("/realms/acme/protocol/openid-connect/revoke") {
		revoked = revoked || (r.Form.Get("token") == rt && r.Status == http.StatusOK)
	}
	if !revoked || e.refreshToken(name) != "" {
		t.Errorf("revoke: refresh token revoked %v, still stored %v", revoked, e.refreshToken(name) != "")
	}
	if code := e.run("token"); code != ExitLoginRequired {
		t.Errorf("token after revoke: exit %d", code)
	}
}
