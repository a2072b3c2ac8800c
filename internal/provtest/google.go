package provtest

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Google emulates Google's OAuth 2.0 for a "Desktop app" client
// (https://developers.google.com/identity/protocols/oauth2/native-app) at
// URL in place of https://accounts.google.com and oauth2.googleapis.com:
//
//	/.well-known/openid-configuration, /o/oauth2/v2/auth, /token, /revoke,
//	/device/code, /oauth2/v3/certs
type Google struct {
	*front
	ClientSecret string

	gmu sync.Mutex
	// consented: the user has granted offline access once; later
	// authorizations give a refresh token only with prompt=consent.
	consented bool
	// refresh maps Google's refresh tokens (never rotated) to the OP's
	// current one (rotated behind the emulator's back).
	refresh map[string]string
}

// GoogleEmail is the e-mail address in the user's ID tokens.
const GoogleEmail = "alex@gmail.example"

// NewGoogle starts a Google emulator for the Desktop client clientID with
// secret (Google gives desktop clients a secret, not kept confidential).
func NewGoogle(t testing.TB, clientID, secret string) *Google {
	t.Helper()
	g := &Google{front: newFront(t, clientID), ClientSecret: secret, refresh: map[string]string{}}
	g.Mux.HandleFunc("/.well-known/openid-configuration", g.discovery)
	g.Mux.HandleFunc("/o/oauth2/v2/auth", g.authorize)
	g.Mux.HandleFunc("/token", g.token)
	g.Mux.HandleFunc("/revoke", g.revoke)
	g.Mux.HandleFunc("/device/code", g.device)
	g.Mux.HandleFunc("/oauth2/v3/certs", g.jwks)
	return g
}

// discovery as https://accounts.google.com/.well-known/openid-configuration
// has it (issuer, its endpoints on other hosts, client_secret_post listed
// first, a revocation_endpoint).
func (g *Google) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                g.URL,
		"authorization_endpoint":                g.URL + "/o/oauth2/v2/auth",
		"device_authorization_endpoint":         g.URL + "/device/code",
		"token_endpoint":                        g.URL + "/token",
		"revocation_endpoint":                   g.URL + "/revoke",
		"jwks_uri":                              g.URL + "/oauth2/v3/certs",
		"response_types_supported":              []string{"code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"code_challenge_methods_supported":      []string{"plain", "S256"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
	})
}

// authorize: offline_access is no Google scope (scopes_supported above; the
// consent screen refuses unknown scopes with invalid_scope — Google shows it
// on its own page, the emulator redirects it so that a test sees it at
// once). A refresh token comes only with access_type=offline, and after the
// first consent only with prompt=consent
// (https://developers.google.com/identity/protocols/oauth2/web-server#offline,
// https://developers.google.com/identity/protocols/oauth2/openid-connect#refresh-tokens).
func (g *Google) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if hasScope(q.Get("scope"), "offline_access") {
		u := q.Get("redirect_uri") + "?error=invalid_scope&error_description=" +
			strings.ReplaceAll("Some requested scopes were invalid. {invalid=[offline_access]}", " ", "+") + "&state=" + q.Get("state")
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	g.gmu.Lock()
	offline := q.Get("access_type") == "offline" && (!g.consented || hasScope(q.Get("prompt"), "consent"))
	if offline {
		g.consented = true
	}
	g.gmu.Unlock()
	q.Del("access_type")
	q.Del("prompt")
	if offline {
		// The OP issues a refresh token for offline_access.
		q.Set("scope", q.Get("scope")+" offline_access")
	}
	g.toOPAuthorize(w, r, q)
}

func (g *Google) token(w http.ResponseWriter, r *http.Request) {
	form := formOf(r)
	g.record(form)
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	if id != g.ClientID {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
		return
	}
	// A desktop client sends its secret even with PKCE
	// (https://developers.google.com/identity/protocols/oauth2/native-app#exchange-authorization-code:
	// "client_secret: The client secret obtained from the Credentials page").
	if secret == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "client_secret is missing.")
		return
	}
	if secret != g.ClientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Unauthorized")
		return
	}
	grant := form.Get("grant_type")
	var googleRT string
	if grant == "refresh_token" {
		googleRT = form.Get("refresh_token")
		g.gmu.Lock()
		opRT, ok := g.refresh[googleRT]
		g.gmu.Unlock()
		if !ok {
			// https://developers.google.com/identity/protocols/oauth2/native-app#offline ("invalid_grant")
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
			return
		}
		form.Set("refresh_token", opRT)
	}
	status, m := g.forward("/oauth/token", g.opClientFor(form), form)
	if status == http.StatusOK {
		if s, ok := m["scope"].(string); ok {
			m["scope"] = withoutScope(s, "offline_access")
		}
		if opRT, ok := m["refresh_token"].(string); ok && opRT != "" {
			g.gmu.Lock()
			if grant == "refresh_token" {
				// No rotation: a refresh answer carries no refresh token, the
				// old one stays valid
				// (https://developers.google.com/identity/protocols/oauth2/native-app#offline).
				g.refresh[googleRT] = opRT
				delete(m, "refresh_token")
			} else {
				rt := "1//" + randomText(24)
				g.refresh[rt] = opRT
				m["refresh_token"] = rt
			}
			g.gmu.Unlock()
		}
		g.reissueIDToken(m, func(c map[string]any) {
			c["iss"] = g.URL
			c["email"] = GoogleEmail
			c["email_verified"] = true
			delete(c, "preferred_username") // Google's ID tokens have none
		})
	}
	writeJSON(w, status, m)
}

// revoke takes an access or refresh token
// (https://developers.google.com/identity/protocols/oauth2/native-app#tokenrevoke);
// revoking a refresh token ends the grant.
func (g *Google) revoke(w http.ResponseWriter, r *http.Request) {
	form := formOf(r)
	tok := form.Get("token")
	g.gmu.Lock()
	opRT, isRefresh := g.refresh[tok]
	delete(g.refresh, tok)
	g.gmu.Unlock()
	if isRefresh {
		tok = opRT
	}
	status, m := g.forward("/revoke", g.OP.PublicClientID, map[string][]string{"token": {tok}})
	if status != http.StatusOK {
		writeJSON(w, status, m)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// device: Google's device flow takes only "TVs and Limited Input devices"
// clients; a Desktop client is refused
// (https://developers.google.com/identity/protocols/oauth2/limited-input-device#creatingcred,
// "invalid_client … Invalid client type").
func (g *Google) device(w http.ResponseWriter, _ *http.Request) {
	oauthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client type.")
}
