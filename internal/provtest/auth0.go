package provtest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Auth0 emulates an Auth0 tenant (https://DOMAIN) with one Native
// application (ClientID), one Machine-to-Machine application
// (MachineClient, MachineSecret) and one API (Audience). Refresh tokens
// come only with offline_access (the OP behind does the same):
// https://auth0.com/docs/secure/tokens/refresh-tokens/get-refresh-tokens
//
// Its URL layout is Auth0's: discovery at /.well-known/openid-configuration
// naming /authorize, /oauth/token, /oauth/device/code, /oauth/revoke,
// /userinfo and /.well-known/jwks.json, and no introspection endpoint
// (https://auth0.com/docs/api/authentication). One difference: Auth0's
// issuer ends in "/" (https://DOMAIN/); the OP behind trims it, and oat
// compares issuers without a trailing slash.
type Auth0 struct {
	*base
	URL           string   // the tenant's base URL, what --domain names
	ClientID      string   // the Native application
	Audience      string   // the API's identifier
	MachineClient string   // an M2M application authorised for the API
	MachineSecret string   //
	Callbacks     []string // the Native application's Allowed Callback URLs
	fam           *families
	noOffline     bool // the API's Allow Offline Access is off

	mu        sync.Mutex
	challenge map[string]string // PKCE code_challenge → audience of its /authorize
	device    map[string]string // device_code → audience of its /oauth/device/code
	rtAud     map[string]string // refresh token → audience of its grant
	api       map[string]bool   // access tokens issued for Audience
	opaque    map[string]string // opaque access token → the OP's token behind it
}

// NewAuth0 starts an Auth0 emulator whose Native application clientID
// allows the callback URLs given.
func NewAuth0(t testing.TB, clientID string, callbacks ...string) *Auth0 {
	t.Helper()
	a := &Auth0{
		Audience: "https://api.example.com", fam: newFamilies(), Callbacks: callbacks,
		challenge: map[string]string{}, device: map[string]string{}, rtAud: map[string]string{},
		api: map[string]bool{}, opaque: map[string]string{},
	}
	a.base = newBase(t, clientID, func(u []string) string { return u[0] }, 1)
	a.URL, a.ClientID = a.url(0), clientID
	a.MachineClient, a.MachineSecret = machineClient, a.secret
	for path, op := range map[string]string{
		"/.well-known/openid-configuration": opDiscovery,
		"/authorize":                        opAuthorize,
		"/oauth/token":                      opToken,
		"/oauth/device/code":                opDeviceAuth,
		"/oauth/revoke":                     opRevoke,
		"/userinfo":                         opUserinfo,
		"/.well-known/jwks.json":            opKeys,
		"/activate":                         opDevice,
		"/login":                            opLogin,
	} {
		a.route(0, path, op)
	}
	a.discovery = func(doc map[string]any) {
		setEndpoints(doc, map[string]string{
			"authorization_endpoint":        a.URL + "/authorize",
			"token_endpoint":                a.URL + "/oauth/token",
			"device_authorization_endpoint": a.URL + "/oauth/device/code",
			"revocation_endpoint":           a.URL + "/oauth/revoke",
			"userinfo_endpoint":             a.URL + "/userinfo",
			"jwks_uri":                      a.URL + "/.well-known/jwks.json",
			"introspection_endpoint":        "",
			"end_session_endpoint":          "",
		})
	}
	a.before = a.quirks
	a.after = a.rewrite
	return a
}

// APIAccepts reports whether the API (Audience) takes token: an access
// token issued for it. An opaque token (no audience asked for) is only good
// for /userinfo: https://auth0.com/docs/secure/tokens/access-tokens#opaque-access-tokens
func (a *Auth0) APIAccepts(token string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.api[token]
}

// Reuses counts refresh requests with an already rotated refresh token.
func (a *Auth0) Reuses() int { return a.fam.Reuses() }

// SetAllowOfflineAccess turns the API's "Allow Offline Access" setting on
// or off (on by default here). Off, tokens for the API come without a
// refresh token even when offline_access is asked for:
// https://auth0.com/docs/secure/tokens/refresh-tokens/get-refresh-tokens
func (a *Auth0) SetAllowOfflineAccess(on bool) {
	a.mu.Lock()
	a.noOffline = !on
	a.mu.Unlock()
}

func (a *Auth0) quirks(w http.ResponseWriter, r *http.Request, form url.Values) bool {
	switch r.URL.Path {
	case "/authorize":
		q := r.URL.Query()
		// Callback URLs match exactly, port included:
		// https://support.auth0.com/center/s/article/Callback-URL-Mismatch-Error-Is-Not-in-the-List-of-Allowed-Callback-URLs
		if q.Get("client_id") == a.ClientID && !redirectRegistered(a.Callbacks, q.Get("redirect_uri")) {
			errorPage(w, "Callback URL mismatch. "+q.Get("redirect_uri")+" is not in the list of allowed callback URLs.")
			return true
		}
		if !a.knownAudience(w, q.Get("audience")) {
			return true
		}
		a.mu.Lock()
		a.challenge[q.Get("code_challenge")] = q.Get("audience")
		a.mu.Unlock()
	case "/oauth/device/code":
		if !a.knownAudience(w, form.Get("audience")) {
			return true
		}
	case "/oauth/token":
		switch form.Get("grant_type") {
		case "client_credentials":
			// No default audience configured: the request must name one.
			// https://auth0.com/docs/get-started/authentication-and-authorization-flow/client-credentials-flow/call-your-api-using-the-client-credentials-flow
			if form.Get("audience") == "" {
				oauthError(w, http.StatusForbidden, "access_denied", "No audience parameter was provided, and no default audience has been configured")
				return true
			}
			if !a.knownAudience(w, form.Get("audience")) {
				return true
			}
		case "refresh_token":
			// Rotation with reuse detection: a refresh token used a second
			// time revokes every token of its family.
			// https://auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation#automatic-reuse-detection
			if ok, _ := a.fam.use(form.Get("refresh_token")); !ok {
				oauthError(w, http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
				return true
			}
		}
	case "/oauth/revoke":
		// /oauth/revoke revokes refresh tokens (and their family):
		// https://auth0.com/docs/secure/tokens/refresh-tokens/revoke-refresh-tokens
		// Access tokens cannot be revoked; an unknown token is answered 200
		// as RFC 7009 §2.2 asks.
		rt := form.Get("token")
		a.mu.Lock()
		_, isRT := a.rtAud[rt]
		a.mu.Unlock()
		if !isRT {
			w.WriteHeader(http.StatusOK)
			return true
		}
		a.fam.revoke(rt)
	case "/userinfo":
		// An opaque token is good for /userinfo only.
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		a.mu.Lock()
		real, ok := a.opaque[tok]
		a.mu.Unlock()
		if ok {
			r.Header.Set("Authorization", "Bearer "+real)
		}
	}
	return false
}

// knownAudience answers access_denied for an audience that names no API of
// the tenant.
func (a *Auth0) knownAudience(w http.ResponseWriter, aud string) bool {
	if aud != "" && aud != a.Audience {
		oauthError(w, http.StatusForbidden, "access_denied", "Service not found: "+aud)
		return false
	}
	return true
}

func (a *Auth0) rewrite(r *http.Request, form url.Values, status int, body map[string]any) map[string]any {
	if status != http.StatusOK {
		return nil
	}
	switch r.URL.Path {
	case "/oauth/device/code":
		dc, _ := body["device_code"].(string)
		a.mu.Lock()
		a.device[dc] = form.Get("audience")
		a.mu.Unlock()
		// Auth0's verification page is https://DOMAIN/activate.
		if uc, ok := body["user_code"].(string); ok {
			body["verification_uri"] = a.URL + "/activate"
			body["verification_uri_complete"] = a.URL + "/activate?" + url.Values{"user_code": {uc}}.Encode()
		}
		return body
	case "/oauth/token":
	default:
		return nil
	}
	// The access token's audience is the one the grant asked for: on
	// /authorize (code), /oauth/device/code (device) or /oauth/token
	// (client credentials); a refresh keeps its grant's.
	// https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens
	a.mu.Lock()
	defer a.mu.Unlock()
	var aud string
	switch form.Get("grant_type") {
	case "authorization_code":
		aud = a.challenge[s256(form.Get("code_verifier"))]
	case "urn:ietf:params:oauth:grant-type:device_code":
		aud = a.device[form.Get("device_code")]
	case "refresh_token":
		aud = a.rtAud[form.Get("refresh_token")]
	case "client_credentials":
		aud = form.Get("audience")
	}
	at, _ := body["access_token"].(string)
	if aud == a.Audience {
		a.api[at] = true
	} else {
		// No audience: an opaque token, for /userinfo only.
		// https://auth0.com/docs/secure/tokens/access-tokens#opaque-access-tokens
		op := randomHex(16)
		a.opaque[op] = at
		body["access_token"] = op
	}
	if a.noOffline && aud == a.Audience && form.Get("grant_type") != "refresh_token" {
		delete(body, "refresh_token")
	}
	if rt, ok := body["refresh_token"].(string); ok && rt != "" {
		from := ""
		if form.Get("grant_type") == "refresh_token" {
			from = form.Get("refresh_token")
		}
		a.fam.issued(rt, from)
		a.rtAud[rt] = aud
	}
	return body
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
