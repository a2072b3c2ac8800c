package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/keychain/keychaintest"
	"github.com/oatcli/oat/internal/tokencache"
)

// recorder remembers every request a test server got: path, form and
// Authorization header, so a test can say what was never sent there.
type recorder struct {
	mu   sync.Mutex
	reqs []string
}

// on puts the recorder in front of op (it answers nothing itself).
func (rec *recorder) on(op *authtest.OP) *recorder {
	op.SetFault(func(_ http.ResponseWriter, r *http.Request) bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.reqs = append(rec.reqs, r.URL.Path+" "+r.Header.Get("Authorization")+" "+authtest.Form(r).Encode())
		return false
	})
	return rec
}

// saw reports whether any recorded request holds s (raw or form-encoded).
func (rec *recorder) saw(s string) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, r := range rec.reqs {
		if strings.Contains(r, s) || strings.Contains(r, strings.ReplaceAll(s, "/", "%2F")) {
			return true
		}
	}
	return false
}

func (rec *recorder) count(prefix string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, r := range rec.reqs {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// #11 item 1: `oat profile set` pointing a profile at another server (or
// client) revokes its tokens at the old server and deletes them; the new
// server never gets them.
func TestProfileSetIssuerDropsTheOldTokens(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	rt, _ := e.store.Get("work")
	other := authtest.NewOP(t)
	atOther := new(recorder).on(other)
	atOld := new(recorder).on(e.op)

	e.mustRun(0, "profile", "set", "work", "issuer", other.Issuer)
	msg := e.errOut.String()
	if !strings.Contains(msg, `The tokens of profile "work" were issued by `+e.op.Issuer) || !strings.Contains(msg, "revoked them there; deleted them. Run oat login -p work") {
		t.Errorf("profile set stderr = %q", msg)
	}
	if atOld.count("/revoke") == 0 || !atOld.saw(rt) {
		t.Error("the old tokens were not revoked at the old server")
	}
	if _, err := e.store.Get("work"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("the old refresh token is still stored: %v", err)
	}
	if code := e.run("token"); code != ExitLoginRequired {
		t.Errorf("token after the issuer changed: exit %d, stderr %q", code, e.errOut)
	}
	if atOther.saw(rt) {
		t.Fatal("the old server's refresh token was sent to the new server")
	}

	// A revocation that fails does not block the set; the tokens go anyway.
	e.writeConfig(fmt.Sprintf("default_profile = \"work\"\n[profiles.work]\nissuer = %q\nclient_id = %q\nscopes = [\"openid\", \"offline_access\"]\n", e.op.Issuer, e.op.PublicClientID))
	e.mustRun(0, "login")
	e.op.SetFault(authtest.OnPath("/revoke", 0, authtest.HTMLError(http.StatusServiceUnavailable)))
	e.mustRun(0, "profile", "set", "work", "client_id", "another-client")
	if msg := e.errOut.String(); !strings.Contains(msg, "could not revoke them there") || !strings.Contains(msg, "deleted them") {
		t.Errorf("profile set with a failing revocation: stderr %q", msg)
	}
	if !strings.Contains(e.readConfig(), `client_id = 'another-client'`) && !strings.Contains(e.readConfig(), `client_id = "another-client"`) {
		t.Errorf("the set did not happen:\n%s", e.readConfig())
	}
	if _, err := e.store.Get("work"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("the old refresh token is still stored: %v", err)
	}

	// The keychain cannot be reached: the set still happens, says what is
	// left behind, and the token left there is never sent to the new server.
	e.mustRun(0, "profile", "set", "work", "client_id", e.op.PublicClientID)
	e.op.SetFault(nil)
	e.mustRun(0, "login")
	rt, _ = e.store.Get("work")
	e.store.SetUnavailable("the keyring is locked")
	e.mustRun(0, "profile", "set", "work", "issuer", other.Issuer)
	if msg := e.errOut.String(); !strings.Contains(msg, "the refresh token could not be reached") || !strings.Contains(msg, "never to be used") ||
		!strings.Contains(msg, "(keychain unavailable: the keyring is locked)") || strings.Contains(msg, "OAT_STORAGE=file") {
		t.Errorf("profile set with the keychain down: stderr %q", msg)
	}
	e.store.SetUnavailable("")
	if got, _ := e.store.Get("work"); got != rt {
		t.Fatal("expected the refresh token to be left behind")
	}
	if code := e.run("token"); code != ExitLoginRequired || !strings.Contains(e.errOut.String(), "issued to another server or client") {
		t.Errorf("token with the left-behind refresh token: exit %d, stderr %q", code, e.errOut)
	}
	if atOther.saw(rt) {
		t.Fatal("the left-behind refresh token was sent to the new server")
	}
	e.mustRun(0, "profile", "set", "work", "issuer", e.op.Issuer)

	// Keys that do not change the server or client keep the tokens.
	e.mustRun(0, "profile", "set", "work", "client_id", e.op.PublicClientID)
	e.op.SetFault(nil)
	e.mustRun(0, "login")
	e.mustRun(0, "profile", "set", "work", "scopes", "openid profile offline_access")
	if _, err := e.store.Get("work"); err != nil || strings.Contains(e.errOut.String(), "tokens") {
		t.Errorf("changing scopes dropped the refresh token: %v, stderr %q", err, e.errOut)
	}
}

// #11 item 1: another config file with a profile of the same name for
// another server finds the stored token, but never sends it: exit 3, and the
// real profile's token is kept as it was.
func TestSameProfileNameInAnotherConfigGetsNoToken(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	rt, _ := e.store.Get("work")
	other := authtest.NewOP(t)
	atOther := new(recorder).on(other)

	otherConfig := filepath.Join(e.dir, "other.toml")
	if err := os.WriteFile(otherConfig, []byte(fmt.Sprintf("[profiles.work]\nissuer = %q\nclient_id = %q\nscopes = [\"openid\", \"offline_access\"]\n", other.Issuer, other.PublicClientID)), 0o600); err != nil {
		t.Fatal(err)
	}
	e.env["OAT_CONFIG"] = otherConfig
	for _, args := range [][]string{{"token", "-p", "work"}, {"refresh", "-p", "work"}} {
		code := e.run(args...)
		msg := e.errOut.String()
		if code != ExitLoginRequired || !strings.Contains(msg, "issued to another server or client ("+e.op.Issuer) || !strings.Contains(msg, "it was not sent") || !strings.HasSuffix(msg, "run oat login -p work\n") || countLines(msg) != 1 {
			t.Errorf("oat %s with another config: exit %d, stderr %q", args[0], code, msg)
		}
	}
	if rows := e.statusJSON(); !rows[0].NeedsLogin || rows[0].LoggedIn {
		t.Errorf("status with another config: %+v", rows[0])
	}
	// revoke does not send it there either, and keeps it.
	if code := e.run("revoke", "-p", "work"); code != ExitFailure || !strings.Contains(e.errOut.String(), "the local tokens are kept") {
		t.Errorf("revoke with another config: exit %d, stderr %q", code, e.errOut)
	}
	if atOther.saw(rt) || other.Grants(refreshGrant) != 0 {
		t.Fatal("the refresh token was sent to the other config's server")
	}
	if got, _ := e.store.Get("work"); got != rt {
		t.Fatal("the stored refresh token was changed or deleted")
	}

	// Back in the real config, it works.
	delete(e.env, "OAT_CONFIG")
	e.expire("work")
	e.mustRun(0, "token")
	if e.op.Grants(refreshGrant) != 1 {
		t.Errorf("%d refreshes at the profile's own server, want 1", e.op.Grants(refreshGrant))
	}
}

// Tokens stored by an oat without binding records: adopted when the cache
// entry beside them was minted for the same settings; otherwise a login is
// needed and nothing is sent.
func TestRefreshTokenWithoutBindingRecord(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	record := filepath.Join(e.dir, "state", "oat", "work.keychain.binding")
	if _, err := os.Stat(record); err != nil {
		t.Fatalf("login wrote no binding record: %v", err)
	}
	// As an older oat left it: the token, the cache entry, no record.
	if err := os.Remove(record); err != nil {
		t.Fatal(err)
	}
	e.expire("work")
	e.mustRun(0, "token")
	if _, err := os.Stat(record); err != nil {
		t.Errorf("the adopted token got no record: %v", err)
	}

	// No cache entry to vouch for it: not sent.
	if err := os.Remove(record); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(e.dir, "cache", "oat", "work.json")); err != nil {
		t.Fatal(err)
	}
	before := e.op.Grants(refreshGrant)
	code := e.run("token")
	if code != ExitLoginRequired || !strings.Contains(e.errOut.String(), "has no record of the server it came from") {
		t.Errorf("token without record and cache: exit %d, stderr %q", code, e.errOut)
	}
	if e.op.Grants(refreshGrant) != before {
		t.Error("a token of unknown origin was sent")
	}
	e.mustRun(0, "login")
	e.expire("work")
	e.mustRun(0, "token")
}

// #11 item 2: server flags start from an empty profile, so the default
// profile's token_url, scopes and client never go with another server's
// client and secret.
func TestServerFlagsStartFromAnEmptyProfile(t *testing.T) {
	t.Parallel()
	dflt := authtest.NewOP(t)
	atDefault := new(recorder).on(dflt)
	other := authtest.NewOP(t)
	e := newTestEnv(t)
	store := keychaintest.NewMemory()
	e.configure = func(f *Factory) {
		f.Browser = authtest.NoBrowser(t)
		f.StoreFor = func(string) (keychain.Store, error) { return store, nil }
	}
	e.writeConfig(fmt.Sprintf(`default_profile = "work"
[profiles.work]
issuer = %q
token_url = %q
client_id = %q
client_secret_env = "WORK_SECRET"
client_auth = "post"
scopes = ["openid", "offline_access"]
audience = "https://api.work.example"
`, dflt.Issuer, dflt.Issuer+"/oauth/token", dflt.ConfidentialClientID))
	e.env["WORK_SECRET"] = dflt.ClientSecret
	e.env["CI_SECRET"] = other.ClientSecret

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"default profile, --issuer", nil, []string{"--issuer", other.Issuer}},
		{"-p, --issuer", nil, []string{"-p", "work", "--issuer", other.Issuer}},
		{"OAT_PROFILE, --issuer", map[string]string{"OAT_PROFILE": "work"}, []string{"--issuer", other.Issuer}},
		{"OAT_ISSUER", map[string]string{"OAT_ISSUER": other.Issuer}, nil},
		{"--token-url", nil, []string{"--token-url", other.Issuer + "/oauth/token"}},
	} {
		for k, v := range tc.env {
			e.env[k] = v
		}
		args := append([]string{"token", "--client-id", other.ConfidentialClientID, "--client-secret-env", "CI_SECRET", "--flow", "client-credentials", "--min-ttl", "0s"}, tc.args...)
		before := other.Grants("client_credentials")
		code := e.run(args...)
		for k := range tc.env {
			delete(e.env, k)
		}
		if code != 0 || e.out.Len() == 0 {
			t.Errorf("%s: exit %d, stderr %q", tc.name, code, e.errOut)
		}
		if other.Grants("client_credentials") != before+1 {
			t.Errorf("%s: the named server got no grant", tc.name)
		}
		// A fresh token each time: cached per ad hoc settings.
		if err := os.RemoveAll(filepath.Join(e.dir, "cache")); err != nil {
			t.Fatal(err)
		}
	}
	if atDefault.saw(other.ClientSecret) || atDefault.saw(other.ConfidentialClientID) || atDefault.count("") != 0 {
		t.Errorf("the default profile's server got requests: %v", atDefault.reqs)
	}

	// With a server but no client, nothing of the profile's is used.
	if code := e.run("token", "--issuer", other.Issuer); code != ExitUsage || !strings.Contains(e.errOut.String(), "pass --client-id") {
		t.Errorf("--issuer alone: exit %d, stderr %q", code, e.errOut)
	}
	// The profile's own server named again is still the profile.
	e.mustRun(0, "token", "--issuer", dflt.Issuer, "--flow", "client-credentials")
	if dflt.Grants("client_credentials") != 1 {
		t.Errorf("the profile's own issuer: %d grants", dflt.Grants("client_credentials"))
	}
}

