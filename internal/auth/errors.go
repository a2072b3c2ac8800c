package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
)

// ErrLoginRequired means there is no usable session: the server rejected the
// refresh token (invalid_grant) or there is none. Exit code 3.
var ErrLoginRequired = errors.New("login required")

// ErrTimeout means an interactive login did not finish within the context's
// deadline (--timeout). It is not a temporary server failure.
var ErrTimeout = errors.New("login timed out")

// ErrNoRevocationEndpoint is returned by Revoke when the server has none.
var ErrNoRevocationEndpoint = errors.New("the server has no revocation endpoint")

// ServerError is an OAuth error the server sent (RFC 6749 §5.2, §4.1.2.1,
// RFC 8628 §3.5, RFC 7009 §2.2.1). Code and Description are shown as sent.
type ServerError struct {
	Op          string // what was being done, e.g. "refresh token"
	Code        string // the server's "error"
	Description string // the server's "error_description"
	StatusCode  int    // HTTP status; 0 for errors delivered on the redirect
	// ClientAuth is how the client authenticated (a config.ClientAuth*
	// value, or ClientAuthAssertion), so that the invalid_client hint
	// names what to check; "" when not known.
	ClientAuth string
}

// ClientAuthAssertion is ServerError.ClientAuth for a federated client
// assertion (client_assertion).
const ClientAuthAssertion = "client_assertion"

func (e *ServerError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": server answered ")
	b.WriteString(e.Code)
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	switch e.Code {
	case "invalid_grant", "bad_refresh_token":
		b.WriteString(" (the session is over; log in again)")
	case "expired_token":
		b.WriteString(" (the code was not approved in time; run the login again)")
	case "access_denied":
		b.WriteString(" (the request was denied)")
	case "invalid_client", "unauthorized_client":
		b.WriteString(invalidClientHint(e.ClientAuth))
	case "invalid_scope":
		b.WriteString(" (check the profile's scopes)")
	}
	return b.String()
}

// invalidClientHint says what to check when the server refused the client,
// for the way it authenticated.
func invalidClientHint(clientAuth string) string {
	switch clientAuth {
	case config.ClientAuthPrivateKeyJWT:
		return " (check client_id, and that the server holds the public key of client_key_file)"
	case ClientAuthAssertion:
		return " (check client_id, and that the server trusts the issuer and subject of the client_assertion token)"
	case config.ClientAuthNone:
		return " (check client_id; a confidential client also needs its secret in client_secret_env or OAT_CLIENT_SECRET)"
	}
	return " (check client_id, and the client secret in client_secret_env or OAT_CLIENT_SECRET)"
}

// Is makes errors.Is(err, ErrLoginRequired) true for invalid_grant, and for
// GitHub's name for it on a refresh, bad_refresh_token (sent with HTTP 200:
// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens).
func (e *ServerError) Is(target error) bool {
	return target == ErrLoginRequired && (e.Code == "invalid_grant" || e.Code == "bad_refresh_token")
}

// bodyError describes a response whose body oat cannot use: HTML, not JSON,
// truncated, or larger than httpx.MaxBody. It never holds the body itself.
type bodyError struct {
	What       string // "returned HTML, not JSON", …
	StatusCode int
	Header     http.Header // the response's, for Retry-After
}

func (e *bodyError) Error() string {
	return fmt.Sprintf("%s (status %d)", e.What, e.StatusCode)
}

// checkBody is a RoundTripper for endpoints that must answer JSON (token,
// device authorization, revocation errors, JWKS): it reads the body once
// (bounded by httpx.MaxBody) and turns an unusable one into a *bodyError, so
// that x/oauth2 never puts a raw body into an error message.
type checkBody struct {
	next http.RoundTripper
	// deviceURL is the device authorization endpoint: its answer's
	// expires_in and interval are accepted as numeric strings too.
	deviceURL string
}

func (c checkBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, httpx.MaxBody+1))
	resp.Body.Close()
	fail := func(what string) (*http.Response, error) {
		return nil, &bodyError{What: what, StatusCode: resp.StatusCode, Header: resp.Header}
	}
	if rerr != nil {
		return fail("response body cut short")
	}
	if len(body) > httpx.MaxBody {
		return fail(fmt.Sprintf("response larger than %d bytes", httpx.MaxBody))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "" {
		// The http.Client's CheckRedirect (httpx) decides about redirects:
		// it refuses those of token requests with a clear error.
		return resp, nil
	}
	if isRevocation(r) && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil // RFC 7009: a 2xx is success, whatever the body
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case ct == "application/x-www-form-urlencoded" || ct == "text/plain":
		// x/oauth2 parses these itself (GitHub-style servers).
		return resp, nil
	case ct == "text/html" || looksHTML(body):
		return fail("returned HTML, not JSON")
	case len(bytes.TrimSpace(body)) == 0:
		return fail("returned an empty body, not JSON")
	case !json.Valid(body):
		return fail("returned a body that is not valid JSON (truncated?)")
	}
	if c.deviceURL != "" && r.URL.String() == c.deviceURL && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if b, ok := unquoteNumbers(body, "expires_in", "interval"); ok {
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
		}
	}
	return resp, nil
}

