package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the goldens show local time in a fixed zone

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/jwt/jwttest"
	"github.com/oatcli/oat/internal/output"
)

// decodeNow is the clock of the decode tests: 2026-01-01T00:00:00Z.
var decodeNow = time.Unix(1767225600, 0).UTC()

func at(d time.Duration) int64 { return decodeNow.Add(d).Unix() }

func newDecodeEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	e.now = decodeNow
	e.env["TZ"] = "Asia/Kolkata" // +05:30, no DST
	return e
}

// result is everything a user sees from one run.
func (e *testEnv) result(code int) string {
	return fmt.Sprintf("exit %d\n-- stdout --\n%s-- stderr --\n%s", code, e.out, e.errOut)
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "decode", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run TestDecodeGolden -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

type goldenToken struct {
	name  string
	token func(t *testing.T) string
	scrub bool // ECDSA signatures are randomized: replace the signature
}

func signed(k func(testing.TB) jwttest.Key, payload string) func(t *testing.T) string {
	return func(t *testing.T) string { return jwttest.Sign(t, k(t), payload) }
}

var goldenTokens = []goldenToken{
	{name: "rs256-id-token", token: signed(jwttest.RSA, fmt.Sprintf(
		`{"iss":"https://login.example.com","sub":"248289761001","aud":"cli-app","exp":%d,"iat":%d,"auth_time":%d,"nonce":"n-0S6_WzA2Mj","email":"jane@example.com","email_verified":true}`,
		at(4*time.Minute+10*time.Second), at(-time.Minute), at(-2*time.Minute)))},
	{name: "es256", scrub: true, token: signed(jwttest.EC256, fmt.Sprintf(
		`{"iss":"https://issuer.example","sub":"service-account","aud":["api","billing"],"exp":%d,"scope":"read write"}`, at(time.Hour)))},
	{name: "eddsa", token: signed(jwttest.Ed25519, fmt.Sprintf(`{"sub":"ed","exp":%d,"iat":%d}`, at(49*time.Hour), at(-3*time.Second)))},
	{name: "hs256", token: signed(jwttest.HMAC, `{"sub":"1234567890","name":"John Doe","iat":1516239022}`)},
	{name: "nested", token: signed(jwttest.RSA, fmt.Sprintf(
		`{"sub":"x","realm_access":{"roles":["admin","user"]},"resource_access":{"api":{"roles":["read"],"exp":1}},"empty":{},"list":[],"mixed":[1,"two",null,true,{"k":[]}],"exp":%d}`, at(10*time.Minute)))},
	{name: "unicode", token: signed(jwttest.RSA,
		`{"iss":"https://例え.jp","sub":"ユーザー","name":"Zoë Ångström 🚀","bidi":"abc\u202eevil","ctl":"a\u001b[31mred\u0085","html":"<b>&</b>"}`)},
	{name: "huge-integers", token: signed(jwttest.RSA,
		`{"id":123456789012345678901234567890,"exp":99999999999999999999,"iat":1.5e9,"nbf":1767225600.25,"small":1e-7,"neg":-0.0,"big":1E+400}`)},
	{name: "expired", token: signed(jwttest.RSA, fmt.Sprintf(`{"iss":"https://login.example.com","sub":"alice","exp":%d,"iat":%d}`, at(-2*time.Hour), at(-3*time.Hour)))},
	{name: "not-yet-valid", token: signed(jwttest.RSA, fmt.Sprintf(`{"sub":"alice","nbf":%d,"exp":%d}`, at(30*time.Second), at(time.Hour)))},
	{name: "no-exp", token: signed(jwttest.Ed25519, `{"sub":"forever"}`)},
	{name: "exp-not-a-number", token: signed(jwttest.RSA, `{"sub":"x","exp":"tomorrow","auth_time":true}`)},
	{name: "jwe", token: func(t *testing.T) string { return jwttest.Encrypt(t, `{"sub":"secret"}`) }},
}

func TestDecodeGolden(t *testing.T) {
	t.Parallel()
	for _, gt := range goldenTokens {
		t.Run(gt.name, func(t *testing.T) {
			t.Parallel()
			tok := gt.token(t)
			for _, format := range []string{"text", "json"} {
				e := newDecodeEnv(t)
				code := e.runStdin(tok, "decode", "-o", format)
				got := e.result(code)
				if gt.scrub {
					got = strings.ReplaceAll(got, strings.Split(tok, ".")[2], "SIGNATURE")
				}
				checkGolden(t, gt.name+"."+format, got)
			}
		})
	}
}

func TestDecodeColourOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	tok := goldenTokens[0].token(t)
	e := newDecodeEnv(t)
	e.configure = func(f *Factory) { f.IO.SetTTY(false, true, true) }
	checkGolden(t, "rs256-id-token.color", e.result(e.runStdin(tok, "decode")))
	if !strings.Contains(e.out.String(), "\x1b[") {
		t.Error("no colour on a terminal")
	}

	for name, args := range map[string][]string{
		"NO_COLOR":   {"decode"},
		"--no-color": {"decode", "--no-color"},
		"json":       {"decode", "-o", "json"},
	} {
		e := newDecodeEnv(t)
		if name == "NO_COLOR" {
			e.env["NO_COLOR"] = "1"
		}
		e.configure = func(f *Factory) {
			f.IO = output.New(f.IO.In, f.IO.Out, f.IO.ErrOut, f.Getenv)
			f.IO.SetTTY(false, true, true)
		}
		if code := e.runStdin(tok, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, e.errOut)
		}
		if strings.Contains(e.out.String(), "\x1b[") {
			t.Errorf("%s: colour in %q", name, e.out)
		}
	}
}

