package jwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oatcli/oat/internal/fsutil"
)

// JWKSMaxAge is how long a cached JWKS is trusted without asking the server.
// Keys that do not verify a token are fetched again at once (key rotation).
const JWKSMaxAge = time.Hour

// KeySet is the one way oat gets an issuer's signing keys: the JWKS at URL,
// fetched with HTTP (a failure that may go away — network, timeout, 5xx,
// 429 — is a *httpx.TemporaryError), read as signing keys only (never a
// shared secret from a URL) and, when CacheFile is set, kept in that file
// (in oat's private cache folder) for up to JWKSMaxAge, so that verifying
// the ID token of a renewal costs no request of its own.
//
// Its VerifySignature makes it a go-oidc KeySet (auth's ID-token checks, at
// login and renewal); Keys serves oat decode --verify.
type KeySet struct {
	URL       string
	HTTP      *http.Client  // http.DefaultClient when nil
	Timeout   time.Duration // per fetch; httpx.DefaultTimeout when 0
	CacheFile string        // "" = no cache: fetched each time
	// FetchErr is the last fetch failure as it happened. go-oidc's
	// verifier keeps only the text of a KeySet's error, so a caller that
	// wants its kind (a *httpx.TemporaryError is exit 4) reads it here.
	FetchErr error
}

// Keys fetches the JWKS (never from the cache) and returns its usable keys.
func (k *KeySet) Keys(ctx context.Context) ([]jose.JSONWebKey, error) {
	keys, _, err := k.fetch(ctx)
	return keys, err
}

func (k *KeySet) fetch(ctx context.Context) ([]jose.JSONWebKey, []byte, error) {
	body, err := fetch(ctx, k.HTTP, k.Timeout, "JWKS", k.URL)
	if err != nil {
		k.FetchErr = err
		return nil, nil, err
	}
	keys, err := parseJWKS(body, false)
	if err != nil {
		return nil, nil, fmt.Errorf("JWKS from %s: %v", k.URL, err)
	}
	return keys, body, nil
}

// VerifySignature checks a compact JWS against the keys (the algorithm is
// checked by the caller: go-oidc's verifier) and returns its payload. When
// cached keys are missing, older than JWKSMaxAge or do not verify the
// token, the JWKS is fetched, and cached only once it verified the token.
func (k *KeySet) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(token, SupportedAlgs)
	if err != nil {
		return nil, fmt.Errorf("malformed JWS: %v", err)
	}
	if k.CacheFile != "" {
		if fi, err := os.Lstat(k.CacheFile); err == nil && time.Since(fi.ModTime()) < JWKSMaxAge && time.Until(fi.ModTime()) < time.Minute {
			b, err := fsutil.ReadFile(k.CacheFile, fsutil.MaxFileSize)
			if errors.Is(err, fsutil.ErrUnsafe) {
				k.FetchErr = err
				return nil, err
			}
			if err == nil {
				if keys, err := parseJWKS(b, false); err == nil {
					if payload, ok := verifyWith(jws, keys); ok {
						return payload, nil
					}
				}
			}
		}
	}
	keys, body, err := k.fetch(ctx)
	if err != nil {
		return nil, err
	}
	payload, ok := verifyWith(jws, keys)
	if !ok {
		return nil, errors.New("no key of the JWKS verifies the signature")
	}
	// A cache: failing to write it only costs a request next time.
	if k.CacheFile != "" && fsutil.PrivateDir(filepath.Dir(k.CacheFile)) == nil {
		_ = fsutil.WriteCacheFile(k.CacheFile, body)
	}
	return payload, nil
}

// verifyWith tries each key (as go-oidc's StaticKeySet does).
func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey) ([]byte, bool) {
	for _, key := range keys {
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, true
		}
	}
	return nil, false
}
