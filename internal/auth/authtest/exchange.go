package authtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Token exchange (RFC 8693) on the example OP: zitadel's op runs the grant
// when the storage implements op.TokenExchangeStorage (the example storage
// does) and, for tokens it did not issue itself, verifies the subject token
// through op.TokenExchangeTokensVerifierStorage, which the wrapper adds
// here: a JWT signed by the OP's external "CI issuer" key (SubjectToken),
// not expired. The OP's own access tokens are accepted with type
// access_token (for subject_token_from profile:NAME). The confidential and
// key clients may use the grant.

// SubjectIssuer is the iss of the JWTs SubjectToken mints.
const SubjectIssuer = "https://ci.example.test"

// SubjectToken mints a subject token for sub as an external issuer the OP
// trusts (a CI platform's OIDC token, a Kubernetes service-account token),
// valid for ttl, with a fresh jti.
func (o *OP) SubjectToken(t testing.TB, sub string, ttl time.Duration) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: o.subjectSigningKey()}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: SubjectIssuer, Subject: sub, Audience: jwt.Audience{o.Issuer},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(ttl)), ID: rand.Text()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// SubjectTokensSeen returns the subject_token of every token-exchange
// request the OP received, in order.
func (o *OP) SubjectTokensSeen() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.subjectTokens)
}

func (o *OP) subjectSigningKey() *ecdsa.PrivateKey {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.subjectKey == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		o.subjectKey = k
	}
	return o.subjectKey
}

var errBadSubjectToken = errors.New("subject token not accepted")

// VerifyExchangeSubjectToken accepts a JWT from SubjectIssuer: signature by
// its key, iss, aud = the OP, not expired.
func (s *opStorage) VerifyExchangeSubjectToken(ctx context.Context, token string, tokenType oidc.TokenType) (string, string, map[string]any, error) {
	if tokenType != oidc.JWTTokenType {
		return "", "", nil, errBadSubjectToken
	}
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "", "", nil, errBadSubjectToken
	}
	var c jwt.Claims
	if err := parsed.Claims(&s.op.subjectSigningKey().PublicKey, &c); err != nil {
		return "", "", nil, errBadSubjectToken
	}
	if err := c.Validate(jwt.Expected{Issuer: SubjectIssuer, AnyAudience: jwt.Audience{s.op.Issuer}, Time: time.Now()}); err != nil || c.Subject == "" {
		return "", "", nil, errBadSubjectToken
	}
	return c.ID, c.Subject, map[string]any{"iss": c.Issuer}, nil
}

func (s *opStorage) VerifyExchangeActorToken(ctx context.Context, token string, tokenType oidc.TokenType) (string, string, map[string]any, error) {
	return "", "", nil, errBadSubjectToken
}

// ValidateTokenExchangeRequest replaces the example's policy (which lets
// only its admin user impersonate, and panics for a subject it does not
// know): an access token is issued unless another type is asked for, and
// the scopes asked for are granted.
func (s *opStorage) ValidateTokenExchangeRequest(ctx context.Context, r op.TokenExchangeRequest) error {
	if r.GetRequestedTokenType() == "" {
		r.SetRequestedTokenType(oidc.AccessTokenType)
	}
	r.SetCurrentScopes(r.GetScopes())
	return nil
}
