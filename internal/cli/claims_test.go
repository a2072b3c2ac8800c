package cli

// Whole-CLI tests for claims the README and docs make that no other test
// proved (issue 12 §2).

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/tokencache"
)

// withoutRevocationEndpoint makes op's discovery document lack
// revocation_endpoint and counts the requests that still reach /revoke.
func withoutRevocationEndpoint(t *testing.T, op *authtest.OP) (revokeCalls func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	withoutDiscoveryField(t, op, "revocation_endpoint", func(_ http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/revoke" {
			mu.Lock()
			n++
			mu.Unlock()
		}
		return false
	})
	return func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func (e *opEnv) setCacheExpiry(key string, exp time.Time) {
	e.t.Helper()
	dir, _ := tokencache.Dir(func(k string) string { return e.env[k] })
	c := tokencache.New(dir)
	ent, err := c.Load(key)
	if err != nil {
		e.t.Fatal(err)
	}
	ent.Expiry = exp
	if err := c.Save(key, ent); err != nil {
		e.t.Fatal(err)
	}
}

func TestRevokeWithoutRevocationEndpoint(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	revokeCalls := withoutRevocationEndpoint(t, e.op)
	e.mustRun(0, "login")
	rt, _ := e.store.Get("work")
	exp := e.cacheEntry("work").Expiry
	if exp.IsZero() {
		t.Fatal("the OP's access token has no expiry")
	}

	e.mustRun(0, "revoke")
	msg := e.errOut.String()
	for _, want := range []string{
		"The server has no revocation endpoint: the tokens were not revoked there.\n",
		"The refresh token stays valid there until the server expires or drops it.\n",
		"The access token stays valid there until it expires in ",
		"(" + exp.UTC().Format(time.RFC3339) + ").\n",
		`Deleted the local tokens of profile "work".` + "\n",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "Revoked") || e.out.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", e.out, msg)
	}
	if n := revokeCalls(); n != 0 {
		t.Errorf("%d requests reached /revoke", n)
	}
	if _, err := e.store.Get("work"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("refresh token still stored: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "cache", "oat", "work.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cache file left: %v", err)
	}
	// What the message says is true: the server still takes the refresh token.
	c := &auth.Client{Profile: e.op.Profile(config.FlowPKCE), Endpoints: &auth.Endpoints{Issuer: e.op.Issuer, TokenURL: e.op.Issuer + "/oauth/token"}}
	if _, err := c.RefreshGrant(context.Background(), rt); err != nil {
		t.Errorf("the unrevoked refresh token no longer works: %v", err)
	}

	// An access token without expiry (the server sent no expires_in) does not
	// "stay valid until it expires".
	e.mustRun(0, "login")
	e.setCacheExpiry("work", time.Time{})
	e.mustRun(0, "revoke")
	msg = e.errOut.String()
	if !strings.Contains(msg, "The access token has no expiry and stays valid there until the server drops it.\n") || strings.Contains(msg, "until it expires") {
		t.Errorf("no-expiry access token: stderr %q", msg)
	}
}

func TestRevokeUnsupportedTokenTypeForTheAccessToken(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	rt, _ := e.store.Get("work")
	exp := e.cacheEntry("work").Expiry
	// RFC 7009 §2.2.1: a server that cannot revoke a token type answers
	// unsupported_token_type (common for JWT access tokens).
	var mu sync.Mutex
	var hints []string
	e.op.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/revoke" {
			return false
		}
		hint := authtest.Form(r).Get("token_type_hint")
		mu.Lock()
		hints = append(hints, hint)
		mu.Unlock()
		if hint == "access_token" {
			authtest.OAuthError(http.StatusBadRequest, "unsupported_token_type", "access tokens are not revocable")(w, r)
			return true
		}
		return false
	})
	e.mustRun(0, "revoke")
	msg := e.errOut.String()
	for _, want := range []string{
		"Revoked the refresh token at the server.\n",
		"The server does not revoke access tokens (unsupported_token_type): the access token stays valid there until it expires in ",
		"(" + exp.UTC().Format(time.RFC3339) + ").\n",
		`Deleted the local tokens of profile "work".` + "\n",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "oat: ") || strings.Contains(msg, "Could not revoke") {
		t.Errorf("unsupported_token_type reported as a failure:\n%s", msg)
	}
	if strings.Join(hints, ",") != "refresh_token,access_token" {
		t.Errorf("revocation requests with hints %v, want refresh_token then access_token", hints)
	}
	if _, err := e.store.Get("work"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("refresh token still stored: %v", err)
	}
	c := &auth.Client{Profile: e.op.Profile(config.FlowPKCE), Endpoints: &auth.Endpoints{Issuer: e.op.Issuer, TokenURL: e.op.Issuer + "/oauth/token"}}
	if _, err := c.Refresh(context.Background(), rt); !errors.Is(err, auth.ErrLoginRequired) {
		t.Errorf("the refresh token was not revoked: %v", err)
	}
}

