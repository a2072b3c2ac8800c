// Package auth runs oat's OAuth 2.0 / OpenID Connect flows on
// golang.org/x/oauth2 and github.com/coreos/go-oidc/v3: endpoint resolution,
// loopback PKCE (RFC 8252, RFC 7636), device code (RFC 8628), client
// credentials, refresh, revocation (RFC 7009) and ID-token verification.
//
// It never prints to the terminal except on the io.Writer given for prompts,
// and its errors never contain a token, code, verifier or secret.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/discovery"
	"github.com/oatcli/oat/internal/dpop"
	"github.com/oatcli/oat/internal/fsutil"
	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/jwt"
)

var timeNow = time.Now

// Client runs flows for one profile.
type Client struct {
	HTTP      *http.Client // from httpx.NewClient; http.DefaultClient when nil
	Profile   config.Profile
	Secret    string // client secret, "" for public clients
	Endpoints *Endpoints
	Now       func() time.Time // for ID-token time checks; time.Now when nil
	// JWKSCache, when set, is a file that keeps the issuer's JWKS between
	// runs (see jwt.KeySet), so a renewal's ID token is verified without a
	// second request. Empty: the keys are fetched each time.
	JWKSCache string
	// Getenv reads client_assertion sources (env:, github-actions);
	// os.Getenv when nil.
	Getenv func(string) string
	// DPoP, when set, is the key of RFC 9449 proofs: every POST to the
	// token endpoint carries a fresh one (dpopTransport).
	DPoP *dpop.Key

	dpopT *dpop.Transport

	// ProfileToken returns a valid access token of the named profile, for
	// subject_token_from profile:NAME (set by the session, which renews
	// it as oat token would).
	ProfileToken func(ctx context.Context, name string) (string, error)
}

// Result is what a grant returned.
type Result struct {
	Token   *oauth2.Token // access token, refresh token (if any), expiry; Extra("id_token")
	IDToken string        // verified ID token, "" when none was sent
	Subject string        // verified ID-token sub, else the JWT access token's sub, else ""
	Scope   string        // granted scope (the response's, else the requested one)
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// authStyle is explicit, never auto-detected: x/oauth2's probing re-sends a
// failed request in the other style, spending a refresh token twice.
func (c *Client) authStyle() (oauth2.AuthStyle, error) {
	if c.usesAssertion() {
		return oauth2.AuthStyleInParams, nil
	}
	switch c.clientAuth() {
	case config.ClientAuthBasic:
		return oauth2.AuthStyleInHeader, nil
	case config.ClientAuthPost, config.ClientAuthNone, config.ClientAuthPrivateKeyJWT:
		return oauth2.AuthStyleInParams, nil
	default:
		return 0, fmt.Errorf("client_auth %q: use none, basic, post or private_key_jwt", c.Profile.ClientAuth)
	}
}

func (c *Client) clientAuth() string {
	var methods []string
	if c.Endpoints != nil {
		methods = c.Endpoints.TokenAuthMethods
	}
	return c.Profile.ClientAuthOrDefault(c.Secret != "", methods)
}

// secret is the secret to send: none sends none even when one is set.
func (c *Client) secret() string {
	if c.usesAssertion() || c.clientAuth() == config.ClientAuthNone {
		return "" // private_key_jwt: the assertion authenticates, never a secret too
	}
	return c.Secret
}

// oauthConfig is the one place an oauth2.Config is built.
func (c *Client) oauthConfig(redirectURL string) (*oauth2.Config, error) {
	if c.Endpoints == nil {
		return nil, errors.New("no endpoints: resolve them first")
	}
	if c.Profile.ClientID == "" {
		return nil, errors.New("no client_id set: pass --client-id or set client_id in the profile")
	}
	style, err := c.authStyle()
	if err != nil {
		return nil, err
	}
	if style == oauth2.AuthStyleInHeader && c.Secret == "" {
		return nil, fmt.Errorf("client_auth %s needs a client secret: set client_secret_env or OAT_CLIENT_SECRET", c.clientAuth())
	}
	return &oauth2.Config{
		ClientID:     c.Profile.ClientID,
		ClientSecret: c.secret(),
		Endpoint: oauth2.Endpoint{
			AuthURL:       c.Endpoints.AuthURL,
			TokenURL:      c.Endpoints.TokenURL,
			DeviceAuthURL: c.Endpoints.DeviceAuthURL,
			AuthStyle:     style,
		},
		RedirectURL: redirectURL,
		Scopes:      c.Profile.Scopes,
	}, nil
}

// ctx returns a context whose oauth2.HTTPClient is c.HTTP wrapped so that
// unusable bodies become clear errors.
func (c *Client) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.checkedClient())
}

