package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/oatcli/oat/internal/fsutil"
	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/urlpolicy"
)

// maxAssertion bounds a federated assertion read from a file or a server.
const maxAssertion = 64 << 10

func (c *Client) getenv(k string) string {
	if c.Getenv != nil {
		return c.Getenv(k)
	}
	return os.Getenv(k)
}

// federatedAssertion reads the client assertion the profile's
// client_assertion names, afresh on every call (projected tokens rotate).
// The assertion never appears in an error.
func (c *Client) federatedAssertion() (string, error) {
	return c.readJWTSource("client_assertion", c.Profile.ClientAssertion)
}

// readJWTSource reads a JWT from the source src that the profile key key
// names, afresh on every call: "github-actions" asks the job's OIDC token
// service (for client_assertion_audience), "env:VAR" reads a variable,
// "file:PATH" a file. Client assertions and token exchange's subject tokens
// come from here. The JWT never appears in an error.
func (c *Client) readJWTSource(key, src string) (string, error) {
	var (
		a   string
		err error
	)
	switch {
	case src == "github-actions":
		a, err = c.githubActionsToken(key)
	case strings.HasPrefix(src, "env:"):
		name := src[len("env:"):]
		a = strings.TrimSpace(c.getenv(name))
		if a == "" {
			return "", fmt.Errorf("%s %s: the variable %s is empty or unset (in GitLab CI, declare it under id_tokens)", key, src, name)
		}
	case strings.HasPrefix(src, "file:"):
		path := src[len("file:"):]
		// The file is the user's (a projected service-account token is a
		// symbolic link into ..data): follow it, but only to a regular
		// file of bounded size.
		b, rerr := fsutil.ReadUserFile(path, maxAssertion)
		if rerr != nil {
			return "", fmt.Errorf("%s %s: %w", key, src, rerr)
		}
		a = strings.TrimSpace(string(b))
	default:
		return "", fmt.Errorf("%s %q: use github-actions, env:VARIABLE or file:PATH", key, src)
	}
	if err != nil {
		return "", err
	}
	if strings.Count(a, ".") != 2 || strings.ContainsAny(a, " \t\r\n") {
		return "", fmt.Errorf("%s %s: the value is not a JWT", key, src)
	}
	return a, nil
}

// githubActionsToken requests the job's OIDC token: GET
// $ACTIONS_ID_TOKEN_REQUEST_URL with audience added, Authorization: Bearer
// $ACTIONS_ID_TOKEN_REQUEST_TOKEN, answer {"value": "<jwt>"} (as
// @actions/core getIDToken does).
func (c *Client) githubActionsToken(key string) (string, error) {
	op := key + " github-actions"
	reqURL, reqTok := c.getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), c.getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	if reqURL == "" || reqTok == "" {
		return "", fmt.Errorf("%s: ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set: the job lacks `permissions: id-token: write` (or this is not a GitHub Actions job)", op)
	}
	if err := urlpolicy.Check("ACTIONS_ID_TOKEN_REQUEST_URL", reqURL); err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	u, err := url.Parse(reqURL)
	if err != nil {
		return "", fmt.Errorf("%s: ACTIONS_ID_TOKEN_REQUEST_URL is not a URL", op)
	}
	if aud := c.Profile.ClientAssertionAudience; aud != "" {
		q := u.Query()
		q.Set("audience", aud)
		u.RawQuery = q.Encode()
	}
	ctx, cancel := context.WithTimeout(context.Background(), httpx.DefaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("%s: %v", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+reqTok)
	req.Header.Set("Accept", "application/json")
	resp, err := c.checkedClient().Do(req)
	if err != nil {
		return "", mapError(ctx, op, "GitHub Actions ID token service", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAssertion))
	if err != nil {
		return "", mapError(ctx, op, "GitHub Actions ID token service", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", endpointError(op, "GitHub Actions ID token service", resp, body)
	}
	var v struct {
		Value string `json:"value"`
	}
	if json.Unmarshal(body, &v) != nil || v.Value == "" {
		return "", errors.New(op + ": the ID token service answered without a token (want JSON {\"value\": \"…\"})")
	}
	return v.Value, nil
}
