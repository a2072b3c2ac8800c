package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A bad client_key_file is the user's configuration: one line naming the
// file's problem, exit 2, and no request sent.
func TestTokenPrivateKeyJWTBadKeyFile(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A key with the certificate of another key.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, other.Public(), other)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	mismatch := write("m.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))+
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})))
	for name, tc := range map[string]struct{ file, want string }{
		"cert of another key": {mismatch, "the certificate is not for the private key"},
		"garbage":             {write("g.pem", "not a key\n"), "no private key found"},
		"bad JWK":             {write("b.jwk", "{nope"), "not a valid JWK"},
		"missing":             {filepath.Join(dir, "nope.pem"), "client_key_file"},
		"folder":              {dir, "client_key_file"},
		"encrypted":           {write("e.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"), "encrypted"},
	} {
		e.writeConfig(fmt.Sprintf(`[profiles.ci]
token_url = "http://127.0.0.1:1/token"
client_id = "ci-bot"
client_auth = "private_key_jwt"
client_key_file = %q
flow = "client-credentials"
`, tc.file))
		code := e.run("token", "-p", "ci")
		msg := e.errOut.String()
		if code != ExitUsage || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and one line with %q", name, code, msg, tc.want)
		}
	}
}
