package authtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oatcli/oat/internal/dpop"
)

// No OP in this repository checks DPoP (zitadel's op v3 has no RFC 9449
// support), so the checks a server makes are written here, on go-jose, after
// RFC 9449 §4.3 ("Checking DPoP Proofs", https://www.rfc-editor.org/rfc/rfc9449#section-4.3):
//
//  1. exactly one DPoP header;                     6. the signature verifies with jwk;
//  2. a well-formed JWS;                            7. htm is the request's method;
//  3. jti, htm, htu, iat present;                   8. htu is the request's URL without query and fragment;
//  4. typ is dpop+jwt;                              9. a nonce, when the server demands one, is its current one;
//  5. alg asymmetric (not none, not MAC), and      10. iat within an acceptable window;
//     jwk a public key (no private part);          11. with an access token: ath is its hash, and the
//  12. jti not seen before (replay, §11.1).             token's cnf.jkt is jwk's thumbprint (§7.1, §6.1).

// proofAlgs are the asymmetric algorithms a proof may use: "none" and the
// HMAC ones are refused by go-jose's parser (check 5).
var proofAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.PS256, jose.EdDSA}

// proofWindow is how far a proof's iat may be from the server's clock.
const proofWindow = time.Minute

// Proof is a proof a DPoP server accepted.
type Proof struct {
	Grant  string // the token request's grant_type ("" at the resource server)
	JKT    string // the thumbprint of its jwk
	Nonce  string
	Method string
	URL    string
	ATH    string
}

// proofChecker checks proofs and remembers their jti.
type proofChecker struct {
	mu       sync.Mutex
	seen     map[string]bool
	nonce    string // demanded when not ""
	accepted []Proof
	refused  []string
	now      func() time.Time
}

func newProofChecker() *proofChecker {
	return &proofChecker{seen: map[string]bool{}, now: time.Now}
}

// errNonce is a proof without the nonce the server demands (check 9).
var errNonce = errors.New("use_dpop_nonce")

// check runs the §4.3 checks on r's proof for a request to htu (an access
// token's ath and cnf.jkt are checked by the caller through the result).
func (c *proofChecker) check(r *http.Request, htu string) (*Proof, error) {
	vals := r.Header.Values(dpop.Header)
	if len(vals) != 1 {
		return nil, fmt.Errorf("%d DPoP headers, want exactly one", len(vals)) // 1
	}
	tok, err := jwt.ParseSigned(vals[0], proofAlgs)
	if err != nil {
		return nil, fmt.Errorf("not a JWS with an asymmetric alg: %v", err) // 2, 5
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != dpop.ProofType {
		return nil, fmt.Errorf("typ %q, want %s", typ, dpop.ProofType) // 4
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.Valid() {
		return nil, errors.New("no valid jwk header") // 5
	}
	if !h.JSONWebKey.IsPublic() {
		return nil, errors.New("the jwk header holds a private key") // 5
	}
	var cl dpop.Claims
	if err := tok.Claims(h.JSONWebKey.Key, &cl); err != nil {
		return nil, fmt.Errorf("signature: %v", err) // 6
	}
	if cl.ID == "" || cl.Method == "" || cl.URL == "" || cl.IssuedAt == nil {
		return nil, errors.New("jti, htm, htu or iat missing") // 3
	}
	if cl.Method != r.Method {
		return nil, fmt.Errorf("htm %q, request %s", cl.Method, r.Method) // 7
	}
	if !sameHTU(cl.URL, htu) {
		return nil, fmt.Errorf("htu %q, request %q", cl.URL, htu) // 8
	}
	if d := c.now().Sub(cl.IssuedAt.Time()); d > proofWindow || d < -proofWindow {
		return nil, fmt.Errorf("iat %v off by %v", cl.IssuedAt.Time(), d) // 10
	}
	jkt, err := dpop.Thumbprint(h.JSONWebKey)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nonce != "" && cl.Nonce != c.nonce {
		return nil, errNonce // 9
	}
	if c.seen[cl.ID] {
		return nil, errors.New("jti replayed") // 12
	}
	c.seen[cl.ID] = true
	return &Proof{JKT: jkt, Nonce: cl.Nonce, Method: cl.Method, URL: cl.URL, ATH: cl.ATH}, nil
}

// sameHTU compares htu values as RFC 9449 §4.3 asks: without query and
// fragment, after syntax-based normalisation (scheme and host case).
func sameHTU(got, want string) bool {
	g, err1 := dpop.HTU(got)
	w, err2 := dpop.HTU(want)
	return err1 == nil && err2 == nil && g == w && !strings.ContainsAny(got, "?#")
}

func (c *proofChecker) record(p Proof) {
	c.mu.Lock()
	c.accepted = append(c.accepted, p)
	c.mu.Unlock()
}
func (c *proofChecker) refuse(why string) {
	c.mu.Lock()
	c.refused = append(c.refused, why)
	c.mu.Unlock()
}
func (c *proofChecker) setNonce(n string)    { c.mu.Lock(); c.nonce = n; c.mu.Unlock() }
func (c *proofChecker) currentNonce() string { c.mu.Lock(); defer c.mu.Unlock(); return c.nonce }

func (c *proofChecker) proofs() []Proof {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Proof(nil), c.accepted...)
}

func (c *proofChecker) refusals() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.refused...)
}