func TestDecodeMalformedGolden(t *testing.T) {
	t.Parallel()
	b64 := base64.RawURLEncoding.EncodeToString
	pay := b64([]byte(`{"sub":"alice","name":"Alice"}`))
	for _, tt := range []struct{ name, in string }{
		{"two-parts", "abc.def"},
		{"payload-base64", b64([]byte(`{"alg":"RS256"}`)) + "." + pay[:17] + "!" + pay[18:] + ".c2ln"},
		{"header-not-object", b64([]byte(`[1]`)) + "." + pay + ".c2ln"},
		{"empty", "\n"},
	} {
		e := newDecodeEnv(t)
		got := e.result(e.runStdin(tt.in, "decode"))
		checkGolden(t, "malformed-"+tt.name, got)
	}
}

func TestDecodeMalformedExactMessages(t *testing.T) {
	t.Parallel()
	b64 := base64.RawURLEncoding.EncodeToString
	pay := b64([]byte(`{"sub":"alice","name":"Alice"}`))
	for in, want := range map[string]string{
		"abc.def": "oat: not a JWT: expected 3 dot-separated parts (JWS) or 5 (JWE), found 2\n",
		b64([]byte(`{"alg":"RS256"}`)) + "." + pay[:17] + "!" + pay[18:] + ".c2ln": "oat: not a JWT: payload: illegal base64url data at byte 17\n",
		b64([]byte(`[1]`)) + "." + pay + ".c2ln":                                   "oat: not a JWT: header: not a JSON object\n",
	} {
		for _, args := range [][]string{{"decode", in}, {"decode", "-o", "json", in}} {
			e := newDecodeEnv(t)
			if code := e.run(args...); code != 2 {
				t.Errorf("%q: exit %d, want 2", in, code)
			}
			if e.out.String() != "" || e.errOut.String() != want {
				t.Errorf("%q:\nstdout %q\nstderr %q\nwant   %q", in, e.out, e.errOut, want)
			}
		}
	}
}

func TestDecodeInputs(t *testing.T) {
	t.Parallel()
	tok := jwttest.Sign(t, jwttest.HMAC(t), `{"sub":"alice"}`)
	want := "{\n  \"header\": {\n    \"alg\": \"HS256\",\n    \"typ\": \"JWT\"\n  },\n  \"payload\": {\n    \"sub\": \"alice\"\n  },\n  \"signature\": \"" + strings.Split(tok, ".")[2] + "\"\n}\n"
	for name, tc := range map[string]struct {
		stdin string
		args  []string
	}{
		"argument":              {"", []string{tok}},
		"dash":                  {tok + "\n", []string{"-"}},
		"piped, no argument":    {"  " + tok + "\r\n", nil},
		"authorization header":  {"Authorization: Bearer " + tok + "\n", nil},
		"bearer argument":       {"", []string{"Bearer " + tok}},
		"argument despite pipe": {"ignored", []string{tok}},
	} {
		e := newDecodeEnv(t)
		code := e.runStdin(tc.stdin, append([]string{"decode", "-o", "json"}, tc.args...)...)
		if code != 0 || e.out.String() != want || e.errOut.String() != "" {
			t.Errorf("%s: %s", name, e.result(code))
		}
	}
}

