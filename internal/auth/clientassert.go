package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/fsutil"
)

// AssertionTypeJWTBearer is the client_assertion_type of RFC 7523 §2.2.
const AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is the exp of a signed client assertion: short, since
// the assertion is made for one request (RFC 7523 §3 item 4).
const assertionLifetime = 2 * time.Minute

// maxKeyFile bounds a client_key_file read.
const maxKeyFile = 64 << 10

// clientAssertion is the one client-authentication step for assertions:
// with client_auth private_key_jwt it returns the client_assertion_type
// and a freshly signed client_assertion (new jti, iat, exp) for a request
// to endpoint; otherwise nil. Every request that authenticates the client
// (token requests through x/oauth2, revocation, introspection) adds these
// parameters, and with them never a secret or a Basic header.
func (c *Client) clientAssertion(endpoint string) (url.Values, error) {
	if c.Profile.ClientAssertion != "" {
		a, err := c.federatedAssertion()
		if err != nil {
			return nil, err
		}
		return url.Values{"client_assertion_type": {AssertionTypeJWTBearer}, "client_assertion": {a}}, nil
	}
	if c.clientAuth() != config.ClientAuthPrivateKeyJWT {
		return nil, nil
	}
	if endpoint == "" {
		return nil, errors.New("private_key_jwt: no endpoint to address the client assertion to")
	}
	k, err := loadClientKey(c.Profile.ClientKeyFile)
	if err != nil {
		return nil, err
	}
	now := timeNow()
	a, err := k.sign(jwt.Claims{
		Issuer:   c.Profile.ClientID,
		Subject:  c.Profile.ClientID,
		Audience: c.assertionAudience(endpoint),
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(assertionLifetime)),
		ID:       rand.Text(),
	})
	if err != nil {
		return nil, err
	}
	return url.Values{
		"client_assertion_type": {AssertionTypeJWTBearer},
		"client_assertion":      {a},
	}, nil
}

// assertionAudience is endpoint (the token endpoint), and the issuer too
// where one is known: RFC 7523 §3 lets aud hold several values, and servers
// differ in which they check (Okta and Entra the token endpoint; Auth0,
// zitadel and Keycloak accept or want the issuer).
func (c *Client) assertionAudience(endpoint string) jwt.Audience {
	aud := jwt.Audience{endpoint}
	if c.Endpoints != nil && c.Endpoints.Issuer != "" && c.Endpoints.Issuer != endpoint {
		aud = append(aud, c.Endpoints.Issuer)
	}
	return aud
}

// usesAssertion says the client authenticates by a client assertion.
func (c *Client) usesAssertion() bool {
	return c.Profile.ClientAssertion != "" || c.clientAuth() == config.ClientAuthPrivateKeyJWT
}

// assertionOpts is clientAssertion for x/oauth2's Exchange and
// DeviceAccessToken, which take extra parameters as options.
func (c *Client) assertionOpts(endpoint string) ([]oauth2.AuthCodeOption, error) {
	v, err := c.clientAssertion(endpoint)
	if err != nil {
		return nil, err
	}
	var o []oauth2.AuthCodeOption
	for k := range v {
		o = append(o, oauth2.SetAuthURLParam(k, v.Get(k)))
	}
	return o, nil
}

// clientKey is a private key with its JWS algorithm and header.
type clientKey struct {
	key    crypto.Signer
	alg    jose.SignatureAlgorithm
	header map[jose.HeaderKey]any // kid or x5t#S256
}

func (k *clientKey) sign(claims jwt.Claims) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for h, v := range k.header {
		opts = opts.WithHeader(h, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, opts)
	if err != nil {
		return "", fmt.Errorf("private_key_jwt: %v", err)
	}
	out, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("private_key_jwt: signing the client assertion: %v", err)
	}
	return out, nil
}

// loadClientKey reads client_key_file: a JWK with its private part, or PEM
// (PKCS#8, PKCS#1 RSA, SEC1 EC), optionally with the certificate whose
// SHA-256 thumbprint then goes in the header as x5t#S256. The file is the
// user's: it is read with a size cap and must be a regular file.
//
// Every failure is a configuration error (exit 2) naming the file.
func loadClientKey(path string) (*clientKey, error) {
	k, err := readClientKey(path)
	if err == nil {
		return k, nil
	}
	var ue *fsutil.UnsafeError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &config.Error{Msg: fmt.Sprintf("client_key_file %s: no such file; point client_key_file at the private key file", path)}
	case errors.As(err, &ue):
		// Not UnsafeError's own fix: the file is the user's, not oat's to remove.
		return nil, &config.Error{Msg: fmt.Sprintf("client_key_file %s: %s; point client_key_file at the private key file", path, ue.Problem)}
	}
	return nil, &config.Error{Msg: err.Error()}
}

