package auth_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
)

// login runs a PKCE login and returns the result.
func login(t *testing.T, c *auth.Client) *auth.Result {
	t.Helper()
	b := authtest.NewBrowser(t)
	res, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{Browser: b.Open})
	if err != nil {
		t.Fatalf("LoginPKCE: %v", err)
	}
	return res
}

// recordForms records the form of every token request the OP receives.
func recordForms(op *authtest.OP) func() []url.Values {
	var mu sync.Mutex
	var forms []url.Values
	op.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if f := authtest.Form(r); f.Get("grant_type") != "" {
			mu.Lock()
			forms = append(forms, f)
			mu.Unlock()
		}
		return false
	})
	return func() []url.Values {
		mu.Lock()
		defer mu.Unlock()
		return append([]url.Values(nil), forms...)
	}
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	first := login(t, c)
	ctx := ctxTimeout(t, 10*time.Second)

	second, err := c.Refresh(ctx, first.Token.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if second.Token.AccessToken == first.Token.AccessToken {
		t.Error("refresh returned the same access token")
	}
	if second.Token.RefreshToken == "" || second.Token.RefreshToken == first.Token.RefreshToken {
		t.Fatalf("refresh token not rotated")
	}
	if second.Subject != authtest.Subject || second.IDToken == "" {
		t.Errorf("refresh: subject %q, id token %v", second.Subject, second.IDToken != "")
	}

	// The old refresh token is now rejected: login required.
	_, err = c.Refresh(ctx, first.Token.RefreshToken)
	if !errors.Is(err, auth.ErrLoginRequired) {
		t.Fatalf("refresh with the rotated-out token: err = %v, want ErrLoginRequired", err)
	}
	var se *auth.ServerError
	if !errors.As(err, &se) || se.Code != "invalid_grant" {
		t.Errorf("err = %#v, want ServerError invalid_grant", err)
	}
	if strings.Contains(err.Error(), first.Token.RefreshToken) {
		t.Error("error message contains the refresh token")
	}
	if _, err := c.Refresh(ctx, second.Token.RefreshToken); err != nil {
		t.Errorf("refresh with the new token: %v", err)
	}
	if n := op.Grants("refresh_token"); n != 3 {
		t.Errorf("refresh grants = %d, want 3", n)
	}
}

func TestRefreshEmptyIsLoginRequired(t *testing.T) {
	c := &auth.Client{}
	if _, err := c.Refresh(ctxTimeout(t, time.Second), ""); !errors.Is(err, auth.ErrLoginRequired) {
		t.Fatalf("err = %v", err)
	}
}

func TestShortAccessTokenTTL(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithAccessTokenTTL(2*time.Second))
	c := newClient(t, op, config.FlowPKCE)
	res := login(t, c)
	if d := time.Until(res.Token.Expiry); d > 3*time.Second || d < 0 {
		t.Errorf("access token expires in %v, want about 2s", d)
	}
	res, err := c.Refresh(ctxTimeout(t, 10*time.Second), res.Token.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(res.Token.Expiry); d > 3*time.Second {
		t.Errorf("refreshed token expires in %v, want about 2s", d)
	}
}

