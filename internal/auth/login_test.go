package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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

// newClient resolves the OP's endpoints for the flow's profile.
func newClient(t *testing.T, op *authtest.OP, flow string) *auth.Client {
	t.Helper()
	p := op.Profile(flow)
	hc := newHTTP(t)
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

// newHTTP is the client oat itself uses (httpx: its timeout, redirect and
// response-size rules), not http.DefaultClient.
func newHTTP(t *testing.T) *http.Client {
	t.Helper()
	hc, err := httpx.NewClient(httpx.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return hc
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

// get fetches u and returns status and body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Errorf("GET callback: %v", err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// callbackURL builds a callback to the redirect_uri of an authorization URL.
func callbackURL(t *testing.T, authURL string, params url.Values) string {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("redirect_uri") + "?" + params.Encode()
}

func stateOf(authURL string) string {
	u, _ := url.Parse(authURL)
	return u.Query().Get("state")
}

func TestLoginPKCEWrongStateIgnored(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	b := authtest.NewBrowser(t)
	browser := func(u string) error {
		// A forged response (wrong state) and one without state come first.
		for _, q := range []url.Values{
			{"code": {"forged"}, "state": {"wrong"}},
			{"code": {"forged"}},
			{"error": {"access_denied"}, "state": {"wrong"}},
		} {
			status, body := get(t, callbackURL(t, u, q))
			if status != http.StatusBadRequest || !strings.Contains(body, "state mismatch") {
				t.Errorf("callback %v: got %d %q, want 400 state-mismatch page", q, status, body)
			}
		}
		return b.Open(u)
	}
	res, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{Browser: browser})
	if err != nil {
		t.Fatalf("LoginPKCE after wrong-state callbacks: %v", err)
	}
	if res.Subject != authtest.Subject {
		t.Errorf("subject = %q", res.Subject)
	}
	if n := op.Grants("authorization_code"); n != 1 {
		t.Errorf("token requests = %d, want 1 (forged codes never exchanged)", n)
	}
}

func TestLoginPKCEErrorCallback(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	var page string
	browser := func(u string) error {
		_, page = get(t, callbackURL(t, u, url.Values{
			"error": {"access_denied"}, "error_description": {"The user said no"}, "state": {stateOf(u)},
		}))
		return nil
	}
	_, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{Browser: browser})
	var se *auth.ServerError
	if !errors.As(err, &se) || se.Code != "access_denied" || se.Description != "The user said no" {
		t.Fatalf("err = %v, want ServerError access_denied with the server's description", err)
	}
	if !strings.Contains(err.Error(), "access_denied: The user said no") {
		t.Errorf("message %q does not show the server's error as sent", err)
	}
	if errors.Is(err, auth.ErrLoginRequired) {
		t.Errorf("access_denied must not read as login-required")
	}
	if !strings.Contains(page, "Login failed") {
		t.Errorf("browser page = %q, want a failure page", page)
	}
}

func TestLoginPKCETimeout(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	var authURL string
	_, err := c.LoginPKCE(ctxTimeout(t, 300*time.Millisecond), auth.LoginOptions{
		Browser: func(u string) error { authURL = u; return nil }, // the user never logs in
	})
	if !errors.Is(err, auth.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	var te *httpx.TemporaryError
	if errors.As(err, &te) {
		t.Errorf("a login timeout is not a temporary server failure: %v", err)
	}
	// The listener is closed.
	if _, err := http.Get(callbackURL(t, authURL, url.Values{"state": {stateOf(authURL)}, "code": {"x"}})); err == nil {
		t.Errorf("loopback listener still answers after the login ended")
	}
}

// watchedPrompt is a Prompt that notes when the login prompt has been
// printed in full: the moment a person copies the URL from the terminal.
type watchedPrompt struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	printed chan struct{}
	once    sync.Once
}

func newWatchedPrompt() *watchedPrompt { return &watchedPrompt{printed: make(chan struct{})} }

func (p *watchedPrompt) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, err := p.buf.Write(b)
	if strings.Contains(p.buf.String(), "Waiting for the login to finish") {
		p.once.Do(func() { close(p.printed) })
	}
	return n, err
}

