package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oatcli/oat/internal/httpx"
)

// Revoke revokes token at the revocation endpoint (RFC 7009), with the
// profile's client authentication. hint is "refresh_token", "access_token"
// or "". It returns ErrNoRevocationEndpoint when there is none, a
// *ServerError for an OAuth error (a server that cannot revoke a token type
// answers Code "unsupported_token_type"), and *httpx.TemporaryError for
// network failures, 5xx and 429.
func (c *Client) Revoke(ctx context.Context, token, hint string) error {
	const op = "revoke"
	if c.Endpoints == nil || c.Endpoints.RevocationURL == "" {
		return ErrNoRevocationEndpoint
	}
	if c.Profile.ClientID == "" {
		return fmt.Errorf("%s: no client_id set", op)
	}
	auth := c.clientAuth()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	switch auth {
	case "none":
		form.Set("client_id", c.Profile.ClientID)
	case "post":
		form.Set("client_id", c.Profile.ClientID)
		form.Set("client_secret", c.Secret)
	case "basic":
		if c.Secret == "" {
			return fmt.Errorf("%s: client_auth basic needs a client secret", op)
		}
	default:
		return fmt.Errorf("client_auth %q: use none, basic or post", auth)
	}
	rctx := context.WithValue(ctx, revocationKey{}, true)
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.Endpoints.RevocationURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s: %v", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if auth == "basic" {
		// RFC 6749 §2.3.1: form-encode both parts first.
		req.SetBasicAuth(url.QueryEscape(c.Profile.ClientID), url.QueryEscape(c.Secret))
	}
	resp, err := c.checkedClient().Do(req)
	if err != nil {
		return mapError(ctx, op, "revocation endpoint", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body) // already bounded and checked by checkBody
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil // RFC 7009 §2.2: 200, but servers also answer 204 (or 202)
	}
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &oe)
	if httpx.TemporaryStatus(resp.StatusCode) {
		te := &httpx.TemporaryError{Op: op, StatusCode: resp.StatusCode, RetryAfter: httpx.RetryAfter(resp.Header, time.Now())}
		if oe.Error != "" || te.RetryAfter > 0 {
			te.Err = errors.New(oauthText(oe.Error, oe.Description, te.RetryAfter))
		}
		return te
	}
	if oe.Error != "" {
		return &ServerError{Op: op, Code: oe.Error, Description: oe.Description, StatusCode: resp.StatusCode}
	}
	return fmt.Errorf("%s: revocation endpoint answered %d without an OAuth error", op, resp.StatusCode)
}
