package cli

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
)

func TestUserinfoAgainstTheOP(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	e.mustRun(0, "userinfo")
	m := decodeObject(t, e.out.String())
	if m["sub"] != authtest.Subject || m["preferred_username"] != authtest.Username {
		t.Errorf("userinfo: %v", m)
	}

	// A token the server refuses once (revoked early, say) is renewed and
	// the request made again.
	before := e.op.Grants(refreshGrant)
	e.op.SetFault(authtest.OnPath("/userinfo", 1, bearerRefusal(http.StatusUnauthorized, "invalid_token", "The access token expired")))
	e.mustRun(0, "userinfo")
	if decodeObject(t, e.out.String())["sub"] != authtest.Subject || e.op.Grants(refreshGrant) != before+1 {
		t.Errorf("after one refusal: %s, %d refresh grants", e.out, e.op.Grants(refreshGrant)-before)
	}

	// Refused again after a renewal: the session is over.
	e.op.SetFault(authtest.OnPath("/userinfo", 0, bearerRefusal(http.StatusUnauthorized, "invalid_token", "The access token is not valid")))
	code := e.run("userinfo")
	if code != 3 || !strings.Contains(e.errOut.String(), `oat: profile "work" needs login (userinfo: the server refused the access token (401 invalid_token: The access token is not valid), even just renewed): run oat login -p work`) {
		t.Errorf("refused twice: exit %d, %s", code, e.errOut)
	}
}

func bearerRefusal(status int, code, desc string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="oat-test", error=%q, error_description=%q`, code, desc))
		w.WriteHeader(status)
	}
}

func TestUserinfoErrors(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	for _, c := range []struct {
		name  string
		fault http.HandlerFunc
		code  int
		msg   string
	}{
		{"insufficient_scope", bearerRefusal(http.StatusForbidden, "insufficient_scope", ""), 1, "userinfo: the server refused the access token (403 insufficient_scope); the profile's scopes must include openid"},
		{"503", authtest.HTMLError(http.StatusServiceUnavailable), 4, "userinfo: server answered 503"},
		{"HTML 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<!DOCTYPE html><html>login</html>")
		}, 1, "userinfo: userinfo endpoint returned HTML, not JSON"},
		{"signed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/jwt")
			fmt.Fprint(w, "eyJ.eyJ.sig")
		}, 1, "application/jwt"},
		{"another sub", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"sub":"someone-else","name":"Mallory"}`)
		}, 5, `userinfo: the response's sub "someone-else" is not the ID token's "id1"`},
	} {
		e.op.SetFault(authtest.OnPath("/userinfo", 0, c.fault))
		code := e.run("userinfo")
		if code != c.code || !strings.Contains(e.errOut.String(), c.msg) || e.out.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", c.name, code, e.out, e.errOut, c.code, c.msg)
		}
	}
	// --userinfo-url wins over discovery.
	e.op.SetFault(authtest.OnPath("/me", 0, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"sub":"id1","from":"me"}`)
	}))
	e.mustRun(0, "userinfo", "--userinfo-url", e.op.Issuer+"/me")
	if decodeObject(t, e.out.String())["from"] != "me" {
		t.Errorf("--userinfo-url: %s", e.out)
	}
}

// refresh prints a token too: in GitHub Actions it is masked first.
func TestRefreshMasksInGitHubActions(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	e.env["GITHUB_ACTIONS"] = "true"
	e.mustRun(0, "refresh")
	tok := strings.TrimSpace(e.out.String())
	if got := parseAddMasks(e.errOut.String()); len(got) != 1 || got[0] != tok {
		t.Errorf("refresh in Actions: masks %q for token %q", got, tok)
	}
	e.mustRun(0, "refresh", "-q")
	if e.errOut.Len() != 0 || e.out.Len() != 0 {
		t.Errorf("refresh -q printed %q / %q", e.out, e.errOut)
	}
}
