package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
)

// stubClient is a client-credentials client whose token and revocation
// endpoints are answered by h.
func stubClient(t *testing.T, h http.HandlerFunc) *auth.Client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &auth.Client{
		HTTP:      srv.Client(),
		Profile:   config.Profile{ClientID: "bot", Flow: config.FlowClientCredentials},
		Secret:    "s3cret-value",
		Endpoints: &auth.Endpoints{TokenURL: srv.URL + "/token", RevocationURL: srv.URL + "/revoke"},
	}
}

func TestTokenResponseBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ct        string
		status    int
		body      string
		ok        bool
		temporary bool
		msg       string
	}{
		{"json", "application/json", 200, `{"access_token":"at","token_type":"Bearer","expires_in":60}`, true, false, ""},
		{"form encoded", "application/x-www-form-urlencoded", 200, "access_token=at&token_type=bearer", true, false, ""},
		{"html 500", "text/html", 500, "<html><body>Internal error</body></html>", false, true,
			"client credentials: server answered 500: token endpoint returned HTML, not JSON"},
		{"html without content type", "", 200, "<!DOCTYPE html><html></html>", false, false,
			"token endpoint returned HTML, not JSON (status 200)"},
		{"empty 200", "application/json", 200, "", false, false, "returned an empty body, not JSON (status 200)"},
		{"no access token", "application/json", 200, `{"token_type":"Bearer"}`, false, false,
			"client credentials: token endpoint: server response missing access_token"},
		{"json error 401", "application/json", 401, `{"error":"invalid_client","error_description":"bad secret"}`, false, false,
			"client credentials: server answered invalid_client: bad secret"},
		{"bare 404", "application/json", 404, `{}`, false, false, "token endpoint answered 404 without an OAuth error"},
		{"bare 504", "application/json", 504, `{}`, false, true, "server answered 504 Gateway Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.ct != "" {
					w.Header().Set("Content-Type", tt.ct)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			res, err := c.ClientCredentials(context.Background())
			if tt.ok {
				if err != nil || res.Token.AccessToken != "at" {
					t.Fatalf("res %+v, err %v", res, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %q", err, tt.msg)
			}
			var te *httpx.TemporaryError
			if errors.As(err, &te) != tt.temporary {
				t.Errorf("temporary = %v, want %v", !tt.temporary, tt.temporary)
			}
			if strings.Contains(err.Error(), "s3cret-value") || strings.Contains(err.Error(), "\n") {
				t.Errorf("message leaks the secret or spans lines: %q", err)
			}
		})
	}
}

func TestRevokeResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		ct, body  string
		code      string // ServerError code wanted
		temporary bool
		ok        bool
	}{
		{"200 empty", 200, "", "", "", false, true},
		{"200 json", 200, "application/json", "{}", "", false, true},
		{"204 no content", 204, "", "", "", false, true}, // RFC 7009 servers may answer 204
		{"202 accepted", 202, "text/plain", "", "", false, true},
		{"unsupported_token_type", 400, "application/json", `{"error":"unsupported_token_type"}`, "unsupported_token_type", false, false},
		{"503 html", 503, "text/html", "<html>down</html>", "", true, false},
		{"429 retry", 429, "application/json", `{"error":"slow"}`, "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var gotForm, gotUser string
			c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				gotForm = r.PostForm.Encode()
				gotUser, _, _ = r.BasicAuth()
				if tt.ct != "" {
					w.Header().Set("Content-Type", tt.ct)
				}
				w.Header().Set("Retry-After", "2")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			err := c.Revoke(context.Background(), "the-token", "refresh_token")
			if gotForm != "token=the-token&token_type_hint=refresh_token" || gotUser != "bot" {
				t.Errorf("request form %q, basic user %q", gotForm, gotUser)
			}
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *auth.ServerError
			var te *httpx.TemporaryError
			switch {
			case tt.code != "" && (!errors.As(err, &se) || se.Code != tt.code):
				t.Errorf("err = %v, want ServerError %s", err, tt.code)
			case tt.temporary && (!errors.As(err, &te) || te.RetryAfter != 2*time.Second):
				t.Errorf("err = %v, want TemporaryError with Retry-After", err)
			}
			if strings.Contains(err.Error(), "the-token") {
				t.Errorf("message contains the token: %v", err)
			}
		})
	}
}

func TestNoExpiresInTakesJWTExp(t *testing.T) {
	t.Parallel()
	exp := time.Now().Add(42 * time.Minute).Truncate(time.Second)
	payload := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"bot","exp":%d}`, exp.Unix())))
	jwt := "eyJhbGciOiJub25lIn0." + payload + ".sig"
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer"}`, jwt)
	})
	res, err := c.ClientCredentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Token.Expiry.Equal(exp) || res.Subject != "bot" {
		t.Errorf("expiry %v (want %v), subject %q", res.Token.Expiry, exp, res.Subject)
	}
	c = stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"opaque","token_type":"Bearer"}`)
	})
	if res, err = c.ClientCredentials(context.Background()); err != nil || !res.Token.Expiry.IsZero() || res.Subject != "" {
		t.Errorf("opaque token without expires_in: %+v, %v", res, err)
	}
}
