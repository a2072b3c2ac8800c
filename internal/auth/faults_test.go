package auth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
)

// Faults injected in front of the OP on the refresh grant: each gives the
// right error kind and one clear line, never the token, and the refresh token
// still works once the fault clears.
func TestRefreshFaults(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	rt := login(t, c).Token.RefreshToken

	tests := []struct {
		name      string
		fault     authtest.Fault
		timeout   time.Duration
		temporary bool
		status    int
		msg       string
	}{
		{"html 502", authtest.OnGrant("refresh_token", 0, authtest.HTMLError(502)), 5 * time.Second,
			true, 502, "refresh token: server answered 502: token endpoint returned HTML, not JSON"},
		{"html 200", authtest.OnGrant("refresh_token", 0, authtest.HTMLError(200)), 5 * time.Second,
			false, 0, "refresh token: token endpoint returned HTML, not JSON (status 200)"},
		{"html 400", authtest.OnGrant("refresh_token", 0, authtest.HTMLError(400)), 5 * time.Second,
			false, 0, "token endpoint returned HTML, not JSON (status 400)"},
		{"429 retry-after too long", authtest.OnGrant("refresh_token", 0, authtest.RetryAfter(429, 60*time.Second)), 5 * time.Second,
			true, 429, "refresh token: server answered 429: temporarily_unavailable: try again later (retry after 1m0s)"},
		{"503 json", authtest.OnGrant("refresh_token", 0, authtest.OAuthError(503, "server_error", "down for maintenance")), 5 * time.Second,
			true, 503, "server answered 503: server_error: down for maintenance"},
		{"truncated json", authtest.OnGrant("refresh_token", 0, authtest.TruncatedJSON()), 5 * time.Second,
			false, 0, "token endpoint returned a body that is not valid JSON (truncated?) (status 200)"},
		{"huge body", authtest.OnGrant("refresh_token", 0, authtest.HugeBody()), 5 * time.Second,
			false, 0, "token endpoint response larger than 1048576 bytes (status 200)"},
		{"hang", authtest.OnGrant("refresh_token", 0, authtest.Hang()), 500 * time.Millisecond,
			true, 0, "refresh token: timed out waiting for the server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op.SetFault(tt.fault)
			defer op.SetFault(nil)
			_, err := c.Refresh(ctxTimeout(t, tt.timeout), rt)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("oat: %v", err)
			var te *httpx.TemporaryError
			if got := errors.As(err, &te); got != tt.temporary {
				t.Errorf("temporary = %v, want %v (err %v)", got, tt.temporary, err)
			}
			if tt.temporary && te.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", te.StatusCode, tt.status)
			}
			if errors.Is(err, auth.ErrLoginRequired) {
				t.Errorf("a fault must not read as login-required: %v", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", err, tt.msg)
			}
			if strings.ContainsAny(err.Error(), "\n<") || strings.Contains(err.Error(), rt) {
				t.Errorf("message is not one clean line without the token: %q", err)
			}
		})
	}
	op.SetFault(nil)
	if _, err := c.Refresh(ctxTimeout(t, 5*time.Second), rt); err != nil {
		t.Fatalf("refresh after the faults cleared: %v", err)
	}
}

func TestRefreshRetryAfterRetriesOnce(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	rt := login(t, c).Token.RefreshToken
	op.SetFault(authtest.OnGrant("refresh_token", 1, authtest.RetryAfter(429, time.Second)))
	start := time.Now()
	res, err := c.Refresh(ctxTimeout(t, 10*time.Second), rt)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if res.Token.RefreshToken == rt {
		t.Error("not rotated")
	}
	if n := op.Grants("refresh_token"); n != 2 {
		t.Errorf("refresh requests = %d, want 2 (one retry)", n)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %v, before Retry-After", d)
	}
	// Two 503s in a row: one retry only, then a temporary error.
	op.SetFault(authtest.OnGrant("refresh_token", 0, authtest.RetryAfter(503, time.Second)))
	_, err = c.Refresh(ctxTimeout(t, 10*time.Second), res.Token.RefreshToken)
	var te *httpx.TemporaryError
	if !errors.As(err, &te) || te.RetryAfter != time.Second {
		t.Fatalf("err = %v, want TemporaryError with Retry-After 1s", err)
	}
	if n := op.Grants("refresh_token"); n != 4 {
		t.Errorf("refresh requests = %d, want 4", n)
	}
}

func TestClientCredentialsFaults(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowClientCredentials)
	op.SetFault(authtest.OnGrant("client_credentials", 1, authtest.RetryAfter(429, time.Second)))
	if _, err := c.ClientCredentials(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatalf("429 with Retry-After 1s then success: %v", err)
	}
	// A Retry-After beyond the deadline: no wait, a temporary error at once.
	// Both are far off (hours), so waiting for either would hang the test
	// until go test's -timeout instead of passing slowly.
	op.SetFault(authtest.OnGrant("client_credentials", 0, authtest.RetryAfter(429, 3*time.Hour)))
	before := op.Grants("client_credentials")
	_, err := c.ClientCredentials(ctxTimeout(t, 2*time.Hour))
	var te *httpx.TemporaryError
	if !errors.As(err, &te) || te.StatusCode != 429 {
		t.Fatalf("err = %v, want TemporaryError 429", err)
	}
	if n := op.Grants("client_credentials") - before; n != 1 {
		t.Errorf("requests = %d, want 1 (no retry when Retry-After is past the deadline)", n)
	}
	if strings.Contains(err.Error(), op.ClientSecret) {
		t.Error("message contains the secret")
	}
}

func TestServerDown(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	c := newClient(t, op, config.FlowPKCE)
	c.Endpoints.TokenURL = "http://127.0.0.1:1/token" // nothing listens there
	_, err := c.Refresh(ctxTimeout(t, 5*time.Second), "rt-value")
	var te *httpx.TemporaryError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want TemporaryError", err)
	}
	if strings.Contains(err.Error(), "rt-value") {
		t.Error("message contains the refresh token")
	}
}