// unquoteNumbers rewrites the object's fields named keys from a JSON string
// holding a whole number ("900", as Entra v1 and older servers send in a
// device authorization answer) to that number, which x/oauth2 requires.
// ok is false when there was nothing to rewrite.
func unquoteNumbers(body []byte, keys ...string) ([]byte, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil, false
	}
	changed := false
	for _, k := range keys {
		var s string
		if v, ok := m[k]; !ok || json.Unmarshal(v, &s) != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n < 0 {
			continue
		}
		m[k] = json.RawMessage(strconv.FormatInt(n, 10))
		changed = true
	}
	if !changed {
		return nil, false
	}
	b, err := json.Marshal(m)
	return b, err == nil
}

func looksHTML(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) > 64 {
		b = b[:64]
	}
	l := bytes.ToLower(b)
	return bytes.HasPrefix(l, []byte("<!doctype html")) || bytes.HasPrefix(l, []byte("<html"))
}

type revocationKey struct{}

func isRevocation(r *http.Request) bool {
	v, _ := r.Context().Value(revocationKey{}).(bool)
	return v
}

// mapError turns what x/oauth2 (or our own requests) returned into oat's
// error kinds. endpoint names the endpoint in messages ("token endpoint").
func mapError(ctx context.Context, op, endpoint string, err error) error {
	if err == nil {
		return nil
	}
	var be *bodyError
	if errors.As(err, &be) {
		msg := fmt.Errorf("%s: %s %s", op, endpoint, be.Error())
		if te := httpx.StatusError(op, be.StatusCode, be.Header); te != nil {
			te.Err = fmt.Errorf("%s %s", endpoint, be.What)
			return te
		}
		return msg
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		var header http.Header
		if re.Response != nil {
			status, header = re.Response.StatusCode, re.Response.Header
		}
		te := httpx.StatusError(op, status, header)
		if re.ErrorCode != "" {
			se := &ServerError{Op: op, Code: re.ErrorCode, Description: re.ErrorDescription, StatusCode: status}
			if te != nil {
				te.Err = errors.New(oauthText(se.Code, se.Description, te.RetryAfter))
				return te
			}
			return se
		}
		if te != nil {
			if te.RetryAfter > 0 {
				te.Err = errors.New(oauthText("", "", te.RetryAfter))
			}
			return te
		}
		return fmt.Errorf("%s: %s answered %d without an OAuth error", op, endpoint, status)
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, context.Canceled)
	}
	var rde *httpx.RedirectError
	if errors.As(err, &rde) {
		return fmt.Errorf("%s: %s: %w", op, endpoint, rde)
	}
	if tlsErr := httpx.AsTLSError(err); tlsErr != nil {
		// Not temporary: retrying will not fix a certificate or a scheme.
		if tlsErr.Host != "" {
			return fmt.Errorf("%s: %s at %s: %w", op, endpoint, tlsErr.Host, tlsErr)
		}
		return fmt.Errorf("%s: %s: %w", op, endpoint, tlsErr)
	}
	if httpx.IsTemporaryTransport(err) {
		return &httpx.TemporaryError{Op: op, Err: transportReason(err)}
	}
	// x/oauth2's own messages ("server response missing access_token") hold
	// no secrets; strip its prefix.
	return fmt.Errorf("%s: %s: %s", op, endpoint, strings.TrimPrefix(err.Error(), "oauth2: "))
}

// oauthText is "code: description (retry after 30s)", parts left out when empty.
func oauthText(code, desc string, retry time.Duration) string {
	var parts []string
	if code != "" {
		parts = append(parts, code)
	}
	if desc != "" {
		parts = append(parts, desc)
	}
	s := strings.Join(parts, ": ")
	if retry > 0 {
		if s != "" {
			s += " "
		}
		s += fmt.Sprintf("(retry after %s)", retry)
	}
	return s
}

// transportReason says "timed out" for timeouts and keeps other network
// errors (which name the endpoint URL, never a token) as they are.
func transportReason(err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return errors.New("timed out waiting for the server")
	}
	return err
}

// clientErr notes in a *ServerError err holds how c authenticated, for
// its invalid_client hint; err is returned as it is.
func (c *Client) clientErr(err error) error {
	var se *ServerError
	if errors.As(err, &se) {
		switch {
		case c.Profile.ClientAssertion != "":
			se.ClientAuth = ClientAuthAssertion
		default:
			se.ClientAuth = c.clientAuth()
		}
	}
	return err
}
