package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/oatcli/oat/internal/fsutil"
	"github.com/oatcli/oat/internal/httpx"
)

// JWKSMaxAge is how long a cached JWKS is trusted without asking the server.
// Keys that do not verify a token are fetched again at once (key rotation).
const JWKSMaxAge = time.Hour

// fileKeySet is an oidc.KeySet that keeps the issuer's JWKS in a file (in
// oat's private cache folder), so that verifying the ID token of a renewal
// costs no request of its own: a refresh is one round trip, not two. When
// the cached keys are missing, older than JWKSMaxAge or do not verify the
// token, the JWKS is fetched, and stored only once it verified the token.
type fileKeySet struct {
	path string
	url  string
	hc   *http.Client
	// fetchErr is the last fetch failure as fetch returned it. go-oidc's
	// verifier keeps only the text of a KeySet's error, so a caller that
	// wants its kind (a *httpx.TemporaryError is exit 4) reads it here.
	fetchErr error
}

func (k *fileKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	if fi, err := os.Lstat(k.path); err == nil && time.Since(fi.ModTime()) < JWKSMaxAge && time.Until(fi.ModTime()) < time.Minute {
		b, err := fsutil.ReadFile(k.path, fsutil.MaxFileSize)
		if errors.Is(err, fsutil.ErrUnsafe) {
			k.fetchErr = err
			return nil, err
		}
		if err == nil {
			if payload, err := verifyWithJWKS(ctx, b, jwt); err == nil {
				return payload, nil
			}
		}
	}
	b, err := k.fetch(ctx)
	if err != nil {
		k.fetchErr = err
		return nil, err
	}
	payload, err := verifyWithJWKS(ctx, b, jwt)
	if err != nil {
		return nil, err
	}
	// A cache: failing to write it only costs a request next time.
	if fsutil.PrivateDir(filepath.Dir(k.path)) == nil {
		_ = fsutil.WriteCacheFile(k.path, b)
	}
	return payload, nil
}

// fetch gets the JWKS. Like every other exchange in auth, a failure that may
// go away (network, timeout, 5xx, 429) is a *httpx.TemporaryError.
func (k *fileKeySet) fetch(ctx context.Context) ([]byte, error) {
	const op, endpoint = "fetching keys", "JWKS endpoint"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", op, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.hc.Do(req)
	if err != nil {
		return nil, mapError(ctx, op, endpoint, err)
	}
	defer resp.Body.Close()
	b, err := httpx.ReadBody(resp.Body)
	if err != nil {
		return nil, mapError(ctx, op, endpoint, &bodyError{What: "response too large or cut short", StatusCode: resp.StatusCode})
	}
	if te := httpx.StatusError(op, resp.StatusCode, resp.Header); te != nil {
		return nil, te
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s answered %d %s", op, endpoint, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return b, nil
}

// verifyWithJWKS checks jwt's signature against the signing keys of a JWKS
// document (the algorithm is checked by the oidc.Verifier).
func verifyWithJWKS(ctx context.Context, jwks []byte, jwt string) ([]byte, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("fetching keys: the JWKS is not valid JSON: %v", err)
	}
	var ks oidc.StaticKeySet
	for _, key := range set.Keys {
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		switch key.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			ks.PublicKeys = append(ks.PublicKeys, key.Key)
		}
	}
	return ks.VerifySignature(ctx, jwt)
}
