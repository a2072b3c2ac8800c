package cli

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
)

// parLogin logs in with profile p at e's OP and returns the URL the
// browser was given.
func parLogin(t *testing.T, e *opEnv, p config.Profile) *url.URL {
	t.Helper()
	cfg := &config.File{Path: e.configPath(), DefaultProfile: "work", Profiles: map[string]config.Profile{"work": p}}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	e.mustRun(0, "login")
	if e.out.Len() != 0 {
		t.Fatalf("login wrote to stdout: %q", e.out)
	}
	opened := e.browser.Opened()
	u, err := url.Parse(opened[len(opened)-1])
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A server that requires PAR (RFC 9126): the PKCE login pushes its
// parameters, the browser gets only client_id and request_uri, the login
// completes at the real OP, and the request_uri cannot be used twice.
func TestLoginPushedAuthorizationRequired(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, "pkce", authtest.WithPAR(true))
	u := parLogin(t, e, e.op.Profile("pkce"))
	q := u.Query()
	if len(q) != 2 || q.Get("client_id") != e.op.PublicClientID || !strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("browser URL %s: want only client_id and request_uri", u)
	}
	for _, k := range []string{"code_challenge", "redirect_uri", "state", "nonce", "scope"} {
		if q.Has(k) {
			t.Errorf("browser URL carries %s", k)
		}
	}
	pushed := e.op.Pushed()
	if len(pushed) != 1 {
		t.Fatalf("%d pushed requests, want 1", len(pushed))
	}
	p := pushed[0]
	if p.Get("code_challenge_method") != "S256" || p.Get("code_challenge") == "" || !strings.HasPrefix(p.Get("redirect_uri"), "http://127.0.0.1:") || p.Get("state") == "" {
		t.Errorf("pushed parameters %v: want PKCE S256, the loopback redirect and state", p)
	}
	e.mustRun(0, "token")
	if e.out.Len() == 0 {
		t.Fatal("no token after the PAR login")
	}
	// Single use: the same URL again is refused by the server.
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second use of the request_uri: status %d, want 400", resp.StatusCode)
	}
}

// par = true pushes where the server offers PAR without requiring it, for
// a confidential client too (authenticated at the PAR endpoint as at the
// token endpoint); without it oat sends the usual authorization URL.
func TestLoginPushedAuthorizationOptIn(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, "pkce", authtest.WithPAR(false))
	plain := parLogin(t, e, e.op.Profile("pkce"))
	if !plain.Query().Has("code_challenge") || len(e.op.Pushed()) != 0 {
		t.Fatalf("without par: browser URL %s, %d pushes", plain, len(e.op.Pushed()))
	}
	p := e.op.Profile("pkce")
	p.PAR = true
	if u := parLogin(t, e, p); u.Query().Has("code_challenge") || len(e.op.Pushed()) != 1 {
		t.Fatalf("par = true: browser URL %s, %d pushes", u, len(e.op.Pushed()))
	}
	conf := e.op.Profile("client-credentials")
	conf.Flow, conf.Scopes, conf.PAR = config.FlowPKCE, []string{"openid", "offline_access"}, true
	if u := parLogin(t, e, conf); u.Query().Get("client_id") != e.op.ConfidentialClientID || len(e.op.Pushed()) != 2 {
		t.Fatalf("confidential client: browser URL %s, %d pushes", u, len(e.op.Pushed()))
	}
	if pushed := e.op.Pushed()[1]; pushed.Has("client_secret") {
		t.Error("the pushed parameters kept the secret")
	}
}

// par = true at a server without a PAR endpoint is a configuration error:
// exit 2, one line, no browser.
func TestLoginPushedAuthorizationNoEndpoint(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, "pkce")
	e.configure = chain(e.configure, func(f *Factory) { f.Browser = authtest.NoBrowser(t) })
	p := e.op.Profile("pkce")
	p.PAR = true
	cfg := &config.File{Path: e.configPath(), DefaultProfile: "work", Profiles: map[string]config.Profile{"work": p}}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	code := e.run("login")
	if msg := e.errOut.String(); code != ExitUsage || !strings.Contains(msg, "pushed_authorization_request_endpoint") || strings.Count(msg, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", code, msg)
	}
}
