package provtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
)

// GitHub emulates GitHub's OAuth endpoints and the bits of its REST API oat
// uses, at URL in place of https://github.com (GitHub Enterprise Server's
// layout: the API under /api/v3). GitHub has no OIDC and no discovery.
//
//	GET  /login/oauth/authorize  (a sign-in form the scripted browser fills)
//	POST /login/oauth/access_token, /login/device/code
//	GET  /api/v3/user
//	DELETE /api/v3/applications/{client_id}/token
//
// Expiring selects GitHub-App user tokens (8 hours, with a 6-month refresh
// token that rotates); otherwise tokens are OAuth-app tokens that never
// expire and come without a refresh token.
type GitHub struct {
	URL          string
	ClientID     string
	ClientSecret string // "" for an app used with the device flow only
	Expiring     bool

	t  testing.TB
	mu sync.Mutex
	// codes: authorization code → PKCE challenge, redirect URI.
	codes map[string][2]string
	// devices: device code → approved (the user approves between the first
	// and the second poll).
	devices  map[string]bool
	access   map[string]bool   // valid access tokens
	refresh  map[string]string // valid refresh tokens → the access token issued with each
	tokenLog                   // token requests by grant_type ("authorization_code" for a code exchange, which GitHub lets leave grant_type out)
}

// GitHubLogin is the user's login name.
const GitHubLogin = "octocat"

