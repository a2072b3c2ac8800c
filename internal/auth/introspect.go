package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/dpop"
	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/urlpolicy"
)

// ErrNoIntrospectionEndpoint and ErrNoUserinfoEndpoint say the server names
// no such endpoint (and none was given).
var (
	ErrNoIntrospectionEndpoint = errors.New("the server names no introspection endpoint")
	ErrNoUserinfoEndpoint      = errors.New("the server names no userinfo endpoint")
)

// Introspection is an RFC 7662 response: the server's JSON object as sent,
// and its "active" member.
type Introspection struct {
	Raw    json.RawMessage
	Active bool
}

// Introspect asks the introspection endpoint (RFC 7662) about token, with
// the profile's client authentication (as Revoke). hint is
// "access_token", "refresh_token" or "". Errors are those of Revoke: a
// *ServerError for an OAuth error, *httpx.TemporaryError for network
// failures, 5xx and 429.
func (c *Client) Introspect(ctx context.Context, token, hint string) (*Introspection, error) {
	const op = "introspect"
	if c.Endpoints == nil || c.Endpoints.IntrospectionURL == "" {
		return nil, ErrNoIntrospectionEndpoint
	}
	if err := urlpolicy.Check("introspection endpoint", c.Endpoints.IntrospectionURL); err != nil {
		return nil, err
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	basic, err := c.authenticate(op, form)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoints.IntrospectionURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(url.QueryEscape(c.Profile.ClientID), url.QueryEscape(c.Secret))
	}
	resp, body, err := c.do(ctx, op, "introspection endpoint", req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		err := c.clientErr(endpointError(op, "introspection endpoint", resp, body))
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			err = fmt.Errorf("%w (introspection needs a client the server lets introspect: check client_id, client_auth and the secret)", err)
		}
		return nil, err
	}
	var res struct {
		Active *bool `json:"active"`
	}
	if err := jsonObject(op, "introspection endpoint", resp, body, &res); err != nil {
		return nil, err
	}
	if res.Active == nil {
		return nil, fmt.Errorf("%s: introspection endpoint answered without the required \"active\" member", op)
	}
	return &Introspection{Raw: body, Active: *res.Active}, nil
}

// TokenRefusedError is a resource server's refusal of an access token (RFC
// 6750 §3): status 401 (invalid or expired token) or 403 (insufficient
// scope), with the WWW-Authenticate error where one was sent.
type TokenRefusedError struct {
	Op          string
	StatusCode  int
	Code        string
	Description string
}

func (e *TokenRefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the server refused the access token (%d", e.Op, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	b.WriteString(")")
	if e.StatusCode == http.StatusForbidden || e.Code == "insufficient_scope" {
		b.WriteString("; the profile's scopes must include openid (and those for the claims wanted)")
	}
	return b.String()
}

