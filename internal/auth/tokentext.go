package auth

import (
	"fmt"
	"strings"

	"golang.org/x/oauth2"
)

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

// isTokenTypeText reports whether t is an HTTP token (RFC 9110 tchar), as an
// Authorization scheme must be.
func isTokenTypeText(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// checkTokenResponse refuses a token response oat could not print or store
// safely, as a whole: nothing of it is cached or stored, a rotated refresh
// token included (a server that sends such a response is broken or hostile;
// the refresh token oat holds stays as it was). It normalises token_type.
func checkTokenResponse(op string, tok *oauth2.Token) error {
	bad := ""
	switch {
	case !IsTokenText(tok.AccessToken):
		bad = "an access token"
	case tok.RefreshToken != "" && !IsTokenText(tok.RefreshToken):
		bad = "a refresh token"
	case !isTokenTypeText(tok.TokenType):
		bad = "a token_type"
	}
	if bad != "" {
		return fmt.Errorf("%s: the token endpoint sent %s with a control character, a space or a non-ASCII byte: oat refuses the whole response and stored nothing of it; report this to the server's operator", op, bad)
	}
	tok.TokenType = NormalizeTokenType(tok.TokenType)
	return nil
}
