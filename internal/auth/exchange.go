package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/oatcli/oat/internal/config"
)

// GrantTypeTokenExchange is the grant_type of RFC 8693 §2.1.
const GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// TokenExchange runs the RFC 8693 token exchange: it gets the subject token
// from subject_token_from afresh (a file or variable is read again, another
// profile's token is renewed when needed) and sends it with its type,
// requested_token_type, audience, resource and scopes, the client
// authenticated as at the token endpoint. Like client credentials it is run
// again to renew; a refresh token in the answer is not kept.
func (c *Client) TokenExchange(ctx context.Context) (*Result, error) {
	src := c.Profile.SubjectTokenFrom
	if src == "" {
		return nil, &config.Error{Msg: "flow token-exchange needs subject_token_from (--subject-token-from github-actions, env:VAR, file:PATH or profile:NAME)"}
	}
	subject, defaultType, err := c.subjectToken(ctx, src)
	if err != nil {
		return nil, err
	}
	typ := config.TokenTypeURI(c.Profile.SubjectTokenType)
	if typ == "" {
		typ = defaultType
	}
	params := url.Values{
		"grant_type":         {GrantTypeTokenExchange},
		"subject_token":      {subject},
		"subject_token_type": {typ},
	}
	if t := c.Profile.RequestedTokenType; t != "" {
		params.Set("requested_token_type", config.TokenTypeURI(t))
	}
	cc, err := c.ccConfig(params)
	if err != nil {
		return nil, err
	}
	cc.Scopes = c.Profile.Scopes
	tok, err := retryOnce(ctx, func() (*oauth2.Token, error) {
		t, err := cc.Token(c.ctx(ctx))
		return t, c.clientErr(mapError(ctx, "token exchange", "token endpoint", err))
	})
	if err != nil {
		return nil, err
	}
	// The session is renewed by exchanging again, never by a refresh token.
	tok.RefreshToken = ""
	return c.result(ctx, tok, "")
}

// subjectToken reads the subject token src names and returns it with the
// type it has unless subject_token_type says otherwise: an access token
// for profile:NAME, a JWT for the other sources.
func (c *Client) subjectToken(ctx context.Context, src string) (tok, typ string, err error) {
	if name, ok := strings.CutPrefix(src, "profile:"); ok {
		if c.ProfileToken == nil {
			return "", "", errors.New("subject_token_from profile: is not available here")
		}
		tok, err := c.ProfileToken(ctx, name)
		if err != nil {
			return "", "", fmt.Errorf("subject_token_from %s: %w", src, err)
		}
		return tok, config.TokenTypeAccessToken, nil
	}
	tok, err = c.readJWTSource("subject_token_from", src)
	return tok, config.TokenTypeJWT, err
}
