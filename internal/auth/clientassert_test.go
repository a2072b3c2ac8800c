package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oatcli/oat/internal/config"
)

// rfc7523Server is a token and revocation endpoint that authenticates the
// client only by a jwt-bearer client assertion, checking RFC 7523 §3:
// signature, iss = sub = client_id, aud = the token endpoint, exp in the
// future and short, a jti never seen before; and that no secret or Basic
// header came along (RFC 6749 §2.3: one method per request).
func rfc7523Server(t *testing.T, clientID string, pub crypto.PublicKey, wantHeader string) (*httptest.Server, *[]string) {
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		errs []string
		srv  *httptest.Server
	)
	fail := func(w http.ResponseWriter, msg string) {
		mu.Lock()
		errs = append(errs, msg)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
	}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if _, _, ok := r.BasicAuth(); ok || r.PostForm.Has("client_secret") {
			fail(w, "a secret was sent with the assertion")
			return
		}
		if r.PostForm.Get("client_assertion_type") != AssertionTypeJWTBearer {
			fail(w, "wrong client_assertion_type")
			return
		}
		tok, err := jwt.ParseSigned(r.PostForm.Get("client_assertion"), []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256})
		if err != nil {
			fail(w, "unparsable assertion")
			return
		}
		if _, ok := tok.Headers[0].ExtraHeaders[jose.HeaderKey(wantHeader)]; !ok && tok.Headers[0].KeyID == "" {
			fail(w, "no "+wantHeader+" header")
			return
		}
		var cl jwt.Claims
		if err := tok.Claims(pub, &cl); err != nil {
			fail(w, "bad signature")
			return
		}
		if err := cl.Validate(jwt.Expected{Issuer: clientID, Subject: clientID, AnyAudience: jwt.Audience{srv.URL + "/token"}}); err != nil {
			fail(w, "claims: "+err.Error())
			return
		}
		if cl.Expiry == nil || cl.IssuedAt == nil || cl.Expiry.Time().Sub(cl.IssuedAt.Time()) > 5*time.Minute {
			fail(w, "exp missing or too far")
			return
		}
		mu.Lock()
		dup := cl.ID == "" || seen[cl.ID]
		seen[cl.ID] = true
		mu.Unlock()
		if dup {
			fail(w, "jti missing or replayed")
			return
		}
		if r.URL.Path == "/revoke" {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + cl.ID, "token_type": "Bearer", "expires_in": 300})
	}))
	t.Cleanup(srv.Close)
	return srv, &errs
}

func TestPrivateKeyJWTClientCredentialsAndRevoke(t *testing.T) {
	dir := t.TempDir()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)

	// EC key in SEC1 PEM with its certificate: x5t#S256 in the header.
	der, _ := x509.MarshalECPrivateKey(ecKey)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecKey.PublicKey, ecKey)
	if err != nil {
		t.Fatal(err)
	}
	pemFile := filepath.Join(dir, "key.pem")
	os.WriteFile(pemFile, append(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})...), 0o600)

	// Ed25519 key as a JWK with a kid.
	jwkBytes, _ := json.Marshal(jose.JSONWebKey{Key: edKey, KeyID: "k1"})
	jwkFile := filepath.Join(dir, "key.jwk")
	os.WriteFile(jwkFile, jwkBytes, 0o600)

	for _, tc := range []struct {
		name, file, header string
		pub                crypto.PublicKey
	}{
		{"pem+cert", pemFile, "x5t#S256", &ecKey.PublicKey},
		{"jwk", jwkFile, "kid", edKey.Public()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, errs := rfc7523Server(t, "machine", tc.pub, tc.header)
			c := &Client{
				Profile:   config.Profile{ClientID: "machine", ClientAuth: config.ClientAuthPrivateKeyJWT, ClientKeyFile: tc.file},
				Secret:    "must-not-be-sent",
				Endpoints: &Endpoints{TokenURL: srv.URL + "/token", RevocationURL: srv.URL + "/revoke"},
			}
			for range 2 { // a second request must carry a new jti
				r, err := c.ClientCredentials(context.Background())
				if err != nil {
					t.Fatalf("client credentials: %v (server: %v)", err, *errs)
				}
				if r.Token.AccessToken == "" {
					t.Fatal("no access token")
				}
			}
			if err := c.Revoke(context.Background(), "tok", "access_token"); err != nil {
				t.Fatalf("revoke: %v (server: %v)", err, *errs)
			}
			if len(*errs) > 0 {
				t.Fatalf("server refused: %v", *errs)
			}
		})
	}
}