// countRequests makes op count every request it receives.
func countRequests(op *authtest.OP) func() int {
	var mu sync.Mutex
	n := 0
	op.SetFault(func(http.ResponseWriter, *http.Request) bool {
		mu.Lock()
		n++
		mu.Unlock()
		return false
	})
	return func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// onlyKind reports whether kinds is not empty and holds only kind.
func onlyKind(kinds []string, kind string) bool {
	for _, k := range kinds {
		if k != kind {
			return false
		}
	}
	return len(kinds) > 0
}

// "Before any flow starts, oat checks it can store the result (exit 6
// otherwise) … There is no silent fallback." (README)
func TestKeychainDownNeverFallsBackToFileStorage(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.store.SetUnavailable("no D-Bus session")
	e.configure = chain(e.configure, func(f *Factory) { f.Browser = authtest.NoBrowser(t) })
	requests := countRequests(e.op)
	stateDir := filepath.Join(e.dir, "state", "oat")
	noFileStorage := func(cmd string) {
		t.Helper()
		if kinds := e.storageKinds(); !onlyKind(kinds, config.StorageKeychain) {
			t.Errorf("%s asked for storage %v, want the keychain only", cmd, kinds)
		}
		if keys := e.fileStore.Keys(); len(keys) != 0 {
			t.Errorf("%s wrote to file storage: %v", cmd, keys)
		}
		if entries, err := os.ReadDir(stateDir); err == nil && len(entries) != 0 {
			t.Errorf("%s wrote %d files under %s", cmd, len(entries), stateDir)
		}
		if n := requests(); n != 0 {
			t.Errorf("%s sent %d requests to the server", cmd, n)
		}
	}

	// (--timeout only ends a broken run sooner: a correct one never waits.)
	if code := e.run("login", "--timeout", "10s"); code != ExitStorage {
		t.Fatalf("login: exit %d, want 6; stderr %q", code, e.errOut)
	}
	if msg := e.errOut.String(); !strings.Contains(msg, "OAT_STORAGE=file") || strings.Count(msg, "\n") != 1 {
		t.Errorf("login stderr = %q", msg)
	}
	noFileStorage("login")

	// A refresh token left in file storage by an earlier OAT_STORAGE=file
	// login is not used once the profile is back on the keychain.
	_ = e.fileStore.Set("work", "rt-in-file-storage")
	if code := e.run("token"); code != ExitStorage {
		t.Fatalf("token: exit %d, want 6; stderr %q", code, e.errOut)
	}
	_ = e.fileStore.Delete("work")
	noFileStorage("token")

	// Opting in works with the keychain still down: the distinct stores
	// above would have caught a fallback.
	e.env["OAT_STORAGE"] = "file"
	e.configure = chain(e.configure, func(f *Factory) { f.Browser = e.browser.Open })
	e.mustRun(0, "login")
	if kinds := e.storageKinds(); !onlyKind(kinds, config.StorageFile) {
		t.Errorf("OAT_STORAGE=file login asked for storage %v", kinds)
	}
	if _, err := e.fileStore.Get("work"); err != nil {
		t.Errorf("OAT_STORAGE=file login: %v", err)
	}
}

// refusingTransport fails every request and records the attempts.
type refusingTransport struct {
	mu       sync.Mutex
	attempts []string
}

func (rt *refusingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.attempts = append(rt.attempts, r.Method+" "+r.URL.Path)
	rt.mu.Unlock()
	return nil, errors.New("the network is off in this test")
}

func (rt *refusingTransport) Attempts() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.attempts...)
}

