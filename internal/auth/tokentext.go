package auth

import (
	"fmt"
	"strings"

	"github.com/oatcli/oat/internal/tokentext"
	"golang.org/x/oauth2"
)

// TokenTypeNA is the token_type of a token exchange's answer whose token is
// not an access token (RFC 8693 §2.2.1: "N_A", say for requested_token_type
// id_token): it is no Authorization scheme.
const TokenTypeNA = "N_A"

// IsNotAccessToken reports token_type N_A (any case).
func IsNotAccessToken(tokenType string) bool { return strings.EqualFold(tokenType, TokenTypeNA) }

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

// UnusableTokenError is a token response refused because its access token
// or token_type could not be printed or sent safely. RefreshToken is the
// response's rotated refresh token when that one is fine: the spec's renewal
// rule stores a rotated refresh token before anything else is done with the
// response (the old one is dead at the server), so the caller stores it and
// then fails with this error, caching nothing.
type UnusableTokenError struct {
	msg          string
	RefreshToken string
}

func (e *UnusableTokenError) Error() string { return e.msg }

// checkTokenResponse refuses a token response oat could not print or store
// safely: a refresh token that is not token text refuses all of it (nothing
// of it is stored); an access token or token_type that is not gives an
// *UnusableTokenError carrying the rotated refresh token, if any. It
// normalises token_type.
func checkTokenResponse(op string, tok *oauth2.Token) error {
	const refused = "%s: the token endpoint sent %s with a control character, a space or a non-ASCII byte: oat refuses %s; report this to the server's operator"
	if tok.RefreshToken != "" && !tokentext.IsTokenText(tok.RefreshToken) {
		return fmt.Errorf(refused, op, "a refresh token", "the whole response and stored nothing of it")
	}
	bad := ""
	switch {
	case !tokentext.IsTokenText(tok.AccessToken):
		bad = "an access token"
	case !isTokenTypeText(tok.TokenType):
		bad = "a token_type"
	}
	if bad != "" {
		what := "the whole response and stored nothing of it"
		if tok.RefreshToken != "" {
			what = "its tokens and cached nothing (a rotated refresh token is kept, as the old one is spent)"
		}
		return &UnusableTokenError{msg: fmt.Sprintf(refused, op, bad, what), RefreshToken: tok.RefreshToken}
	}
	tok.TokenType = tokentext.NormalizeTokenType(tok.TokenType)
	return nil
}
