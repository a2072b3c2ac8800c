package authtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
)

func client(t *testing.T, op *authtest.OP) *auth.Client {
	p := op.Profile(config.FlowPKCE)
	hc, err := httpx.NewClient(httpx.Options{}) // oat's own client, not http.DefaultClient
	if err != nil {
		t.Fatal(err)
	}
	e, err := auth.ResolveEndpoints(context.Background(), hc, p)
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Client{Profile: p, Endpoints: e, HTTP: hc}
}

func TestBrowserWrongPasswordFails(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	b := authtest.NewBrowser(t)
	b.Password = "wrong"
	b.ExpectFailure = true
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := client(t, op).LoginPKCE(ctx, auth.LoginOptions{Browser: b.Open})
	if err == nil {
		t.Fatal("login succeeded with a wrong password")
	}
	if !strings.Contains(b.LastPage(), "username or password wrong") {
		t.Errorf("last page = %q, want the provider's login error", b.LastPage())
	}
}

func TestGrantsAndFaults(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := client(t, op)
	b := authtest.NewBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.LoginPKCE(ctx, auth.LoginOptions{Browser: b.Open})
	if err != nil {
		t.Fatal(err)
	}
	op.SetFault(authtest.OnGrant("refresh_token", 1, authtest.HTMLError(502)))
	if _, err := c.Refresh(ctx, res.Token.RefreshToken); err == nil {
		t.Fatal("fault not applied")
	}
	if _, err := c.Refresh(ctx, res.Token.RefreshToken); err != nil {
		t.Fatalf("fault applied more than once: %v", err)
	}
	if got := [2]int{op.Grants("authorization_code"), op.Grants("refresh_token")}; got != [2]int{1, 2} {
		t.Errorf("grants (code, refresh) = %v, want [1 2]", got)
	}
}

// Two OPs in one process keep their clients apart.
func TestClientsArePerOP(t *testing.T) {
	t.Parallel()
	a, b := authtest.NewOP(t), authtest.NewOP(t)
	if a.PublicClientID == b.PublicClientID || a.ClientSecret == b.ClientSecret {
		t.Fatal("client IDs or secrets shared between OPs")
	}
	c := client(t, a)
	c.Profile.ClientID = b.PublicClientID // registered at b only
	br := authtest.NewBrowser(t)
	br.ExpectFailure = true
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := c.LoginPKCE(ctx, auth.LoginOptions{Browser: br.Open}); err == nil {
		t.Fatal("a client of another OP logged in")
	}
}