func TestDecodeUsageErrors(t *testing.T) {
	t.Parallel()
	tok := jwttest.Sign(t, jwttest.HMAC(t), `{"sub":"alice"}`)
	for _, tt := range []struct {
		name  string
		tty   bool
		args  []string
		code  int
		error string
	}{
		{"tty stdin without argument", true, []string{"decode"}, 2,
			`oat: no token given: pipe one on stdin (pbpaste | oat decode), pass it as an argument or "-", or use --access-token or --id-token`},
		{"two arguments", false, []string{"decode", tok, tok}, 2, ""},
		{"bad format", false, []string{"decode", "-o", "yaml", tok}, 2, `oat: unknown output format "yaml" (want text|json)`},
		{"both kinds", false, []string{"decode", "--access-token", "--id-token"}, 2, "oat: --access-token and --id-token cannot be used together"},
		{"argument and kind", false, []string{"decode", "--id-token", tok}, 2, "oat: give a token or --id-token, not both"},
		{"two key sources", false, []string{"decode", "--key", "k.pem", "--jwks-url", "https://x/keys", tok}, 2, "oat: choose one key source: --key or --jwks-url"},
		{"http jwks url", false, []string{"decode", "--jwks-url", "http://example.com/keys", tok}, 2,
			`oat: --jwks-url "http://example.com/keys" uses http: only https is allowed, except for loopback hosts (127.0.0.1, ::1, localhost)`},
		{"http issuer", false, []string{"decode", "--verify", "--issuer", "http://example.com", tok}, 2,
			`oat: --issuer "http://example.com" uses http: only https is allowed, except for loopback hosts (127.0.0.1, ::1, localhost)`},
		{"unset secret env", false, []string{"decode", "--secret-env", "OAT_NOPE", tok}, 2, "oat: --secret-env OAT_NOPE: that environment variable is not set or empty"},
		{"negative leeway", false, []string{"decode", "--verify", "--leeway", "-1s", tok}, 2, "oat: --leeway must not be negative"},
		{"bad leeway", false, []string{"decode", "--leeway", "soon", tok}, 2, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newDecodeEnv(t)
			if tt.tty {
				e.configure = func(f *Factory) { f.IO.SetTTY(true, false, false) }
			}
			code := e.run(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d: %s", code, tt.code, e.errOut)
			}
			if e.out.String() != "" {
				t.Errorf("stdout %q", e.out)
			}
			first := strings.SplitN(e.errOut.String(), "\n", 2)[0]
			if tt.error != "" && first != tt.error {
				t.Errorf("stderr %q, want %q", first, tt.error)
			}
			if tt.code == 2 && !strings.Contains(e.errOut.String(), "Run 'oat decode --help' for usage.") {
				t.Errorf("no usage hint: %q", e.errOut)
			}
		})
	}
}

func TestNewCmdDecodeFlags(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args  []string
		check func(*DecodeOptions) string
	}{
		{[]string{"T"}, func(o *DecodeOptions) string {
			if o.Token != "T" || o.FromStdin || o.Verify || o.Leeway != time.Minute || o.Output != "text" {
				return fmt.Sprintf("%+v", o)
			}
			return ""
		}},
		{[]string{"-"}, func(o *DecodeOptions) string {
			if o.Token != "" || !o.FromStdin {
				return fmt.Sprintf("%+v", o)
			}
			return ""
		}},
		{[]string{"--key", "k.pem", "--leeway", "5s", "--audience", "api", "T"}, func(o *DecodeOptions) string {
			if !o.Verify || o.KeyFile != "k.pem" || o.Leeway != 5*time.Second || o.Audience != "api" {
				return fmt.Sprintf("a key implies --verify: %+v", o)
			}
			return ""
		}},
		{[]string{"--id-token", "-o", "json"}, func(o *DecodeOptions) string {
			if o.Kind != TokenKindID || o.FromStdin || o.Output != "json" {
				return fmt.Sprintf("%+v", o)
			}
			return ""
		}},
	} {
		f := newDecodeEnv(t).factory()
		var got *DecodeOptions
		cmd := newCmdDecode(f, func(o *DecodeOptions) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(f.IO.Out)
		cmd.SetErr(f.IO.ErrOut)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if msg := tt.check(got); msg != "" {
			t.Errorf("%v: %s", tt.args, msg)
		}
	}
}

