package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
)

// keyClient is a client of op's KeyClientID with client_auth
// private_key_jwt and client_key_file keyFile; no secret.
func keyClient(t *testing.T, op *authtest.OP, flow, keyFile string) *auth.Client {
	t.Helper()
	p := op.Profile(flow)
	p.ClientID = op.KeyClientID
	p.ClientSecretEnv = ""
	p.ClientAuth = config.ClientAuthPrivateKeyJWT
	p.ClientKeyFile = keyFile
	hc := newHTTP(t)
	e, err := auth.ResolveEndpoints(context.Background(), hc, p)
	if err != nil {
		t.Fatalf("ResolveEndpoints: %v", err)
	}
	return &auth.Client{HTTP: hc, Profile: p, Endpoints: e}
}

// recordRequests records the form and Authorization header of every POST.
type recorded struct {
	path  string
	form  url.Values
	basic bool
}

func recordRequests(op *authtest.OP) func() []recorded {
	var mu sync.Mutex
	var got []recorded
	op.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost {
			_, _, basic := r.BasicAuth()
			mu.Lock()
			got = append(got, recorded{path: r.URL.Path, form: authtest.Form(r), basic: basic})
			mu.Unlock()
		}
		return false
	})
	return func() []recorded {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

func writePEM(t *testing.T, blocks ...*pem.Block) string {
	t.Helper()
	var b []byte
	for _, bl := range blocks {
		b = append(b, pem.EncodeToMemory(bl)...)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pkcs8(t *testing.T, k any) *pem.Block {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
}

func thumbprint(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

type assertionClaims struct {
	Iss string   `json:"iss"`
	Sub string   `json:"sub"`
	Aud []string `json:"aud"`
	Iat int64    `json:"iat"`
	Exp int64    `json:"exp"`
	Jti string   `json:"jti"`
}

// checkAssertion verifies the assertion in form with pub and returns its
// header and claims.
func checkAssertion(t *testing.T, form url.Values, pub crypto.PublicKey, alg jose.SignatureAlgorithm) (jose.Header, assertionClaims) {
	t.Helper()
	if got := form.Get("client_assertion_type"); got != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		t.Fatalf("client_assertion_type = %q", got)
	}
	if form.Has("client_secret") {
		t.Fatal("a client_secret was sent with the assertion")
	}
	jws, err := jose.ParseSignedCompact(form.Get("client_assertion"), []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("client_assertion: %v", err)
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		t.Fatalf("client_assertion signature: %v", err)
	}
	var c assertionClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header, c
}

func TestPrivateKeyJWTOPClientCredentials(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ecDER, err := x509.MarshalECPrivateKey(ec256)
	if err != nil {
		t.Fatal(err)
	}
	jwkKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwkJSON, err := json.Marshal(jose.JSONWebKey{Key: jwkKey, KeyID: "my-key-1", Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		file func(t *testing.T) string
		pub  crypto.PublicKey
		alg  jose.SignatureAlgorithm
		kid  string // "" = the thumbprint
	}{
		{"RSA PKCS#1", func(t *testing.T) string {
			return writePEM(t, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
		}, rsaKey.Public(), jose.RS256, ""},
		{"RSA PKCS#8", func(t *testing.T) string { return writePEM(t, pkcs8(t, rsaKey)) }, rsaKey.Public(), jose.RS256, ""},
		{"EC P-256 SEC1", func(t *testing.T) string {
			return writePEM(t, &pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})
		}, ec256.Public(), jose.ES256, ""},
		{"EC P-384 PKCS#8", func(t *testing.T) string { return writePEM(t, pkcs8(t, ec384)) }, ec384.Public(), jose.ES384, ""},
		{"Ed25519 PKCS#8", func(t *testing.T) string { return writePEM(t, pkcs8(t, edKey)) }, edKey.Public(), jose.EdDSA, ""},
		{"JWK", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "key.jwk")
			if err := os.WriteFile(path, jwkJSON, 0o600); err != nil {
				t.Fatal(err)
			}
			// A symbolic link to the key is followed (the user's file).
			link := filepath.Join(t.TempDir(), "link.jwk")
			if err := os.Symlink(path, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, jwkKey.Public(), jose.ES256, "my-key-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op := authtest.NewOP(t)
			kid := tc.kid
			if kid == "" {
				kid = thumbprint(t, tc.pub)
			}
			op.AddClientKey(kid, tc.pub)
			c := keyClient(t, op, config.FlowClientCredentials, tc.file(t))
			requests := recordRequests(op)
			ctx := ctxTimeout(t, 10*time.Second)
			for range 2 {
				res, err := c.ClientCredentials(ctx)
				if err != nil {
					t.Fatalf("ClientCredentials: %v", err)
				}
				if res.Token.AccessToken == "" {
					t.Fatal("no access token")
				}
			}
			got := requests()
			if len(got) != 2 {
				t.Fatalf("%d requests, want 2", len(got))
			}
			jtis := map[string]bool{}
			for _, r := range got {
				if r.basic {
					t.Error("Basic auth sent with a client assertion")
				}
				h, cl := checkAssertion(t, r.form, tc.pub, tc.alg)
				if h.KeyID != kid {
					t.Errorf("kid = %q, want %q", h.KeyID, kid)
				}
				if cl.Iss != op.KeyClientID || cl.Sub != op.KeyClientID {
					t.Errorf("iss/sub = %q/%q, want the client ID", cl.Iss, cl.Sub)
				}
				if !slices.Contains(cl.Aud, c.Endpoints.TokenURL) {
					t.Errorf("aud = %q, want the token endpoint %s", cl.Aud, c.Endpoints.TokenURL)
				}
				if life := cl.Exp - cl.Iat; life <= 0 || life > 300 {
					t.Errorf("exp - iat = %ds, want (0, 300]", life)
				}
				if cl.Jti == "" || jtis[cl.Jti] {
					t.Errorf("jti %q empty or reused", cl.Jti)
				}
				jtis[cl.Jti] = true
			}
		})
	}
}

// A PEM file with the key's certificate names it by x5t#S256, not kid.
func TestPrivateKeyJWTOPCertificateThumbprint(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "oat test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	file := writePEM(t, pkcs8(t, key), &pem.Block{Type: "CERTIFICATE", Bytes: der})
	op := authtest.NewOP(t)
	op.AddClientKey("", key.Public())
	c := keyClient(t, op, config.FlowClientCredentials, file)
	requests := recordRequests(op)
	if _, err := c.ClientCredentials(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatalf("ClientCredentials: %v", err)
	}
	h, _ := checkAssertion(t, requests()[0].form, key.Public(), jose.ES256)
	sum := sha256.Sum256(der)
	if got := h.ExtraHeaders["x5t#S256"]; got != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("x5t#S256 = %v, want the certificate's SHA-256", got)
	}
	if h.KeyID != "" {
		t.Errorf("kid = %q, want none beside x5t#S256", h.KeyID)
	}
}

// A server that refuses the client's assertion: the invalid_client hint
// names the key, not a secret the profile does not have.
func TestPrivateKeyJWTOPInvalidClientHint(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	op := authtest.NewOP(t) // the key is never registered
	c := keyClient(t, op, config.FlowClientCredentials, writePEM(t, pkcs8(t, key)))
	_, err := c.ClientCredentials(ctxTimeout(t, 10*time.Second))
	var se *auth.ServerError
	if !errors.As(err, &se) || se.Code != "invalid_client" {
		t.Fatalf("err = %v, want invalid_client", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "public key of client_key_file") || strings.Contains(msg, "secret") {
		t.Errorf("hint %q: want the key named, no secret", msg)
	}
}

// Code exchange, refresh, revocation and introspection all authenticate the
// client with a fresh assertion, checked by the OP itself.
func TestPrivateKeyJWTOPEveryClientRequest(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	op := authtest.NewOP(t)
	op.AddClientKey(thumbprint(t, key.Public()), key.Public())
	c := keyClient(t, op, config.FlowPKCE, writePEM(t, pkcs8(t, key)))
	requests := recordRequests(op)
	first := login(t, c)
	ctx := ctxTimeout(t, 10*time.Second)
	second, err := c.Refresh(ctx, first.Token.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	in, err := c.Introspect(ctx, second.Token.AccessToken, "access_token")
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	if !in.Active {
		t.Error("introspection: token not active")
	}
	if err := c.Revoke(ctx, second.Token.RefreshToken, "refresh_token"); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	var paths []string
	for _, r := range requests() {
		if r.form.Get("client_assertion") == "" || r.basic {
			continue
		}
		checkAssertion(t, r.form, key.Public(), jose.ES256)
		paths = append(paths, r.path)
	}
	want := []string{"/oauth/token", "/oauth/token", "/oauth/introspect", "/revoke"}
	if !slices.Equal(paths, want) {
		t.Errorf("requests with an assertion: %v, want %v", paths, want)
	}
}

func TestPrivateKeyJWTOPBadKeyFile(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubJWK, _ := json.Marshal(jose.JSONWebKey{Key: pk.Public()})
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	// A certificate for another key than the file's private key.
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	otherCert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, otherKey.Public(), otherKey)
	if err != nil {
		t.Fatal(err)
	}
	mismatch := writePEM(t, pkcs8(t, pk), &pem.Block{Type: "CERTIFICATE", Bytes: otherCert})
	for name, tc := range map[string]struct{ file, want string }{
		"cert of another key": {mismatch, "the certificate is not for the private key"},
		"missing":             {filepath.Join(dir, "nope.pem"), "no such file"},
		"garbage":             {write("g.pem", "not a key"), "no private key found"},
		"public":              {write("p.jwk", string(pubJWK)), "public key"},
		"small":               {write("s.pem", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}))), "at least 2048"},
		"folder":              {dir, "client_key_file"},
		"no file":             {"", "needs client_key_file"},
		"bad json":            {write("b.jwk", "{nope"), "not a valid JWK"},
	} {
		c := keyClient(t, op, config.FlowClientCredentials, tc.file)
		requests := recordRequests(op)
		_, err := c.ClientCredentials(context.Background())
		var ce *config.Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want a *config.Error (exit 2)", name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %q, want one line with %q", name, err, tc.want)
		}
		if n := len(requests()); n != 0 {
			t.Errorf("%s: %d requests sent with a bad key", name, n)
		}
	}
}
