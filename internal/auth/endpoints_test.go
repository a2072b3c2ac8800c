package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
)

// countingServer answers every request with h and counts them.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestResolveEndpointsDiscovery(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	e, err := auth.ResolveEndpoints(context.Background(), newHTTP(t), op.Profile(config.FlowPKCE))
	if err != nil {
		t.Fatal(err)
	}
	want := auth.Endpoints{
		Issuer:        op.Issuer,
		AuthURL:       op.Issuer + "/auth",
		TokenURL:      op.Issuer + "/oauth/token",
		DeviceAuthURL: op.Issuer + "/device_authorization",
		RevocationURL: op.Issuer + "/revoke",
		JWKSURL:       op.Issuer + "/keys",

		IntrospectionURL: op.Issuer + "/oauth/introspect",
		UserinfoURL:      op.Issuer + "/userinfo",
		TokenAuthMethods: []string{"none", "client_secret_basic", "client_secret_post", "private_key_jwt"},
	}
	got := *e
	got.SigningAlgs = nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("endpoints\n got %+v\nwant %+v", got, want)
	}
	// Explicit URLs win over discovery.
	p := op.Profile(config.FlowPKCE)
	p.RevocationURL = "https://revoke.example.com/r"
	e, err = auth.ResolveEndpoints(context.Background(), newHTTP(t), p)
	if err != nil || e.RevocationURL != p.RevocationURL || e.TokenURL != want.TokenURL {
		t.Errorf("explicit revocation_url: %+v, %v", e, err)
	}
}

func TestResolveEndpointsExplicitMakesNoRequest(t *testing.T) {
	t.Parallel()
	srv, n := countingServer(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	for _, p := range []config.Profile{
		{Issuer: srv.URL, TokenURL: srv.URL + "/token", ClientID: "x", Flow: config.FlowClientCredentials},
		{Issuer: srv.URL, AuthorizationURL: srv.URL + "/a", TokenURL: srv.URL + "/t", JWKSURL: srv.URL + "/k",
			Scopes: []string{"openid"}, ClientID: "x"},
		{Issuer: srv.URL, DeviceAuthorizationURL: srv.URL + "/d", TokenURL: srv.URL + "/t", ClientID: "x", Flow: config.FlowDevice},
		{TokenURL: srv.URL + "/t", ClientID: "x"}, // no issuer: nothing to discover
	} {
		e, err := auth.ResolveEndpoints(context.Background(), newHTTP(t), p)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if e.TokenURL != p.TokenURL {
			t.Errorf("token URL %q", e.TokenURL)
		}
	}
	if n.Load() != 0 {
		t.Errorf("%d requests made, want none", n.Load())
	}
}

func TestResolveEndpointsRFC8414Fallback(t *testing.T) {
	t.Parallel()
	var base string
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-authorization-server/tenant" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q}`,
			base+"/tenant", base+"/tenant/authorize", base+"/tenant/token")
	})
	base = srv.URL
	e, err := auth.ResolveEndpoints(context.Background(), newHTTP(t),
		config.Profile{Issuer: srv.URL + "/tenant", ClientID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if e.TokenURL != srv.URL+"/tenant/token" || e.AuthURL != srv.URL+"/tenant/authorize" {
		t.Errorf("endpoints %+v", e)
	}
}

func TestResolveEndpointsErrors(t *testing.T) {
	t.Parallel()
	mismatch, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"issuer":"https://other.example.com","token_endpoint":"https://other.example.com/t"}`)
	})
	html502, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		fmt.Fprint(w, "<html><body>Bad Gateway</body></html>")
	})
	notFound, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	httpToken, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":"http://tokens.example.com/t"}`, "http://"+r.Host)
	})
	tests := []struct {
		name      string
		p         config.Profile
		msg       string
		temporary bool
	}{
		{"issuer mismatch", config.Profile{Issuer: mismatch.URL}, "metadata names issuer", false},
		{"html 502", config.Profile{Issuer: html502.URL}, "discovery: server answered 502", true},
		{"no metadata", config.Profile{Issuer: notFound.URL}, "publishes no OpenID or OAuth metadata", false},
		{"http issuer", config.Profile{Issuer: "http://login.example.com"}, "only https is allowed", false},
		{"http token url", config.Profile{TokenURL: "http://login.example.com/token"}, `token_url "http://login.example.com/token" uses http`, false},
		{"discovered http url", config.Profile{Issuer: httpToken.URL}, `token_url "http://tokens.example.com/t" uses http`, false},
		{"nothing", config.Profile{ClientID: "x"}, "no issuer and no token_url", false},
	}
	for _, tt := range tests {
		_, err := auth.ResolveEndpoints(context.Background(), newHTTP(t), tt.p)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.msg)
			continue
		}
		var te *httpx.TemporaryError
		if errors.As(err, &te) != tt.temporary {
			t.Errorf("%s: temporary = %v, want %v", tt.name, !tt.temporary, tt.temporary)
		}
	}
}