func readClientKey(path string) (*clientKey, error) {
	if path == "" {
		return nil, errors.New("client_auth private_key_jwt needs client_key_file (a PEM or JWK private key)")
	}
	b, err := fsutil.ReadUserFile(path, maxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("client_key_file: %w", err)
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		return parseJWKKey(t)
	}
	return parsePEMKey(b)
}

func parseJWKKey(b []byte) (*clientKey, error) {
	var j jose.JSONWebKey
	if err := j.UnmarshalJSON(b); err != nil {
		return nil, errors.New("client_key_file: not a valid JWK")
	}
	if j.IsPublic() {
		return nil, errors.New("client_key_file: the JWK holds only a public key; oat needs the private key")
	}
	signer, ok := j.Key.(crypto.Signer)
	if !ok {
		return nil, errors.New("client_key_file: the JWK is not an RSA, EC or Ed25519 private key")
	}
	k, err := newClientKey(signer)
	if err != nil {
		return nil, err
	}
	if j.KeyID != "" {
		k.header = map[jose.HeaderKey]any{"kid": j.KeyID}
	}
	return k, nil
}

func parsePEMKey(b []byte) (*clientKey, error) {
	var (
		signer crypto.Signer
		cert   *x509.Certificate
	)
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		var key any
		var err error
		switch blk.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(blk.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("client_key_file: the key is encrypted; give oat an unencrypted key (e.g. openssl pkcs8 -nocrypt) in a file only you can read")
		case "CERTIFICATE":
			if cert == nil {
				cert, err = x509.ParseCertificate(blk.Bytes)
			}
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("client_key_file: unreadable %s block", blk.Type)
		}
		if key != nil {
			if signer != nil {
				return nil, errors.New("client_key_file: more than one private key")
			}
			s, ok := key.(crypto.Signer)
			if !ok {
				return nil, errors.New("client_key_file: unsupported key type")
			}
			signer = s
		}
	}
	if signer == nil {
		return nil, errors.New("client_key_file: no private key found (want PEM: PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY; or a JWK)")
	}
	k, err := newClientKey(signer)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		// A thumbprint of another key's certificate would make the server
		// check the assertion with the wrong key: refuse it here, clearly.
		pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(signer.Public()) {
			return nil, errors.New("client_key_file: the certificate is not for the private key in the file (their public keys differ); put the key's own certificate beside it")
		}
		sum := sha256.Sum256(cert.Raw)
		k.header = map[jose.HeaderKey]any{"x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:])}
	}
	return k, nil
}

// newClientKey picks the algorithm from the key: RS256, ES256/384/512, EdDSA.
func newClientKey(s crypto.Signer) (*clientKey, error) {
	k := &clientKey{key: s}
	switch key := s.(type) {
	case *rsa.PrivateKey:
		if key.N.BitLen() < 2048 {
			return nil, errors.New("client_key_file: RSA keys must have at least 2048 bits")
		}
		k.alg = jose.RS256
	case *ecdsa.PrivateKey:
		switch key.Curve {
		case elliptic.P256():
			k.alg = jose.ES256
		case elliptic.P384():
			k.alg = jose.ES384
		case elliptic.P521():
			k.alg = jose.ES512
		default:
			return nil, errors.New("client_key_file: unsupported EC curve (use P-256, P-384 or P-521)")
		}
	case ed25519.PrivateKey:
		k.alg = jose.EdDSA
	default:
		return nil, errors.New("client_key_file: unsupported key type (use RSA, EC or Ed25519)")
	}
	// Named by its RFC 7638 thumbprint unless the file names it (a JWK's
	// kid, a certificate's x5t#S256): a server holding several keys for
	// the client picks the one to check with.
	tp, err := (&jose.JSONWebKey{Key: s.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, errors.New("client_key_file: cannot compute the key's thumbprint")
	}
	k.header = map[jose.HeaderKey]any{"kid": base64.RawURLEncoding.EncodeToString(tp)}
	return k, nil
}