// DPoPServer is a DPoP-checking token endpoint in front of a real one (the
// test OP's): it checks each request's proof (§4.3), demands a nonce when
// told to (§8), refuses a refresh token with a proof of another key than
// the one it was issued to (§5: a public client's refresh tokens are bound),
// forwards the request, and answers with token_type DPoP and an access token
// of its own: a JWT (ES256, its own key) whose cnf.jkt is the proof's key
// thumbprint (§6.1). Set the profile's token_url to TokenURL.
type DPoPServer struct {
	URL      string // base URL, the access tokens' iss
	TokenURL string // URL + "/token"

	upstream string
	key      *ecdsa.PrivateKey
	check    *proofChecker
	mu       sync.Mutex
	rtJKT    map[string]string // refresh token → jkt
}

// NewDPoPServer starts one on 127.0.0.1 in front of the token endpoint upstream.
func NewDPoPServer(t testing.TB, upstream string) *DPoPServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := &DPoPServer{upstream: upstream, key: key, check: newProofChecker(), rtJKT: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL, s.TokenURL = srv.URL, srv.URL+"/token"
	return s
}

// DemandNonce makes every later request need nonce n in its proof; "" stops.
func (s *DPoPServer) DemandNonce(n string) { s.check.setNonce(n) }

// Proofs lists the proofs it accepted, in order.
func (s *DPoPServer) Proofs() []Proof { return s.check.proofs() }

