package auth_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
)

// newClient resolves the OP's endpoints for the flow's profile.
func newClient(t *testing.T, op *authtest.OP, flow string) *auth.Client {
	t.Helper()
	p := op.Profile(flow)
	hc, err := httpx.NewClient(httpx.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e, err := auth.ResolveEndpoints(context.Background(), hc, p)
	if err != nil {
		t.Fatalf("ResolveEndpoints: %v", err)
	}
	c := &auth.Client{HTTP: hc, Profile: p, Endpoints: e}
	if flow == config.FlowClientCredentials {
		c.Secret = op.ClientSecret
	}
	return c
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestLoginPKCE(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	b := authtest.NewBrowser(t)
	var prompt bytes.Buffer
	res, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{Browser: b.Open, Prompt: &prompt})
	if err != nil {
		t.Fatalf("LoginPKCE: %v", err)
	}
	if res.Token.AccessToken == "" || res.Token.RefreshToken == "" {
		t.Errorf("want access and refresh token, got %+v", res.Token)
	}
	if res.IDToken == "" || res.Subject != authtest.Subject {
		t.Errorf("want verified ID token with sub %q, got sub %q", authtest.Subject, res.Subject)
	}
	if !strings.Contains(res.Scope, "openid") {
		t.Errorf("scope = %q", res.Scope)
	}
	if time.Until(res.Token.Expiry) < time.Minute {
		t.Errorf("expiry %v too close", res.Token.Expiry)
	}
	opened := b.Opened()
	if len(opened) != 1 {
		t.Fatalf("browser opened %d URLs", len(opened))
	}
	u, _ := url.Parse(opened[0])
	q := u.Query()
	for _, k := range []string{"state", "nonce", "code_challenge", "redirect_uri"} {
		if q.Get(k) == "" {
			t.Errorf("authorization URL lacks %s", k)
		}
	}
	if q.Get("code_challenge_method") != "S256" {
		t.Errorf("code_challenge_method = %q", q.Get("code_challenge_method"))
	}
	if ru := q.Get("redirect_uri"); !strings.HasPrefix(ru, "http://127.0.0.1:") || !strings.HasSuffix(ru, "/callback") {
		t.Errorf("redirect_uri = %q", ru)
	}
	if op.Grants("authorization_code") != 1 {
		t.Errorf("authorization_code grants = %d", op.Grants("authorization_code"))
	}
}
