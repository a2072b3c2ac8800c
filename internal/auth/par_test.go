package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
)

// A PAR endpoint that refuses the push, or answers without a usable
// request_uri: the login stops with one clear line and opens nothing.
func TestPushedAuthorizationErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		status int
		body   string
		want   string
	}{
		"invalid_client": {401, `{"error":"invalid_client","error_description":"unknown client"}`,
			"pushed authorization request: server answered invalid_client: unknown client (check client_id; a confidential client also needs"},
		"no request_uri":  {201, `{"expires_in":60}`, "answered without a request_uri"},
		"bad request_uri": {201, `{"request_uri":"urn:x y","expires_in":60}`, "unusable request_uri"},
		"html":            {201, `<html><body>Welcome</body></html>`, "answered without a request_uri"},
		"number":          {201, `{"request_uri":42,"expires_in":"soon"}`, "answered without a request_uri"},
		"huge":            {201, `{"request_uri":"urn:` + strings.Repeat("x", 3<<20) + `"}`, "response too large"},
		"too long":        {201, `{"request_uri":"urn:` + strings.Repeat("x", 4096) + `"}`, "unusable request_uri"},
		"html 500":        {500, `<html>` + strings.Repeat("\x1b[31m", 10) + `</html>`, "pushed authorization request"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.FormValue("code_challenge") == "" || r.FormValue("client_id") != "cli" {
					t.Errorf("push: %s %v", r.Method, r.Form)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := &auth.Client{
				Profile: config.Profile{ClientID: "cli", RedirectHost: "127.0.0.1", RedirectPath: "/callback"},
				Endpoints: &auth.Endpoints{AuthURL: srv.URL + "/auth", TokenURL: srv.URL + "/token",
					PARURL: srv.URL + "/par", RequirePAR: true},
			}
			_, err := c.LoginPKCE(context.Background(), auth.LoginOptions{Browser: func(u string) error {
				t.Errorf("a browser was opened: %s", u)
				return errors.New("no")
			}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.ContainsAny(err.Error(), "\n\x1b<") {
				t.Fatalf("err = %v, want one line with %q", err, tc.want)
			}
		})
	}
}

// par = true at a server without a PAR endpoint: a configuration error
// (exit 2) before anything is sent.
func TestPARWithoutEndpoint(t *testing.T) {
	t.Parallel()
	c := &auth.Client{Profile: config.Profile{ClientID: "cli", PAR: true},
		Endpoints: &auth.Endpoints{AuthURL: "http://127.0.0.1:1/auth", TokenURL: "http://127.0.0.1:1/token"}}
	_, err := c.LoginPKCE(context.Background(), auth.LoginOptions{})
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *config.Error", err)
	}
}
