package jwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Checks named by VerifyError.Check.
const (
	CheckSignature = "signature"
	CheckIssuer    = "issuer"
	CheckAudience  = "audience"
	CheckExpiry    = "expiry"
	CheckNotBefore = "not-before"
)

// VerifyError is a failed verification (exit 5): which check failed and why.
type VerifyError struct {
	Check string // one of the Check* constants
	Msg   string
	Err   error // underlying cause, if any
}

func (e *VerifyError) Error() string {
	return "verification failed: " + e.Check + ": " + e.Msg
}

func (e *VerifyError) Unwrap() error { return e.Err }

// VerifyOptions says where keys come from and which claims to check. The
// first key source set wins, in field order: Secret, KeyFile, JWKSURL,
// KeysIssuer, Issuer; with none set the token's own iss is used when it is an
// https or loopback URL (Verdict.FromTokenIssuer then says so).
type VerifyOptions struct {
	// Secret is an HMAC key; SecretName names where it came from ("$VAR")
	// for messages. The secret itself never appears in any message.
	Secret     []byte
	SecretName string
	// KeyFile is a PEM public key, certificate (or several) or a JWK/JWKS.
	KeyFile string
	// JWKSURL is fetched for a JWKS.
	JWKSURL string
	// KeysIssuer is an issuer whose discovery document names the JWKS,
	// without requiring the token's iss to match (e.g. the profile's).
	KeysIssuer string

	// Issuer, when set, must equal the token's iss; it is also the key
	// source when no earlier one is set.
	Issuer string
	// Audience, when set, must be one of the token's aud values.
	Audience string
	// Leeway is allowed on exp and nbf (0 means none).
	Leeway time.Duration
	// Now is the time checked against; zero means time.Now().
	Now time.Time

	// HTTPClient fetches discovery documents and JWKS; nil means
	// http.DefaultClient. Timeout bounds each fetch (httpx.DefaultTimeout when 0).
	HTTPClient *http.Client
	Timeout    time.Duration
}

// Verdict describes a successful verification.
type Verdict struct {
	Alg   string // the token's alg
	KeyID string // kid of the key that verified, or the token's
	// KeysFrom names the key source: a file path, a JWKS URL, or a secret's
	// name ("$VAR").
	KeysFrom string
	// Issuer is the issuer whose discovery document gave the JWKS, if any.
	Issuer string
	// FromTokenIssuer: no key source was given and the token's own iss was
	// used. A token can name any issuer, so this proves only that the issuer
	// it names signed it.
	FromTokenIssuer bool
	// Checked lists the checks that passed, in order.
	Checked []string
}

// TokenIssuerNote is what a caller should tell the user when
// Verdict.FromTokenIssuer is set.
const TokenIssuerNote = "keys from the issuer the token names; pass --issuer to pin it"

// SupportedAlgs are the signature algorithms Verify accepts.
var SupportedAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
	jose.HS256, jose.HS384, jose.HS512,
}

