package provtest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Cognito emulates an Amazon Cognito user pool with a hosted-UI domain and
// one public app client (ClientID, no secret, authorization code grant,
// scopes openid profile email). Two hosts, as in AWS:
//   - the pool's issuer https://cognito-idp.REGION.amazonaws.com/POOL
//     (IssuerURL here), serving discovery and the keys
//     (/.well-known/jwks.json);
//   - the hosted-UI domain (DomainURL), serving /oauth2/authorize,
//     /oauth2/token, /oauth2/userInfo and /oauth2/revoke:
//     https://docs.aws.amazon.com/cognito/latest/developerguide/federation-endpoints.html
//
// Quirks, each from Cognito's documentation:
//   - discovery names no revocation_endpoint (nor a device or
//     introspection endpoint: Cognito has neither);
//   - callback URLs must be registered exactly, and plain http is allowed
//     for http://localhost only (NewCognito refuses to register another);
//   - a refresh token comes with every code grant, and a scope the client
//     does not allow (offline_access) is refused;
//   - refresh tokens are not rotated: a refresh answers no refresh_token;
//   - /oauth2/revoke takes a refresh token only.
type Cognito struct {
	*base
	IssuerURL string // the pool: http://127.0.0.1:P1/POOL
	DomainURL string // the hosted UI: http://127.0.0.1:P2
	ClientID  string
	Callbacks []string

	mu      sync.Mutex
	current map[string]string // refresh token the client holds → the OP's current one
}

// NewCognito starts a Cognito emulator for user pool pool (e.g.
// us-east-1_AbCdEf123) with app client clientID and its callback URLs.
func NewCognito(t testing.TB, pool, clientID string, callbacks ...string) *Cognito {
	t.Helper()
	for _, cb := range callbacks {
		// "Amazon Cognito requires HTTPS over HTTP except for
		// http://localhost for testing purposes only":
		// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolClient.html#CognitoUserPools-CreateUserPoolClient-request-CallbackURLs
		if u, err := url.Parse(cb); err != nil || (u.Scheme == "http" && u.Hostname() != "localhost") {
			t.Fatalf("Cognito refuses to register callback URL %s: plain http only for localhost", cb)
		}
	}
	c := &Cognito{ClientID: clientID, Callbacks: callbacks, current: map[string]string{}}
	c.base = newBase(t, clientID, func(u []string) string { return u[0] + "/" + pool }, 2)
	c.IssuerURL, c.DomainURL = c.url(0)+"/"+pool, c.url(1)
	c.route(0, "/"+pool+"/.well-known/openid-configuration", opDiscovery)
	c.route(0, "/"+pool+"/.well-known/jwks.json", opKeys)
	for path, op := range map[string]string{
		"/oauth2/authorize": opAuthorize,
		"/oauth2/token":     opToken,
		"/oauth2/userInfo":  opUserinfo,
		"/oauth2/revoke":    opRevoke,
		"/login":            opLogin,
	} {
		c.route(1, path, op)
	}
	c.discovery = func(doc map[string]any) {
		// https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
		// (the pool's openid-configuration); the revocation endpoint is
		// not in it: https://docs.aws.amazon.com/cognito/latest/developerguide/revocation-endpoint.html
		setEndpoints(doc, map[string]string{
			"authorization_endpoint":        c.DomainURL + "/oauth2/authorize",
			"token_endpoint":                c.DomainURL + "/oauth2/token",
			"userinfo_endpoint":             c.DomainURL + "/oauth2/userInfo",
			"jwks_uri":                      c.IssuerURL + "/.well-known/jwks.json",
			"revocation_endpoint":           "",
			"device_authorization_endpoint": "",
			"introspection_endpoint":        "",
			"end_session_endpoint":          "",
		})
		doc["scopes_supported"] = []string{"openid", "email", "phone", "profile"}
		doc["grant_types_supported"] = []string{"authorization_code", "refresh_token", "client_credentials"}
	}
	c.before = c.quirks
	c.after = c.rewrite
	return c
}

func (c *Cognito) quirks(w http.ResponseWriter, r *http.Request, form url.Values) bool {
	switch r.URL.Path {
	case "/oauth2/authorize":
		q := r.URL.Query()
		// Only registered callback URLs:
		// https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html
		if q.Get("client_id") != c.ClientID || !redirectRegistered(c.Callbacks, q.Get("redirect_uri")) {
			errorPage(w, "redirect_mismatch")
			return true
		}
		// Scopes the app client does not allow are refused (there is no
		// offline_access in Cognito); the refresh token comes anyway:
		// https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html
		// https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html
		scopes := strings.Fields(q.Get("scope"))
		for _, s := range scopes {
			if !slices.Contains([]string{"openid", "profile", "email", "phone"}, s) {
				u, _ := url.Parse(q.Get("redirect_uri"))
				u.RawQuery = url.Values{"error": {"invalid_scope"}, "state": {q.Get("state")}}.Encode()
				http.Redirect(w, r, u.String(), http.StatusFound)
				return true
			}
		}
		q.Set("scope", strings.Join(append(scopes, "offline_access"), " ")) // the OP behind issues refresh tokens only then
		r.URL.RawQuery = q.Encode()
	case "/oauth2/token":
		if form.Get("grant_type") == "refresh_token" {
			// Not rotated: the client keeps sending its one refresh token;
			// the OP behind rotates, so send it the OP's current one.
			c.mu.Lock()
			if cur, ok := c.current[form.Get("refresh_token")]; ok {
				form.Set("refresh_token", cur)
			}
			c.mu.Unlock()
		}
	case "/oauth2/revoke":
		// Refresh tokens only ("token: the refresh token"), and the access
		// tokens issued with it go too:
		// https://docs.aws.amazon.com/cognito/latest/developerguide/revocation-endpoint.html
		c.mu.Lock()
		cur, ok := c.current[form.Get("token")]
		if ok {
			delete(c.current, form.Get("token"))
		}
		c.mu.Unlock()
		if !ok {
			oauthError(w, http.StatusBadRequest, "unsupported_token_type", "only refresh tokens can be revoked")
			return true
		}
		form.Set("token", cur)
	}
	return false
}

func (c *Cognito) rewrite(r *http.Request, form url.Values, status int, body map[string]any) map[string]any {
	if status != http.StatusOK || r.URL.Path != "/oauth2/token" {
		return nil
	}
	rt, _ := body["refresh_token"].(string)
	if rt == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if form.Get("grant_type") != "refresh_token" {
		c.current[rt] = rt
		return nil
	}
	// No rotation: https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-refresh-token.html
	// (the response has id_token and access_token, no refresh_token).
	for held, cur := range c.current {
		if cur == form.Get("refresh_token") {
			c.current[held] = rt
		}
	}
	delete(body, "refresh_token")
	return body
}

// RefreshTokenLive reports whether the refresh token the client holds can
// still be used.
func (c *Cognito) RefreshTokenLive(rt string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.current[rt]
	return ok
}