func TestRefreshSendsAudienceResourceAndClientAuth(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	c.Profile.ClientID = op.ConfidentialClientID
	c.Secret = op.ClientSecret
	c.Profile.ClientAuth = config.ClientAuthPost
	c.Profile.Audience = "https://api.example.com"
	c.Profile.Resource = "https://api.example.com/v1"
	forms := recordForms(op)
	res := login(t, c)
	if _, err := c.Refresh(ctxTimeout(t, 10*time.Second), res.Token.RefreshToken); err != nil {
		t.Fatalf("Refresh (post): %v", err)
	}
	got := forms()
	if len(got) != 2 {
		t.Fatalf("token requests = %d", len(got))
	}
	for _, f := range got {
		if f.Get("audience") != c.Profile.Audience || f.Get("resource") != c.Profile.Resource {
			t.Errorf("%s request lacks audience/resource: %v", f.Get("grant_type"), f)
		}
		if f.Get("client_secret") != op.ClientSecret {
			t.Errorf("%s request: client_auth post but no client_secret in the form", f.Get("grant_type"))
		}
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithJWTAccessTokens())
	for _, style := range []string{config.ClientAuthBasic, config.ClientAuthPost} {
		c := newClient(t, op, config.FlowClientCredentials)
		c.Profile.ClientAuth = style
		c.Profile.Audience = "https://api.example.com"
		res, err := c.ClientCredentials(ctxTimeout(t, 10*time.Second))
		if err != nil {
			t.Fatalf("%s: ClientCredentials: %v", style, err)
		}
		if res.Token.AccessToken == "" || res.Token.RefreshToken != "" {
			t.Errorf("%s: token %+v", style, res.Token)
		}
		if res.Subject != op.ConfidentialClientID {
			t.Errorf("%s: subject from the JWT access token = %q", style, res.Subject)
		}
	}
	c := newClient(t, op, config.FlowClientCredentials)
	c.Secret = "wrong"
	_, err := c.ClientCredentials(ctxTimeout(t, 10*time.Second))
	var se *auth.ServerError
	if !errors.As(err, &se) || se.Code != "invalid_client" {
		t.Fatalf("wrong secret: err = %v, want invalid_client", err)
	}
	if strings.Contains(err.Error(), "wrong") && strings.Contains(err.Error(), "secret=") {
		t.Errorf("message leaks the secret: %v", err)
	}
	if n := op.Grants("client_credentials"); n != 3 {
		t.Errorf("client_credentials grants = %d, want 3", n)
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	res := login(t, c)
	ctx := ctxTimeout(t, 10*time.Second)
	if err := c.Revoke(ctx, res.Token.RefreshToken, "refresh_token"); err != nil {
		t.Fatalf("Revoke refresh token: %v", err)
	}
	if err := c.Revoke(ctx, res.Token.AccessToken, "access_token"); err != nil {
		t.Fatalf("Revoke access token: %v", err)
	}
	if _, err := c.Refresh(ctx, res.Token.RefreshToken); !errors.Is(err, auth.ErrLoginRequired) {
		t.Fatalf("refresh after revoke: err = %v, want ErrLoginRequired", err)
	}

	c.Endpoints.RevocationURL = ""
	if err := c.Revoke(ctx, "x", ""); !errors.Is(err, auth.ErrNoRevocationEndpoint) {
		t.Errorf("no endpoint: err = %v", err)
	}
}

func TestRevokeConfidentialBasic(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	c.Profile.ClientID = op.ConfidentialClientID
	c.Secret = op.ClientSecret // client_auth defaults to basic with a secret
	res := login(t, c)
	ctx := ctxTimeout(t, 10*time.Second)
	if err := c.Revoke(ctx, res.Token.RefreshToken, "refresh_token"); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := c.Refresh(ctx, res.Token.RefreshToken); !errors.Is(err, auth.ErrLoginRequired) {
		t.Fatalf("refresh after revoke: %v", err)
	}
	c.Secret = "wrong"
	err := c.Revoke(ctx, "whatever", "")
	var se *auth.ServerError
	if !errors.As(err, &se) || se.Code != "invalid_client" {
		t.Errorf("wrong secret: err = %v, want invalid_client", err)
	}
}

var userCodeRE = regexp.MustCompile(`enter the code: (\S+)`)

// deviceLogin runs LoginDevice; approve is called with the user code.
func deviceLogin(t *testing.T, op *authtest.OP, c *auth.Client, approve func(code string)) (*auth.Result, string, error) {
	t.Helper()
	var prompt bytes.Buffer
	res, err := c.LoginDevice(ctxTimeout(t, 30*time.Second), auth.LoginOptions{
		Prompt:    &prompt,
		Browser:   authtest.NoBrowser(t),
		NoBrowser: true,
		Ready: func(string) {
			m := userCodeRE.FindStringSubmatch(prompt.String())
			if m == nil {
				t.Errorf("no user code in prompt %q", prompt.String())
				return
			}
			approve(m[1])
		},
	})
	return res, prompt.String(), err
}

func TestLoginDevice(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithDeviceInterval(1))
	c := newClient(t, op, config.FlowDevice)
	res, prompt, err := deviceLogin(t, op, c, func(code string) { op.ApproveDevice(t, code) })
	if err != nil {
		t.Fatalf("LoginDevice: %v", err)
	}
	if !strings.Contains(prompt, op.Issuer+"/device") {
		t.Errorf("prompt %q lacks the verification URI", prompt)
	}
	if res.Subject != authtest.Subject || res.Token.RefreshToken == "" {
		t.Fatalf("subject %q, refresh token %v", res.Subject, res.Token.RefreshToken != "")
	}
	if _, err := c.Refresh(ctxTimeout(t, 10*time.Second), res.Token.RefreshToken); err != nil {
		t.Errorf("refresh after device login: %v", err)
	}
}