// #11 item 6: a refresh whose ID token names another user is refused (exit
// 3); nothing of it is cached; the rotated refresh token is kept, and the
// next renewal checks again.
func TestRefreshWithAnotherSubjectIsRefused(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	before := e.cacheEntry("work")
	rt1, _ := e.store.Get("work")

	e.op.SetRefreshSubject(authtest.Subject2)
	code := e.run("refresh")
	msg := e.errOut.String()
	if code != ExitLoginRequired || !strings.Contains(msg, "ID token for another user") || !strings.HasSuffix(msg, "run oat login -p work\n") || countLines(msg) != 1 || e.out.Len() != 0 {
		t.Errorf("refresh with another sub: exit %d, stdout %q, stderr %q", code, e.out, msg)
	}
	if after := e.cacheEntry("work"); after.AccessToken != before.AccessToken || after.IDToken != before.IDToken || after.Subject != authtest.Subject {
		t.Error("the refused answer was cached")
	}
	rt2, _ := e.store.Get("work")
	if rt2 == rt1 || e.op.Grants(refreshGrant) != 1 {
		t.Errorf("the rotated refresh token was not kept (refreshes %d)", e.op.Grants(refreshGrant))
	}
	// The session stays the user's: the cached token still serves, and the
	// next forced renewal is refused again.
	e.mustRun(0, "token")
	if strings.TrimSpace(e.out.String()) != before.AccessToken {
		t.Error("token did not print the session's cached access token")
	}
	if code := e.run("refresh"); code != ExitLoginRequired {
		t.Errorf("second refresh: exit %d", code)
	}
	// Also with no cache to compare against: the record knows the subject.
	if err := os.Remove(filepath.Join(e.dir, "cache", "oat", "work.json")); err != nil {
		t.Fatal(err)
	}
	if code := e.run("token"); code != ExitLoginRequired {
		t.Errorf("token without a cache entry: exit %d, stderr %q", code, e.errOut)
	}
	e.op.SetRefreshSubject("")
	e.mustRun(0, "refresh", "-q")
}

