package cli

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/provtest"
)

// The README's Cognito line, run as written against the Cognito emulator
// (the hosts of --issuer and --domain pointed at its two servers), writes
// a complete profile: the revocation URL on the hosted-UI domain (the
// pool's discovery names none), redirect_host localhost (Cognito takes
// plain http for localhost only) with the fixed port (callback URLs match
// exactly), and no offline_access (Cognito refuses it). oat logs in,
// renews with the same refresh token (no rotation), logs in again and
// revokes, through the whole CLI; the device flow is refused with a clear
// message, as Cognito has none. Not parallel: the fixed redirect port.
func TestProviderCognito(t *testing.T) {
	callback := "http://localhost:" + strconv.Itoa(config.FixedRedirectPort) + "/callback"
	cg := provtest.NewCognito(t, "us-east-1_AbCdEf123", "1example23456789", callback)
	e := newProvEnv(t)
	pool := strings.TrimSuffix(cg.IssuerURL, "/us-east-1_AbCdEf123")
	args := readmeProfileAdd(t, "cognito", map[string]string{"--issuer": pool, "--domain": cg.DomainURL})
	e.mustRun(0, args...)
	name := args[2]
	cfg := e.readConfig()
	for _, want := range []string{"issuer = '" + cg.IssuerURL + "'", "revocation_url = '" + cg.DomainURL + "/oauth2/revoke'",
		"redirect_host = 'localhost'", "redirect_port = " + strconv.Itoa(config.FixedRedirectPort)} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %s:\n%s", want, cfg)
		}
	}
	if strings.Contains(cfg, "offline_access") {
		t.Errorf("config asks for offline_access, which Cognito refuses:\n%s", cfg)
	}

	e.mustRun(0, "login")
	if !strings.Contains(e.errOut.String(), "Logged in as "+provtest.User) {
		t.Errorf("login: %s", e.errOut)
	}
	if auth := cg.Requests("/oauth2/authorize"); len(auth) != 1 || auth[0].Query.Get("redirect_uri") != callback {
		t.Errorf("authorization requests: %+v", auth)
	}
	tok := e.token()
	rt := e.refreshToken(name)
	for range 2 {
		e.expireAccess(name)
		next := e.token()
		if next == tok {
			t.Errorf("no renewal after expiry")
		}
		tok = next
		if e.refreshToken(name) != rt || !cg.RefreshTokenLive(rt) {
			t.Errorf("the refresh token changed or died on a refresh that did not rotate it")
		}
	}

	// Logging in again, with a browser that resolves localhost to ::1:
	// oat listens there too (spec: redirect_host localhost).
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		store := e.store
		e.configure = func(f *Factory) {
			f.Browser = provtest.BrowserResolving(t, "::1")
			f.StoreFor = func(string) (keychain.Store, error) { return store, nil }
		}
	} else {
		t.Logf("no IPv6 loopback here (%v): the second login resolves localhost as the system does", err)
	}
	e.mustRun(0, "login")
	if code := e.run("login", "--flow", "device"); code == 0 || !strings.Contains(e.errOut.String(), "device") {
		t.Errorf("device login: exit %d, stderr %s", code, e.errOut)
	}
	e.token()
	if rows := e.status(); len(rows) != 1 || !rows[0].LoggedIn || deref(rows[0].Subject, "") != provtest.User || deref(rows[0].RefreshToken, "") != "keychain" {
		t.Errorf("status: %+v", rows)
	}

	rt = e.refreshToken(name)
	e.mustRun(0, "revoke")
	var revoked bool
	for _, r := range cg.Requests("/oauth2/revoke") {
		revoked = revoked || (r.Form.Get("token") == rt && r.Status == http.StatusOK)
	}
	if !revoked || cg.RefreshTokenLive(rt) || e.refreshToken(name) != "" {
		t.Errorf("revoke: sent %v, still live at Cognito %v, still stored %v", revoked, cg.RefreshTokenLive(rt), e.refreshToken(name) != "")
	}
	if code := e.run("token"); code != ExitLoginRequired {
		t.Errorf("token after revoke: exit %d", code)
	}
}
