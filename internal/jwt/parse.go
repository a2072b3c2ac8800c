// Package jwt decodes JSON Web Tokens (JWS and JWE in compact form) for
// display, keeping claims in the token's own order with exact numbers, and
// verifies JWS signatures and time, issuer and audience claims with go-jose.
// It never prints: it returns values and typed errors (*MalformedError,
// *VerifyError, *httpx.TemporaryError).
package jwt

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Token is a decoded compact JWS (header.payload.signature) or JWE
// (protected header and four more parts, payload encrypted).
type Token struct {
	// Raw is the compact token after trimming whitespace and any
	// "Authorization: Bearer " prefix.
	Raw string
	// Header is the JOSE header (for a JWE, its protected header).
	Header *Object
	// Payload holds the claims of a JWS; nil for a JWE.
	Payload *Object
	// Signature is the JWS signature, base64url as in the token; "" for a JWE.
	Signature string
	// Encrypted reports a JWE: its payload cannot be shown without the key.
	Encrypted bool
}

// MalformedError says what is wrong with which part of a token that is not
// a JWT. Part is "token", "header", "payload", "signature", or one of a JWE's
// "encrypted key", "initialization vector", "ciphertext", "authentication tag".
type MalformedError struct {
	Part string
	Msg  string
}

func (e *MalformedError) Error() string {
	if e.Part == "token" {
		return "not a JWT: " + e.Msg
	}
	return "not a JWT: " + e.Part + ": " + e.Msg
}

// Alg is the header's "alg", or "" when absent or not a string.
func (t *Token) Alg() string { s, _ := t.Header.String("alg"); return s }

// KeyID is the header's "kid", or "".
func (t *Token) KeyID() string { s, _ := t.Header.String("kid"); return s }

// Claim returns a payload member (the last one of that name).
func (t *Token) Claim(name string) (any, bool) { return t.Payload.Get(name) }

// StringClaim returns a payload member that is a JSON string.
func (t *Token) StringClaim(name string) (string, bool) { return t.Payload.String(name) }

// Audience returns "aud" as a list: a string claim gives one element, an array
// its string elements; nil when absent.
func (t *Token) Audience() []string {
	v, ok := t.Claim("aud")
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := []string{}
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Parse decodes a compact JWS or JWE. Surrounding whitespace and a leading
// "Bearer " or "Authorization: Bearer " are removed first. Any problem is a
// *MalformedError naming the part. Parse never panics.
func Parse(raw string) (*Token, error) {
	s := Clean(raw)
	if s == "" {
		return nil, &MalformedError{Part: "token", Msg: "empty input"}
	}
	parts := strings.Split(s, ".")
	switch len(parts) {
	case 3:
		return parseJWS(s, parts)
	case 5:
		return parseJWE(s, parts)
	}
	msg := fmt.Sprintf("expected 3 dot-separated parts (JWS) or 5 (JWE), found %d", len(parts))
	if len(parts) == 1 {
		msg += " (an opaque token, which only its issuer can read?)"
	}
	return nil, &MalformedError{Part: "token", Msg: msg}
}

// Claims returns the payload of a compact JWS without checking it, for a
// token oat received from its server (an ID token verified on receipt, an
// access token read for its exp): nil when raw is not a JWS with a JSON
// payload. Trailing base64 padding is tolerated, as go-jose tolerates it when
// the ID token is verified. Decode uses Parse, which reports every problem.
func Claims(raw string) *Object {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil
	}
	obj, err := decodeObject("payload", strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	return obj
}

// Clean trims whitespace and a leading "Authorization:" and "Bearer " (any
// case) from s.
func Clean(s string) string {
	s = strings.TrimSpace(s)
	if hasPrefixFold(s, "authorization:") {
		s = strings.TrimSpace(s[len("authorization:"):])
	}
	if hasPrefixFold(s, "bearer") && len(s) > len("bearer") && (s[6] == ' ' || s[6] == '\t') {
		s = strings.TrimSpace(s[len("bearer"):])
	}
	return s
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func parseJWS(s string, parts []string) (*Token, error) {
	hdr, err := decodeObject("header", parts[0])
	if err != nil {
		return nil, err
	}
	payload, err := decodeObject("payload", parts[1])
	if err != nil {
		return nil, err
	}
	if _, err := decodePart("signature", parts[2]); err != nil {
		return nil, err
	}
	return &Token{Raw: s, Header: hdr, Payload: payload, Signature: parts[2]}, nil
}

var jweParts = []string{"header", "encrypted key", "initialization vector", "ciphertext", "authentication tag"}

func parseJWE(s string, parts []string) (*Token, error) {
	hdr, err := decodeObject("header", parts[0])
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(parts); i++ {
		if _, err := decodePart(jweParts[i], parts[i]); err != nil {
			return nil, err
		}
	}
	return &Token{Raw: s, Header: hdr, Encrypted: true}, nil
}

func decodeObject(part, enc string) (*Object, error) {
	if enc == "" {
		return nil, &MalformedError{Part: part, Msg: "empty"}
	}
	data, err := decodePart(part, enc)
	if err != nil {
		return nil, err
	}
	obj, err := parseObject(data)
	if err != nil {
		return nil, &MalformedError{Part: part, Msg: err.Error()}
	}
	return obj, nil
}

func decodePart(part, enc string) ([]byte, error) {
	data, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		var ce base64.CorruptInputError
		if !errors.As(err, &ce) {
			return nil, &MalformedError{Part: part, Msg: "illegal base64url data"}
		}
		msg := fmt.Sprintf("illegal base64url data at byte %d", int64(ce))
		if i := int(ce); i >= 0 && i < len(enc) {
			switch enc[i] {
			case '=':
				msg += " (padding '=' is not allowed in a JWT)"
			case '+', '/':
				msg += " (standard base64, not base64url)"
			}
		}
		return nil, &MalformedError{Part: part, Msg: msg}
	}
	return data, nil
}
