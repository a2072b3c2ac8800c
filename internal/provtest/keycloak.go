package provtest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Keycloak emulates one Keycloak realm (issuer https://HOST/realms/REALM)
// with a public OpenID Connect client (ClientID, Client authentication off,
// Standard flow and OAuth 2.0 Device Authorization Grant on), Keycloak's
// paths under /realms/REALM/protocol/openid-connect/ (auth, token,
// auth/device, revoke, userinfo, certs, token/introspect, logout):
// https://www.keycloak.org/docs/latest/securing_apps/#_oidc (Endpoints),
// and "Revoke Refresh Token" on, so refresh tokens rotate and a used one
// is refused: https://www.keycloak.org/docs/latest/server_admin/#_timeouts
type Keycloak struct {
	*base
	URL      string // https://HOST
	Issuer   string // https://HOST/realms/REALM
	ClientID string
	// RedirectURI is the client's registered Valid redirect URI. Keycloak
	// takes a loopback one (http://127.0.0.1) with any port:
	// https://www.keycloak.org/docs/latest/server_admin/#_installed-applications-url
	RedirectURI string
}

// NewKeycloak starts a Keycloak emulator for realm with public client
// clientID, whose valid redirect URI is http://127.0.0.1/callback.
func NewKeycloak(t testing.TB, realm, clientID string) *Keycloak {
	t.Helper()
	k := &Keycloak{ClientID: clientID, RedirectURI: "http://127.0.0.1/callback"}
	k.base = newBase(t, clientID, func(u []string) string { return u[0] + "/realms/" + realm }, 1)
	k.URL = k.url(0)
	k.Issuer = k.URL + "/realms/" + realm
	oidc := "/realms/" + realm + "/protocol/openid-connect"
	for path, op := range map[string]string{
		"/realms/" + realm + "/.well-known/openid-configuration": opDiscovery,
		oidc + "/auth":                 opAuthorize,
		oidc + "/token":                opToken,
		oidc + "/auth/device":          opDeviceAuth,
		oidc + "/revoke":               opRevoke,
		oidc + "/userinfo":             opUserinfo,
		oidc + "/certs":                opKeys,
		oidc + "/token/introspect":     opIntrospect,
		"/realms/" + realm + "/device": opDevice, // verification_uri
		"/login":                       opLogin,
	} {
		k.route(0, path, op)
	}
	k.discovery = func(doc map[string]any) {
		base := k.URL + oidc
		setEndpoints(doc, map[string]string{
			"authorization_endpoint":        base + "/auth",
			"token_endpoint":                base + "/token",
			"device_authorization_endpoint": base + "/auth/device",
			"revocation_endpoint":           base + "/revoke",
			"userinfo_endpoint":             base + "/userinfo",
			"jwks_uri":                      base + "/certs",
			"introspection_endpoint":        base + "/token/introspect",
			"end_session_endpoint":          base + "/logout",
		})
	}
	k.before = func(w http.ResponseWriter, r *http.Request, _ url.Values) bool {
		if r.URL.Path != oidc+"/auth" {
			return false
		}
		// Loopback: any port, the rest exact.
		q := r.URL.Query()
		u, err := url.Parse(q.Get("redirect_uri"))
		if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Path != "/callback" || u.RawQuery != "" || strings.Contains(u.Host, "@") {
			errorPage(w, "Invalid parameter: redirect_uri")
			return true
		}
		return false
	}
	return k
}
