package auth_test

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The -v log shows each exchange but no token, code, verifier or secret.
func TestVerboseLogHasNoSecrets(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithDeviceInterval(1))
	var log syncBuffer
	hc, err := httpx.NewClient(httpx.Options{Verbose: &log, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := op.Profile(config.FlowPKCE)
	p.ClientID = op.ConfidentialClientID // a confidential client: the secret is sent too
	ctx := ctxTimeout(t, 20*time.Second)
	e, err := auth.ResolveEndpoints(ctx, hc, p)
	if err != nil {
		t.Fatal(err)
	}
	c := &auth.Client{HTTP: hc, Profile: p, Secret: op.ClientSecret, Endpoints: e}
	forms := recordForms(op)

	b := authtest.NewBrowser(t)
	res, err := c.LoginPKCE(ctx, auth.LoginOptions{Browser: b.Open})
	if err != nil {
		t.Fatalf("LoginPKCE: %v", err)
	}
	ref, err := c.Refresh(ctx, res.Token.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if err := c.Revoke(ctx, ref.Token.RefreshToken, "refresh_token"); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	cc := *c
	cc.Profile = op.Profile(config.FlowClientCredentials)
	ccRes, err := cc.ClientCredentials(ctx)
	if err != nil {
		t.Fatalf("ClientCredentials: %v", err)
	}

	// The device flow: its device_code and user_code are secrets too.
	dc := *c
	dc.Profile = op.Profile(config.FlowDevice)
	dc.Secret = ""
	var userCode string
	devRes, _, err := deviceLogin(t, op, &dc, func(code string) { userCode = code; op.ApproveDevice(t, code) })
	if err != nil {
		t.Fatalf("LoginDevice: %v", err)
	}

	authURL, _ := url.Parse(b.Opened()[0])
	secrets := map[string]string{
		"secret":             op.ClientSecret,
		"basic auth":         base64.StdEncoding.EncodeToString([]byte(op.ConfidentialClientID + ":" + op.ClientSecret)),
		"access token":       res.Token.AccessToken,
		"refresh token":      res.Token.RefreshToken,
		"id token":           res.IDToken,
		"new access token":   ref.Token.AccessToken,
		"new refresh token":  ref.Token.RefreshToken,
		"client-credentials": ccRes.Token.AccessToken,
		"state":              authURL.Query().Get("state"),
		"nonce":              authURL.Query().Get("nonce"),
		"code challenge":     authURL.Query().Get("code_challenge"),
		"user code":          userCode,
		"device access":      devRes.Token.AccessToken,
		"device refresh":     devRes.Token.RefreshToken,
	}
	for _, f := range forms() {
		if f.Get("code") != "" {
			secrets["code"] = f.Get("code")
			secrets["verifier"] = f.Get("code_verifier")
		}
		if f.Get("device_code") != "" {
			secrets["device code"] = f.Get("device_code")
		}
	}
	if secrets["code"] == "" || secrets["verifier"] == "" || secrets["device code"] == "" {
		t.Fatal("did not see the code exchange and the device poll")
	}
	out := log.String()
	for _, path := range []string{"GET " + op.Issuer + "/.well-known/openid-configuration -> 200",
		"POST " + op.Issuer + "/oauth/token -> 200", "POST " + op.Issuer + "/revoke -> 200", "GET " + op.Issuer + "/keys -> 200",
		"POST " + op.Issuer + "/device_authorization -> 200"} {
		if !strings.Contains(out, path) {
			t.Errorf("log lacks %q:\n%s", path, out)
		}
	}
	for name, v := range secrets {
		if v == "" {
			t.Errorf("%s is empty", name)
			continue
		}
		if strings.Contains(out, v) {
			t.Errorf("log contains the %s:\n%s", name, out)
		}
	}
}