// UserInfo fetches the OIDC UserInfo response (OpenID Connect Core 5.3) for
// accessToken and returns its JSON object as sent. A refused token is a
// *TokenRefusedError.
func (c *Client) UserInfo(ctx context.Context, accessToken string) (json.RawMessage, error) {
	const op = "userinfo"
	if c.Endpoints == nil || c.Endpoints.UserinfoURL == "" {
		return nil, ErrNoUserinfoEndpoint
	}
	if err := urlpolicy.Check("userinfo endpoint", c.Endpoints.UserinfoURL); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Endpoints.UserinfoURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", op, err)
	}
	req.Header.Set("Accept", "application/json")
	hc := c.httpClient()
	if c.DPoP != nil {
		// A DPoP-bound token (RFC 9449 §7): its scheme, and a proof with
		// its ath on the request, again with the server's nonce if it
		// demands one.
		req.Header.Set("Authorization", dpop.TokenType+" "+accessToken)
		h := *hc
		h.Transport = &dpop.Transport{Key: c.DPoP, AccessToken: accessToken, Now: c.now, Next: h.Transport}
		hc = &h
	} else {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, body, err := c.doWith(ctx, hc, op, "userinfo endpoint", req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		code, desc := bearerChallenge(resp.Header.Values("WWW-Authenticate"))
		return nil, &TokenRefusedError{Op: op, StatusCode: resp.StatusCode, Code: code, Description: desc}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, endpointError(op, "userinfo endpoint", resp, body)
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "application/jwt" {
		return nil, fmt.Errorf("%s: the server sent a signed or encrypted UserInfo response (application/jwt); oat prints only JSON ones", op)
	}
	var obj map[string]json.RawMessage
	if err := jsonObject(op, "userinfo endpoint", resp, body, &obj); err != nil {
		return nil, err
	}
	return body, nil
}

// authenticate adds the profile's client authentication to form and says
// whether it goes in a Basic header instead (RFC 6749 §2.3.1), for
// requests that are not token requests (revocation, introspection).
func (c *Client) authenticate(op string, form url.Values) (basic bool, err error) {
	if c.Profile.ClientID == "" {
		return false, fmt.Errorf("%s: no client_id set", op)
	}
	if c.usesAssertion() {
		// RFC 7523 §3: the aud is the authorization server; the token
		// endpoint identifies it, as for token requests.
		v, err := c.clientAssertion(c.Endpoints.TokenURL)
		if err != nil {
			return false, fmt.Errorf("%s: %w", op, err)
		}
		form.Set("client_id", c.Profile.ClientID)
		for k := range v {
			form.Set(k, v.Get(k))
		}
		return false, nil
	}
	switch a := c.clientAuth(); a {
	case config.ClientAuthNone:
		form.Set("client_id", c.Profile.ClientID)
	case config.ClientAuthPost:
		form.Set("client_id", c.Profile.ClientID)
		form.Set("client_secret", c.Secret)
	case config.ClientAuthBasic:
		if c.Secret == "" {
			return false, fmt.Errorf("%s: client_auth basic needs a client secret", op)
		}
		return true, nil
	default:
		return false, fmt.Errorf("client_auth %q: use none, basic, post or private_key_jwt", a)
	}
	return false, nil
}

// do sends req with the profile's HTTP client and reads the body (at most
// httpx.MaxBody); transport failures are mapped as for token requests.
func (c *Client) do(ctx context.Context, op, endpoint string, req *http.Request) (*http.Response, []byte, error) {
	return c.doWith(ctx, c.httpClient(), op, endpoint, req)
}

func (c *Client) doWith(ctx context.Context, hc *http.Client, op, endpoint string, req *http.Request) (*http.Response, []byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, mapError(ctx, op, endpoint, err)
	}
	defer resp.Body.Close()
	body, err := httpx.ReadBody(resp.Body)
	if err != nil {
		be := &bodyError{What: "response too large or cut short", StatusCode: resp.StatusCode, Header: resp.Header}
		return nil, nil, mapError(ctx, op, endpoint, be)
	}
	return resp, body, nil
}

// endpointError is the error for a non-2xx answer of an endpoint that
// speaks OAuth errors (RFC 6749 §5.2 shape): *httpx.TemporaryError for 5xx
// and 429, *ServerError when an OAuth error was sent, else a plain error
// naming the status. The body is never quoted beyond error and
// error_description.
func endpointError(op, endpoint string, resp *http.Response, body []byte) error {
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &oe)
	if te := httpx.StatusError(op, resp.StatusCode, resp.Header); te != nil {
		if oe.Error != "" || te.RetryAfter > 0 {
			te.Err = errors.New(oauthText(oe.Error, oe.Description, te.RetryAfter))
		}
		return te
	}
	if oe.Error != "" {
		return &ServerError{Op: op, Code: oe.Error, Description: oe.Description, StatusCode: resp.StatusCode}
	}
	return fmt.Errorf("%s: %s answered %d without an OAuth error", op, endpoint, resp.StatusCode)
}

// jsonObject decodes a 200 answer that must be a JSON object into v, with
// clear errors for HTML and other bodies.
func jsonObject(op, endpoint string, resp *http.Response, body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	switch {
	case looksHTML(body):
		return fmt.Errorf("%s: %s returned HTML, not JSON (status %d)", op, endpoint, resp.StatusCode)
	case len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed):
		return fmt.Errorf("%s: %s returned a body that is not a JSON object (status %d)", op, endpoint, resp.StatusCode)
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		return fmt.Errorf("%s: %s returned JSON oat cannot read (status %d)", op, endpoint, resp.StatusCode)
	}
	return nil
}

// bearerChallenge reads error and error_description from a Bearer
// WWW-Authenticate challenge (RFC 6750 §3), "" when absent.
func bearerChallenge(values []string) (code, desc string) {
	for _, v := range values {
		scheme, params, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "DPoP") {
			continue
		}
		for params != "" {
			var name, val string
			params = strings.TrimLeft(params, " ,")
			name, params, _ = strings.Cut(params, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			if strings.HasPrefix(params, `"`) {
				end := 1
				for end < len(params) && params[end] != '"' {
					if params[end] == '\\' {
						end++
					}
					end++
				}
				val = strings.ReplaceAll(params[1:min(end, len(params))], `\`, "")
				params = params[min(end+1, len(params)):]
			} else {
				val, params, _ = strings.Cut(params, ",")
				val = strings.TrimSpace(val)
			}
			switch name {
			case "error":
				code = val
			case "error_description":
				desc = val
			}
		}
		if code != "" {
			return code, desc
		}
	}
	return code, desc
}