func TestRunDecodeCurrentToken(t *testing.T) {
	t.Parallel()
	tok := jwttest.Sign(t, jwttest.HMAC(t), `{"sub":"from-cache"}`)
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	io := output.New(&bytes.Buffer{}, out, errOut, nil) // buffers: no TTY
	var asked string
	o := &DecodeOptions{
		IO: io, Now: func() time.Time { return decodeNow }, Getenv: func(string) string { return "" },
		Location: time.UTC, Output: "json", Kind: TokenKindAccess,
		CurrentToken: func(_ context.Context, kind string) (string, error) { asked = kind; return tok, nil },
	}
	if err := runDecode(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if asked != "access" || !strings.Contains(out.String(), `"sub": "from-cache"`) || errOut.Len() != 0 {
		t.Errorf("asked %q, stdout %q, stderr %q", asked, out, errOut)
	}
}

// ---- verification

// jwksServer serves keys at /keys and discovery for its own URL; status, when
// set, answers every request instead.
func jwksServer(t *testing.T, status int, keys ...jwttest.Key) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, srv.URL, srv.URL+"/keys")
		case "/keys":
			_, _ = w.Write(jwttest.JWKS(t, keys...))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDecodeVerify(t *testing.T) {
	t.Parallel()
	rsa := jwttest.RSA(t)
	srv := jwksServer(t, 0, rsa, jwttest.EC256(t))
	down := jwksServer(t, http.StatusServiceUnavailable)
	iss := srv.URL
	claims := fmt.Sprintf(`{"iss":%q,"sub":"alice","aud":["cli-app","api"],"exp":%d,"nbf":%d}`, iss, at(5*time.Minute), at(-time.Minute))
	good := jwttest.Sign(t, rsa, claims)
	p := strings.Split(good, ".")
	tampered := p[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(claims, "alice", "admin", 1))) + "." + p[2]
	keyFile := filepath.Join(t.TempDir(), "public.pem")
	if err := os.WriteFile(keyFile, jwttest.PublicPEM(t, rsa), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name   string
		token  string
		args   []string
		env    map[string]string
		config string
		code   int
		stderr string // ISS stands for the server's URL, KEY for the key file
	}{
		{"jwks url", good, []string{"--jwks-url", iss + "/keys"}, nil, "", 0,
			"signature valid: RS256, kid test-rsa, keys from ISS/keys\nclaims checked: expiry, not-before (leeway 1m0s)\n"},
		{"issuer and audience", good, []string{"--verify", "--issuer", iss, "--audience", "api"}, nil, "", 0,
			"signature valid: RS256, kid test-rsa, keys from ISS/keys (issuer ISS)\nclaims checked: issuer, audience, expiry, not-before (leeway 1m0s)\n"},
		{"token's own issuer", good, []string{"--verify"}, nil, "", 0,
			"signature valid: RS256, kid test-rsa, keys from ISS/keys (issuer ISS)\nnote: keys from the issuer the token names; pass --issuer to pin it\nclaims checked: expiry, not-before (leeway 1m0s)\n"},
		{"profile jwks_url", good, []string{"--verify"}, nil, "[profiles.default]\nissuer = \"https://unused.example\"\nclient_id = \"x\"\njwks_url = \"ISS/keys\"\n", 0,
			"signature valid: RS256, kid test-rsa, keys from ISS/keys via the profile's jwks_url\nclaims checked: expiry, not-before (leeway 1m0s)\n"},
		{"profile issuer", good, []string{"--verify"}, nil, "[profiles.default]\nissuer = \"ISS\"\nclient_id = \"x\"\n", 0,
			"signature valid: RS256, kid test-rsa, keys from ISS/keys (issuer ISS) via the profile's issuer\nclaims checked: expiry, not-before (leeway 1m0s)\n"},
		{"--issuer before the profile", good, []string{"--issuer", iss}, nil, "[profiles.default]\nissuer = \"https://unused.example\"\nclient_id = \"x\"\njwks_url = \"https://unused.example/keys\"\n", 0,
			"signature valid: RS256, kid test-rsa, keys from ISS/keys (issuer ISS)\nclaims checked: issuer, expiry, not-before (leeway 1m0s)\n"},
		{"key file", good, []string{"--key", "KEY"}, nil, "", 0,
			"signature valid: RS256, kid test-rsa, keys from KEY\nclaims checked: expiry, not-before (leeway 1m0s)\n"},
		{"hmac secret", jwttest.Sign(t, jwttest.HMAC(t), `{"sub":"x"}`), []string{"--secret-env", "OAT_TEST_HMAC"}, map[string]string{"OAT_TEST_HMAC": jwttest.HMACSecret}, "", 0,
			"signature valid: HS256, keys from $OAT_TEST_HMAC\nclaims checked: none (the token has no exp or nbf; --issuer and --audience add checks)\n"},
		{"tampered payload", tampered, []string{"--jwks-url", iss + "/keys"}, nil, "", 5,
			"oat: verification failed: signature: signature does not match (RS256, kid \"test-rsa\", 1 key(s) tried from ISS/keys)\n"},
		{"wrong key", jwttest.Sign(t, jwttest.OtherRSA(t), claims), []string{"--key", "KEY"}, nil, "", 5,
			"oat: verification failed: signature: signature does not match (RS256, kid \"test-rsa\", 1 key(s) tried from KEY)\n"},
		{"wrong audience", good, []string{"--jwks-url", iss + "/keys", "--audience", "other"}, nil, "", 5,
			"oat: verification failed: audience: aud is [\"cli-app\", \"api\"]; want \"other\"\n"},
		{"wrong issuer", good, []string{"--key", "KEY", "--issuer", "https://login.example.com"}, nil, "", 5,
			"oat: verification failed: issuer: iss is \"ISS\"; want \"https://login.example.com\"\n"},
		{"expired", jwttest.Sign(t, rsa, fmt.Sprintf(`{"iss":%q,"exp":%d}`, iss, at(-2*time.Hour))), []string{"--verify"}, nil, "", 5,
			"oat: verification failed: expiry: the token expired 2h ago (exp 2025-12-31T22:00:00Z, leeway 1m0s)\n"},
		{"expired within leeway", jwttest.Sign(t, rsa, fmt.Sprintf(`{"exp":%d}`, at(-30*time.Second))), []string{"--key", "KEY"}, nil, "", 0,
			"signature valid: RS256, kid test-rsa, keys from KEY\nclaims checked: expiry (leeway 1m0s)\n"},
		{"expired, no leeway", jwttest.Sign(t, rsa, fmt.Sprintf(`{"exp":%d}`, at(-30*time.Second))), []string{"--key", "KEY", "--leeway", "0s"}, nil, "", 5,
			"oat: verification failed: expiry: the token expired 30s ago (exp 2025-12-31T23:59:30Z, leeway 0s)\n"},
		{"alg none", "eyJhbGciOiJub25lIn0." + p[1] + ".", []string{"--jwks-url", iss + "/keys"}, nil, "", 5,
			"oat: verification failed: signature: alg \"none\": an unsigned token never verifies\n"},
		{"jwks server down", good, []string{"--jwks-url", down.URL + "/keys"}, nil, "", 4,
			"oat: fetching JWKS from DOWN/keys: server answered 503 Service Unavailable\n"},
		{"jwe", jwttest.Encrypt(t, claims), []string{"--key", "KEY"}, nil, "", 5,
			"oat: verification failed: signature: the token is encrypted (JWE); oat cannot decrypt it, so it cannot check it\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newDecodeEnv(t)
			for k, v := range tt.env {
				e.env[k] = v
			}
			if tt.config != "" {
				e.writeConfig(strings.ReplaceAll(tt.config, "ISS", iss))
			}
			args := []string{"decode", "-o", "json"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "KEY", keyFile))
			}
			code := e.runStdin(tt.token, append(args, "-")...)
			stderr := strings.NewReplacer(iss, "ISS", down.URL, "DOWN", keyFile, "KEY").Replace(e.errOut.String())
			if code != tt.code || stderr != tt.stderr {
				t.Errorf("exit %d, want %d\nstderr:\n%s\nwant:\n%s", code, tt.code, stderr, tt.stderr)
			}
			// The decoded token is shown whatever the verdict.
			if !strings.HasPrefix(e.out.String(), "{\n  \"header\": {") {
				t.Errorf("stdout %q", e.out)
			}
			if strings.Contains(e.out.String()+e.errOut.String(), jwttest.HMACSecret) {
				t.Error("the secret was printed")
			}
		})
	}
}

