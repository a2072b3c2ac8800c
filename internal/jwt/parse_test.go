package jwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/jwt/jwttest"
)

var b64 = base64.RawURLEncoding.EncodeToString

// now is the fixed clock of these tests: 2026-01-01T00:00:00Z.
var now = time.Unix(1767225600, 0).UTC()

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	hdr := b64([]byte(`{"alg":"RS256"}`))
	pay := b64([]byte(`{"sub":"alice","name":"Alice"}`))
	badAt17 := pay[:17] + "!" + pay[18:]
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "not a JWT: empty input"},
		{"only whitespace", " \n\t ", "not a JWT: empty input"},
		{"two parts", "abc.def", "not a JWT: expected 3 dot-separated parts (JWS) or 5 (JWE), found 2"},
		{"four parts", "a.b.c.d", "not a JWT: expected 3 dot-separated parts (JWS) or 5 (JWE), found 4"},
		{"opaque", "gho_16C7e42F292c6912E7710c838347Ae178B4a", "not a JWT: expected 3 dot-separated parts (JWS) or 5 (JWE), found 1 (an opaque token, which only its issuer can read?)"},
		{"payload base64", hdr + "." + badAt17 + ".c2ln", "not a JWT: payload: illegal base64url data at byte 17"},
		{"header base64 std", "eyJhbGciOiJSUzI1NiJ9+." + pay + ".c2ln", "not a JWT: header: illegal base64url data at byte 20 (standard base64, not base64url)"},
		{"signature padding", hdr + "." + pay + ".YQ==", "not a JWT: signature: illegal base64url data at byte 2 (padding '=' is not allowed in a JWT)"},
		{"header array", b64([]byte(`[1,2]`)) + "." + pay + ".c2ln", "not a JWT: header: not a JSON object"},
		{"header string", b64([]byte(`"alg"`)) + "." + pay + ".c2ln", "not a JWT: header: not a JSON object"},
		{"payload null", hdr + "." + b64([]byte(`null`)) + ".c2ln", "not a JWT: payload: not a JSON object"},
		{"header truncated", b64([]byte(`{"alg":`)) + "." + pay + ".c2ln", "not a JWT: header: invalid JSON at byte 7: unexpected end of JSON input"},
		{"payload trailing", hdr + "." + b64([]byte(`{"a":1} x`)) + ".c2ln", "not a JWT: payload: invalid JSON at byte 9: invalid character 'x' after top-level value"},
		{"payload not JSON", hdr + "." + b64([]byte("hello")) + ".c2ln", "not a JWT: payload: invalid JSON at byte 1: invalid character 'h' looking for beginning of value"},
		{"empty header", "." + pay + ".c2ln", "not a JWT: header: empty"},
		{"empty payload (detached)", hdr + "..c2ln", "not a JWT: payload: empty"},
		{"jwe bad ciphertext", hdr + "..aXY.c2l*.dGFn", "not a JWT: ciphertext: illegal base64url data at byte 3"},
		{"jwe bad tag", hdr + "..aXY.Y3Q.d", "not a JWT: authentication tag: illegal base64url data at byte 0"},
		{"bearer only", "Bearer ", "not a JWT: expected 3 dot-separated parts (JWS) or 5 (JWE), found 1 (an opaque token, which only its issuer can read?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse(tt.in)
			if tok != nil {
				t.Errorf("Parse returned a token: %+v", tok)
			}
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v (%T), want *MalformedError", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("err =\n  %s\nwant\n  %s", err, tt.want)
			}
		})
	}
}

func TestParseKeepsOrderAndExactNumbers(t *testing.T) {
	t.Parallel()
	payload := `{"z":1,"a":12345678901234567890123456789,"m":{"y":1.50,"b":[1e400,-0,true,null]},"u":"héllo ✓ <&> \u00e9","a":"dup"}`
	raw := b64([]byte(`{"typ":"JWT","alg":"HS256"}`)) + "." + b64([]byte(payload)) + ".c2ln"
	tok, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tok.Payload.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"z":1,"a":12345678901234567890123456789,"m":{"y":1.50,"b":[1e400,-0,true,null]},"u":"héllo ✓ <&> é","a":"dup"}`
	if string(got) != want {
		t.Errorf("payload =\n  %s\nwant\n  %s", got, want)
	}
	h, _ := json.Marshal(tok.Header)
	if string(h) != `{"typ":"JWT","alg":"HS256"}` {
		t.Errorf("header = %s", h)
	}
	if v, _ := tok.Claim("a"); v != "dup" {
		t.Errorf(`Claim("a") = %v, want the last duplicate "dup"`, v)
	}
	if tok.Alg() != "HS256" || tok.Signature != "c2ln" || tok.Encrypted {
		t.Errorf("Alg %q Signature %q Encrypted %v", tok.Alg(), tok.Signature, tok.Encrypted)
	}
}

func TestParseAcceptsBearerForms(t *testing.T) {
	t.Parallel()
	tok := jwttest.Sign(t, jwttest.HMAC(t), `{"sub":"alice"}`)
	for _, in := range []string{
		tok,
		"  " + tok + "\n",
		"Bearer " + tok,
		"bearer\t" + tok,
		"Authorization: Bearer " + tok + "\r\n",
		"authorization:bearer " + tok,
	} {
		got, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if got.Raw != tok {
			t.Errorf("Parse(%q).Raw = %q", in, got.Raw)
		}
	}
}

func TestParseJWE(t *testing.T) {
	t.Parallel()
	tok, err := Parse(jwttest.Encrypt(t, `{"sub":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Encrypted || tok.Payload != nil || tok.Signature != "" {
		t.Fatalf("Encrypted %v Payload %v Signature %q", tok.Encrypted, tok.Payload, tok.Signature)
	}
	h, _ := json.Marshal(tok.Header)
	if string(h) != `{"alg":"RSA-OAEP-256","cty":"JWT","enc":"A256GCM","kid":"test-rsa"}` {
		t.Errorf("header = %s", h)
	}
}

