// base_a.go: the base of the Entra ID, Google and GitLab emulators. Each is
// quirk middleware in front of a real OP (authtest's zitadel/oidc OP), which
// does the protocol work (codes, PKCE, refresh rotation, device codes,
// revocation); the emulator reshapes paths, requests and answers as the
// provider does. GitHub, which has no OIDC, is a standalone handler
// (github.go). All servers bind 127.0.0.1 (httptest) and stop when the test
// ends.

package provtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oatcli/oat/internal/auth/authtest"
)

// front is an emulator in front of an authtest.OP: a server of its own
// (URL), a signing key for the ID tokens it re-issues under the provider's
// issuer, and the client ID the user registered (ClientID), which it maps
// to the OP's public client (code, refresh) or device client (device code).
type front struct {
	t        testing.TB
	OP       *authtest.OP
	URL      string
	ClientID string
	Mux      *http.ServeMux

	key *rsa.PrivateKey
	kid string

	mu        sync.Mutex
	rtClient  map[string]string // the OP's refresh token → the OP client it was issued to
	userCodes map[string]string // device_code → user_code, for approval on the first poll
	tokenLog                    // every token request, by its grant_type
}

func newFront(t testing.TB, clientID string, opts ...authtest.Option) *front {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &front{t: t, OP: authtest.NewOP(t, opts...), ClientID: clientID, Mux: http.NewServeMux(), key: key,
		kid: "emu-" + randomText(4), rtClient: map[string]string{}, userCodes: map[string]string{}}
	srv := httptest.NewServer(f.Mux)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *front) record(form url.Values) { f.tokenLog.record(form.Get("grant_type"), form) }

// jwks serves the emulator's public key.
func (f *front) jwks(w http.ResponseWriter, _ *http.Request) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.key.PublicKey, KeyID: f.kid, Algorithm: "RS256", Use: "sig"}}}
	writeJSON(w, http.StatusOK, set)
}

// toOPAuthorize sends the browser on to the OP's authorization endpoint with
// q, the client ID mapped to the OP's public client.
func (f *front) toOPAuthorize(w http.ResponseWriter, r *http.Request, q url.Values) {
	if q.Get("client_id") != f.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	q.Set("client_id", f.OP.PublicClientID)
	http.Redirect(w, r, f.OP.Issuer+"/auth?"+q.Encode(), http.StatusFound)
}

// opClientFor maps a token request to the OP client that must see it.
func (f *front) opClientFor(form url.Values) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch form.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code":
		return f.OP.DeviceClientID
	case "refresh_token":
		if c, ok := f.rtClient[form.Get("refresh_token")]; ok {
			return c
		}
	}
	return f.OP.PublicClientID
}

// forward posts form to the OP at path as opClient and returns its status
// and JSON answer. A device-code poll approves the pending code first (the
// user approves at once).
func (f *front) forward(path, opClient string, form url.Values) (int, map[string]any) {
	form = cloneValues(form)
	form.Set("client_id", opClient)
	form.Del("client_secret")
	if dc := form.Get("device_code"); dc != "" {
		f.mu.Lock()
		uc := f.userCodes[dc]
		delete(f.userCodes, dc)
		f.mu.Unlock()
		if uc != "" {
			f.OP.ApproveDevice(f.t, uc)
		}
	}
	resp, err := http.PostForm(f.OP.Issuer+path, form)
	if err != nil {
		return http.StatusBadGateway, map[string]any{"error": "temporarily_unavailable"}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(strings.TrimSpace(string(b))) > 0 && json.Unmarshal(b, &m) != nil {
		m = map[string]any{"error": "server_error", "error_description": "the OP answered no JSON"}
	}
	if m == nil {
		m = map[string]any{}
	}
	if rt, ok := m["refresh_token"].(string); ok && rt != "" {
		f.mu.Lock()
		f.rtClient[rt] = opClient
		f.mu.Unlock()
	}
	if uc, ok := m["user_code"].(string); ok {
		if dc, ok := m["device_code"].(string); ok {
			f.mu.Lock()
			f.userCodes[dc] = uc
			f.mu.Unlock()
		}
	}
	return resp.StatusCode, m
}

// reissueIDToken re-signs the answer's ID token (if any) with the
// emulator's key, aud set to the registered client ID, after edit changes
// its claims (iss, provider claims).
func (f *front) reissueIDToken(m map[string]any, edit func(claims map[string]any)) {
	raw, ok := m["id_token"].(string)
	if !ok || raw == "" {
		return
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return
	}
	claims["aud"] = f.ClientID
	delete(claims, "azp")
	edit(claims)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: f.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", f.kid))
	if err != nil {
		f.t.Error(err)
		return
	}
	body, _ := json.Marshal(claims)
	jws, err := signer.Sign(body)
	if err != nil {
		f.t.Error(err)
		return
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		f.t.Error(err)
		return
	}
	m["id_token"] = s
}

// withoutScope removes one scope from a space-separated list.
func withoutScope(scopes, drop string) string {
	var out []string
	for _, s := range strings.Fields(scopes) {
		if s != drop {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

func hasScope(scopes, s string) bool {
	for _, v := range strings.Fields(scopes) {
		if v == s {
			return true
		}
	}
	return false
}

// formOf parses a POST's form (body only).
func formOf(r *http.Request) url.Values {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	v, _ := url.ParseQuery(string(b))
	if v == nil {
		v = url.Values{}
	}
	return v
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
