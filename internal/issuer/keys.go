package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	jose "github.com/go-jose/go-jose/v4"
)

// signingKey is the one key the issuer signs with; it serves as both
// op.SigningKey and op.Key.
type signingKey struct {
	id   string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) ID() string                                  { return k.id }

// Key is the private key (op.SigningKey).
func (k *signingKey) Key() any { return k.priv }

// publicKey is the same key as op.Key for the JWKS.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.priv.Public() }

func loadOrGenerateKey(file string) (*signingKey, error) {
	if file == "" {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("issuer: generate key: %w", err)
		}
		return newSigningKey(priv)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("issuer: key file: %w", err)
	}
	priv, err := parsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("issuer: key file %s: %w", file, err)
	}
	k, err := newSigningKey(priv)
	if err != nil {
		return nil, fmt.Errorf("issuer: key file %s: %w", file, err)
	}
	return k, nil
}

// parsePrivateKey reads the first PEM private key in data.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY) found")
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			return x509.ParseECPrivateKey(block.Bytes)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			switch k := k.(type) {
			case *rsa.PrivateKey:
				return k, nil
			case *ecdsa.PrivateKey:
				return k, nil
			default:
				return nil, fmt.Errorf("unsupported private key type %T (want RSA or ECDSA)", k)
			}
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the private key is encrypted; give an unencrypted one")
		}
	}
}

func newSigningKey(priv crypto.Signer) (*signingKey, error) {
	var alg jose.SignatureAlgorithm
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits is too small (at least 2048)", k.N.BitLen())
		}
		alg = jose.RS256
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			alg = jose.ES256
		case elliptic.P384():
			alg = jose.ES384
		case elliptic.P521():
			alg = jose.ES512
		default:
			return nil, errors.New("unsupported ECDSA curve (want P-256, P-384 or P-521)")
		}
	default:
		return nil, fmt.Errorf("unsupported private key type %T", priv)
	}
	jwk := jose.JSONWebKey{Key: priv.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key thumbprint: %w", err)
	}
	return &signingKey{id: base64.RawURLEncoding.EncodeToString(tp), alg: alg, priv: priv}, nil
}
