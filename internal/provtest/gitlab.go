package provtest

import (
	"net/http"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
)

// GitLab emulates GitLab's OAuth 2.0 / OIDC provider
// (https://docs.gitlab.com/api/oauth2/, https://docs.gitlab.com/integration/openid_connect_provider/)
// at URL in place of https://gitlab.com (or a self-managed instance):
//
//	/.well-known/openid-configuration, /oauth/authorize, /oauth/token,
//	/oauth/authorize_device, /oauth/revoke, /oauth/discovery/keys
type GitLab struct {
	*front
}

// GitLabUsername is the preferred_username (nickname) in ID tokens.
const GitLabUsername = "jdoe"

// NewGitLab starts a GitLab emulator for the (non-confidential) application
// clientID.
func NewGitLab(t testing.TB, clientID string) *GitLab {
	t.Helper()
	g := &GitLab{front: newFront(t, clientID, authtest.WithDeviceInterval(1))}
	g.Mux.HandleFunc("/.well-known/openid-configuration", g.discovery)
	g.Mux.HandleFunc("/oauth/authorize", g.authorize)
	g.Mux.HandleFunc("/oauth/token", g.token)
	g.Mux.HandleFunc("/oauth/authorize_device", g.device)
	g.Mux.HandleFunc("/oauth/revoke", g.revoke)
	g.Mux.HandleFunc("/oauth/discovery/keys", g.jwks)
	return g
}

// discovery as https://gitlab.com/.well-known/openid-configuration has it:
// a revocation_endpoint, and no device_authorization_endpoint although
// /oauth/authorize_device exists
// (https://docs.gitlab.com/api/oauth2/#device-authorization-grant-flow).
func (g *GitLab) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                g.URL,
		"authorization_endpoint":                g.URL + "/oauth/authorize",
		"token_endpoint":                        g.URL + "/oauth/token",
		"revocation_endpoint":                   g.URL + "/oauth/revoke",
		"introspection_endpoint":                g.URL + "/oauth/introspect",
		"userinfo_endpoint":                     g.URL + "/oauth/userinfo",
		"jwks_uri":                              g.URL + "/oauth/discovery/keys",
		"scopes_supported":                      []string{"api", "read_api", "read_user", "read_repository", "write_repository", "openid", "profile", "email"},
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"grant_types_supported":                 []string{"authorization_code", "password", "client_credentials", "device_code", "refresh_token"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"plain", "S256"},
	})
}

// withRefresh: GitLab issues a refresh token with every access token, no
// offline_access needed (https://docs.gitlab.com/api/oauth2/#authorization-code-with-proof-key-for-code-exchange-pkce);
// the OP issues one for offline_access, so the emulator asks for it.
func withRefresh(scope string) string {
	if hasScope(scope, "offline_access") {
		return scope
	}
	return scope + " offline_access"
}

func (g *GitLab) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	q.Set("scope", withRefresh(q.Get("scope")))
	g.toOPAuthorize(w, r, q)
}

// token: every refresh answers with a new refresh token, and the one used
// is refused afterwards (https://docs.gitlab.com/api/oauth2/#authorization-code-with-proof-key-for-code-exchange-pkce,
// the refresh request and its answer); the OP behind rotates exactly so.
func (g *GitLab) token(w http.ResponseWriter, r *http.Request) {
	form := formOf(r)
	g.record(form)
	if form.Get("client_id") != g.ClientID {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
		return
	}
	status, m := g.forward("/oauth/token", g.opClientFor(form), form)
	if status == http.StatusOK {
		if s, ok := m["scope"].(string); ok {
			m["scope"] = withoutScope(s, "offline_access")
		}
		m["created_at"] = 1700000000
		g.reissueIDToken(m, func(c map[string]any) {
			c["iss"] = g.URL
			c["preferred_username"] = GitLabUsername
			c["nickname"] = GitLabUsername
		})
	}
	writeJSON(w, status, m)
}

// device: GitLab's answer has verification_uri and
// verification_uri_complete (https://docs.gitlab.com/api/oauth2/#device-authorization-grant-flow).
func (g *GitLab) device(w http.ResponseWriter, r *http.Request) {
	form := formOf(r)
	if form.Get("client_id") != g.ClientID {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	form.Set("scope", withRefresh(form.Get("scope")))
	status, m := g.forward("/device_authorization", g.OP.DeviceClientID, form)
	if status == http.StatusOK {
		uc := toString(m["user_code"])
		m["verification_uri"] = g.URL + "/oauth/device"
		m["verification_uri_complete"] = g.URL + "/oauth/device?user_code=" + uc
	}
	writeJSON(w, status, m)
}

// revoke: RFC 7009 at /oauth/revoke, client_id for a public application
// (https://docs.gitlab.com/api/oauth2/#revoke-a-token).
func (g *GitLab) revoke(w http.ResponseWriter, r *http.Request) {
	form := formOf(r)
	g.record(form)
	if form.Get("client_id") != g.ClientID {
		oauthError(w, http.StatusForbidden, "unauthorized_client", "You are not authorized to revoke this token")
		return
	}
	status, m := g.forward("/revoke", g.opClientFor(url2grant(form)), form)
	writeJSON(w, status, m)
}

// url2grant lets opClientFor find the OP client of a refresh token being
// revoked.
func url2grant(form map[string][]string) map[string][]string {
	return map[string][]string{"grant_type": {"refresh_token"}, "refresh_token": form["token"]}
}