// NewGitHub starts a GitHub emulator for the app clientID (secret "" for
// none).
func NewGitHub(t testing.TB, clientID, secret string, expiring bool) *GitHub {
	t.Helper()
	g := &GitHub{ClientID: clientID, ClientSecret: secret, Expiring: expiring, t: t,
		codes: map[string][2]string{}, devices: map[string]bool{}, access: map[string]bool{}, refresh: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", g.authorize)
	mux.HandleFunc("POST /login/username", g.signIn)
	mux.HandleFunc("POST /login/oauth/access_token", g.token)
	mux.HandleFunc("POST /login/device/code", g.deviceCode)
	mux.HandleFunc("GET /api/v3/user", g.user)
	mux.HandleFunc("DELETE /api/v3/applications/{client}/token", g.deleteToken)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// AccessTokenValid reports whether GitHub would still take tok.
func (g *GitHub) AccessTokenValid(tok string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.access[tok]
}

// DropRefreshTokens makes every refresh token invalid (expired after six
// months, or the user revoked the app).
func (g *GitHub) DropRefreshTokens() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refresh = map[string]string{}
}

func grantOf(form url.Values) string {
	if gt := form.Get("grant_type"); gt != "" {
		return gt
	}
	return "authorization_code"
}

// authorize serves a sign-in page (the user signs in and approves). A
// loopback redirect_uri may use any port; its path must be the registered
// callback's (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#loopback-redirect-urls).
func (g *GitHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != g.ClientID {
		http.Error(w, "404: the application was not found", http.StatusNotFound)
		return
	}
	ru, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || ru.Scheme != "http" || ru.Hostname() != "127.0.0.1" || ru.Path != "/callback" {
		g.redirectError(w, r, q, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
		return
	}
	// PKCE (S256) is supported
	// (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#1-request-a-users-github-identity).
	id := q.Encode()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!DOCTYPE html><html><body><h1>Sign in to GitHub</h1><form method="post" action="/login/username"><input type="hidden" name="id" value="%s"><input name="username"><input name="password" type="password"></form></body></html>`, html.EscapeString(id))
}

func (g *GitHub) redirectError(w http.ResponseWriter, r *http.Request, q url.Values, code, desc string) {
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"error": {code}, "error_description": {desc}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
}

func (g *GitHub) signIn(w http.ResponseWriter, r *http.Request) {
	form := formOf(r)
	q, err := url.ParseQuery(form.Get("id"))
	if err != nil || form.Get("username") != authtest.Username || form.Get("password") != authtest.Password {
		http.Error(w, "Incorrect username or password.", http.StatusUnauthorized)
		return
	}
	code := randomHexish(10)
	g.mu.Lock()
	g.codes[code] = [2]string{q.Get("code_challenge"), q.Get("redirect_uri")}
	g.mu.Unlock()
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
}

// answer writes a token-endpoint answer: form-encoded unless the request
// accepts JSON, and with HTTP 200 for errors too
// (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#response,
// https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors).
func answer(w http.ResponseWriter, r *http.Request, v map[string]string) {
	accept, _, _ := mime.ParseMediaType(r.Header.Get("Accept"))
	if accept == "application/json" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(v)
		return
	}
	form := url.Values{}
	for k, s := range v {
		form.Set(k, s)
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	io.WriteString(w, form.Encode())
}

func ghError(w http.ResponseWriter, r *http.Request, code, desc string) {
	answer(w, r, map[string]string{"error": code, "error_description": desc, "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#" + strings.ReplaceAll(code, "_", "-")})
}

func (g *GitHub) token(w http.ResponseWriter, r *http.Request) {
	form := formOf(r)
	g.tokenLog.record(grantOf(form), form)
	// The client ID and secret are form parameters; GitHub documents no
	// other way to send them (the pages above), so a secret in an
	// Authorization header does not count.
	if form.Get("client_id") != g.ClientID {
		ghError(w, r, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
		return
	}
	secretOK := g.ClientSecret != "" && form.Get("client_secret") == g.ClientSecret
	switch grantOf(form) {
	case "authorization_code":
		// The web flow needs the secret, PKCE or not.
		if !secretOK {
			ghError(w, r, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
			return
		}
		g.mu.Lock()
		c, ok := g.codes[form.Get("code")]
		delete(g.codes, form.Get("code"))
		g.mu.Unlock()
		sum := sha256.Sum256([]byte(form.Get("code_verifier")))
		if !ok || (c[0] != "" && base64.RawURLEncoding.EncodeToString(sum[:]) != c[0]) {
			ghError(w, r, "bad_verification_code", "The code passed is incorrect or expired.")
			return
		}
		if c[1] != form.Get("redirect_uri") {
			ghError(w, r, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
			return
		}
	case "urn:ietf:params:oauth:grant-type:device_code":
		// https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#error-codes-for-the-device-flow
		g.mu.Lock()
		approved, ok := g.devices[form.Get("device_code")]
		if ok && !approved {
			g.devices[form.Get("device_code")] = true // the user approves now
		} else {
			delete(g.devices, form.Get("device_code"))
		}
		g.mu.Unlock()
		switch {
		case !ok:
			ghError(w, r, "incorrect_device_code", "The device_code provided is not valid.")
			return
		case !approved:
			ghError(w, r, "authorization_pending", "The authorization request is still pending.")
			return
		}
	case "refresh_token":
		// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens:
		// a used refresh token and its access token stop working. The docs
		// list client_secret; device-flow apps refresh with the client ID
		// alone in practice, so a secret is checked only when sent.
		if form.Get("client_secret") != "" && !secretOK {
			ghError(w, r, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
			return
		}
		g.mu.Lock()
		at, ok := g.refresh[form.Get("refresh_token")]
		delete(g.refresh, form.Get("refresh_token"))
		delete(g.access, at)
		g.mu.Unlock()
		if !ok {
			ghError(w, r, "bad_refresh_token", "The refresh token passed is incorrect or expired.")
			return
		}
	default:
		ghError(w, r, "unsupported_grant_type", "The grant type is not supported.")
		return
	}
	g.issue(w, r)
}

// issue answers with a new token: token_type "bearer" (lowercase); OAuth
// apps get no expires_in and no refresh token, GitHub-App user tokens
// expire after 8 hours with a 6-month refresh token
// (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens).
func (g *GitHub) issue(w http.ResponseWriter, r *http.Request) {
	v := map[string]string{"token_type": "bearer", "scope": ""}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.Expiring {
		v["access_token"] = "ghu_" + randomHexish(18)
		v["expires_in"] = "28800"
		v["refresh_token"] = "ghr_" + randomHexish(36)
		v["refresh_token_expires_in"] = "15897600"
		g.refresh[v["refresh_token"]] = v["access_token"]
	} else {
		v["access_token"] = "gho_" + randomHexish(18)
		v["scope"] = "read:user"
	}
	g.access[v["access_token"]] = true
	answer(w, r, v)
}

// deviceCode: JSON only when asked for, like the token endpoint
// (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#response-parameters).
func (g *GitHub) deviceCode(w http.ResponseWriter, r *http.Request) {
	form := formOf(r)
	if form.Get("client_id") != g.ClientID {
		ghError(w, r, "incorrect_client_credentials", "The client_id is not valid.")
		return
	}
	dc := randomHexish(20)
	g.mu.Lock()
	g.devices[dc] = false
	g.mu.Unlock()
	// GitHub asks for 5 s between polls; 1 keeps the test quick.
	answer(w, r, map[string]string{"device_code": dc, "user_code": "WDJB-MJHT", "verification_uri": g.URL + "/login/device", "expires_in": "900", "interval": "1"})
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "bearer ", "token "} {
		if t, ok := strings.CutPrefix(a, p); ok {
			return t
		}
	}
	return ""
}

// user is GET /user (https://docs.github.com/en/rest/users/users#get-the-authenticated-user).
func (g *GitHub) user(w http.ResponseWriter, r *http.Request) {
	if !g.AccessTokenValid(bearer(r)) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"login": GitHubLogin, "id": 583231, "type": "User"})
}

// deleteToken is DELETE /applications/{client_id}/token with Basic
// client_id:secret and {"access_token": …}
// (https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token):
// 204, or 404 for an unknown token.
func (g *GitHub) deleteToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || r.PathValue("client") != g.ClientID || id != g.ClientID || g.ClientSecret == "" || secret != g.ClientSecret {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body) != nil || body.AccessToken == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
		return
	}
	g.mu.Lock()
	known := g.access[body.AccessToken]
	delete(g.access, body.AccessToken)
	g.mu.Unlock()
	if !known {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func randomHexish(n int) string {
	s := strings.NewReplacer("-", "a", "_", "b").Replace(randomText(n))
	return s
}
