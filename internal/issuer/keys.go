package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // at_hash of RS256 and ES256
	_ "crypto/sha512" // at_hash of ES384 and ES512
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	jose "github.com/go-jose/go-jose/v4"
)

// signingKey is the one key the issuer signs with.
type signingKey struct {
	id   string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
	hash crypto.Hash // of at_hash and c_hash: the one of alg
	jwks []byte      // the JWKS document: this key's public half
}

// sign returns claims as a compact JWS (a JWT) signed with the key.
func (k *signingKey) sign(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.id}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// verify checks that raw is a JWT this key signed and returns its payload.
func (k *signingKey) verify(raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{k.alg})
	if err != nil {
		return nil, err
	}
	return jws.Verify(k.priv.Public())
}

// halfHash is at_hash / c_hash (OIDC Core 3.1.3.6): the left half of the
// hash of s, base64url.
func (k *signingKey) halfHash(s string) string {
	h := k.hash.New()
	h.Write([]byte(s))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

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
	k := &signingKey{id: base64.RawURLEncoding.EncodeToString(tp), alg: alg, priv: priv, hash: crypto.SHA256}
	switch alg {
	case jose.ES384:
		k.hash = crypto.SHA384
	case jose.ES512:
		k.hash = crypto.SHA512
	}
	k.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: k.id, Algorithm: string(alg), Use: "sig"}}})
	if err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	return k, nil
}
