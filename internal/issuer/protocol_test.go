package issuer

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// The RFC 8414 document is the OpenID one, and both list only what is served.
func TestMetadataBothPaths(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{})
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(iss.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: %s %s", path, resp.Status, resp.Header.Get("Content-Type"))
		}
		return string(b)
	}
	if a, b := get("/.well-known/openid-configuration"), get("/.well-known/oauth-authorization-server"); a != b {
		t.Errorf("RFC 8414 metadata differs from discovery:\n%s\n%s", a, b)
	}
	var m map[string]any
	getJSON(t, iss.URL+"/.well-known/openid-configuration", &m)
	if got := m["grant_types_supported"]; !slices.Equal(toStrings(got), []string{"authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"}) {
		t.Errorf("grant_types_supported = %v", got)
	}
	if got := m["response_types_supported"]; !slices.Equal(toStrings(got), []string{"code"}) {
		t.Errorf("response_types_supported = %v", got)
	}
	if m["end_session_endpoint"] != iss.URL+"/end_session" {
		t.Errorf("end_session_endpoint = %v", m["end_session_endpoint"])
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// authorizeURL is an authorization request of the public client with the
// given parameters changed (a value of "" removes the parameter).
func authorizeURL(iss *Issuer, redirect string, change map[string]string) string {
	q := url.Values{
		"client_id": {DefaultPublicClient}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid offline_access"}, "state": {"st"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
	}
	for k, v := range change {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return iss.URL + "/authorize?" + q.Encode()
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{AutoApprove: true})
	const redirect = "http://127.0.0.1:4444/cb"
	for name, tc := range map[string]struct {
		change map[string]string
		code   string // error sent back to the client; "" = shown on the page, not redirected
	}{
		"no PKCE":         {map[string]string{"code_challenge": "", "code_challenge_method": ""}, "invalid_request"},
		"plain PKCE":      {map[string]string{"code_challenge_method": "plain"}, "invalid_request"},
		"bad challenge":   {map[string]string{"code_challenge": "short"}, "invalid_request"},
		"implicit":        {map[string]string{"response_type": "token"}, "unsupported_response_type"},
		"prompt none":     {map[string]string{"prompt": "none"}, "login_required"},
		"unknown client":  {map[string]string{"client_id": "nobody"}, ""},
		"https redirect":  {map[string]string{"redirect_uri": "https://127.0.0.1/cb"}, ""},
		"other host":      {map[string]string{"redirect_uri": "http://127.0.0.1.evil.example/cb"}, ""},
		"userinfo in uri": {map[string]string{"redirect_uri": "http://x@127.0.0.1/cb"}, ""},
		"no redirect":     {map[string]string{"redirect_uri": ""}, ""},
	} {
		resp, err := browser(t, redirect).Get(authorizeURL(iss, redirect, tc.change))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if tc.code == "" {
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("%s: %s Location=%q, want 400 and no redirect", name, resp.Status, resp.Header.Get("Location"))
			}
			continue
		}
		if resp.StatusCode != http.StatusFound {
			t.Errorf("%s: %s, want a redirect with error %s", name, resp.Status, tc.code)
			continue
		}
		u, _ := url.Parse(resp.Header.Get("Location"))
		if !strings.HasPrefix(u.String(), redirect+"?") || u.Query().Get("error") != tc.code || u.Query().Get("state") != "st" {
			t.Errorf("%s: redirected to %s, want error=%s&state=st", name, u, tc.code)
		}
	}
}

func TestCodeExchangeChecks(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{AutoApprove: true})
	conf := publicConfig(t, iss, "http://[::1]:7777/cb")
	verifier := oauth2.GenerateVerifier()
	resp, err := browser(t, conf.RedirectURL).Get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nn")))
	if err != nil {
		t.Fatal(err)
	}
	code := callback(t, resp, conf.RedirectURL).Get("code")
	ctx := context.Background()

	other := *conf
	other.RedirectURL = "http://[::1]:7777/other"
	if _, err := other.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("another redirect_uri: err = %v, want invalid_grant", err)
	}
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuthError(err, "invalid_grant") {
		t.Errorf("wrong verifier: err = %v, want invalid_grant", err)
	}
	m := machine(t, iss)
	mc := *conf
	mc.ClientID, mc.ClientSecret, mc.Endpoint.AuthStyle = m.ID, m.Secret, oauth2.AuthStyleInHeader
	if _, err := mc.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("another client: err = %v, want invalid_grant", err)
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("the right exchange after failed ones: %v", err)
	}
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("second use of the code: err = %v, want invalid_grant", err)
	}
	// at_hash and c_hash are the left halves of SHA-256 (ES256).
	idc := claims(t, tok.Extra("id_token").(string))
	half := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return base64.RawURLEncoding.EncodeToString(sum[:16])
	}
	if idc["at_hash"] != half(tok.AccessToken) || idc["c_hash"] != half(code) || idc["nonce"] != "nn" || idc["azp"] != "oat" {
		t.Errorf("id token claims = %v", idc)
	}
	if amr := toStrings(idc["amr"]); !slices.Equal(amr, []string{"user"}) {
		t.Errorf("amr = %v", amr)
	}
}