func TestParseDeepNestingIsAnError(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	raw := b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(`{"a":`+deep+`}`)) + "."
	_, err := Parse(raw)
	if err == nil || !strings.HasPrefix(err.Error(), "not a JWT: payload: invalid JSON") {
		t.Fatalf("err = %v", err)
	}
}

func TestNumericDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want string // RFC 3339 with nanos, or "" for not a date
	}{
		{json.Number("1767225600"), "2026-01-01T00:00:00Z"},
		{json.Number("1767225600.5"), "2026-01-01T00:00:00.5Z"},
		{json.Number("1.7672256e9"), "2026-01-01T00:00:00Z"},
		{json.Number("-1.5"), "1969-12-31T23:59:58.5Z"},
		{json.Number("0"), "1970-01-01T00:00:00Z"},
		{json.Number("253402300799"), "9999-12-31T23:59:59Z"},
		{json.Number("253402300800"), ""},
		{json.Number("99999999999999999999999999999"), ""},
		{json.Number("1e999999999"), ""},
		{"1767225600", ""},
		{nil, ""},
	}
	for _, tt := range tests {
		got, ok := NumericDate(tt.in)
		s := ""
		if ok {
			s = got.Format(time.RFC3339Nano)
		}
		if s != tt.want {
			t.Errorf("NumericDate(%#v) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

func TestExpiresIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		payload string
		want    string
		ok      bool
	}{
		{`{"exp":1767225850}`, "250", true},
		{`{"exp":1767218400}`, "-7200", true},
		{`{"exp":1767225600.9}`, "0", true},
		{`{"exp":1767225599.5}`, "-1", true},
		{`{"exp":123456789012345678901234567890}`, "123456789012345678899467342290", true},
		{`{"exp":"soon"}`, "", false},
		{`{"iat":1}`, "", false},
	}
	for _, tt := range tests {
		tok, err := Parse(b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(tt.payload)) + ".")
		if err != nil {
			t.Fatal(err)
		}
		got, ok := tok.ExpiresIn(now)
		if string(got) != tt.want || ok != tt.ok {
			t.Errorf("%s: ExpiresIn = %q, %v; want %q, %v", tt.payload, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRelative(t *testing.T) {
	t.Parallel()
	tests := []struct {
		claim string
		d     time.Duration
		want  string
	}{
		{"exp", 4*time.Minute + 10*time.Second, "expires in 4m10s"},
		{"exp", -2 * time.Hour, "expired 2h ago"},
		{"exp", 0, "expired 0s ago"},
		{"exp", 400 * time.Millisecond, "expires in 1s"},
		{"exp", -400 * time.Millisecond, "expired 0s ago"},
		{"exp", -(26*time.Hour + 3*time.Minute), "expired 1d2h ago"},
		{"nbf", 30 * time.Second, "not valid for 30s yet"},
		{"nbf", -5 * time.Minute, "valid since 5m ago"},
		{"iat", -90 * time.Second, "issued 1m30s ago"},
		{"iat", 10 * time.Second, "issued 10s in the future"},
		{"auth_time", -(time.Hour + 2*time.Minute + 3*time.Second), "authenticated 1h2m ago"},
		{"exp", 2*time.Hour + 5*time.Second, "expires in 2h"},
		{"exp", (2*365 + 3) * 24 * time.Hour, "expires in 2y3d"},
	}
	for _, tt := range tests {
		if got := Relative(tt.claim, now.Add(tt.d), now); got != tt.want {
			t.Errorf("Relative(%s, %v) = %q, want %q", tt.claim, tt.d, got, tt.want)
		}
	}
}

func TestAudience(t *testing.T) {
	t.Parallel()
	for payload, want := range map[string]string{
		`{"aud":"a"}`:         "[a]",
		`{"aud":["a","b",1]}`: "[a b]",
		`{"aud":7}`:           "[]",
		`{}`:                  "[]",
	} {
		tok, err := Parse(b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(payload)) + ".")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(strings.Fields("["+strings.Join(tok.Audience(), " ")+"]"), " "); got != want {
			t.Errorf("%s: Audience = %s, want %s", payload, got, want)
		}
	}
}