// Refused lists why it refused requests.
func (s *DPoPServer) Refused() []string { return s.check.refusals() }

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (s *DPoPServer) serve(w http.ResponseWriter, r *http.Request) {
	if n := s.check.currentNonce(); n != "" {
		w.Header().Set(dpop.NonceHeader, n)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/token" {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		oauthError(w, 400, "invalid_request", "bad form")
		return
	}
	p, err := s.check.check(r, s.TokenURL)
	if errors.Is(err, errNonce) {
		s.check.refuse("nonce")
		oauthError(w, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof")
		return
	}
	if err != nil {
		s.check.refuse(err.Error())
		oauthError(w, 400, "invalid_dpop_proof", err.Error())
		return
	}
	p.Grant = form.Get("grant_type")
	if p.Grant == "refresh_token" {
		s.mu.Lock()
		bound, ok := s.rtJKT[form.Get("refresh_token")]
		s.mu.Unlock()
		if ok && bound != p.JKT {
			s.check.refuse("refresh token bound to another key")
			oauthError(w, 400, "invalid_grant", "refresh token is bound to another DPoP key")
			return
		}
	}
	s.check.record(*p)
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, s.upstream, bytes.NewReader(body))
	if err != nil {
		oauthError(w, 500, "server_error", err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if a := r.Header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		oauthError(w, 502, "server_error", err.Error())
		return
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(rb, &m) != nil {
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(rb)
		return
	}
	life := 300 * time.Second
	if n, ok := m["expires_in"].(float64); ok {
		life = time.Duration(n) * time.Second
	}
	at, err := s.mint(p.JKT, life, idTokenSub(m["id_token"]))
	if err != nil {
		oauthError(w, 500, "server_error", err.Error())
		return
	}
	m["access_token"], m["token_type"] = at, dpop.TokenType
	if rt, ok := m["refresh_token"].(string); ok && rt != "" {
		s.mu.Lock()
		s.rtJKT[rt] = p.JKT
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(m)
}

// atClaims are the claims of the access tokens it mints.
type atClaims struct {
	jwt.Claims
	Cnf struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// idTokenSub is the sub of the upstream's ID token (read, not verified:
// it came from the OP over loopback), "" when there is none.
func idTokenSub(v any) string {
	raw, _ := v.(string)
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return ""
	}
	var c jwt.Claims
	if tok.UnsafeClaimsWithoutVerification(&c) != nil {
		return ""
	}
	return c.Subject
}

func (s *DPoPServer) mint(jkt string, life time.Duration, sub string) (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: s.key}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return "", err
	}
	now := time.Now()
	var c atClaims
	c.Issuer, c.ID = s.URL, rand.Text()
	c.IssuedAt, c.Expiry = jwt.NewNumericDate(now), jwt.NewNumericDate(now.Add(life))
	c.Cnf.JKT, c.Subject = jkt, sub
	return jwt.Signed(sig).Claims(c).Serialize()
}

// DPoPAPI is a DPoP-protected resource server (RFC 9449 §7): it accepts a
// request only with Authorization: DPoP <token>, where the token is one its
// DPoPServer minted and has not expired, and a DPoP proof that passes every
// §4.3 check, whose ath is the token's hash and whose key is the token's
// cnf.jkt. A Bearer token, or a DPoP token without a proof, gets 401 with a
// DPoP challenge. It answers 200 with {"ok":true}, and the token's sub
// (from the OP's ID token) when it has one, as a UserInfo endpoint would.
type DPoPAPI struct {
	*httptest.Server
	as    *DPoPServer
	check *proofChecker
}

// NewDPoPAPI starts one on 127.0.0.1 trusting as's tokens.
func NewDPoPAPI(t testing.TB, as *DPoPServer) *DPoPAPI {
	t.Helper()
	a := &DPoPAPI{as: as, check: newProofChecker()}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

// DemandNonce makes every later request need nonce n in its proof; "" stops.
func (a *DPoPAPI) DemandNonce(n string) { a.check.setNonce(n) }

// Proofs lists the proofs it accepted, in order.
func (a *DPoPAPI) Proofs() []Proof { return a.check.proofs() }

// Refused lists why it refused requests.
func (a *DPoPAPI) Refused() []string { return a.check.refusals() }

func (a *DPoPAPI) refuse(w http.ResponseWriter, code, why string) {
	a.check.refuse(why)
	if n := a.check.currentNonce(); n != "" {
		w.Header().Set(dpop.NonceHeader, n)
	}
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`DPoP error=%q, algs="ES256"`, code))
	w.WriteHeader(http.StatusUnauthorized)
}

func (a *DPoPAPI) serve(w http.ResponseWriter, r *http.Request) {
	scheme, at, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, dpop.TokenType) || at == "" {
		a.refuse(w, "invalid_token", "Authorization scheme "+scheme+", want DPoP")
		return
	}
	tok, err := jwt.ParseSigned(at, []jose.SignatureAlgorithm{jose.ES256})
	var c atClaims
	if err == nil {
		err = tok.Claims(&a.as.key.PublicKey, &c)
	}
	if err == nil {
		err = c.ValidateWithLeeway(jwt.Expected{Issuer: a.as.URL, Time: time.Now()}, 0)
	}
	if err != nil || c.Cnf.JKT == "" {
		a.refuse(w, "invalid_token", fmt.Sprintf("access token: %v (cnf.jkt %q)", err, c.Cnf.JKT))
		return
	}
	p, err := a.check.check(r, "http://"+r.Host+r.URL.Path)
	if errors.Is(err, errNonce) {
		a.refuse(w, "use_dpop_nonce", "nonce")
		return
	}
	if err != nil {
		a.refuse(w, "invalid_dpop_proof", err.Error())
		return
	}
	if p.ATH != dpop.ATH(at) {
		a.refuse(w, "invalid_dpop_proof", "ath is not the access token's hash") // 11
		return
	}
	if p.JKT != c.Cnf.JKT {
		a.refuse(w, "invalid_token", "the proof's key is not the token's cnf.jkt") // 11
		return
	}
	a.check.record(*p)
	w.Header().Set("Content-Type", "application/json")
	if c.Subject != "" {
		fmt.Fprintf(w, `{"ok":true,"sub":%q}`+"\n", c.Subject)
		return
	}
	io.WriteString(w, `{"ok":true}`+"\n")
}
