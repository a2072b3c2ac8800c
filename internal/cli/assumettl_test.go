package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/config"
)

// rewritingEndpoint forwards each request to target (a real OP endpoint)
// and lets edit change its JSON answer: how a provider's documented quirk
// is put in front of the real OP.
func rewritingEndpoint(t *testing.T, target string, edit func(map[string]any)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := http.NewRequest(r.Method, target, bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Error(err)
			return
		}
		if resp.StatusCode == http.StatusOK {
			edit(m)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		_ = json.NewEncoder(w).Encode(m)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A token response without expires_in but with a refresh token gets the
// assumed lifetime (assume_ttl, default 1h) and is renewed when it runs
// out. Salesforce documents no expires_in in its token response:
// https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm
func TestNoExpiresInWithRefreshTokenGetsAssumedTTL(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	proxy := rewritingEndpoint(t, e.op.Issuer+"/oauth/token", func(m map[string]any) { delete(m, "expires_in") })
	p := e.op.Profile(config.FlowPKCE)
	p.TokenURL = proxy.URL
	short := p
	short.AssumeTTL = "1s"
	cfg := &config.File{Path: e.configPath(), DefaultProfile: "work", Profiles: map[string]config.Profile{"work": p, "short": short}}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}

	e.mustRun(0, "login")
	e.mustRun(0, "token", "-o", "json")
	var out struct {
		ExpiresIn int64 `json:"expires_in"`
	}
	if err := json.Unmarshal(e.out.Bytes(), &out); err != nil {
		t.Fatalf("token -o json: %v: %q", err, e.out)
	}
	if out.ExpiresIn < 3000 || out.ExpiresIn > 3600 {
		t.Errorf("expires_in = %d, want about an hour (assume_ttl default)", out.ExpiresIn)
	}

	e.mustRun(0, "login", "-p", "short")
	before := e.op.Grants("refresh_token")
	e.now = time.Now().Add(10 * time.Second) // the assumed 1s has run out
	e.mustRun(0, "token", "-p", "short")
	if got := e.op.Grants("refresh_token"); got != before+1 {
		t.Errorf("refresh grants %d, want %d: a token with an assumed 1s lifetime was not renewed", got, before+1)
	}
}
