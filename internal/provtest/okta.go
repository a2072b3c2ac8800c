package provtest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Okta emulates an Okta org (https://DOMAIN) with one OIDC Native app
// (ClientID, no secret) and one authorization server: the org
// authorization server (issuer https://DOMAIN, endpoints under
// /oauth2/v1/) or a custom one (issuer https://DOMAIN/oauth2/{authServerId},
// endpoints under it in /v1/; the one every org has is "default"):
// https://developer.okta.com/docs/concepts/auth-servers/
//
// Endpoints (https://developer.okta.com/docs/api/openapi/okta-oauth/guides/overview/):
// /v1/authorize, /v1/token, /v1/device/authorize, /v1/revoke,
// /v1/introspect, /v1/userinfo, /v1/keys. Refresh tokens come only with
// offline_access (https://developer.okta.com/docs/guides/refresh-tokens/main/;
// the OP behind does the same) and rotate.
type Okta struct {
	*base
	URL       string // the org's base URL, what --domain names
	Issuer    string
	ClientID  string
	Callbacks []string // the app's Sign-in redirect URIs
	ep        string   // the endpoints' base: Issuer+"/v1" or URL+"/oauth2/v1"
}

// NewOkta starts an Okta emulator with authorization server authServer
// ("" for the org authorization server) and a Native app clientID whose
// sign-in redirect URIs are callbacks.
func NewOkta(t testing.TB, clientID, authServer string, callbacks ...string) *Okta {
	t.Helper()
	o := &Okta{ClientID: clientID, Callbacks: callbacks}
	issuerOf := func(u []string) string {
		if authServer == "" {
			return u[0]
		}
		return u[0] + "/oauth2/" + authServer
	}
	o.base = newBase(t, clientID, issuerOf, 1)
	o.URL = o.url(0)
	o.Issuer = issuerOf([]string{o.URL})
	o.ep = o.Issuer + "/v1"
	if authServer == "" {
		o.ep = o.URL + "/oauth2/v1"
	}
	ep := strings.TrimPrefix(o.ep, o.URL)
	is := strings.TrimPrefix(o.Issuer, o.URL)
	for path, op := range map[string]string{
		is + "/.well-known/openid-configuration":       opDiscovery,
		is + "/.well-known/oauth-authorization-server": opDiscovery,
		ep + "/authorize":        opAuthorize,
		ep + "/token":            opToken,
		ep + "/device/authorize": opDeviceAuth,
		ep + "/revoke":           opRevoke,
		ep + "/introspect":       opIntrospect,
		ep + "/userinfo":         opUserinfo,
		ep + "/keys":             opKeys,
		"/activate":              opDevice,
		"/login":                 opLogin,
	} {
		o.route(0, path, op)
	}
	o.discovery = func(doc map[string]any) {
		setEndpoints(doc, map[string]string{
			"authorization_endpoint":        o.ep + "/authorize",
			"token_endpoint":                o.ep + "/token",
			"device_authorization_endpoint": o.ep + "/device/authorize",
			"revocation_endpoint":           o.ep + "/revoke",
			"introspection_endpoint":        o.ep + "/introspect",
			"userinfo_endpoint":             o.ep + "/userinfo",
			"jwks_uri":                      o.ep + "/keys",
			"end_session_endpoint":          o.ep + "/logout",
		})
	}
	o.before = o.quirks
	o.after = o.rewrite
	return o
}

// Endpoint is the URL of one of the authorization server's endpoints
// ("token", "revoke", "introspect"…).
func (o *Okta) Endpoint(name string) string { return o.ep + "/" + name }

func (o *Okta) quirks(w http.ResponseWriter, r *http.Request, form url.Values) bool {
	switch strings.TrimPrefix(o.URL+r.URL.Path, o.ep) {
	case "/authorize":
		// The redirect URI must be one of the app's sign-in redirect URIs
		// exactly, port included:
		// https://support.okta.com/help/s/article/openid-connect-oidc-redirect-uri
		q := r.URL.Query()
		if !redirectRegistered(o.Callbacks, q.Get("redirect_uri")) {
			errorPage(w, "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings: "+q.Get("redirect_uri"))
			return true
		}
	case "/introspect":
		// A public client introspects its own tokens with client_id in the
		// body and no secret:
		// https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/tag/CustomAS/#tag/CustomAS/operation/introspectCustomAS
		// (the OP behind keeps introspection for confidential clients, so
		// the middleware asks it as its confidential client).
		if _, _, basic := r.BasicAuth(); !basic && form.Get("client_id") == o.ClientID && form.Get("client_secret") == "" {
			form.Del("client_id")
			r.SetBasicAuth(machineClient, o.secret)
		}
	}
	return false
}

func (o *Okta) rewrite(r *http.Request, form url.Values, status int, body map[string]any) map[string]any {
	if status != http.StatusOK || strings.TrimPrefix(o.URL+r.URL.Path, o.ep) != "/device/authorize" {
		return nil
	}
	// Okta's verification page is https://DOMAIN/activate:
	// https://developer.okta.com/docs/guides/device-authorization-grant/main/
	if uc, ok := body["user_code"].(string); ok {
		body["verification_uri"] = o.URL + "/activate"
		body["verification_uri_complete"] = o.URL + "/activate?" + url.Values{"user_code": {uc}}.Encode()
	}
	return body
}
