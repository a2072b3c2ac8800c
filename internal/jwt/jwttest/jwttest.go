// Package jwttest mints JWTs and JWEs with fixed keys for oat's tests. The
// keys are test-only and protect nothing.
package jwttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha512"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is a signing key with the alg and kid tokens minted with it carry.
type Key struct {
	Alg     jose.SignatureAlgorithm
	KID     string
	Private any // *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey or []byte
}

// Public returns the public key ([]byte for HMAC).
func (k Key) Public() any {
	if s, ok := k.Private.(crypto.Signer); ok {
		return s.Public()
	}
	return k.Private
}

// WithAlg returns k signing with another alg of the same key type.
func (k Key) WithAlg(alg jose.SignatureAlgorithm) Key { k.Alg = alg; return k }

// WithKID returns k with another kid ("" for none).
func (k Key) WithKID(kid string) Key { k.KID = kid; return k }

func mustPEM(t testing.TB, s string) any {
	t.Helper()
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		t.Fatal("jwttest: bad PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatalf("jwttest: %v", err)
	}
	return k
}

// RSA is the fixed RSA key: RS256, kid "test-rsa".
func RSA(t testing.TB) Key {
	return Key{Alg: jose.RS256, KID: "test-rsa", Private: mustPEM(t, rsaKeyPEM)}
}

// OtherRSA is a second RSA key with the same kid as RSA: a token it signs
// does not verify with RSA's public key.
func OtherRSA(t testing.TB) Key {
	return Key{Alg: jose.RS256, KID: "test-rsa", Private: mustPEM(t, otherRSAKeyPEM)}
}

func ecKey(t testing.TB, curve elliptic.Curve, size int, label string) *ecdsa.PrivateKey {
	t.Helper()
	seed := sha512.Sum512([]byte("oat jwttest " + label))
	raw := make([]byte, size)
	copy(raw[size-min(size, len(seed))+1:], seed[:])
	raw[0] = 0 // below the curve order
	k, err := ecdsa.ParseRawPrivateKey(curve, raw)
	if err != nil {
		t.Fatalf("jwttest: %v", err)
	}
	return k
}

// EC256 is a fixed P-256 key: ES256, kid "test-ec".
func EC256(t testing.TB) Key {
	return Key{Alg: jose.ES256, KID: "test-ec", Private: ecKey(t, elliptic.P256(), 32, "p256")}
}

// EC384 is a fixed P-384 key: ES384, kid "test-ec384".
func EC384(t testing.TB) Key {
	return Key{Alg: jose.ES384, KID: "test-ec384", Private: ecKey(t, elliptic.P384(), 48, "p384")}
}

// EC521 is a fixed P-521 key: ES512, kid "test-ec521".
func EC521(t testing.TB) Key {
	return Key{Alg: jose.ES512, KID: "test-ec521", Private: ecKey(t, elliptic.P521(), 66, "p521")}
}

// Ed25519 is a fixed Ed25519 key: EdDSA, kid "test-ed".
func Ed25519(t testing.TB) Key {
	seed := sha512.Sum512([]byte("oat jwttest ed25519"))
	return Key{Alg: jose.EdDSA, KID: "test-ed", Private: ed25519.NewKeyFromSeed(seed[:32])}
}

// HMACSecret is the fixed HS256 secret (test-only).
const HMACSecret = "oat-test-secret-0123456789abcdef-not-a-real-secret"

// HMAC is the fixed HMAC key: HS256, no kid.
func HMAC(t testing.TB) Key {
	return Key{Alg: jose.HS256, Private: []byte(HMACSecret)}
}

// Sign mints a compact JWS over payload (the exact JSON bytes, so tests
// control key order and number text). The header is alg, kid (when k has
// one) and typ "JWT".
func Sign(t testing.TB, k Key, payload string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	var key any = k.Private
	if k.KID != "" {
		key = jose.JSONWebKey{Key: k.Private, KeyID: k.KID, Algorithm: string(k.Alg)}
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: key}, opts)
	if err != nil {
		t.Fatalf("jwttest: signer: %v", err)
	}
	obj, err := s.Sign([]byte(payload))
	if err != nil {
		t.Fatalf("jwttest: sign: %v", err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatalf("jwttest: serialize: %v", err)
	}
	return out
}

// Encrypt mints a compact JWE (RSA-OAEP-256, A256GCM) of payload to RSA's
// public key, with kid "test-rsa" and cty "JWT".
func Encrypt(t testing.TB, payload string) string {
	t.Helper()
	k := RSA(t)
	enc, err := jose.NewEncrypter(jose.A256GCM,
		jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: k.Public(), KeyID: k.KID},
		(&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		t.Fatalf("jwttest: encrypter: %v", err)
	}
	obj, err := enc.Encrypt([]byte(payload))
	if err != nil {
		t.Fatalf("jwttest: encrypt: %v", err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatalf("jwttest: serialize: %v", err)
	}
	return out
}

// JWKS returns the public JWKS of keys, as a server would publish it.
func JWKS(t testing.TB, keys ...Key) []byte {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: k.KID, Algorithm: string(k.Alg), Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatalf("jwttest: jwks: %v", err)
	}
	return b
}

// PublicPEM returns k's public key as a PEM "PUBLIC KEY" block.
func PublicPEM(t testing.TB, k Key) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatalf("jwttest: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