// checkedClient is c.HTTP with checkBody in front of its transport.
func (c *Client) checkedClient() *http.Client {
	hc := *c.httpClient()
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	if c.refreshesAssertion() {
		next = freshAssertion{c: c, next: next}
	}
	if c.DPoP != nil {
		next = c.dpopTransport(next)
	}
	cb := checkBody{next: next}
	if c.Endpoints != nil {
		cb.deviceURL = c.Endpoints.DeviceAuthURL
	}
	hc.Transport = cb
	return &hc
}

// dpopTransport adds a DPoP proof to each POST to the token endpoint (code
// exchange, device polls, client credentials, refresh) and retries once
// with the server's DPoP-Nonce (RFC 9449 §8). It sits outside
// freshAssertion, so that a retry gets a new client assertion too. One per
// Client: the nonce a server sent is used by the Client's later requests.
func (c *Client) dpopTransport(next http.RoundTripper) http.RoundTripper {
	if c.dpopT == nil {
		// next is the same on every call: c.HTTP's transport, behind
		// freshAssertion where that applies.
		c.dpopT = &dpop.Transport{Key: c.DPoP, Now: c.now, Match: c.isTokenRequest, Next: next}
	}
	return c.dpopT
}

// isTokenRequest says r is a POST to the token endpoint. The two URLs are
// compared as a proof's htu names them (dpop.HTU: scheme and host in lower
// case, no default port, no query): the request's is Go's spelling of
// token_url (a lower-case scheme, non-ASCII percent-encoded), and a token
// request that missed its proof would send a bound refresh token without one.
func (c *Client) isTokenRequest(r *http.Request) bool {
	e := c.Endpoints
	if r.Method != http.MethodPost || e == nil || e.TokenURL == "" {
		return false
	}
	want, err := dpop.HTU(e.TokenURL)
	if err != nil {
		return false
	}
	got, err := dpop.HTU(r.URL.String())
	return err == nil && got == want
}

// extraParams are audience and resource, sent on token requests where set.
func (c *Client) extraParams() []oauth2.AuthCodeOption {
	var o []oauth2.AuthCodeOption
	if c.Profile.Audience != "" {
		o = append(o, oauth2.SetAuthURLParam("audience", c.Profile.Audience))
	}
	if c.Profile.Resource != "" {
		o = append(o, oauth2.SetAuthURLParam("resource", c.Profile.Resource))
	}
	return o
}

func (c *Client) wantsOpenID() bool { return slices.Contains(c.Profile.Scopes, "openid") }

// result builds a Result, verifying the ID token if one came. nonce is
// checked when not empty.
func (c *Client) result(ctx context.Context, tok *oauth2.Token, nonce string) (*Result, error) {
	if err := checkTokenResponse("token response", tok); err != nil {
		return nil, err
	}
	r := &Result{Token: tok}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		r.Scope = s
	} else {
		r.Scope = strings.Join(c.Profile.Scopes, " ")
	}
	if raw, ok := tok.Extra("id_token").(string); ok && raw != "" {
		idt, err := c.verifyIDToken(ctx, raw, nonce)
		if err != nil {
			return nil, err
		}
		r.IDToken = raw
		r.Subject = idt.Subject
	} else if nonce != "" {
		return nil, errors.New("id token: the server sent none although openid was requested")
	}
	sub, exp := jwtClaims(tok.AccessToken)
	if r.Subject == "" {
		r.Subject = sub
	}
	if tok.Expiry.IsZero() && !exp.IsZero() {
		// No expires_in: a JWT access token's own exp is the next best thing.
		tok.Expiry = exp
	}
	if tok.Expiry.IsZero() && tok.RefreshToken != "" {
		// No lifetime, but a way to renew (Salesforce): assume one, so the
		// token is renewed instead of used until the server refuses it. A
		// token with neither (GitHub OAuth apps) stays without an expiry.
		tok.Expiry = c.now().Add(c.Profile.AssumedTTL())
	}
	return r, nil
}