// Values from the request are escaped on the pages.
func TestPagesEscape(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{})
	const redirect = "http://localhost/cb"
	resp, err := browser(t, redirect).Get(authorizeURL(iss, redirect, map[string]string{"scope": `openid <script>alert("x")</script>`}))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if strings.Contains(page, "<script>") || !strings.Contains(page, `<code>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</code>`) {
		t.Errorf("login page does not escape the scope:\n%s", page)
	}
	resp, err = http.Get(iss.URL + "/device?user_code=" + url.QueryEscape(`"><b>`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "<b>") {
		t.Errorf("device page does not escape the code:\n%s", b)
	}
}

func TestTokensOfAnotherIssuerRefused(t *testing.T) {
	t.Parallel()
	a, b := start(t, Config{}), start(t, Config{})
	ma, mb := machine(t, a), machine(t, b)
	tok := clientToken(t, a, ma)
	if ui := userinfo(t, b, tok); ui["_status"] != float64(http.StatusUnauthorized) || ui["error"] != "invalid_token" {
		t.Errorf("userinfo of another issuer's token = %v", ui)
	}
	if ui := userinfo(t, a, tok); ui["sub"] != ma.ID {
		t.Errorf("userinfo = %v", ui)
	}
	if intro := introspect(t, b, mb, tok); intro["active"] != false {
		t.Errorf("introspection of another issuer's token = %v", intro)
	}
	// A public client may not introspect.
	if intro := introspect(t, a, Client{ID: DefaultPublicClient}, tok); intro["error"] != "invalid_client" {
		t.Errorf("introspection by a public client = %v", intro)
	}
}

func clientToken(t *testing.T, iss *Issuer, m Client) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, iss.URL+"/oauth/token", strings.NewReader("grant_type=client_credentials&scope=a+b"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(m.ID, m.Secret)
	r := doJSON(t, req)
	tok, _ := r["access_token"].(string)
	if tok == "" || r["token_type"] != "Bearer" || r["scope"] != "a b" {
		t.Fatalf("client credentials: %v", r)
	}
	return tok
}

func TestRevokeChecksTheClient(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{AutoApprove: true})
	conf := publicConfig(t, iss, "http://127.0.0.1/cb")
	tok := loginAuto(t, iss, conf)
	m := machine(t, iss)
	req, _ := http.NewRequest(http.MethodPost, iss.URL+"/revoke", strings.NewReader(url.Values{"token": {tok.RefreshToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(m.ID, m.Secret)
	if r := doJSON(t, req); r["_status"] != float64(http.StatusBadRequest) {
		t.Errorf("revoking another client's token: %v", r)
	}
	if _, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Errorf("the refresh token was revoked by another client: %v", err)
	}
}

func TestEndSession(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{AutoApprove: true})
	conf := publicConfig(t, iss, "http://127.0.0.1/cb")
	tok := loginAuto(t, iss, conf)
	idt := tok.Extra("id_token").(string)
	const back = "http://127.0.0.1:3333/bye"
	resp, err := browser(t, back).Get(iss.URL + "/end_session?" + url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {back}, "state": {"x"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != back+"?state=x" {
		t.Errorf("end_session: %s to %q", resp.Status, loc)
	}
	if _, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("refresh after logout: err = %v, want invalid_grant", err)
	}
	// Not to a non-loopback URI.
	resp, err = browser(t, "http://never").Get(iss.URL + "/end_session?" + url.Values{"client_id": {"oat"}, "post_logout_redirect_uri": {"http://evil.example/"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("end_session to evil.example: %s", resp.Status)
	}
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{})
	req, _ := http.NewRequest(http.MethodOptions, iss.URL+"/oauth/token", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %s %v", resp.Status, resp.Header)
	}
}

// RFC 9700 §2.1.1: a code issued without a code_challenge is refused when
// the token request carries a code_verifier (a PKCE downgrade: an injected
// code of a request made without PKCE would pass). A confidential client
// may skip PKCE; then it must send no verifier.
func TestCodeExchangeRefusesVerifierWithoutChallenge(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{AutoApprove: true})
	m := machine(t, iss)
	conf := publicConfig(t, iss, "http://127.0.0.1:7777/cb")
	conf.ClientID, conf.ClientSecret, conf.Endpoint.AuthStyle = m.ID, m.Secret, oauth2.AuthStyleInHeader
	getCode := func() string {
		t.Helper()
		resp, err := browser(t, conf.RedirectURL).Get(conf.AuthCodeURL("s"))
		if err != nil {
			t.Fatal(err)
		}
		return callback(t, resp, conf.RedirectURL).Get("code")
	}
	ctx := context.Background()
	if _, err := conf.Exchange(ctx, getCode(), oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuthError(err, "invalid_grant") {
		t.Errorf("code_verifier for a code without code_challenge: err = %v, want invalid_grant", err)
	}
	if _, err := conf.Exchange(ctx, getCode()); err != nil {
		t.Errorf("confidential client without PKCE: %v", err)
	}
}
