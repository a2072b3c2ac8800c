package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

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

// fakeActions is GitHub Actions' ID token service: GET with the request
// token as Bearer and ?audience=, answering {"value": "<jwt>"} signed by
// the fake Actions issuer's key, with a fresh jti each time.
func fakeActions(t *testing.T, key *ecdsa.PrivateKey, reqToken string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "actions"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+reqToken {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		calls.Add(1)
		now := time.Now()
		tok, err := jwt.Signed(signer).Claims(jwt.Claims{
			Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:oatcli/oat:ref:refs/heads/main",
			Audience: jwt.Audience{r.URL.Query().Get("audience")}, IssuedAt: jwt.NewNumericDate(now),
			Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: rand.Text(),
		}).Serialize()
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"value": tok})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// The "done when" of #15: a CI job configured only with client_assertion =
// "github-actions" gets and renews a token, no secret anywhere.
func TestTokenGitHubActionsFederatedAssertion(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	actions, calls := fakeActions(t, key, "req-token")
	srv := authtest.NewAssertionServer(t, "ci-app", &key.PublicKey, "kid")
	srv.Expected = &jwt.Expected{Issuer: "https://token.actions.githubusercontent.com",
		Subject: "repo:oatcli/oat:ref:refs/heads/main", AnyAudience: jwt.Audience{"api://AzureADTokenExchange"}}
	e := newTestEnv(t)
	e.writeConfig(fmt.Sprintf(`[profiles.ci]
token_url = %q
client_id = "ci-app"
client_assertion = "github-actions"
client_assertion_audience = "api://AzureADTokenExchange"
flow = "client-credentials"
`, srv.TokenURL))

	// Without id-token: write the variables are missing: a clear error.
	if code := e.run("token", "-p", "ci"); code == 0 || !strings.Contains(e.errOut.String(), "id-token: write") {
		t.Fatalf("exit %d, stderr %q", code, e.errOut)
	}

	e.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = actions.URL + "/token?api-version=2.0"
	e.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "req-token"
	e.env["GITHUB_ACTIONS"] = "true"
	for k := range e.env {
		if strings.Contains(strings.ToUpper(k), "SECRET") {
			t.Fatalf("the environment holds %s", k)
		}
	}
	e.mustRun(0, "token", "-p", "ci", "-o", "json")
	first := e.out.String()
	e.mustRun(0, "refresh", "-p", "ci", "-o", "json") // renews now
	if srv.Grants() != 2 || calls.Load() != 2 || e.out.String() == first {
		t.Fatalf("%d grants, %d Actions tokens; server refused %v; stderr %q", srv.Grants(), calls.Load(), srv.Errors(), e.errOut)
	}
}

// env: and file: sources; the file is re-read on every renewal.
func TestTokenFederatedAssertionEnvAndFile(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	mint := func() string {
		s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "https://gitlab.example", Subject: "project_path:g/p",
			Audience: jwt.Audience{"oat"}, IssuedAt: jwt.NewNumericDate(time.Now()),
			Expiry: jwt.NewNumericDate(time.Now().Add(5 * time.Minute)), ID: rand.Text()}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	srv := authtest.NewAssertionServer(t, "ci-app", &key.PublicKey, "")
	srv.Expected = &jwt.Expected{Issuer: "https://gitlab.example", Subject: "project_path:g/p", AnyAudience: jwt.Audience{"oat"}}
	e := newTestEnv(t)
	tokFile := filepath.Join(e.dir, "sa-token")
	if err := os.WriteFile(tokFile, []byte(mint()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.env["CI_JOB_JWT"] = mint()
	e.writeConfig(fmt.Sprintf(`[profiles.gitlab]
token_url = %q
client_id = "ci-app"
client_assertion = "env:CI_JOB_JWT"
flow = "client-credentials"

[profiles.k8s]
token_url = %q
client_id = "ci-app"
client_assertion = "file:%s"
flow = "client-credentials"
`, srv.TokenURL, srv.TokenURL, tokFile))
	e.mustRun(0, "token", "-p", "gitlab", "-v")
	if strings.Contains(e.errOut.String(), e.env["CI_JOB_JWT"]) || strings.Contains(e.errOut.String(), "eyJ") {
		t.Fatalf("-v logged the assertion: %q", e.errOut)
	}
	e.mustRun(0, "token", "-p", "k8s")
	// The projected token rotates: the renewal must send the new one (the
	// server refuses a replayed jti).
	if err := os.WriteFile(tokFile, []byte(mint()), 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustRun(0, "refresh", "-p", "k8s")
	if srv.Grants() != 3 {
		t.Fatalf("%d grants; server refused %v", srv.Grants(), srv.Errors())
	}
}
