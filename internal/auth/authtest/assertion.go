package authtest

import (
	"crypto"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// AssertionServer is a token and revocation endpoint that authenticates a
// client only by a jwt-bearer client assertion (RFC 7523 §2.2), checking
// what RFC 7523 §3 asks: the signature against the client's registered
// public key, iss = sub = client_id, aud = the token endpoint, an exp in the
// future (and at most 5 minutes after iat), and a jti never seen before
// (§3 item 7: replay). It also refuses a request that carries a secret or a
// Basic header as well (RFC 6749 §2.3: one method per request).
//
// zitadel's op (v3.52) authenticates client-credentials requests only by
// secret, so the private_key_jwt path is checked here.
type AssertionServer struct {
	URL      string // base URL
	TokenURL string // URL + "/token"
	// Header is the JWS header that must name the key: "kid", "x5t#S256",
	// or "" for none.
	Header string
	// Expected, when set, replaces the iss = sub = client_id, aud = token
	// endpoint check: for federated assertions issued by a CI platform
	// (RFC 7523 §3: iss is the issuer, sub the workload, aud as agreed).
	Expected *jwt.Expected

	clientID string
	pub      crypto.PublicKey
	mu       sync.Mutex
	seen     map[string]bool
	errs     []string
	grants   int
}

// NewAssertionServer starts one on 127.0.0.1 for clientID, trusting pub.
func NewAssertionServer(t testing.TB, clientID string, pub crypto.PublicKey, header string) *AssertionServer {
	s := &AssertionServer{clientID: clientID, pub: pub, Header: header, seen: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.TokenURL = srv.URL + "/token"
	return s
}

// Errors lists the requests the server refused, and why.
func (s *AssertionServer) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errs...)
}

// Grants counts the token requests it answered with a token.
func (s *AssertionServer) Grants() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants
}

func (s *AssertionServer) fail(w http.ResponseWriter, msg string) {
	s.mu.Lock()
	s.errs = append(s.errs, msg)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": msg})
}

func (s *AssertionServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		s.fail(w, "not a form POST")
		return
	}
	if _, _, ok := r.BasicAuth(); ok || r.PostForm.Has("client_secret") {
		s.fail(w, "a secret was sent with the assertion")
		return
	}
	if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		s.fail(w, "wrong client_assertion_type")
		return
	}
	tok, err := jwt.ParseSigned(r.PostForm.Get("client_assertion"),
		[]jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA})
	if err != nil {
		s.fail(w, "unparsable assertion")
		return
	}
	h := tok.Headers[0]
	if _, ok := h.ExtraHeaders[jose.HeaderKey(s.Header)]; s.Header != "" && !ok && !(s.Header == "kid" && h.KeyID != "") {
		s.fail(w, "no "+s.Header+" header")
		return
	}
	var cl jwt.Claims
	if err := tok.Claims(s.pub, &cl); err != nil {
		s.fail(w, "bad signature")
		return
	}
	want := jwt.Expected{Issuer: s.clientID, Subject: s.clientID, AnyAudience: jwt.Audience{s.TokenURL}}
	if s.Expected != nil {
		want = *s.Expected
	}
	if err := cl.Validate(want); err != nil {
		s.fail(w, "claims: "+err.Error())
		return
	}
	if cl.Expiry == nil || cl.IssuedAt == nil || cl.Expiry.Time().Sub(cl.IssuedAt.Time()) > 5*time.Minute {
		s.fail(w, "exp missing or too far")
		return
	}
	s.mu.Lock()
	dup := cl.ID == "" || s.seen[cl.ID]
	s.seen[cl.ID] = true
	s.mu.Unlock()
	if dup {
		s.fail(w, "jti missing or replayed")
		return
	}
	if r.URL.Path != "/token" {
		return // revocation: 200
	}
	s.mu.Lock()
	s.grants++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + randomHex(8), "token_type": "Bearer", "expires_in": 300})
}
