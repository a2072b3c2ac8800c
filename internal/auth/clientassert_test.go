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
	"os"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
)

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
			srv := authtest.NewAssertionServer(t, "machine", tc.pub, tc.header)
			c := &Client{
				Profile:   config.Profile{ClientID: "machine", ClientAuth: config.ClientAuthPrivateKeyJWT, ClientKeyFile: tc.file},
				Secret:    "must-not-be-sent",
				Endpoints: &Endpoints{TokenURL: srv.URL + "/token", RevocationURL: srv.URL + "/revoke"},
			}
			for range 2 { // a second request must carry a new jti
				r, err := c.ClientCredentials(context.Background())
				if err != nil {
					t.Fatalf("client credentials: %v (server: %v)", err, srv.Errors())
				}
				if r.Token.AccessToken == "" {
					t.Fatal("no access token")
				}
			}
			if err := c.Revoke(context.Background(), "tok", "access_token"); err != nil {
				t.Fatalf("revoke: %v (server: %v)", err, srv.Errors())
			}
			if len(srv.Errors()) > 0 || srv.Grants() != 2 {
				t.Fatalf("server refused: %v (%d grants)", srv.Errors(), srv.Grants())
			}
		})
	}
}
