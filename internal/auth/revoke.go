package auth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/oatcli/oat/internal/config"
)

// Revoke revokes token at the revocation endpoint (RFC 7009), with the
// profile's client authentication. hint is "refresh_token", "access_token"
// or "". It returns ErrNoRevocationEndpoint when there is none, a
// *ServerError for an OAuth error (a server that cannot revoke a token type
// answers Code "unsupported_token_type"), and *httpx.TemporaryError for
// network failures, 5xx and 429.
func (c *Client) Revoke(ctx context.Context, token, hint string) error {
	const op = "revoke"
	if c.provider() == config.ProviderGitHub && (c.Endpoints == nil || c.Endpoints.RevocationURL == "") {
		return c.revokeGitHub(ctx, token, hint)
	}
	if c.Endpoints == nil || c.Endpoints.RevocationURL == "" {
		return ErrNoRevocationEndpoint
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	basic, err := c.authenticate(op, form)
	if err != nil {
		return err
	}
	rctx := context.WithValue(ctx, revocationKey{}, true)
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.Endpoints.RevocationURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s: %v", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
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
	return c.clientErr(endpointError(op, "revocation endpoint", resp, body))
}
