package issuer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func start(t *testing.T, c Config) *Issuer {
	t.Helper()
	iss, err := Start(context.Background(), c)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := iss.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return iss
}

type discovery struct {
	Issuer                string   `json:"issuer"`
	Authorization         string   `json:"authorization_endpoint"`
	Token                 string   `json:"token_endpoint"`
	Userinfo              string   `json:"userinfo_endpoint"`
	JWKS                  string   `json:"jwks_uri"`
	Revocation            string   `json:"revocation_endpoint"`
	Introspection         string   `json:"introspection_endpoint"`
	DeviceAuthorization   string   `json:"device_authorization_endpoint"`
	GrantTypes            []string `json:"grant_types_supported"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	IDTokenSigningAlgs    []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMeth []string `json:"token_endpoint_auth_methods_supported"`
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", u, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func discover(t *testing.T, iss *Issuer) discovery {
	t.Helper()
	var d discovery
	getJSON(t, iss.URL+"/.well-known/openid-configuration", &d)
	return d
}

func publicConfig(t *testing.T, iss *Issuer, redirect string) *oauth2.Config {
	d := discover(t, iss)
	return &oauth2.Config{
		ClientID: DefaultPublicClient,
		Endpoint: oauth2.Endpoint{
			AuthURL: d.Authorization, TokenURL: d.Token, DeviceAuthURL: d.DeviceAuthorization,
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirect,
		Scopes:      []string{"openid", "profile", "offline_access"},
	}
}

func machine(t *testing.T, iss *Issuer) Client {
	t.Helper()
	for _, c := range iss.Clients() {
		if c.ID == DefaultMachineClient {
			if c.Secret == "" || !c.Confidential {
				t.Fatalf("machine client has no generated secret: %+v", c)
			}
			return c
		}
	}
	t.Fatal("no oat-machine client")
	return Client{}
}

// claims decodes a JWT's payload without verifying it.
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// verify checks a JWT's signature against the issuer's JWKS and returns the
// header's algorithm.
func verify(t *testing.T, iss *Issuer, jwt string) string {
	t.Helper()
	var set jose.JSONWebKeySet
	getJSON(t, discover(t, iss).JWKS, &set)
	tok, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256})
	if err != nil {
		t.Fatalf("parse JWT: %v", err)
	}
	kid := tok.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys with kid %q", len(keys), kid)
	}
	if _, err := tok.Verify(keys[0].Key); err != nil {
		t.Fatalf("signature does not verify with the JWKS: %v", err)
	}
	return tok.Signatures[0].Header.Algorithm
}

func TestDiscoveryAndJWKS(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{})
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(iss.URL) {
		t.Fatalf("URL = %q", iss.URL)
	}
	d := discover(t, iss)
	if d.Issuer != iss.URL {
		t.Errorf("issuer = %q, want %q", d.Issuer, iss.URL)
	}
	for name, u := range map[string]string{
		"authorization": d.Authorization, "token": d.Token, "userinfo": d.Userinfo, "jwks": d.JWKS,
		"revocation": d.Revocation, "introspection": d.Introspection, "device": d.DeviceAuthorization,
	} {
		if !strings.HasPrefix(u, iss.URL+"/") {
			t.Errorf("%s endpoint = %q, not under the issuer", name, u)
		}
	}
	for _, g := range []string{"authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"} {
		if !slices.Contains(d.GrantTypes, g) {
			t.Errorf("grant_types_supported %v lacks %s", d.GrantTypes, g)
		}
	}
	if !slices.Contains(d.CodeChallengeMethods, "S256") {
		t.Errorf("code_challenge_methods_supported = %v", d.CodeChallengeMethods)
	}
	if !slices.Equal(d.IDTokenSigningAlgs, []string{"ES256"}) {
		t.Errorf("id_token_signing_alg_values_supported = %v", d.IDTokenSigningAlgs)
	}
	var set jose.JSONWebKeySet
	getJSON(t, d.JWKS, &set)
	if len(set.Keys) != 1 || set.Keys[0].KeyID != iss.key.id || set.Keys[0].Algorithm != "ES256" || !set.Keys[0].IsPublic() {
		t.Errorf("JWKS = %+v, want one public ES256 key %q", set.Keys, iss.key.id)
	}
	if got := iss.ProfileAddCommand("oat"); got != "oat profile add local --issuer "+iss.URL+` --client-id oat --scope "openid profile offline_access"` {
		t.Errorf("ProfileAddCommand = %q", got)
	}
	m := machine(t, iss)
	if got := iss.ProfileAddCommand(m.ID); strings.Contains(got, m.Secret) || !strings.Contains(got, "--client-secret-env OAT_OAT_MACHINE_SECRET --flow client-credentials") {
		t.Errorf("ProfileAddCommand(machine) = %q", got)
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{AccessTokenTTL: time.Minute})
	d := discover(t, iss)
	m := machine(t, iss)
	cc := clientcredentials.Config{ClientID: m.ID, ClientSecret: m.Secret, TokenURL: d.Token,
		Scopes: []string{"api:read"}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	if tok.RefreshToken != "" {
		t.Error("client credentials got a refresh token")
	}
	if left := time.Until(tok.Expiry); left > time.Minute || left < 50*time.Second {
		t.Errorf("expires in %s, want about 1m", left)
	}
	if alg := verify(t, iss, tok.AccessToken); alg != "ES256" {
		t.Errorf("alg = %s", alg)
	}
	c := claims(t, tok.AccessToken)
	if c["iss"] != iss.URL || c["sub"] != m.ID || c["client_id"] != m.ID || c["scope"] != "api:read" {
		t.Errorf("access token claims = %v", c)
	}

	// Introspection with the client's own credentials.
	intro := introspect(t, iss, m, tok.AccessToken)
	if intro["active"] != true || intro["client_id"] != m.ID || intro["sub"] != m.ID || intro["scope"] != "api:read" {
		t.Errorf("introspection = %v", intro)
	}
	if intro := introspect(t, iss, m, "garbage"); intro["active"] != false {
		t.Errorf("introspection of garbage = %v", intro)
	}
	// Userinfo answers with the subject only: there is no user.
	if ui := userinfo(t, iss, tok.AccessToken); ui["sub"] != m.ID {
		t.Errorf("userinfo = %v", ui)
	}

	// A wrong secret and a public client are refused.
	bad := cc
	bad.ClientSecret = "wrong"
	if _, err := bad.Token(context.Background()); !isOAuthError(err, "") {
		t.Errorf("wrong secret: err = %v", err)
	}
	pub := cc
	pub.ClientID, pub.ClientSecret, pub.AuthStyle = DefaultPublicClient, "", oauth2.AuthStyleInParams
	if _, err := pub.Token(context.Background()); err == nil {
		t.Error("public client got a client-credentials token")
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && (code == "" || re.ErrorCode == code)
}

func introspect(t *testing.T, iss *Issuer, c Client, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, discover(t, iss).Introspection, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, c.Secret)
	return doJSON(t, req)
}

func userinfo(t *testing.T, iss *Issuer, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, discover(t, iss).Userinfo, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return doJSON(t, req)
}

func doJSON(t *testing.T, req *http.Request) map[string]any {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, b)
	}
	m["_status"] = float64(resp.StatusCode)
	return m
}

// browser follows redirects with a cookie jar and stops at the redirect to
// the (never started) loopback listener of the client.
func browser(t *testing.T, redirect string) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}

// callback checks resp is the redirect to the client and returns its query.
func callback(t *testing.T, resp *http.Response, redirect string) url.Values {
	t.Helper()
	defer resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, redirect+"?") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("want a redirect to %s, got %s Location=%q: %.300s", redirect, resp.Status, loc, b)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// loginAuto runs the PKCE flow against an AutoApprove issuer.
func loginAuto(t *testing.T, iss *Issuer, conf *oauth2.Config) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n0nce"))
	resp, err := browser(t, conf.RedirectURL).Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := callback(t, resp, conf.RedirectURL)
	if q.Get("state") != "st4te" || q.Get("code") == "" {
		t.Fatalf("callback query = %v", q)
	}
	if _, err := conf.Exchange(context.Background(), q.Get("code")); err == nil {
		t.Fatal("code exchanged without the PKCE verifier")
	}
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

func TestPKCEAutoApprove(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{AutoApprove: true, Users: []string{"alice", "bob"}})
	// Any port and path on a loopback host are accepted (RFC 8252).
	conf := publicConfig(t, iss, "http://127.0.0.1:49999/oat/cb")
	tok := loginAuto(t, iss, conf)
	if tok.RefreshToken == "" {
		t.Error("no refresh token for offline_access")
	}
	idt, _ := tok.Extra("id_token").(string)
	if idt == "" {
		t.Fatal("no id_token")
	}
	verify(t, iss, idt)
	ic := claims(t, idt)
	if ic["sub"] != "alice" || ic["nonce"] != "n0nce" || fmt.Sprint(ic["aud"]) != "[oat]" || ic["iss"] != iss.URL {
		t.Errorf("id token claims = %v", ic)
	}
	verify(t, iss, tok.AccessToken)
	if ac := claims(t, tok.AccessToken); ac["sub"] != "alice" || ac["scope"] != "openid profile offline_access" {
		t.Errorf("access token claims = %v", ac)
	}
	if ui := userinfo(t, iss, tok.AccessToken); ui["sub"] != "alice" || ui["preferred_username"] != "alice" {
		t.Errorf("userinfo = %v", ui)
	}
	if intro := introspect(t, iss, machine(t, iss), tok.AccessToken); intro["active"] != true || intro["sub"] != "alice" || intro["client_id"] != DefaultPublicClient {
		t.Errorf("introspection = %v", intro)
	}

	// A redirect that is not loopback is refused, and not redirected to.
	bad := *conf
	bad.RedirectURL = "http://evil.example/cb"
	resp, err := browser(t, bad.RedirectURL).Get(bad.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		t.Errorf("non-loopback redirect: %s to %s", resp.Status, resp.Header.Get("Location"))
	}
}

func TestRefreshRotationAndRevocation(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{AutoApprove: true})
	conf := publicConfig(t, iss, "http://localhost:1234/callback")
	tok := loginAuto(t, iss, conf)
	ctx := context.Background()

	rt1 := tok.RefreshToken
	tok2, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt1}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == rt1 {
		t.Fatalf("refresh token not rotated")
	}
	if tok2.AccessToken == tok.AccessToken {
		t.Error("same access token after refresh")
	}
	// The old refresh token is spent, and so is the access token that came with it.
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt1}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("reusing the old refresh token: err = %v, want invalid_grant", err)
	}
	m := machine(t, iss)
	if intro := introspect(t, iss, m, tok.AccessToken); intro["active"] != false {
		t.Errorf("access token of the spent refresh token still active: %v", intro)
	}

	// Revoke the new refresh token (RFC 7009, public client: client_id in the form).
	revoke := func(token, hint string) {
		t.Helper()
		form := url.Values{"token": {token}, "client_id": {DefaultPublicClient}}
		if hint != "" {
			form.Set("token_type_hint", hint)
		}
		resp, err := http.PostForm(discover(t, iss).Revocation, form)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %s: %s", resp.Status, b)
		}
	}
	revoke(tok2.RefreshToken, "refresh_token")
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("revoked refresh token: err = %v, want invalid_grant", err)
	}
	if intro := introspect(t, iss, m, tok2.AccessToken); intro["active"] != false {
		t.Errorf("access token of the revoked refresh token still active: %v", intro)
	}

	// Revoking an access token, and an unknown token, both succeed.
	tok3 := loginAuto(t, iss, conf)
	revoke(tok3.AccessToken, "access_token")
	if intro := introspect(t, iss, m, tok3.AccessToken); intro["active"] != false {
		t.Errorf("revoked access token still active: %v", intro)
	}
	revoke("not-a-token", "")
}

func TestDeviceFlow(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{Users: []string{"alice", "bob"}, DeviceInterval: time.Second})
	conf := publicConfig(t, iss, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("device authorization: %v", err)
	}
	if da.VerificationURI != iss.URL+"/device" || !strings.Contains(da.VerificationURIComplete, "user_code=") || da.Interval != 1 {
		t.Errorf("device response = %+v", da)
	}
	// The page shows the code and the client.
	resp, err := http.Get(da.VerificationURIComplete)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), da.UserCode) || !strings.Contains(string(b), "<code>oat</code>") {
		t.Errorf("verification page: %s: %s", resp.Status, b)
	}
	// Approve as bob, typing the code in lower case without the dash.
	typed := strings.ToLower(strings.ReplaceAll(da.UserCode, "-", ""))
	resp, err = http.PostForm(da.VerificationURI, url.Values{"user_code": {typed}, "username": {"bob"}, "action": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "Device approved") {
		t.Fatalf("approve: %s: %s", resp.Status, b)
	}
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("device token: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token")
	}
	idt, _ := tok.Extra("id_token").(string)
	if idt == "" || claims(t, idt)["sub"] != "bob" {
		t.Errorf("id token sub: %v", idt)
	}
	// The device's refresh token works and rotates.
	tok2, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || tok2.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh of a device token: %v", err)
	}
	// A used code cannot be approved again.
	resp, err = http.PostForm(da.VerificationURI, url.Values{"user_code": {da.UserCode}, "username": {"bob"}, "action": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("reusing a user code: %s", resp.Status)
	}

	// Deny.
	da2, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.PostForm(da2.VerificationURI, url.Values{"user_code": {da2.UserCode}, "action": {"deny"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := conf.DeviceAccessToken(ctx, da2); !isOAuthError(err, "access_denied") {
		t.Errorf("denied device: err = %v", err)
	}
}

func TestDeviceAutoApprove(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{AutoApprove: true, DeviceInterval: time.Second})
	conf := publicConfig(t, iss, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(da.VerificationURIComplete)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The approved device code is worth nothing to another client.
	m := machine(t, iss)
	req, _ := http.NewRequest(http.MethodPost, iss.URL+"/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(m.ID, m.Secret)
	if r := doJSON(t, req); r["error"] != "invalid_grant" {
		t.Errorf("another client's device code: %v", r)
	}
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("device token: %v", err)
	}
	if sub := claims(t, tok.AccessToken)["sub"]; sub != "alice" {
		t.Errorf("sub = %v", sub)
	}
}

func TestLoginPage(t *testing.T) {
	t.Parallel()
	iss := start(t, Config{Users: []string{"alice", "bob"}})
	const redirect = "http://127.0.0.1:5555/callback"
	conf := publicConfig(t, iss, redirect)
	br := browser(t, redirect)

	open := func() (id string) {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		resp, err := br.Get(conf.AuthCodeURL("s1", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
			t.Fatalf("login page: %s at %s", resp.Status, resp.Request.URL)
		}
		page := string(b)
		for _, want := range []string{`<option selected>alice</option>`, `<option>bob</option>`, `<code>oat</code>`, `<code>offline_access</code>`} {
			if !strings.Contains(page, want) {
				t.Errorf("login page lacks %s:\n%s", want, page)
			}
		}
		m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no id field:\n%s", page)
		}
		return m[1]
	}

	// An unknown user gets the form again.
	id := open()
	resp, err := br.PostForm(iss.URL+"/login", url.Values{"id": {id}, "username": {"mallory"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `no user &#34;mallory&#34;`) {
		t.Errorf("unknown user: %s: %s", resp.Status, b)
	}

	// bob signs in.
	verifier := oauth2.GenerateVerifier()
	resp, err = br.Get(conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	id = regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(string(b))[1]
	resp, err = br.PostForm(iss.URL+"/login", url.Values{"id": {id}, "username": {"bob"}, "action": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	q := callback(t, resp, redirect)
	if q.Get("state") != "s2" {
		t.Errorf("state = %q", q.Get("state"))
	}
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if sub := claims(t, tok.Extra("id_token").(string))["sub"]; sub != "bob" {
		t.Errorf("sub = %v", sub)
	}
	// The finished request cannot be answered again.
	resp, err = br.PostForm(iss.URL+"/login", url.Values{"id": {id}, "username": {"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second answer: %s", resp.Status)
	}

	// Deny sends access_denied to the client.
	id = open()
	resp, err = br.PostForm(iss.URL+"/login", url.Values{"id": {id}, "action": {"deny"}})
	if err != nil {
		t.Fatal(err)
	}
	if q := callback(t, resp, redirect); q.Get("error") != "access_denied" || q.Get("state") != "s1" {
		t.Errorf("deny: %v", q)
	}
}

func TestNonLoopbackRefused(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "[::]:0", "example.com:80"} {
		_, err := Start(context.Background(), Config{Addr: addr})
		var ce *ConfigError
		if !errors.Is(err, ErrNonLoopback) || !errors.As(err, &ce) || !strings.Contains(err.Error(), "--allow-non-loopback") {
			t.Errorf("Start(%q): err = %v, want ErrNonLoopback naming --allow-non-loopback", addr, err)
		}
	}
	// localhost binds 127.0.0.1.
	iss := start(t, Config{Addr: "localhost:0"})
	if !strings.HasPrefix(iss.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q", iss.URL)
	}
}

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	sec1, _ := x509.MarshalECPrivateKey(ecKey)

	for _, tc := range []struct {
		name, typ string
		der       []byte
		alg       string
	}{
		{"rsa-pkcs1", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), "RS256"},
		{"ec-pkcs8", "PRIVATE KEY", pkcs8, "ES384"},
		{"ec-sec1", "EC PRIVATE KEY", sec1, "ES384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writePEM(t, tc.typ, tc.der)
			iss := start(t, Config{KeyFile: file})
			m := machine(t, iss)
			tok, err := (&clientcredentials.Config{ClientID: m.ID, ClientSecret: m.Secret, TokenURL: discover(t, iss).Token}).Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if alg := verify(t, iss, tok.AccessToken); alg != tc.alg {
				t.Errorf("alg = %s, want %s", alg, tc.alg)
			}
			// The kid is the key's thumbprint: the same file gives the same kid.
			again := start(t, Config{KeyFile: file})
			if again.key.id != iss.key.id {
				t.Errorf("kid changed across restarts: %s, %s", iss.key.id, again.key.id)
			}
		})
	}

	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, file := range map[string]string{
		"missing":   filepath.Join(t.TempDir(), "nope.pem"),
		"not PEM":   writeFile(t, "hello"),
		"cert only": writePEM(t, "CERTIFICATE", []byte("x")),
		"small RSA": writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)),
	} {
		if _, err := Start(context.Background(), Config{KeyFile: file}); err == nil || !strings.Contains(err.Error(), "key file") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func writeFile(t *testing.T, s string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		c    Config
		want string
	}{
		"dup user":     {Config{Users: []string{"a", "a"}}, `user "a" given twice`},
		"empty user":   {Config{Users: []string{""}}, `user name "" is empty or has surrounding spaces`},
		"spaced user":  {Config{Users: []string{" bob"}}, `user name " bob" is empty or has surrounding spaces`},
		"dup client":   {Config{Clients: []Client{{ID: "x"}, {ID: "x"}}}, `client "x" given twice`},
		"no id":        {Config{Clients: []Client{{}}}, "a client has an empty ID"},
		"short ttl":    {Config{AccessTokenTTL: time.Millisecond}, "access token TTL 1ms is below one second"},
		"bad url":      {Config{IssuerURL: "ftp://x"}, `issuer URL "ftp://x" is not an http(s) URL`},
		"url w/ query": {Config{IssuerURL: "http://127.0.0.1:1/?a=b"}, "without query or fragment"},
		"bad addr":     {Config{Addr: "127.0.0.1"}, `address "127.0.0.1": address 127.0.0.1: missing port in address`},
		"bad port":     {Config{Addr: "127.0.0.1:99999"}, `address "127.0.0.1:99999": bad port "99999"`},
		"key file":     {Config{KeyFile: filepath.Join(t.TempDir(), "nope.pem")}, "issuer: key file: open "},
	} {
		iss, err := Start(context.Background(), tc.c)
		if iss != nil {
			iss.Close()
		}
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v (%T), want a *ConfigError containing %q", name, err, err, tc.want)
		}
		if errors.Is(err, ErrNonLoopback) {
			t.Errorf("%s: err = %v matches ErrNonLoopback", name, err)
		}
	}
}