func (p *watchedPrompt) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// openWhenPrinted opens u in b once the prompt is printed (or the test ends).
func (p *watchedPrompt) openWhenPrinted(t *testing.T, b *authtest.Browser, u string) {
	select {
	case <-p.printed:
		b.Open(u)
	case <-t.Context().Done():
	}
}

func TestLoginPKCEBrowserCannotOpen(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	b := authtest.NewBrowser(t)
	prompt := newWatchedPrompt()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	res, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{
		Prompt: prompt,
		Browser: func(u string) error {
			// The person copies the printed URL into a browser elsewhere.
			wg.Add(1)
			go func() { defer wg.Done(); prompt.openWhenPrinted(t, b, u) }()
			return errors.New("no display")
		},
	})
	if err != nil {
		t.Fatalf("LoginPKCE: %v", err)
	}
	if res.Token.AccessToken == "" {
		t.Fatal("no access token")
	}
	out := prompt.String()
	if len(b.Opened()) != 1 || !strings.Contains(out, b.Opened()[0]) || !strings.Contains(out, "Could not open a browser (no display)") {
		t.Errorf("prompt = %q, want the failure and the URL", out)
	}
}

func TestLoginPKCENoBrowser(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	b := authtest.NewBrowser(t)
	prompt := newWatchedPrompt()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	_, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{
		Prompt:    prompt,
		NoBrowser: true,
		Browser:   authtest.NoBrowser(t),
		Ready: func(u string) {
			wg.Add(1)
			go func() { defer wg.Done(); prompt.openWhenPrinted(t, b, u) }()
		},
	})
	if err != nil {
		t.Fatalf("LoginPKCE: %v", err)
	}
	if len(b.Opened()) != 1 || !strings.Contains(prompt.String(), "Open this URL in a browser to log in:\n\n  "+b.Opened()[0]) {
		t.Errorf("prompt = %q, want the URL", prompt.String())
	}
}

func TestLoginPKCELocalhostAndPath(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithRedirectURIs("http://localhost/oat/cb"))
	c := newClient(t, op, config.FlowPKCE)
	c.Profile.RedirectHost = "localhost"
	c.Profile.RedirectPath = "/oat/cb"
	b := authtest.NewBrowser(t)
	if _, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{Browser: b.Open}); err != nil {
		t.Fatalf("LoginPKCE: %v", err)
	}
	u, _ := url.Parse(b.Opened()[0])
	ru, _ := url.Parse(u.Query().Get("redirect_uri"))
	if ru.Hostname() != "localhost" || ru.Path != "/oat/cb" || ru.Port() == "" {
		t.Errorf("redirect_uri = %s", ru)
	}
}

func TestLoginPKCEFixedPort(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.Profile.RedirectPort = port
	b := authtest.NewBrowser(t)
	if _, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{Browser: b.Open}); err != nil {
		t.Fatalf("LoginPKCE: %v", err)
	}
	if want := fmt.Sprintf("http://127.0.0.1:%d/callback", port); !strings.Contains(b.Opened()[0], url.QueryEscape(want)) {
		t.Errorf("authorization URL %s lacks redirect_uri %s", b.Opened()[0], want)
	}
}

func TestLoginPKCEIssParameterRequired(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t) // the example OP never sends iss
	c := newClient(t, op, config.FlowPKCE)
	c.Endpoints.IssParameterSupported = true
	b := authtest.NewBrowser(t)
	b.ExpectFailure = true
	_, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{Browser: b.Open})
	if err == nil || !strings.Contains(err.Error(), "RFC 9207") {
		t.Fatalf("err = %v, want an RFC 9207 iss error", err)
	}
	if n := op.Grants("authorization_code"); n != 0 {
		t.Errorf("code exchanged %d times despite the missing iss", n)
	}
}

