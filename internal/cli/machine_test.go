package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
)

// A CI job with only a private key file: oat token gets a token by
// private_key_jwt, with no client secret anywhere in the environment.
func TestTokenClientCredentialsPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	e := newTestEnv(t)
	keyFile := filepath.Join(e.dir, "client.jwk.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := authtest.NewAssertionServer(t, "ci-bot", &key.PublicKey, "")
	e.writeConfig(fmt.Sprintf(`[profiles.ci]
token_url = %q
client_id = "ci-bot"
client_auth = "private_key_jwt"
client_key_file = %q
flow = "client-credentials"
`, srv.TokenURL, keyFile))
	for k := range e.env {
		if strings.Contains(strings.ToUpper(k), "SECRET") {
			t.Fatalf("the environment holds %s", k)
		}
	}
	e.mustRun(0, "token", "-p", "ci", "-o", "header")
	if !strings.HasPrefix(e.out.String(), "Authorization: Bearer at-") || srv.Grants() != 1 {
		t.Fatalf("stdout %q stderr %q, server refused %v", e.out, e.errOut, srv.Errors())
	}
}
