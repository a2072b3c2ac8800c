package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// authMethodsServer is a client-credentials server whose discovery lists only
// client_secret_post in token_endpoint_auth_methods_supported (as Google's
// does: https://accounts.google.com/.well-known/openid-configuration) and
// whose token endpoint refuses a secret sent any other way.
func authMethodsServer(t *testing.T) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]any{
				"issuer":                                srv.URL,
				"token_endpoint":                        srv.URL + "/token",
				"token_endpoint_auth_methods_supported": []string{"none", "private_key_jwt", "client_secret_post", "client_secret_basic"},
			})
		case "/token":
			if _, _, ok := r.BasicAuth(); ok || r.PostFormValue("client_secret") != "s3cret" || r.PostFormValue("client_id") != "app" {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
				return
			}
			_, _ = w.Write([]byte(`{"access_token":"at-post","token_type":"Bearer","expires_in":3600}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The default client_auth with a secret is the first of the server's
// token_endpoint_auth_methods_supported that oat supports (spec: "Profiles
// and configuration"); an explicit client_auth still wins.
func TestClientAuthDefaultFollowsServerMethods(t *testing.T) {
	t.Parallel()
	srv := authMethodsServer(t)
	e := newTestEnv(t)
	e.env["APP_SECRET"] = "s3cret"
	e.writeConfig(`[profiles.svc]
issuer = "` + srv.URL + `"
client_id = "app"
client_secret_env = "APP_SECRET"
flow = "client-credentials"

[profiles.svcbasic]
issuer = "` + srv.URL + `"
client_id = "app"
client_secret_env = "APP_SECRET"
client_auth = "basic"
flow = "client-credentials"
`)
	e.mustRun(0, "token", "-p", "svc")
	if got := strings.TrimSpace(e.out.String()); got != "at-post" {
		t.Fatalf("token = %q, want at-post", got)
	}
	if code := e.run("token", "-p", "svcbasic"); code == 0 {
		t.Fatalf("explicit client_auth basic was not used: exit 0, stdout %q", e.out)
	}
}