func TestLoginPKCEIDTokenVerified(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	c.Endpoints.Issuer = op.Issuer + "/elsewhere" // tokens name the real issuer
	b := authtest.NewBrowser(t)
	b.ExpectFailure = true
	_, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{Browser: b.Open})
	if err == nil || !strings.Contains(err.Error(), "id token") {
		t.Fatalf("err = %v, want an ID-token verification error", err)
	}
	if !strings.Contains(b.LastPage(), "Login failed") {
		t.Errorf("browser page = %q, want failure page", b.LastPage())
	}
}

func TestLoginPKCEIDTokenExpiredByClock(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	c.Now = func() time.Time { return time.Now().Add(3 * time.Hour) } // ID tokens live 1h
	b := authtest.NewBrowser(t)
	b.ExpectFailure = true
	_, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{Browser: b.Open})
	if err == nil || !strings.Contains(err.Error(), "id token: expired") {
		t.Fatalf("err = %v, want expired ID token", err)
	}
}

func TestLoginPKCEAuthParams(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	c.Profile.AuthParams = map[string]string{"prompt": "login", "login_hint": "someone"}
	c.Profile.Audience = "https://api.example.com"
	b := authtest.NewBrowser(t)
	if _, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{Browser: b.Open}); err != nil {
		t.Fatalf("LoginPKCE: %v", err)
	}
	u, _ := url.Parse(b.Opened()[0])
	q := u.Query()
	if q.Get("prompt") != "login" || q.Get("login_hint") != "someone" || q.Get("audience") != "https://api.example.com" {
		t.Errorf("authorization URL lacks auth_params/audience: %s", u)
	}

	c.Profile.AuthParams = map[string]string{"state": "fixed"}
	_, err := c.LoginPKCE(ctxTimeout(t, 5*time.Second), auth.LoginOptions{Browser: authtest.NoBrowser(t)})
	if err == nil || !strings.Contains(err.Error(), `auth_params may not set "state"`) {
		t.Errorf("err = %v, want auth_params refusal", err)
	}
}

func TestClientAuthSettings(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowClientCredentials)
	c.Secret = ""
	_, err := c.ClientCredentials(ctxTimeout(t, 5*time.Second))
	if err == nil || !strings.Contains(err.Error(), "client_auth basic needs a client secret") {
		t.Errorf("basic without secret: err = %v", err)
	}
	c.Profile.ClientAuth = "jwt"
	if _, err := c.ClientCredentials(ctxTimeout(t, 5*time.Second)); err == nil || !strings.Contains(err.Error(), `client_auth "jwt"`) {
		t.Errorf("unknown client_auth: err = %v", err)
	}
	if n := op.Grants("client_credentials"); n != 0 {
		t.Errorf("%d requests sent for a misconfigured client", n)
	}
}

// A pushed request (RFC 9126) lives for the server's expires_in: the user
// who opens the URL by hand is told how long it is good for.
func TestLoginPKCEPushedNoBrowserSaysHowLong(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithPAR(true))
	c := newClient(t, op, config.FlowPKCE)
	b := authtest.NewBrowser(t)
	prompt := newWatchedPrompt()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	_, err := c.LoginPKCE(ctxTimeout(t, 20*time.Second), auth.LoginOptions{
		Prompt:    prompt,
		NoBrowser: true,
		Browser:   authtest.NoBrowser(t),
		Ready: func(u string) {
			wg.Add(1)
			go func() { defer wg.Done(); prompt.openWhenPrinted(t, b, u) }()
		},
	})
	if err != nil {
		t.Fatalf("LoginPKCE: %v", err)
	}
	want := "Open this URL in a browser within 1m0s to log in (the server keeps the pushed request no longer):\n\n  " + b.Opened()[0]
	if len(b.Opened()) != 1 || !strings.Contains(prompt.String(), want) {
		t.Errorf("prompt = %q, want %q", prompt.String(), want)
	}
}
