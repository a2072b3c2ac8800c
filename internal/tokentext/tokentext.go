// Package tokentext holds what oat checks of a token before it prints or
// sends it. It imports nothing but the standard library's strings, so the
// cached `oat token` answered before package initialisation (internal/fastpath)
// decides with the same functions as the rest of oat.
package tokentext

import "strings"

// IsTokenText reports whether s is non-empty visible ASCII (%x21-7E): no
// control character, space or non-ASCII byte. oat prints tokens for
// `curl -H "$(oat token -o header)"` and the like, so a token with a CR, LF
// or ESC would inject a header or drive the terminal. Real tokens are
// base64url, JWTs or opaque strings of these characters (Salesforce's hold
// "!"); RFC 6750's b64token is stricter still.
func IsTokenText(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// NormalizeTokenType returns the token_type as an Authorization scheme:
// "Bearer" for any case of bearer (and for none), "DPoP" for any case of
// dpop, else the server's value as is.
func NormalizeTokenType(t string) string {
	switch {
	case t == "", strings.EqualFold(t, "bearer"):
		return "Bearer"
	case strings.EqualFold(t, "dpop"):
		return "DPoP"
	}
	return t
}
