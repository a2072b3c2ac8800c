package jwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oatcli/oat/internal/discovery"
	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/urlpolicy"
)

// maxKeyFile bounds what is read of a --key file.
const maxKeyFile = 1 << 20

type keySet struct {
	keys      []jose.JSONWebKey
	secret    []byte
	symmetric bool   // keys are shared secrets (HMAC)
	from      string // for messages: path, URL or "$VAR"
	issuer    string // whose discovery gave the JWKS
	fromToken bool   // the issuer came from the token's own iss
}

func loadKeys(ctx context.Context, tok *Token, o VerifyOptions) (*keySet, error) {
	switch {
	case o.Secret != nil:
		name := o.SecretName
		if name == "" {
			name = "the secret given"
		}
		if len(o.Secret) == 0 {
			return nil, fmt.Errorf("the HMAC secret from %s is empty", name)
		}
		return &keySet{secret: o.Secret, symmetric: true, from: name}, nil
	case o.KeyFile != "":
		return readKeyFile(o.KeyFile)
	case o.JWKSURL != "":
		if err := urlpolicy.Check("JWKS URL", o.JWKSURL); err != nil {
			return nil, err
		}
		keys, err := (&KeySet{URL: o.JWKSURL, HTTP: o.HTTPClient, Timeout: o.Timeout}).Keys(ctx)
		if err != nil {
			return nil, err
		}
		return &keySet{keys: keys, from: o.JWKSURL}, nil
	case o.KeysIssuer != "":
		return issuerKeys(ctx, o, o.KeysIssuer, false)
	case o.Issuer != "":
		return issuerKeys(ctx, o, o.Issuer, false)
	}
	iss, ok := tok.StringClaim("iss")
	if !ok || iss == "" {
		return nil, &VerifyError{Check: CheckSignature, Msg: "no keys to check it with: the token has no iss; pass --key FILE, --jwks-url URL, --issuer URL or --secret-env VAR", Err: errNoKeySource}
	}
	if err := urlpolicy.Check("iss", iss); err != nil {
		return nil, &VerifyError{Check: CheckSignature, Msg: fmt.Sprintf("no keys to check it with: the token's iss %q is not an https (or loopback http) URL; pass --key FILE, --jwks-url URL, --issuer URL or --secret-env VAR", iss), Err: errNoKeySource}
	}
	return issuerKeys(ctx, o, iss, true)
}

func issuerKeys(ctx context.Context, o VerifyOptions, issuer string, fromToken bool) (*keySet, error) {
	jwksURL, err := discoverJWKS(ctx, o, issuer)
	if err != nil {
		return nil, err
	}
	keys, err := (&KeySet{URL: jwksURL, HTTP: o.HTTPClient, Timeout: o.Timeout}).Keys(ctx)
	if err != nil {
		return nil, err
	}
	return &keySet{keys: keys, from: jwksURL, issuer: issuer, fromToken: fromToken}, nil
}

// ---- key files

func readKeyFile(path string) (*keySet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading --key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading --key %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("--key %s: larger than %d bytes", path, maxKeyFile)
	}
	data = bytes.TrimSpace(data)
	var keys []jose.JSONWebKey
	if len(data) > 0 && data[0] == '{' {
		keys, err = parseJWKOrSet(data)
	} else {
		keys, err = parsePEM(data)
	}
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", path, err)
	}
	ks := &keySet{keys: keys, from: path}
	for _, k := range keys {
		if _, ok := k.Key.([]byte); ok {
			ks.symmetric = true
		}
	}
	return ks, nil
}

func parseJWKOrSet(data []byte) ([]jose.JSONWebKey, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if _, ok := probe["keys"]; ok {
		return parseJWKS(data, true)
	}
	k, err := parseJWK(data, true)
	if err != nil {
		return nil, fmt.Errorf("not a usable JWK: %v", err)
	}
	return []jose.JSONWebKey{k}, nil
}

// parseJWKS reads {"keys":[…]}, skipping keys oat cannot use (unknown kty,
// encryption keys) as long as one usable key remains.
func parseJWKS(data []byte, allowSymmetric bool) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a JWKS: %v", err)
	}
	if set.Keys == nil {
		return nil, errors.New(`not a JWKS: no "keys" array`)
	}
	var keys []jose.JSONWebKey
	var firstErr error
	for _, raw := range *set.Keys {
		k, err := parseJWK(raw, allowSymmetric)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		if firstErr != nil {
			return nil, fmt.Errorf("no usable signing key among %d key(s) (first problem: %v)", len(*set.Keys), firstErr)
		}
		return nil, fmt.Errorf("no usable signing key among %d key(s)", len(*set.Keys))
	}
	return keys, nil
}