func TestCustomClientsAndStop(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	iss, err := Start(ctx, Config{Clients: []Client{{ID: "my-cli"}, {ID: "svc", Secret: "s3cret"}}})
	if err != nil {
		t.Fatal(err)
	}
	cs := iss.Clients()
	if len(cs) != 2 || cs[0].Confidential || !cs[1].Confidential || cs[1].Secret != "s3cret" {
		t.Errorf("Clients() = %+v", cs)
	}
	if _, err := (&clientcredentials.Config{ClientID: "svc", ClientSecret: "s3cret", TokenURL: discover(t, iss).Token}).Token(ctx); err != nil {
		t.Errorf("custom confidential client: %v", err)
	}
	cancel()
	select {
	case <-iss.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("issuer did not stop when its context ended")
	}
	if _, err := http.Get(iss.URL + "/.well-known/openid-configuration"); err == nil {
		t.Error("still serving after stop")
	}
	if err := iss.Close(); err != nil {
		t.Errorf("Close after stop: %v", err)
	}
}

func TestNormalizeUserCode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"bcdf-ghjk": "BCDF-GHJK", "BCDFGHJK": "BCDF-GHJK", " bcdf ghjk ": "BCDF-GHJK", "abc": "ABC", "": ""} {
		if got := normalizeUserCode(in); got != want {
			t.Errorf("normalizeUserCode(%q) = %q, want %q", in, got, want)
		}
	}
}
