package auth

import (
	"context"
	"errors"
	"net/url"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oatcli/oat/internal/httpx"
)

// maxRetryWait bounds a Retry-After wait when ctx has no deadline.
const maxRetryWait = 30 * time.Second

// ClientCredentials runs the client-credentials grant (audience and resource
// sent where set). A 429/5xx with a Retry-After that fits in ctx is retried once.
func (c *Client) ClientCredentials(ctx context.Context) (*Result, error) {
	cc, err := c.ccConfig(nil)
	if err != nil {
		return nil, err
	}
	cc.Scopes = c.Profile.Scopes
	tok, err := retryOnce(ctx, func() (*oauth2.Token, error) {
		t, err := cc.Token(c.ctx(ctx))
		return t, c.clientErr(mapError(ctx, "client credentials", "token endpoint", err))
	})
	if err != nil {
		return nil, err
	}
	return c.result(ctx, tok, "")
}

// Refresh runs the refresh-token grant and checks the response (RefreshGrant
// then Complete). A caller that must store a rotated refresh token before
// anything else can fail calls the two itself.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Result, error) {
	tok, err := c.RefreshGrant(ctx, refreshToken)
	if err != nil {
		return nil, err
	}
	return c.Complete(ctx, tok)
}

// RefreshGrant runs the refresh-token grant and returns the server's answer
// with its tokens checked (checkTokenResponse) but its ID token unchecked. Its RefreshToken is the rotated one when the server rotated it,
// else the one passed in. invalid_grant gives an error matching
// ErrLoginRequired; temporary failures give *httpx.TemporaryError. A 429/5xx
// with a Retry-After that fits in ctx is retried once.
func (c *Client) RefreshGrant(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	if refreshToken == "" {
		return nil, ErrLoginRequired
	}
	// x/oauth2's TokenSource cannot send audience/resource with a refresh, so
	// the request is built through clientcredentials.Config, which allows
	// grant_type to be overridden; the auth style stays explicit.
	params := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	}
	if s := c.refreshScope(); s != "" {
		params.Set("scope", s)
	}
	cc, err := c.ccConfig(params)
	if err != nil {
		return nil, err
	}
	tok, err := retryOnce(ctx, func() (*oauth2.Token, error) {
		t, err := cc.Token(c.ctx(ctx))
		return t, c.clientErr(mapError(ctx, "refresh token", "token endpoint", err))
	})
	if err != nil {
		return nil, err
	}
	// Checked here, before the caller stores a rotated refresh token.
	if err := checkTokenResponse("refresh token", tok); err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken
	}
	return tok, nil
}

// Complete checks a refresh response (its ID token, when one came) and
// builds the Result.
func (c *Client) Complete(ctx context.Context, tok *oauth2.Token) (*Result, error) {
	return c.result(ctx, tok, "")
}

// ccConfig builds a clientcredentials.Config from the oauth2.Config builder,
// with audience and resource (and extra) as endpoint parameters.
func (c *Client) ccConfig(extra url.Values) (*clientcredentials.Config, error) {
	conf, err := c.oauthConfig("")
	if err != nil {
		return nil, err
	}
	if conf.Endpoint.TokenURL == "" {
		return nil, errors.New("no token endpoint")
	}
	params := url.Values{}
	for k, v := range extra {
		params[k] = v
	}
	if c.Profile.Audience != "" {
		params.Set("audience", c.Profile.Audience)
	}
	if c.Profile.Resource != "" {
		params.Set("resource", c.Profile.Resource)
	}
	assertion, err := c.clientAssertion(conf.Endpoint.TokenURL)
	if err != nil {
		return nil, err
	}
	for k, v := range assertion {
		params[k] = v
	}
	return &clientcredentials.Config{
		ClientID:       conf.ClientID,
		ClientSecret:   conf.ClientSecret,
		TokenURL:       conf.Endpoint.TokenURL,
		AuthStyle:      conf.Endpoint.AuthStyle,
		EndpointParams: params,
	}, nil
}

// retryOnce calls f, and once more if it failed temporarily with a
// Retry-After that fits before ctx's deadline.
func retryOnce(ctx context.Context, f func() (*oauth2.Token, error)) (*oauth2.Token, error) {
	tok, err := f()
	var te *httpx.TemporaryError
	if err == nil || !errors.As(err, &te) || te.RetryAfter <= 0 {
		return tok, err
	}
	limit := maxRetryWait
	if dl, ok := ctx.Deadline(); ok {
		limit = time.Until(dl) - time.Second // leave time for the request itself
	}
	if te.RetryAfter > limit {
		return tok, err
	}
	t := time.NewTimer(te.RetryAfter)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, err
	case <-t.C:
	}
	return f()
}