func parseJWK(data []byte, allowSymmetric bool) (jose.JSONWebKey, error) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(data); err != nil {
		return k, err
	}
	if k.Use == "enc" {
		return k, errors.New("an encryption key (use \"enc\")")
	}
	if _, ok := k.Key.([]byte); ok {
		if !allowSymmetric {
			return k, errors.New(`a shared secret (kty "oct") is never taken from a URL`)
		}
		return k, nil
	}
	if !k.IsPublic() {
		k = k.Public()
	}
	if !k.Valid() {
		return k, errors.New("not a valid key")
	}
	return k, nil
}

func parsePEM(data []byte) ([]jose.JSONWebKey, error) {
	var keys []jose.JSONWebKey
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		pub, err := pemPublicKey(block)
		if err != nil {
			return nil, err
		}
		if pub == nil {
			continue // some other block, e.g. parameters
		}
		keys = append(keys, jose.JSONWebKey{Key: pub})
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM public key, certificate or JWK/JWKS found")
	}
	return keys, nil
}

func pemPublicKey(b *pem.Block) (any, error) {
	switch b.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PUBLIC KEY: %v", err)
		}
		return k, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("RSA PUBLIC KEY: %v", err)
		}
		return k, nil
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CERTIFICATE: %v", err)
		}
		return c.PublicKey, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PRIVATE KEY: %v", err)
		}
		if s, ok := k.(crypto.Signer); ok {
			return s.Public(), nil
		}
		return nil, errors.New("PRIVATE KEY: not a signing key")
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("RSA PRIVATE KEY: %v", err)
		}
		return k.Public(), nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("EC PRIVATE KEY: %v", err)
		}
		return k.Public(), nil
	}
	return nil, nil
}

// ---- fetching

type statusError struct {
	op   string
	code int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s: server answered %d %s", e.op, e.code, http.StatusText(e.code))
}

// fetch GETs u, JSON expected: the one HTTP exchange of jwt (discovery and
// JWKS). A failure that may go away (network, timeout, 5xx, 429) is a
// *httpx.TemporaryError; the caller's cancellation (Ctrl-C) stays one.
func fetch(ctx context.Context, client *http.Client, timeout time.Duration, what, u string) ([]byte, error) {
	op := "fetching " + what + " from " + u
	if timeout <= 0 {
		timeout = httpx.DefaultTimeout
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(fctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) { // the caller gave up (Ctrl-C), not the server
			return nil, fmt.Errorf("%s: %w", op, ctx.Err())
		}
		if tlsErr := httpx.AsTLSError(err); tlsErr != nil {
			return nil, fmt.Errorf("%s: %w", op, tlsErr) // retrying will not help
		}
		if !httpx.IsTemporaryTransport(err) { // a refused redirect, a bad URL
			return nil, fmt.Errorf("%s: %w", op, unwrapURLError(err))
		}
		return nil, &httpx.TemporaryError{Op: op, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if te := httpx.StatusError(op, resp.StatusCode, resp.Header); te != nil {
			return nil, te
		}
		return nil, &statusError{op: op, code: resp.StatusCode}
	}
	body, err := httpx.ReadBody(resp.Body)
	if err != nil {
		if fctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
			return nil, &httpx.TemporaryError{Op: op, Err: fmt.Errorf("timed out after %s", timeout)}
		}
		return nil, fmt.Errorf("%s: %v", op, err)
	}
	return body, nil
}

// unwrapURLError drops *url.Error's "Get \"…\":" prefix, since op names the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return errors.New("timed out")
		}
		return ue.Err
	}
	return err
}

// discoverJWKS finds the issuer's metadata through the one discovery
// function (OIDC, then RFC 8414) and returns its jwks_uri.
func discoverJWKS(ctx context.Context, o VerifyOptions, issuer string) (string, error) {
	if err := urlpolicy.Check("issuer", issuer); err != nil {
		return "", err
	}
	get := func(ctx context.Context, u string) (int, []byte, error) {
		body, err := fetch(ctx, o.HTTPClient, o.Timeout, "discovery document", u)
		var se *statusError
		if errors.As(err, &se) {
			return se.code, nil, nil
		}
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, body, nil
	}
	md, docURL, err := discovery.Discover(ctx, get, issuer)
	var mismatch *discovery.MismatchError
	var bad *discovery.BadJSONError
	switch {
	case errors.As(err, &mismatch):
		return "", &VerifyError{Check: CheckIssuer, Msg: fmt.Sprintf("the discovery document at %s names issuer %q, not %q", mismatch.URL, mismatch.Got, issuer)}
	case errors.As(err, &bad):
		return "", fmt.Errorf("discovery document from %s is not valid JSON: %v", bad.URL, bad.Err)
	case err != nil:
		return "", err
	}
	if md.JWKSURI == "" {
		return "", fmt.Errorf("discovery document from %s has no jwks_uri", docURL)
	}
	if err := urlpolicy.Check("jwks_uri in "+docURL, md.JWKSURI); err != nil {
		return "", err
	}
	return md.JWKSURI, nil
}
