package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
)

// newConfidentialOPEnv is an opEnv whose profile "work" logs a user in
// through the OP's confidential client (PKCE plus client_secret_basic): the
// example OP lets a client introspect only tokens issued to it, for a user.
func newConfidentialOPEnv(t *testing.T) *opEnv {
	t.Helper()
	e := newOPEnv(t, config.FlowPKCE)
	p := e.op.Profile(config.FlowPKCE)
	p.ClientID = e.op.ConfidentialClientID
	p.ClientSecretEnv = authtest.SecretEnv
	p.ClientAuth = config.ClientAuthBasic
	cfg := &config.File{Path: e.configPath(), DefaultProfile: "work", Profiles: map[string]config.Profile{"work": p}}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	return e
}

func decodeObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, s)
	}
	return m
}

func TestIntrospectAgainstTheOP(t *testing.T) {
	t.Parallel()
	e := newConfidentialOPEnv(t)
	e.mustRun(0, "login")

	// The profile's own access token: active, as the server describes it.
	e.mustRun(0, "introspect")
	m := decodeObject(t, e.out.String())
	if m["active"] != true || m["sub"] != authtest.Subject || m["client_id"] != e.op.ConfidentialClientID {
		t.Errorf("introspect: %v", m)
	}
	e.mustRun(0, "token")
	tok := strings.TrimSpace(e.out.String())

	// From stdin, and as an argument.
	if code := e.runStdin(tok+"\n", "introspect", "-"); code != 0 || decodeObject(t, e.out.String())["active"] != true {
		t.Errorf("introspect -: exit %d, %s %s", code, e.out, e.errOut)
	}
	// A token the server does not know: its JSON, and exit 5.
	code := e.run("introspect", "not-a-token-it-issued", "--token-type-hint", "access_token")
	if code != 5 || decodeObject(t, e.out.String())["active"] != false || !strings.Contains(e.errOut.String(), "oat: introspect: the server says the token is not active") {
		t.Errorf("unknown token: exit %d, stdout %s, stderr %s", code, e.out, e.errOut)
	}
	if strings.Contains(e.errOut.String(), tok) {
		t.Error("the token is in an error message")
	}
}

func TestIntrospectErrors(t *testing.T) {
	t.Parallel()
	// A public client cannot introspect at this OP: a clear error, exit 1.
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	code := e.run("introspect")
	if code != 1 || !strings.Contains(e.errOut.String(), "introspect: introspection endpoint answered 401 without an OAuth error (introspection needs a client the server lets introspect") {
		t.Errorf("public client: exit %d, %s", code, e.errOut)
	}

	e = newConfidentialOPEnv(t)
	e.mustRun(0, "login")
	for _, c := range []struct {
		name  string
		fault http.HandlerFunc
		code  int
		msg   string
	}{
		{"503 HTML", authtest.HTMLError(http.StatusServiceUnavailable), 4, "introspect: server answered 503"},
		{"429", authtest.RetryAfter(http.StatusTooManyRequests, 30e9), 4, "retry after 30s"},
		{"invalid_client", authtest.OAuthError(http.StatusUnauthorized, "invalid_client", "bad secret"), 1, "introspect: server answered invalid_client: bad secret"},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"active":tr`)
		}, 1, "introspection endpoint returned a body that is not a JSON object"},
		{"no active", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"sub":"x"}`)
		}, 1, `answered without the required "active" member`},
	} {
		e.op.SetFault(authtest.OnPath("/oauth/introspect", 0, c.fault))
		code := e.run("introspect")
		if code != c.code || !strings.Contains(e.errOut.String(), c.msg) || e.out.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", c.name, code, e.out, e.errOut, c.code, c.msg)
		}
	}

	// --introspection-url wins over discovery; the server's JSON is shown
	// with its members in order and control characters escaped.
	e.op.SetFault(authtest.OnPath("/custom-introspect", 0, func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); !ok {
			http.Error(w, "no client auth", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		// JSON escapes C0 itself; DEL, C1 and bytes that are not UTF-8
		// may come raw.
		fmt.Fprint(w, `{"active":true,"z":"\u001b]0;`+"pwned\u009b31m\x7f\xff"+`","a":1}`)
	}))
	e.mustRun(0, "introspect", "--introspection-url", e.op.Issuer+"/custom-introspect")
	if want := "{\n  \"active\": true,\n  \"z\": \"\\u001b]0;pwned\\u009b31m\\u007f\\ufffd\",\n  \"a\": 1\n}\n"; e.out.String() != want {
		t.Errorf("custom endpoint: %q, want %q", e.out, want)
	}
	if code := e.run("introspect", "--introspection-url", "http://example.com/introspect"); code != 2 {
		t.Errorf("plain-http --introspection-url: exit %d, %s", code, e.errOut)
	}
}

// A discovery cache written before oat read introspection_endpoint has
// none: introspect looks it up afresh instead of failing.
func TestIntrospectRediscoversAnOldCache(t *testing.T) {
	t.Parallel()
	e := newConfidentialOPEnv(t)
	e.mustRun(0, "login")
	files, _ := filepath.Glob(filepath.Join(e.dir, "cache", "oat", "discovery", "*.json"))
	n := 0
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "jwks-") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		old := strings.NewReplacer(`"IntrospectionURL":"`+e.op.Issuer+`/oauth/introspect",`, "", `"UserinfoURL":"`+e.op.Issuer+`/userinfo",`, "").Replace(string(b))
		if old == string(b) {
			t.Fatalf("discovery cache has no introspection endpoint to remove: %s", b)
		}
		if err := os.WriteFile(f, []byte(old), 0o600); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no discovery cache")
	}
	e.mustRun(0, "introspect")
	e.mustRun(0, "userinfo")
}