func TestLoginDeviceOpensCompleteURI(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithDeviceInterval(1))
	c := newClient(t, op, config.FlowDevice)
	opened := make(chan string, 1)
	var prompt bytes.Buffer
	_, err := c.LoginDevice(ctxTimeout(t, 30*time.Second), auth.LoginOptions{
		Prompt: &prompt,
		Browser: func(u string) error {
			opened <- u
			code, _ := url.Parse(u)
			op.ApproveDevice(t, code.Query().Get("user_code"))
			return nil
		},
	})
	if err != nil {
		t.Fatalf("LoginDevice: %v", err)
	}
	if u := <-opened; !strings.Contains(u, "user_code=") {
		t.Errorf("opened %q, want verification_uri_complete", u)
	}
}

func TestLoginDeviceDenied(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithDeviceInterval(1))
	c := newClient(t, op, config.FlowDevice)
	_, _, err := deviceLogin(t, op, c, func(code string) { op.DenyDevice(t, code) })
	var se *auth.ServerError
	if !errors.As(err, &se) || se.Code != "access_denied" || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("err = %v, want access_denied", err)
	}
}

func TestLoginDeviceExpired(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithDeviceInterval(1))
	op.SetFault(authtest.OnGrant("urn:ietf:params:oauth:grant-type:device_code", 0,
		authtest.OAuthError(400, "expired_token", "device code expired")))
	c := newClient(t, op, config.FlowDevice)
	_, _, err := deviceLogin(t, op, c, func(string) {})
	var se *auth.ServerError
	if !errors.As(err, &se) || se.Code != "expired_token" || !strings.Contains(err.Error(), "run the login again") {
		t.Fatalf("err = %v, want a clear expired_token error", err)
	}
}

func TestLoginDeviceSlowDown(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithDeviceInterval(1))
	var mu sync.Mutex
	var polls []time.Time
	slow := authtest.OnGrant("urn:ietf:params:oauth:grant-type:device_code", 1,
		authtest.OAuthError(400, "slow_down", ""))
	op.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if authtest.GrantType(r) != "" {
			mu.Lock()
			polls = append(polls, time.Now())
			mu.Unlock()
		}
		return slow(w, r)
	})
	c := newClient(t, op, config.FlowDevice)
	_, _, err := deviceLogin(t, op, c, func(code string) { op.ApproveDevice(t, code) })
	if err != nil {
		t.Fatalf("LoginDevice: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(polls) != 2 {
		t.Fatalf("polls = %d, want 2", len(polls))
	}
	if gap := polls[1].Sub(polls[0]); gap < 5*time.Second {
		t.Errorf("poll after slow_down came after %v, want >= 6s (interval + 5s)", gap)
	}
}
