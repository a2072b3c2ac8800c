package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/jwt/jwttest"
)

const claims = `{"iss":"https://issuer.example","sub":"alice","aud":["cli-app","api"],"exp":1767226000,"nbf":1767225000,"iat":1767225000}`

func mustParse(t *testing.T, raw string) *Token {
	t.Helper()
	tok, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func wantVerifyError(t *testing.T, err error, check, msg string) {
	t.Helper()
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v (%T), want *VerifyError", err, err)
	}
	if ve.Check != check {
		t.Errorf("Check = %q, want %q (%v)", ve.Check, check, err)
	}
	if msg != "" && err.Error() != msg {
		t.Errorf("err =\n  %s\nwant\n  %s", err, msg)
	}
}

func TestVerifyEveryAlgorithmWithKeyFile(t *testing.T) {
	t.Parallel()
	rsa, ec := jwttest.RSA(t), jwttest.EC256(t)
	keys := []jwttest.Key{
		rsa, rsa.WithAlg(jose.RS384), rsa.WithAlg(jose.RS512),
		rsa.WithAlg(jose.PS256), rsa.WithAlg(jose.PS384), rsa.WithAlg(jose.PS512),
		ec, jwttest.EC384(t), jwttest.EC521(t), jwttest.Ed25519(t),
	}
	for _, k := range keys {
		t.Run(string(k.Alg)+"/pem", func(t *testing.T) {
			tok := mustParse(t, jwttest.Sign(t, k, claims))
			key := writeFile(t, "key.pem", jwttest.PublicPEM(t, k))
			v, err := Verify(context.Background(), tok, VerifyOptions{KeyFile: key, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if v.Alg != string(k.Alg) || v.KeysFrom != key || v.FromTokenIssuer {
				t.Errorf("verdict = %+v", v)
			}
			if got := strings.Join(v.Checked, ","); got != "signature,expiry,not-before" {
				t.Errorf("Checked = %s", got)
			}
		})
		t.Run(string(k.Alg)+"/jwks", func(t *testing.T) {
			tok := mustParse(t, jwttest.Sign(t, k, claims))
			key := writeFile(t, "jwks.json", jwttest.JWKS(t, jwttest.HMAC(t).WithKID("x"), rsa, ec, k))
			v, err := Verify(context.Background(), tok, VerifyOptions{KeyFile: key, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if v.KeyID != k.KID {
				t.Errorf("KeyID = %q, want %q", v.KeyID, k.KID)
			}
		})
	}
}

func TestVerifyKeyFileForms(t *testing.T) {
	t.Parallel()
	k := jwttest.Ed25519(t)
	tok := mustParse(t, jwttest.Sign(t, k, claims))
	one, _ := json.Marshal(jose.JSONWebKey{Key: k.Public(), KeyID: "test-ed"})
	priv, _ := json.Marshal(jose.JSONWebKey{Key: k.Private, KeyID: "test-ed"})
	for name, data := range map[string][]byte{
		"jwk":            one,
		"private jwk":    priv,
		"pem with junk":  append([]byte("comment line\n"), jwttest.PublicPEM(t, k)...),
		"jwks wrong kid": jwttest.JWKS(t, k.WithKID("other")),
	} {
		_, err := Verify(context.Background(), tok, VerifyOptions{KeyFile: writeFile(t, "k", data), Now: now})
		if name == "jwks wrong kid" {
			wantVerifyError(t, err, CheckSignature, "")
			if !strings.Contains(err.Error(), `no Ed25519 key with kid "test-ed" among the 1 key(s) from `) {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err := Verify(context.Background(), tok, VerifyOptions{KeyFile: writeFile(t, "k", []byte("not a key")), Now: now})
	if err == nil || !strings.HasSuffix(err.Error(), ": no PEM public key, certificate or JWK/JWKS found") {
		t.Errorf("junk key file: %v", err)
	}
}

func TestVerifyFailures(t *testing.T) {
	t.Parallel()
	rsa := jwttest.RSA(t)
	key := writeFile(t, "key.pem", jwttest.PublicPEM(t, rsa))
	good := jwttest.Sign(t, rsa, claims)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + b64([]byte(strings.Replace(claims, "alice", "admin", 1))) + "." + parts[2]

	tests := []struct {
		name  string
		raw   string
		o     VerifyOptions
		check string
		msg   string
	}{
		{"tampered payload", tampered, VerifyOptions{KeyFile: key}, CheckSignature,
			"verification failed: signature: signature does not match (RS256, kid \"test-rsa\", 1 key(s) tried from " + key + ")"},
		{"wrong key", jwttest.Sign(t, jwttest.OtherRSA(t), claims), VerifyOptions{KeyFile: key}, CheckSignature, ""},
		{"alg none", b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", VerifyOptions{KeyFile: key}, CheckSignature,
			`verification failed: signature: alg "none": an unsigned token never verifies`},
		{"HS256 with a public key", jwttest.Sign(t, jwttest.HMAC(t), claims), VerifyOptions{KeyFile: key}, CheckSignature,
			"verification failed: signature: alg HS256 needs a shared secret (--secret-env VAR, or a JWK of kty \"oct\" with --key); refusing to use public keys from " + key + " as one"},
		{"RS256 with a secret", good, VerifyOptions{Secret: []byte("s3cret"), SecretName: "$S"}, CheckSignature,
			"verification failed: signature: alg RS256 is a public-key algorithm, but the key given is a shared secret ($S)"},
		{"wrong HMAC secret", jwttest.Sign(t, jwttest.HMAC(t), claims), VerifyOptions{Secret: []byte("wrong"), SecretName: "$S"}, CheckSignature,
			"verification failed: signature: signature does not match (HS256, secret from $S)"},
		{"unknown alg", b64([]byte(`{"alg":"RS1"}`)) + "." + parts[1] + "." + parts[2], VerifyOptions{KeyFile: key}, CheckSignature,
			`verification failed: signature: alg "RS1" is not supported (supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, HS256, HS384, HS512)`},
		{"wrong aud", good, VerifyOptions{KeyFile: key, Audience: "other"}, CheckAudience,
			`verification failed: audience: aud is ["cli-app", "api"]; want "other"`},
		{"wrong iss", good, VerifyOptions{KeyFile: key, Issuer: "https://other.example"}, CheckIssuer,
			`verification failed: issuer: iss is "https://issuer.example"; want "https://other.example"`},
		{"expired", good, VerifyOptions{KeyFile: key, Now: time.Unix(1767226000+61, 0)}, CheckExpiry,
			"verification failed: expiry: the token expired 1m1s ago (exp 2026-01-01T00:06:40Z, leeway 1m0s)"},
		{"not yet valid", good, VerifyOptions{KeyFile: key, Now: time.Unix(1767225000-61, 0)}, CheckNotBefore,
			"verification failed: not-before: the token is not valid for 1m1s yet (nbf 2025-12-31T23:50:00Z, leeway 1m0s)"},
		{"encrypted", jwttest.Encrypt(t, claims), VerifyOptions{KeyFile: key}, CheckSignature,
			"verification failed: signature: the token is encrypted (JWE); oat cannot decrypt it, so it cannot check it"},
		{"no iss no key", jwttest.Sign(t, rsa, `{"sub":"x"}`), VerifyOptions{}, CheckSignature,
			"verification failed: signature: no keys to check it with: the token has no iss; pass --key FILE, --jwks-url URL, --issuer URL or --secret-env VAR"},
		{"http iss", jwttest.Sign(t, rsa, `{"iss":"http://issuer.example"}`), VerifyOptions{}, CheckSignature,
			`verification failed: signature: no keys to check it with: the token's iss "http://issuer.example" is not an https (or loopback http) URL; pass --key FILE, --jwks-url URL, --issuer URL or --secret-env VAR`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			if o.Now.IsZero() {
				o.Now = now
			}
			if o.Leeway == 0 && tt.check != CheckSignature {
				o.Leeway = time.Minute
			}
			_, err := Verify(context.Background(), mustParse(t, tt.raw), o)
			wantVerifyError(t, err, tt.check, tt.msg)
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	t.Parallel()
	rsa := jwttest.RSA(t)
	key := writeFile(t, "key.pem", jwttest.PublicPEM(t, rsa))
	tok := mustParse(t, jwttest.Sign(t, rsa, claims))
	// exp 1767226000: valid up to exp+leeway, exclusive.
	for _, tt := range []struct {
		now    int64
		leeway time.Duration
		ok     bool
	}{
		{1767225999, 0, true},
		{1767226000, 0, false},
		{1767226059, time.Minute, true},
		{1767226060, time.Minute, false},
		{1767224999, 0, false},
		{1767224940, time.Minute, true},
	} {
		_, err := Verify(context.Background(), tok, VerifyOptions{KeyFile: key, Now: time.Unix(tt.now, 0), Leeway: tt.leeway})
		if (err == nil) != tt.ok {
			t.Errorf("now %d leeway %v: err = %v, want ok=%v", tt.now, tt.leeway, err, tt.ok)
		}
	}
}

func TestVerifyHMAC(t *testing.T) {
	t.Parallel()
	tok := mustParse(t, jwttest.Sign(t, jwttest.HMAC(t), claims))
	v, err := Verify(context.Background(), tok, VerifyOptions{Secret: []byte(jwttest.HMACSecret), SecretName: "$OAT_TEST_SECRET", Now: now, Audience: "api", Issuer: "https://issuer.example"})
	if err != nil {
		t.Fatal(err)
	}
	if v.KeysFrom != "$OAT_TEST_SECRET" || strings.Join(v.Checked, ",") != "signature,issuer,audience,expiry,not-before" {
		t.Errorf("verdict = %+v", v)
	}
	if strings.Contains(fmt.Sprintf("%+v", v), jwttest.HMACSecret) {
		t.Error("verdict shows the secret")
	}
}

// op serves discovery and a JWKS on 127.0.0.1, counting requests.
type op struct {
	srv      *httptest.Server
	jwks     []byte
	issuer   string // what discovery claims; srv.URL when ""
	requests atomic.Int32
}

func newOP(t *testing.T, jwks []byte) *op {
	o := &op{jwks: jwks}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.requests.Add(1)
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			iss := o.issuer
			if iss == "" {
				iss = o.srv.URL
			}
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, iss, o.srv.URL+"/keys")
		case "/keys":
			_, _ = w.Write(o.jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func TestVerifyRemoteKeys(t *testing.T) {
	t.Parallel()
	rsa, ec := jwttest.RSA(t), jwttest.EC256(t)
	o := newOP(t, jwttest.JWKS(t, rsa, ec))
	iss := o.srv.URL
	tokClaims := fmt.Sprintf(`{"iss":%q,"sub":"alice","aud":"cli-app","exp":1767226000}`, iss)
	tok := mustParse(t, jwttest.Sign(t, ec, tokClaims))
	base := VerifyOptions{Now: now, HTTPClient: o.srv.Client()}

	t.Run("jwks url", func(t *testing.T) {
		opts := base
		opts.JWKSURL = iss + "/keys"
		v, err := Verify(context.Background(), tok, opts)
		if err != nil {
			t.Fatal(err)
		}
		if v.KeysFrom != iss+"/keys" || v.KeyID != "test-ec" || v.Issuer != "" || v.FromTokenIssuer {
			t.Errorf("verdict = %+v", v)
		}
	})
	t.Run("issuer discovery", func(t *testing.T) {
		opts := base
		opts.Issuer = iss
		v, err := Verify(context.Background(), tok, opts)
		if err != nil {
			t.Fatal(err)
		}
		if v.Issuer != iss || v.FromTokenIssuer || strings.Join(v.Checked, ",") != "signature,issuer,expiry" {
			t.Errorf("verdict = %+v", v)
		}
	})
	t.Run("token iss", func(t *testing.T) {
		v, err := Verify(context.Background(), tok, base)
		if err != nil {
			t.Fatal(err)
		}
		if v.Issuer != iss || !v.FromTokenIssuer || v.KeysFrom != iss+"/keys" {
			t.Errorf("verdict = %+v", v)
		}
	})
	t.Run("keys issuer", func(t *testing.T) {
		opts := base
		opts.KeysIssuer = iss
		opts.Issuer = "https://ignored-for-keys.example"
		_, err := Verify(context.Background(), tok, opts)
		// Keys come from KeysIssuer; the iss check then fails.
		wantVerifyError(t, err, CheckIssuer, "")
	})
	t.Run("non-loopback http refused", func(t *testing.T) {
		opts := base
		opts.JWKSURL = "http://example.com/keys"
		_, err := Verify(context.Background(), tok, opts)
		if err == nil || err.Error() != `JWKS URL "http://example.com/keys" uses http: only https is allowed, except for loopback hosts (127.0.0.1, ::1, localhost)` {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestVerifyDiscoveryIssuerMismatch(t *testing.T) {
	t.Parallel()
	o := newOP(t, jwttest.JWKS(t, jwttest.RSA(t)))
	o.issuer = "https://evil.example"
	tok := mustParse(t, jwttest.Sign(t, jwttest.RSA(t), fmt.Sprintf(`{"iss":%q}`, o.srv.URL)))
	_, err := Verify(context.Background(), tok, VerifyOptions{Now: now, HTTPClient: o.srv.Client()})
	wantVerifyError(t, err, CheckIssuer, fmt.Sprintf(`verification failed: issuer: the discovery document at %s/.well-known/openid-configuration names issuer "https://evil.example", not %q`, o.srv.URL, o.srv.URL))
}

func TestVerifyBadServers(t *testing.T) {
	t.Parallel()
	tok := mustParse(t, jwttest.Sign(t, jwttest.RSA(t), claims))
	big := strings.Repeat(" ", httpx.MaxBody+1)
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		temporary bool
		want      string // error text after "fetching JWKS from URL" / "JWKS from URL"
	}{
		{"500 html", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(500)
			_, _ = w.Write([]byte("<html>oops</html>"))
		}, true, "fetching JWKS from URL: server answered 500 Internal Server Error"},
		{"429", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(429) }, true,
			"fetching JWKS from URL: server answered 429 Too Many Requests"},
		{"404", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) }, false,
			"fetching JWKS from URL: server answered 404 Not Found"},
		{"truncated json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"keys":[{"kty":"RSA"`)) }, false,
			"JWKS from URL: not a JWKS: unexpected end of JSON input"},
		{"no keys member", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"kty":"RSA"}`)) }, false,
			`JWKS from URL: not a JWKS: no "keys" array`},
		{"only unusable keys", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"XYZ"}]}`))
		}, false, `JWKS from URL: no usable signing key among 2 key(s) (first problem: a shared secret (kty "oct") is never taken from a URL)`},
		{"too large", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(big)) }, false,
			"fetching JWKS from URL: response larger than 1048576 bytes"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, true, "fetching JWKS from URL: timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			u := srv.URL + "/keys"
			// Only the slow server needs a short limit; the others get a
			// generous one so a loaded CI machine cannot turn them into timeouts.
			timeout := 10 * time.Second
			if tt.name == "slow" {
				timeout = 200 * time.Millisecond
			}
			_, err := Verify(context.Background(), tok, VerifyOptions{JWKSURL: u, Now: now, HTTPClient: srv.Client(), Timeout: timeout})
			if err == nil {
				t.Fatal("no error")
			}
			var te *httpx.TemporaryError
			if errors.As(err, &te) != tt.temporary {
				t.Errorf("temporary = %v, want %v (%T)", !tt.temporary, tt.temporary, err)
			}
			var ve *VerifyError
			if errors.As(err, &ve) {
				t.Errorf("a bad key source is not a failed verification: %v", err)
			}
			if got := strings.ReplaceAll(err.Error(), u, "URL"); got != tt.want {
				t.Errorf("err =\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

func TestVerifyUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close() // nothing listens there now
	tok := mustParse(t, jwttest.Sign(t, jwttest.RSA(t), claims))
	_, err := Verify(context.Background(), tok, VerifyOptions{Issuer: u, Now: now})
	var te *httpx.TemporaryError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *httpx.TemporaryError", err, err)
	}
	if !strings.HasPrefix(err.Error(), "fetching discovery document from "+u+"/.well-known/openid-configuration: ") {
		t.Errorf("err = %v", err)
	}
}

func TestVerifyRFC8414Fallback(t *testing.T) {
	t.Parallel()
	rsa := jwttest.RSA(t)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server/tenant":
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, srv.URL+"/tenant", srv.URL+"/keys")
		case "/keys":
			_, _ = w.Write(jwttest.JWKS(t, rsa))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tok := mustParse(t, jwttest.Sign(t, rsa, claims))
	v, err := Verify(context.Background(), tok, VerifyOptions{KeysIssuer: srv.URL + "/tenant", Now: now, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if v.KeysFrom != srv.URL+"/keys" {
		t.Errorf("verdict = %+v", v)
	}
}

// A TLS failure fetching keys is not temporary (exit 1, not 4) and says
// what to do; a closed port is temporary.
func TestVerifyTLSFailures(t *testing.T) {
	t.Parallel()
	tok := mustParse(t, jwttest.Sign(t, jwttest.RSA(t), claims))
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	closedSrv := httptest.NewServer(http.NotFoundHandler())
	closed := closedSrv.URL
	closedSrv.Close()
	hc, err := httpx.NewClient(httpx.Options{}) // trusts only the system roots
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		u         string
		temporary bool
		msg       string
	}{
		{"untrusted certificate", tlsSrv.URL + "/keys", false, "TLS certificate not trusted: pass --ca-file (or set ca_file) with the issuing CA"},
		{"http server on an https URL", "https://" + strings.TrimPrefix(plain.URL, "http://") + "/keys", false,
			"the server does not speak TLS on that port: check the URL's scheme"},
		{"closed port", closed + "/keys", true, "connection refused"},
	} {
		_, err := Verify(context.Background(), tok, VerifyOptions{JWKSURL: tt.u, Now: now, HTTPClient: hc})
		if err == nil {
			t.Fatalf("%s: no error", tt.name)
		}
		var te *httpx.TemporaryError
		if errors.As(err, &te) != tt.temporary {
			t.Errorf("%s: temporary = %v, want %v: %v", tt.name, !tt.temporary, tt.temporary, err)
		}
		want := "fetching JWKS from " + tt.u + ": "
		if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: err = %v, want %q … %q", tt.name, err, want, tt.msg)
		}
	}
}