// #11 item 10: a renewal lock held for the whole wait is a temporary
// failure: exit 4, one line naming the holder.
func TestRefreshWaitsForAStuckLockThenExits4(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	dir, _ := tokencache.Dir(func(k string) string { return e.env[k] })
	unlock, err := tokencache.New(dir).Lock(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	configure := e.configure
	e.configure = func(f *Factory) { configure(f); f.LockTimeout = 1 } // gives up at once
	code := e.run("refresh")
	msg := e.errOut.String()
	want := fmt.Sprintf(`oat: another oat process (PID %d) held the renewal lock of profile "work" for the whole wait`, os.Getpid())
	if code != ExitTemporary || !strings.HasPrefix(msg, want) || countLines(msg) != 1 || strings.Count(msg, "renew") != 1 {
		t.Errorf("refresh with the lock held: exit %d, stderr %q", code, msg)
	}
	if e.op.Grants(refreshGrant) != 0 {
		t.Error("refreshed without the lock")
	}
}

// #10: a login that returns no refresh token keeps the stored one for the
// same server and client, so renewals go on working.
func TestLoginWithoutRefreshTokenKeepsTheStoredOne(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE, authtest.WithRefreshTokenOnce())
	e.mustRun(0, "login")
	rt, _ := e.store.Get("work")
	e.mustRun(0, "login") // the OP sends no refresh token this time
	if got, err := e.store.Get("work"); got != rt || err != nil {
		t.Fatalf("the stored refresh token was dropped: %v", err)
	}
	if !strings.Contains(e.errOut.String(), "refresh token in the keychain") {
		t.Errorf("login summary = %q", e.errOut)
	}
	if rows := e.statusJSON(); deref(rows[0].RefreshToken, "") != "keychain" || !rows[0].LoggedIn {
		t.Errorf("status = %+v", rows[0])
	}
	e.expire("work")
	e.mustRun(0, "token")
	if e.op.Grants(refreshGrant) != 1 {
		t.Errorf("renewal after the second login: %d refreshes", e.op.Grants(refreshGrant))
	}

	// Another client at the same server: the stored token is not its, and
	// is dropped rather than kept beside the new session.
	other := e.op.Profile(config.FlowPKCE)
	other.ClientID = e.op.ConfidentialClientID
	other.ClientSecretEnv = authtest.SecretEnv
	other.ClientAuth = config.ClientAuthBasic
	cfg := &config.File{Path: e.configPath(), DefaultProfile: "work", Profiles: map[string]config.Profile{"work": other}}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	e.mustRun(0, "login")
	if _, err := e.store.Get("work"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("another client's login kept the old client's refresh token: %v", err)
	}
}

// The old server's revocation error is server text: profile set shows it
// escaped, never as terminal control sequences.
func TestProfileSetEscapesTheOldServersError(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	e.op.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/revoke" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_request","error_description":"no\u001b]0;pwned\u0007\u001b[2J\u202eevil\nline"}`)
		return true
	})
	e.mustRun(0, "profile", "set", "work", "client_id", "another-client")
	msg := e.errOut.String()
	if !strings.Contains(msg, "could not revoke them there") || !strings.Contains(msg, "pwned") {
		t.Fatalf("stderr lacks the revocation failure:\n%q", msg)
	}
	if strings.ContainsAny(msg, "\x1b\x07\u202e") || strings.Contains(msg, "\nline") {
		t.Errorf("the server's control characters reached the terminal: %q", msg)
	}
}
