package jwt

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/oatcli/oat/internal/jwt/jwttest"
)

var updateSample = flag.Bool("update-sample", false, "rewrite ../../testdata/sample.jwt")

// sampleClaims is the made-up ID token the README decodes.
const sampleClaims = `{"iss":"https://login.example.com","sub":"248289761001","aud":"cli-app","exp":4102444800,"iat":1767225600,"auth_time":1767225540,"nonce":"n-0S6_WzA2Mj","at_hash":"77QmUPtjPfzWtF2AnpK9RQ","name":"Jane Doe","email":"jane@example.com","email_verified":true,"groups":["dev","oncall"],"locale":"fr-CA"}`

// TestSampleJWT keeps testdata/sample.jwt what its claims say: an RS256 ID
// token signed by jwttest.RSA that expires in 2100.
func TestSampleJWT(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "testdata", "sample.jwt")
	want := jwttest.Sign(t, jwttest.RSA(t), sampleClaims) + "\n"
	if *updateSample {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale; run go test ./internal/jwt -run TestSampleJWT -update-sample", path)
	}
	tok := mustParse(t, string(got))
	key := writeFile(t, "key.pem", jwttest.PublicPEM(t, jwttest.RSA(t)))
	if _, err := Verify(context.Background(), tok, VerifyOptions{KeyFile: key, Now: now}); err != nil {
		t.Fatal(err)
	}
}
