package issuer

import (
	"crypto/subtle"
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// client is a Client as op.Client (with op.HasRedirectGlobs for loopback
// redirects on any port and path).
type client struct {
	id           string
	secret       string
	redirectURIs []string
}

var _ op.HasRedirectGlobs = (*client)(nil)

func newClient(c Client) *client {
	return &client{id: c.ID, secret: c.Secret, redirectURIs: c.RedirectURIs}
}

// loopbackGlobs match http redirect URIs on a loopback host, with or
// without a port, and any path (doublestar syntax: [ and ] escaped).
var loopbackGlobs = []string{
	"http://127.0.0.1/**", "http://127.0.0.1:*/**",
	`http://\[::1\]/**`, `http://\[::1\]:*/**`,
	"http://localhost/**", "http://localhost:*/**",
}

func (c *client) GetID() string { return c.id }

// RedirectURIs lists loopback URIs too: op matches a native client's
// loopback redirect against them ignoring the port (RFC 8252 §7.3).
func (c *client) RedirectURIs() []string {
	return append([]string{"http://127.0.0.1/callback", "http://[::1]/callback", "http://localhost/callback"}, c.redirectURIs...)
}
func (c *client) RedirectURIGlobs() []string           { return loopbackGlobs }
func (c *client) PostLogoutRedirectURIs() []string     { return nil }
func (c *client) PostLogoutRedirectURIGlobs() []string { return loopbackGlobs }

func (c *client) ApplicationType() op.ApplicationType {
	if c.secret != "" {
		return op.ApplicationTypeWeb // confidential
	}
	return op.ApplicationTypeNative
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.secret != "" {
		return oidc.AuthMethodBasic // client_secret_post works too (Config.AuthMethodPost)
	}
	return oidc.AuthMethodNone
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	g := []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode}
	if c.secret != "" {
		g = append(g, oidc.GrantTypeClientCredentials)
	}
	return g
}

func (c *client) LoginURL(authRequestID string) string {
	return loginPath + "?" + url.Values{"authRequestID": {authRequestID}}.Encode()
}

// AccessTokenType: JWTs, so an API under test can verify them with the JWKS.
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration      { return time.Hour }
func (c *client) DevMode() bool                       { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed allows any scope beyond the standard ones, so tests can
// ask for their API's scopes; they show up in the access token's scope claim.
func (c *client) IsScopeAllowed(string) bool           { return true }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
