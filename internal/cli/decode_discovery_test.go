package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/jwt/jwttest"
)

// TestDecodeVerifyRFC8414Only: `oat decode --verify --issuer X` finds the
// keys of a server that publishes only RFC 8414 metadata (no OpenID
// configuration), by the same discovery `oat login` uses: fallback on 404,
// 405 and 403, metadata between host and path, and an issuer that differs
// from --issuer only by a trailing "/". (The token's iss claim itself is
// still compared exactly with --issuer.)
func TestDecodeVerifyRFC8414Only(t *testing.T) {
	t.Parallel()
	rsa := jwttest.RSA(t)
	for _, tt := range []struct {
		name       string
		oidcStatus int    // answer at /.well-known/openid-configuration
		mdSlash    string // appended to the issuer the metadata names
		argSlash   string // appended to --issuer
	}{
		{"404", http.StatusNotFound, "", ""},
		{"405", http.StatusMethodNotAllowed, "", ""},
		{"403", http.StatusForbidden, "", ""},
		{"metadata issuer with a trailing slash", http.StatusNotFound, "/", ""},
		{"--issuer with a trailing slash", http.StatusNotFound, "", "/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/tenant/.well-known/openid-configuration":
					w.WriteHeader(tt.oidcStatus)
				case "/.well-known/oauth-authorization-server/tenant":
					fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q,"jwks_uri":%q}`,
						srv.URL+"/tenant"+tt.mdSlash, srv.URL+"/tenant/token", srv.URL+"/tenant/keys")
				case "/tenant/keys":
					_, _ = w.Write(jwttest.JWKS(t, rsa))
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(srv.Close)
			iss := srv.URL + "/tenant"
			tok := jwttest.Sign(t, rsa, fmt.Sprintf(`{"iss":%q,"sub":"alice","exp":%d}`, iss+tt.argSlash, at(5*time.Minute)))
			e := newDecodeEnv(t)
			code := e.runStdin(tok, "decode", "-o", "json", "--verify", "--issuer", iss+tt.argSlash, "-")
			if code != 0 || !strings.Contains(e.errOut.String(), "signature valid: RS256, kid test-rsa, keys from "+iss+"/keys") {
				t.Errorf("exit %d, stderr:\n%s", code, e.errOut.String())
			}
		})
	}
}