// "A cached token is printed without touching the network or the keychain."
// (oat token --help; README: a cache hit reads one file.)
func TestCacheHitNeedsNoNetworkAndNoKeychain(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	cached := e.cacheEntry("work")
	e.storageKinds()

	net := &refusingTransport{}
	e.store.SetUnavailable("every keychain call fails in this test")
	e.fileStore.SetUnavailable("every file-storage call fails in this test")
	e.configure = chain(e.configure, func(f *Factory) {
		f.HTTPTransport = net
		f.Browser = authtest.NoBrowser(t)
	})
	e.mustRun(0, "token")
	if got := e.out.String(); got != cached.AccessToken+"\n" || e.errOut.Len() != 0 {
		t.Errorf("token: printed the cached token and a newline: %v; stderr %q", got == cached.AccessToken+"\n", e.errOut)
	}
	e.mustRun(0, "-v", "token", "-o", "json")
	var j tokenJSON
	if err := json.Unmarshal(e.out.Bytes(), &j); err != nil || j.AccessToken != cached.AccessToken || e.errOut.Len() != 0 {
		t.Errorf("token -o json: %v (same token: %v), stderr %q", err, j.AccessToken == cached.AccessToken, e.errOut)
	}
	if a := net.Attempts(); len(a) != 0 {
		t.Errorf("a cache hit made requests: %v", a)
	}
	if kinds := e.storageKinds(); len(kinds) != 0 {
		t.Errorf("a cache hit asked for storage %v", kinds)
	}

	// The refusing transport is the one oat uses: a renewal goes through it
	// and fails.
	e.store.SetUnavailable("")
	e.expire("work")
	if code := e.run("token"); code == 0 || !strings.Contains(e.errOut.String(), "the network is off in this test") {
		t.Errorf("renewal without network: exit %d, stderr %q", code, e.errOut)
	}
	if len(net.Attempts()) == 0 {
		t.Error("the renewal made no request through the test transport")
	}
}

// The -v log of a device login shows neither device code; the user code is
// shown only where the user must read it (the prompt).
func TestVerboseDeviceLoginHidesTheCodes(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowDevice, authtest.WithDeviceInterval(1))
	var mu sync.Mutex
	var deviceCode, userCode string
	e.configure = chain(e.configure, func(f *Factory) {
		f.Browser = func(string) error { return nil }
		f.HTTPTransport = approvingTransport{t: t, op: e.op, seen: func(d, u string) {
			mu.Lock()
			deviceCode, userCode = d, u
			mu.Unlock()
		}}
	})
	e.mustRun(0, "-v", "login")
	rt, _ := e.store.Get("work")
	access := e.cacheEntry("work").AccessToken
	mu.Lock()
	defer mu.Unlock()
	msg := e.errOut.String()
	if deviceCode == "" || userCode == "" || !strings.Contains(msg, "* POST "+e.op.Issuer+"/device_authorization -> 200") {
		t.Fatalf("no device authorization seen; stderr:\n%s", msg)
	}
	for name, v := range map[string]string{"device code": deviceCode, "refresh token": rt, "access token": access} {
		if strings.Contains(msg, v) {
			t.Errorf("stderr of -v login holds the %s", name)
		}
	}
	if !strings.Contains(msg, "enter the code: "+userCode) {
		t.Errorf("the prompt lacks the user code:\n%s", msg)
	}
	for _, line := range strings.Split(msg, "\n") {
		if strings.HasPrefix(line, "* ") && strings.Contains(line, userCode) {
			t.Errorf("a -v log line holds the user code: %q", line)
		}
	}
}

// A revocation endpoint's error_description is server text: the "Could not
// revoke" lines show it escaped, never as terminal control sequences.
func TestRevokeEscapesTheServersError(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	e.op.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/revoke" || authtest.Form(r).Get("token_type_hint") != "access_token" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_request","error_description":"no\u001b]0;pwned\u0007\u001b[2J\u202eevil\nline"}`)
		return true
	})
	e.mustRun(0, "revoke")
	msg := e.errOut.String()
	if !strings.Contains(msg, "Could not revoke the access token") || !strings.Contains(msg, "pwned") {
		t.Fatalf("stderr lacks the access-token failure:\n%q", msg)
	}
	if strings.ContainsAny(msg, "\x1b\x07\u202e") || strings.Contains(msg, "\nline") {
		t.Errorf("the server's control characters reached the terminal: %q", msg)
	}
}
