package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oatcli/oat/internal/config"
)

// maxRequestURI bounds the request_uri a PAR endpoint hands back.
const maxRequestURI = 2048

// usePAR says whether the PKCE login pushes its authorization request
// (RFC 9126): when the server requires it, or the profile sets par = true.
// par = true with no endpoint to push to is a configuration error.
func (c *Client) usePAR() (bool, error) {
	e := c.Endpoints
	if e.PARURL != "" && (e.RequirePAR || c.Profile.PAR) {
		return true, nil
	}
	if c.Profile.PAR {
		return false, &config.Error{Msg: "par = true, but the server names no pushed_authorization_request_endpoint in its discovery document: set issuer to a server that supports PAR (RFC 9126), or remove par"}
	}
	if e.RequirePAR {
		return false, errors.New("login: the server requires pushed authorization requests but names no pushed_authorization_request_endpoint")
	}
	return false, nil
}

// pushAuthorization sends the parameters of the authorization URL authURL
// to the PAR endpoint, the client authenticated as at the token endpoint,
// and returns the URL to open instead: the authorization endpoint with
// only client_id and the request_uri the server returned (RFC 9126 §4),
// and how long the server keeps the request (its expires_in; 0 when it
// gave none that is a positive number).
func (c *Client) pushAuthorization(ctx context.Context, authURL string) (string, time.Duration, error) {
	const op = "pushed authorization request"
	const endpoint = "pushed authorization request endpoint"
	u, err := url.Parse(authURL)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %v", op, err)
	}
	// The authorization endpoint's own query parameters stay on the URL
	// opened; the request's are pushed.
	base, err := url.Parse(c.Endpoints.AuthURL)
	if err != nil {
		return "", 0, fmt.Errorf("%s: authorization endpoint: %v", op, err)
	}
	form := url.Values{}
	for k, v := range u.Query() {
		if !base.Query().Has(k) {
			form[k] = v
		}
	}
	form.Del("client_id") // authenticate sets it where the method sends it
	basic, err := c.authenticate(op, form)
	if err != nil {
		return "", 0, err
	}
	if basic {
		// Basic authentication names the client in the header; the request
		// parameters still carry client_id (RFC 9126 §2.1).
		form.Set("client_id", c.Profile.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoints.PARURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("%s: %v", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(url.QueryEscape(c.Profile.ClientID), url.QueryEscape(c.Secret))
	}
	resp, body, err := c.do(ctx, op, endpoint, req)
	if err != nil {
		return "", 0, err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", 0, c.clientErr(endpointError(op, endpoint, resp, body))
	}
	var r struct {
		RequestURI string          `json:"request_uri"`
		ExpiresIn  json.RawMessage `json:"expires_in"`
	}
	if json.Unmarshal(body, &r) != nil || r.RequestURI == "" {
		return "", 0, fmt.Errorf("%s: the %s answered without a request_uri", op, endpoint)
	}
	if len(r.RequestURI) > maxRequestURI || strings.ContainsAny(r.RequestURI, " \t\r\n") {
		return "", 0, fmt.Errorf("%s: the %s answered with an unusable request_uri", op, endpoint)
	}
	var lifetime time.Duration
	if n, err := strconv.ParseInt(string(r.ExpiresIn), 10, 32); err == nil && n > 0 {
		lifetime = time.Duration(n) * time.Second
	}
	q := base.Query()
	q.Set("client_id", c.Profile.ClientID)
	q.Set("request_uri", r.RequestURI)
	base.RawQuery = q.Encode()
	return base.String(), lifetime, nil
}
