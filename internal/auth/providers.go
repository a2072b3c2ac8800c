package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/urlpolicy"
)

// Provider-specific behaviour that is not a default value (those are in
// config.ApplyProvider): what a provider does differently on the wire.

// ErrRefreshNotRevocable says the provider has no way to revoke a refresh
// token on its own (GitHub).
var ErrRefreshNotRevocable = errors.New("the server cannot revoke a refresh token on its own")

// ErrRevokeNeedsSecret says the provider revokes tokens only for a client
// that authenticates with its secret, and the profile has none (GitHub).
var ErrRevokeNeedsSecret = errors.New("the server revokes tokens only with the client secret, and the profile has none")

func (c *Client) provider() string { return c.Profile.EffectiveProvider() }

// refreshScope is the scope parameter of a refresh-token grant: Entra's v2
// endpoint requires it (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#refresh-the-access-token,
// "scope: required"); other servers get none, so that RFC 6749 §6's
// "originally granted" scope applies.
func (c *Client) refreshScope() string {
	if c.provider() == config.ProviderEntra && len(c.Profile.Scopes) > 0 {
		return strings.Join(c.Profile.Scopes, " ")
	}
	return ""
}

// githubBase is scheme://host of a GitHub server, from its token URL.
func (c *Client) githubBase() (*url.URL, error) {
	raw := c.Profile.TokenURL
	if c.Endpoints != nil && c.Endpoints.TokenURL != "" {
		raw = c.Endpoints.TokenURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, errors.New("github: no token URL to find the API from")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// GitHubAPI is the REST API root of the GitHub server the profile logs in
// at: https://api.github.com for github.com, https://HOST/api/v3 for GitHub
// Enterprise Server (https://docs.github.com/en/enterprise-server@latest/rest/quickstart).
func (c *Client) GitHubAPI() (string, error) {
	b, err := c.githubBase()
	if err != nil {
		return "", err
	}
	if strings.EqualFold(b.Hostname(), "github.com") {
		return "https://api.github.com", nil
	}
	return b.String() + "/api/v3", nil
}

// GitHubSettingsURL is where a user revokes an app's authorization by hand.
func (c *Client) GitHubSettingsURL() string {
	b, err := c.githubBase()
	if err != nil {
		return "https://github.com/settings/applications"
	}
	return b.String() + "/settings/applications"
}

// maxLogin bounds a GitHub login name (GitHub allows 39 characters).
const maxLogin = 100

// GitHubLogin returns the login name of the user an access token belongs
// to, from GET /user (https://docs.github.com/en/rest/users/users#get-the-authenticated-user):
// GitHub has no ID token, and status should name a person.
func (c *Client) GitHubLogin(ctx context.Context, accessToken string) (string, error) {
	const op = "github user"
	api, err := c.GitHubAPI()
	if err != nil {
		return "", err
	}
	if err := urlpolicy.Check("github api", api); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api+"/user", nil)
	if err != nil {
		return "", fmt.Errorf("%s: %v", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, body, err := c.do(ctx, op, "GitHub API", req)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: GitHub API answered %d", op, resp.StatusCode)
	}
	var u struct {
		Login string `json:"login"`
	}
	if json.Unmarshal(body, &u) != nil || u.Login == "" || len(u.Login) > maxLogin {
		return "", fmt.Errorf("%s: GitHub API sent no usable login", op)
	}
	return u.Login, nil
}

// revokeGitHub revokes an access token through GitHub's REST API,
// DELETE /applications/{client_id}/token with Basic client_id:secret and
// {"access_token": …} (https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token):
// GitHub has no RFC 7009 endpoint. A refresh token cannot be revoked on
// its own there.
func (c *Client) revokeGitHub(ctx context.Context, token, hint string) error {
	const op = "revoke"
	if hint == "refresh_token" {
		return ErrRefreshNotRevocable
	}
	if c.Secret == "" {
		return ErrRevokeNeedsSecret
	}
	api, err := c.GitHubAPI()
	if err != nil {
		return err
	}
	if err := urlpolicy.Check("github api", api); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"access_token": token})
	u := api + "/applications/" + url.PathEscape(c.Profile.ClientID) + "/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %v", op, err)
	}
	req.SetBasicAuth(c.Profile.ClientID, c.Secret)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("Content-Type", "application/json")
	resp, rbody, err := c.do(ctx, op, "GitHub API", req)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusNotFound:
		// GitHub answers 404 for a token it does not know: already revoked
		// or expired, which is what revoking asks for.
		return nil
	}
	return endpointError(op, "GitHub API", resp, rbody)
}

// ManualRevocation says where a user ends a session that oat could not end
// at the server, for providers without (usable) revocation; "" for others.
func (c *Client) ManualRevocation() string {
	switch c.provider() {
	case config.ProviderGitHub:
		return "revoke the app's authorization at " + c.GitHubSettingsURL()
	case config.ProviderEntra:
		// https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens#token-revocation
		return "Entra ID has no revocation endpoint: sign out everywhere at https://myaccount.microsoft.com, or ask an admin to revoke your sessions (Revoke-MgUserSignInSession)"
	}
	return ""
}
