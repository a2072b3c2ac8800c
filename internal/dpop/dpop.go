// Package dpop makes RFC 9449 DPoP proofs on go-jose v4: an EC P-256 key,
// proof JWTs (typ dpop+jwt, ES256, the public key in the jwk header; jti,
// htm, htu, iat, nonce and ath claims), and a RoundTripper that adds a fresh
// proof to each request and retries once with a server's DPoP-Nonce.
//
// A Key's private part leaves the package only through Marshal, for the
// refresh-token store; String and GoString name the key by its thumbprint.
// It imports nothing of oat's.
package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TokenType is the token_type of a DPoP-bound access token and the
// Authorization scheme it is sent with (RFC 9449 §5, §7.1).
const TokenType = "DPoP"

// Header is the request header that carries a proof.
const Header = "DPoP"

// NonceHeader is the response header in which a server hands out a nonce.
const NonceHeader = "DPoP-Nonce"

// ProofType is the typ header of a proof JWT.
const ProofType = "dpop+jwt"

// Key is a DPoP key pair: EC P-256, signing with ES256.
type Key struct {
	priv *ecdsa.PrivateKey
	jkt  string
}

// NewKey makes a new P-256 key pair.
func NewKey() (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dpop: creating a key: %w", err)
	}
	return newKey(priv)
}

func newKey(priv *ecdsa.PrivateKey) (*Key, error) {
	jkt, err := Thumbprint(&jose.JSONWebKey{Key: priv.Public()})
	if err != nil {
		return nil, err
	}
	return &Key{priv: priv, jkt: jkt}, nil
}

// ParseKey reads a key that Marshal wrote: a private EC P-256 JWK.
func ParseKey(b []byte) (*Key, error) {
	var j jose.JSONWebKey
	if err := j.UnmarshalJSON(b); err != nil {
		return nil, errors.New("dpop: the stored key is not a valid JWK")
	}
	priv, ok := j.Key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, errors.New("dpop: the stored key is not an EC P-256 private key")
	}
	return newKey(priv)
}

// Marshal returns the private key as a JWK: a secret, for the refresh-token
// store only.
func (k *Key) Marshal() ([]byte, error) {
	return (&jose.JSONWebKey{Key: k.priv, Algorithm: string(jose.ES256)}).MarshalJSON()
}

// JKT is the key's RFC 7638 SHA-256 thumbprint, base64url: the value of a
// bound token's cnf.jkt (RFC 9449 §6.1) and of dpop_jkt (§10).
func (k *Key) JKT() string { return k.jkt }

// String names the key by its thumbprint; it never shows the private part.
func (k *Key) String() string { return "dpop key " + k.jkt }

// GoString is String, so that %#v shows no private part either.
func (k *Key) GoString() string { return k.String() }

// Thumbprint is the RFC 7638 SHA-256 thumbprint of a public JWK, base64url.
func Thumbprint(j *jose.JSONWebKey) (string, error) {
	tp, err := j.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("dpop: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// ATH is the ath claim for an access token: base64url(SHA-256(token)).
func ATH(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// HTU is the htu claim for a request URL: the URL without its query and
// fragment (RFC 9449 §4.2), and without user information.
func HTU(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("dpop: %q is not an absolute URL", rawURL)
	}
	return htu(u), nil
}

func htu(u *url.URL) string {
	v := *u
	v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment, v.User = "", false, "", "", nil
	// Syntax- and scheme-based normalisation (RFC 3986 §6.2.2, §6.2.3), as
	// servers compare: lower-case scheme and host, no default port, "/"
	// for an empty path (what curl and Go send).
	v.Scheme = strings.ToLower(v.Scheme)
	v.Host = strings.ToLower(v.Host)
	if p := v.Port(); (p == "443" && v.Scheme == "https") || (p == "80" && v.Scheme == "http") {
		v.Host = strings.TrimSuffix(v.Host, ":"+p)
	}
	if v.Path == "" && v.RawPath == "" {
		v.Path = "/"
	}
	return v.String()
}

// Claims are a proof's claims (RFC 9449 §4.2).
type Claims struct {
	ID       string           `json:"jti"`
	Method   string           `json:"htm"`
	URL      string           `json:"htu"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	Nonce    string           `json:"nonce,omitempty"`
	ATH      string           `json:"ath,omitempty"`
}

// Proof returns a new proof JWT for a request with method to rawURL (its
// query and fragment are left out), issued at now, with nonce and the ath
// of accessToken where they are not empty. Each proof has its own jti.
func (k *Key) Proof(method, rawURL, nonce, accessToken string, now time.Time) (string, error) {
	u, err := HTU(rawURL)
	if err != nil {
		return "", err
	}
	if !ValidMethod(method) {
		return "", fmt.Errorf("dpop: %q is not an HTTP method", method)
	}
	c := Claims{ID: rand.Text(), Method: method, URL: u, IssuedAt: jwt.NewNumericDate(now), Nonce: nonce}
	if accessToken != "" {
		c.ATH = ATH(accessToken)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithType(ProofType))
	if err != nil {
		return "", fmt.Errorf("dpop: %w", err)
	}
	out, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("dpop: signing the proof: %w", err)
	}
	return out, nil
}

// ValidMethod reports whether s can be an HTTP method: a token (RFC 9110
// §5.6.2, §9.1).
func ValidMethod(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// ValidNonce reports whether s may be sent as a nonce claim: 1*NQCHAR
// (RFC 9449 §8.1: %x21 / %x23-5B / %x5D-7E). A server's DPoP-Nonce that is
// not is ignored.
func ValidNonce(s string) bool {
	if s == "" || len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