// Verify checks tok's signature with keys from the source o names, then iss,
// aud, exp and nbf. A failed check is a *VerifyError; a key source that cannot
// be reached is an *httpx.TemporaryError; a key source that is unusable
// (unreadable file, bad JWKS, refused URL) is a plain error.
func Verify(ctx context.Context, tok *Token, o VerifyOptions) (*Verdict, error) {
	if tok.Encrypted {
		return nil, &VerifyError{Check: CheckSignature, Msg: "the token is encrypted (JWE); oat cannot decrypt it, so it cannot check it"}
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	alg := tok.Alg()
	if strings.EqualFold(alg, "none") {
		return nil, &VerifyError{Check: CheckSignature, Msg: `alg "none": an unsigned token never verifies`}
	}
	if !supported(alg) {
		return nil, &VerifyError{Check: CheckSignature, Msg: fmt.Sprintf("alg %q is not supported (supported: %s)", alg, algList())}
	}
	isHMAC := strings.HasPrefix(alg, "HS")

	ks, err := loadKeys(ctx, tok, o)
	if err != nil {
		return nil, err
	}
	if isHMAC && !ks.symmetric {
		return nil, &VerifyError{Check: CheckSignature, Msg: fmt.Sprintf("alg %s needs a shared secret (--secret-env VAR, or a JWK of kty \"oct\" with --key); refusing to use public keys from %s as one", alg, ks.from)}
	}
	if !isHMAC && ks.secret != nil {
		return nil, &VerifyError{Check: CheckSignature, Msg: fmt.Sprintf("alg %s is a public-key algorithm, but the key given is a shared secret (%s)", alg, ks.from)}
	}

	v := &Verdict{Alg: alg, KeyID: tok.KeyID(), KeysFrom: ks.from, Issuer: ks.issuer, FromTokenIssuer: ks.fromToken}
	if err := checkSignature(tok, alg, ks, v); err != nil {
		return nil, err
	}
	v.Checked = append(v.Checked, CheckSignature)

	if o.Issuer != "" {
		iss, ok := tok.StringClaim("iss")
		switch {
		case !ok:
			return nil, &VerifyError{Check: CheckIssuer, Msg: fmt.Sprintf("the token has no iss; want %q", o.Issuer)}
		case iss != o.Issuer:
			return nil, &VerifyError{Check: CheckIssuer, Msg: fmt.Sprintf("iss is %q; want %q", iss, o.Issuer)}
		}
		v.Checked = append(v.Checked, CheckIssuer)
	}
	if o.Audience != "" {
		aud := tok.Audience()
		found := false
		for _, a := range aud {
			if a == o.Audience {
				found = true
			}
		}
		if !found {
			if _, present := tok.Claim("aud"); !present {
				return nil, &VerifyError{Check: CheckAudience, Msg: fmt.Sprintf("the token has no aud; want %q", o.Audience)}
			}
			return nil, &VerifyError{Check: CheckAudience, Msg: fmt.Sprintf("aud is %s; want %q", quoteList(aud), o.Audience)}
		}
		v.Checked = append(v.Checked, CheckAudience)
	}
	if raw, ok := tok.Claim("exp"); ok {
		exp, ok := NumericDate(raw)
		if !ok {
			return nil, &VerifyError{Check: CheckExpiry, Msg: "exp is not a date (seconds since 1970)"}
		}
		if !now.Before(exp.Add(o.Leeway)) {
			return nil, &VerifyError{Check: CheckExpiry, Msg: fmt.Sprintf("the token %s (exp %s, leeway %s)", Relative("exp", exp, now), exp.Format(time.RFC3339), o.Leeway)}
		}
		v.Checked = append(v.Checked, CheckExpiry)
	}
	if raw, ok := tok.Claim("nbf"); ok {
		nbf, ok := NumericDate(raw)
		if !ok {
			return nil, &VerifyError{Check: CheckNotBefore, Msg: "nbf is not a date (seconds since 1970)"}
		}
		if now.Add(o.Leeway).Before(nbf) {
			return nil, &VerifyError{Check: CheckNotBefore, Msg: fmt.Sprintf("the token is %s (nbf %s, leeway %s)", Relative("nbf", nbf, now), nbf.Format(time.RFC3339), o.Leeway)}
		}
		v.Checked = append(v.Checked, CheckNotBefore)
	}
	return v, nil
}

func supported(alg string) bool {
	for _, a := range SupportedAlgs {
		if string(a) == alg {
			return true
		}
	}
	return false
}

func algList() string {
	s := make([]string, len(SupportedAlgs))
	for i, a := range SupportedAlgs {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// checkSignature tries each key that fits the token's alg and kid.
func checkSignature(tok *Token, alg string, ks *keySet, v *Verdict) error {
	jws, err := jose.ParseSignedCompact(tok.Raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		return &VerifyError{Check: CheckSignature, Msg: "cannot check the signature: " + err.Error(), Err: err}
	}
	if ks.secret != nil {
		if _, err := jws.Verify(ks.secret); err != nil {
			return &VerifyError{Check: CheckSignature, Msg: fmt.Sprintf("signature does not match (%s, secret from %s)", alg, ks.from), Err: err}
		}
		return nil
	}
	kid := tok.KeyID()
	var candidates []jose.JSONWebKey
	for _, k := range ks.keys {
		if kid != "" && k.KeyID != "" && k.KeyID != kid {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		if !fits(alg, k.Key) {
			continue
		}
		candidates = append(candidates, k)
	}
	// Keys with the token's kid first, then keys without a kid.
	if kid != "" {
		exact := candidates[:0:0]
		var rest []jose.JSONWebKey
		for _, k := range candidates {
			if k.KeyID == kid {
				exact = append(exact, k)
			} else {
				rest = append(rest, k)
			}
		}
		candidates = append(exact, rest...)
	}
	if len(candidates) == 0 {
		what := fmt.Sprintf("no %s key", keyKind(alg))
		if kid != "" {
			what += fmt.Sprintf(" with kid %q", kid)
		}
		return &VerifyError{Check: CheckSignature, Msg: fmt.Sprintf("%s among the %d key(s) from %s", what, len(ks.keys), ks.from)}
	}
	var lastErr error
	for _, k := range candidates {
		if _, err := jws.Verify(k.Key); err != nil {
			lastErr = err
			continue
		}
		if k.KeyID != "" {
			v.KeyID = k.KeyID
		}
		return nil
	}
	kidText := ""
	if kid != "" {
		kidText = fmt.Sprintf(", kid %q", kid)
	}
	return &VerifyError{Check: CheckSignature, Msg: fmt.Sprintf("signature does not match (%s%s, %d key(s) tried from %s)", alg, kidText, len(candidates), ks.from), Err: lastErr}
}

func keyKind(alg string) string {
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		return "RSA"
	case strings.HasPrefix(alg, "ES"):
		return "EC"
	case alg == "EdDSA":
		return "Ed25519"
	}
	return "symmetric"
}

func fits(alg string, key any) bool {
	switch key.(type) {
	case *rsa.PublicKey:
		return keyKind(alg) == "RSA"
	case *ecdsa.PublicKey:
		return keyKind(alg) == "EC"
	case ed25519.PublicKey:
		return keyKind(alg) == "Ed25519"
	case []byte:
		return keyKind(alg) == "symmetric"
	}
	return false
}

// errNoKeySource is returned (inside a VerifyError) when nothing names keys.
var errNoKeySource = errors.New("no key source")