// TestDecodeVerifyOPTokens verifies the access tokens of a real in-process
// OpenID Provider (zitadel/oidc) through its discovery document and JWKS.
func TestDecodeVerifyOPTokens(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithJWTAccessTokens())
	cc := clientcredentials.Config{
		ClientID:     op.ConfidentialClientID,
		ClientSecret: op.ClientSecret,
		TokenURL:     op.Issuer + "/oauth/token",
		Scopes:       []string{"openid"},
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	ot, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tok := ot.AccessToken
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("the OP did not issue a JWT access token: %d dots", strings.Count(tok, "."))
	}
	p := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(p[1])
	tampered := p[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"sub":"`, `"sub":"x`, 1))) + "." + p[2]

	run := func(stdin string, args ...string) (*testEnv, int) {
		e := newDecodeEnv(t)
		e.now = time.Now()
		code := e.runStdin(stdin, append([]string{"decode"}, args...)...)
		return e, code
	}
	e, code := run(tok, "--verify", "--issuer", op.Issuer)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
	first := strings.SplitN(e.errOut.String(), "\n", 2)[0]
	if !strings.HasPrefix(first, "signature valid: RS256, kid ") || !strings.HasSuffix(first, ", keys from "+op.Issuer+"/keys (issuer "+op.Issuer+")") {
		t.Errorf("verdict %q", e.errOut)
	}
	if !strings.Contains(e.out.String(), `"iss": "`+op.Issuer+`"`) {
		t.Errorf("stdout %s", e.out)
	}

	e, code = run(tok, "--verify")
	if code != 0 || !strings.Contains(e.errOut.String(), "\nnote: keys from the issuer the token names; pass --issuer to pin it\n") {
		t.Errorf("token's own issuer: exit %d: %s", code, e.errOut)
	}
	e, code = run(tampered, "--verify", "--issuer", op.Issuer)
	if code != 5 || !strings.HasPrefix(e.errOut.String(), "oat: verification failed: signature: signature does not match (RS256") {
		t.Errorf("tampered: exit %d: %s", code, e.errOut)
	}
	e, code = run(tok, "--verify", "--issuer", op.Issuer, "--audience", "someone-else")
	if code != 5 || !strings.HasPrefix(e.errOut.String(), "oat: verification failed: audience: aud is ") {
		t.Errorf("wrong audience: exit %d: %s", code, e.errOut)
	}
	e = newDecodeEnv(t)
	e.now = time.Now().Add(24 * time.Hour)
	if code := e.runStdin(tok, "decode", "--verify", "--issuer", op.Issuer); code != 5 ||
		!strings.HasPrefix(e.errOut.String(), "oat: verification failed: expiry: the token expired ") {
		t.Errorf("a day later: exit %d: %s", code, e.errOut)
	}
}

// TestDecodeVerifyOPIDToken logs in at the in-process OP (PKCE, scripted
// browser) and verifies the ID token it issued, audience included.
func TestDecodeVerifyOPIDToken(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	p := op.Profile(config.FlowPKCE)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hc, err := httpx.NewClient(httpx.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	endpoints, err := auth.ResolveEndpoints(ctx, hc, p)
	if err != nil {
		t.Fatal(err)
	}
	c := &auth.Client{HTTP: hc, Profile: p, Endpoints: endpoints}
	var prompt bytes.Buffer
	res, err := c.LoginPKCE(ctx, auth.LoginOptions{Browser: authtest.NewBrowser(t).Open, Prompt: &prompt})
	if err != nil {
		t.Fatal(err)
	}
	e := newDecodeEnv(t)
	e.now = time.Now()
	code := e.runStdin(res.IDToken, "decode", "--issuer", op.Issuer, "--audience", op.PublicClientID)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
	lines := strings.Split(e.errOut.String(), "\n")
	if !strings.HasPrefix(lines[0], "signature valid: RS256, kid ") || lines[1] != "claims checked: issuer, audience, expiry (leeway 1m0s)" {
		t.Errorf("stderr %q", e.errOut)
	}
	if !strings.Contains(e.out.String(), ", sub "+authtest.Subject+", aud "+op.PublicClientID+", expires in ") {
		t.Errorf("summary: %s", strings.SplitN(e.out.String(), "\n", 2)[0])
	}
	e = newDecodeEnv(t)
	e.now = time.Now()
	if code := e.runStdin(res.IDToken, "decode", "--issuer", op.Issuer, "--audience", "another-client"); code != 5 ||
		e.errOut.String() != fmt.Sprintf("oat: verification failed: audience: aud is [%q]; want \"another-client\"\n", op.PublicClientID) {
		t.Errorf("wrong audience: exit %d: %q", code, e.errOut)
	}
}