// verifyIDToken checks signature (JWKS), iss, aud, exp and the nonce.
func (c *Client) verifyIDToken(ctx context.Context, raw, nonce string) (*oidc.IDToken, error) {
	e := c.Endpoints
	if e.Issuer == "" || e.JWKSURL == "" {
		return nil, errors.New("id token: cannot verify it without the issuer's keys: set issuer (and jwks_url if it has no discovery document)")
	}
	// One KeySet (jwt's) for every ID-token check: kept in the JWKS cache
	// file when the session gave one, else fetched each time.
	keys := &jwt.KeySet{URL: e.JWKSURL, HTTP: c.httpClient(), CacheFile: c.JWKSCache}
	templated := strings.Contains(e.Issuer, discovery.TenantTemplate)
	v := oidc.NewVerifier(e.Issuer, keys, &oidc.Config{
		ClientID:             c.Profile.ClientID,
		SupportedSigningAlgs: e.SigningAlgs,
		Now:                  c.now,
		SkipIssuerCheck:      templated, // checked below with the token's tid
	})
	idt, err := v.Verify(ctx, raw)
	if err == nil && templated {
		var cl struct {
			TID string `json:"tid"`
		}
		if idt.Claims(&cl) != nil || !matchIssuer(e.Issuer, idt.Issuer, cl.TID) {
			return nil, fmt.Errorf("id token: verification failed: iss %q does not match the issuer %q with the token's tid", idt.Issuer, e.Issuer)
		}
	}
	if err != nil {
		// go-oidc keeps only the text of a key-fetch failure; a temporary
		// one (network, 5xx, 429) must still exit 4.
		var tmp *httpx.TemporaryError
		if errors.As(keys.FetchErr, &tmp) {
			return nil, fmt.Errorf("id token: %w", tmp)
		}
		if errors.Is(keys.FetchErr, fsutil.ErrUnsafe) {
			return nil, keys.FetchErr
		}
		var te *oidc.TokenExpiredError
		switch {
		case errors.As(err, &te):
			return nil, fmt.Errorf("id token: expired at %s (check the system clock)", te.Expiry.Format(time.RFC3339))
		default:
			return nil, fmt.Errorf("id token: verification failed: %s", strings.TrimPrefix(err.Error(), "oidc: "))
		}
	}
	if nonce != "" && idt.Nonce != nonce {
		return nil, errors.New("id token: nonce does not match the one sent (possible replay)")
	}
	return idt, nil
}

// DisplayName is a name a person recognises from an ID token oat verified
// when it received it: preferred_username, else email, else "". It only
// decodes; the caller keeps the sub for when there is none.
func DisplayName(idToken string) string {
	claims := jwt.Claims(idToken)
	for _, name := range []string{"preferred_username", "email"} {
		if s, ok := claims.String(name); ok && strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// jwtClaims returns the sub and exp claims of a JWT without verifying it
// (for display and expiry only); zero values when the token is not a JWT.
func jwtClaims(tok string) (string, time.Time) {
	claims := jwt.Claims(tok)
	sub, _ := claims.String("sub")
	var exp time.Time
	if v, ok := claims.Get("exp"); ok {
		if t, ok := jwt.NumericDate(v); ok && t.Unix() > 0 {
			exp = time.Unix(t.Unix(), 0)
		}
	}
	return sub, exp
}
