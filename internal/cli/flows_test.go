package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
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
	"github.com/oatcli/oat/internal/keychain/keychaintest"
	"github.com/oatcli/oat/internal/tokencache"
)

const refreshGrant = "refresh_token"

// opEnv is a testEnv with a real OpenID Provider, a profile "work" for it in
// the config file, a scripted browser and in-memory stores: store for the
// keychain, fileStore for file storage, so that a test sees which one a
// command used.
type opEnv struct {
	*testEnv
	op        *authtest.OP
	store     *keychaintest.Memory
	fileStore *keychaintest.Memory
	browser   *authtest.Browser

	kindsMu sync.Mutex
	kinds   []string // the storage kinds commands asked for, in order
}

func newOPEnv(t *testing.T, flow string, opts ...authtest.Option) *opEnv {
	t.Helper()
	e := &opEnv{testEnv: newTestEnv(t), op: authtest.NewOP(t, opts...), store: keychaintest.NewMemory(), fileStore: keychaintest.NewMemory(), browser: authtest.NewBrowser(t)}
	e.fileStore.SetKind(keychain.KindFile)
	cfg := &config.File{Path: e.configPath(), DefaultProfile: "work", Profiles: map[string]config.Profile{"work": e.op.Profile(flow)}}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	e.env[authtest.SecretEnv] = e.op.ClientSecret
	e.configure = func(f *Factory) {
		f.Browser = e.browser.Open
		f.StoreFor = e.storeFor
	}
	return e
}

func (e *opEnv) storeFor(kind string) (keychain.Store, error) {
	if kind == "" {
		kind = config.StorageKeychain // the default, as Factory.Store has it
	}
	e.kindsMu.Lock()
	e.kinds = append(e.kinds, kind)
	e.kindsMu.Unlock()
	switch kind {
	case config.StorageKeychain:
		return e.store, nil
	case config.StorageFile:
		return e.fileStore, nil
	}
	e.t.Errorf("a command asked for storage kind %q", kind)
	return nil, errors.New("unknown storage kind " + kind)
}

// storageKinds returns the storage kinds asked for since the last call.
func (e *opEnv) storageKinds() []string {
	e.kindsMu.Lock()
	defer e.kindsMu.Unlock()
	k := e.kinds
	e.kinds = nil
	return k
}

func (e *opEnv) cacheEntry(key string) *tokencache.Entry {
	e.t.Helper()
	c, _ := tokencache.Dir(func(k string) string { return e.env[k] })
	ent, err := tokencache.New(c).Load(key)
	if err != nil {
		e.t.Fatalf("cache entry %s: %v", key, err)
	}
	return ent
}

// expire makes the cached access token of key expired, as if its time had
// passed, so that the next oat token renews it.
func (e *opEnv) expire(key string) {
	e.t.Helper()
	dir, _ := tokencache.Dir(func(k string) string { return e.env[k] })
	c := tokencache.New(dir)
	ent, err := c.Load(key)
	if err != nil {
		e.t.Fatal(err)
	}
	ent.Expiry = time.Now().Add(-time.Second)
	if err := c.Save(key, ent); err != nil {
		e.t.Fatal(err)
	}
}

func (e *opEnv) statusJSON() []statusRow {
	e.t.Helper()
	e.mustRun(0, "status", "-o", "json")
	var rows []statusRow
	if err := json.Unmarshal(e.out.Bytes(), &rows); err != nil {
		e.t.Fatalf("status -o json: %v\n%s", err, e.out)
	}
	return rows
}

func TestLoginPKCETokenRefreshEndToEnd(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)

	e.mustRun(0, "login")
	if e.out.Len() != 0 {
		t.Errorf("login wrote to stdout: %q", e.out)
	}
	if got := e.errOut.String(); !strings.Contains(got, `Logged in as `+authtest.Subject+` (profile "work"); access token expires in `) || !strings.Contains(got, "refresh token in the keychain") {
		t.Errorf("login summary = %q", got)
	}
	if n := len(e.browser.Opened()); n != 1 {
		t.Fatalf("browser opened %d times", n)
	}
	authURL, _ := url.Parse(e.browser.Opened()[0])
	q := authURL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("nonce") == "" || !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") {
		t.Errorf("authorization request lacks PKCE S256/state/nonce/loopback redirect: %v", q)
	}
	rt1, err := e.store.Get("work")
	if err != nil || rt1 == "" {
		t.Fatalf("refresh token not stored: %v", err)
	}
	ent := e.cacheEntry("work")
	if ent.AccessToken == "" || ent.IDToken == "" || ent.Subject != authtest.Subject {
		t.Errorf("cache entry = %+v", ent)
	}
	raw, _ := os.ReadFile(filepath.Join(e.dir, "cache", "oat", "work.json"))
	if strings.Contains(string(raw), rt1) {
		t.Error("the cache file holds the refresh token")
	}

	// decode reads the profile's current tokens and verifies the ID token
	// with the keys of the profile's issuer.
	e.mustRun(0, "decode", "--id-token", "-o", "json")
	var dec struct {
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(e.out.Bytes(), &dec); err != nil || dec.Payload["sub"] != authtest.Subject || dec.Payload["iss"] != e.op.Issuer {
		t.Errorf("decode --id-token: %v %s", err, e.out)
	}
	e.mustRun(0, "decode", "--id-token", "--verify")
	if !strings.Contains(e.errOut.String(), "signature valid") {
		t.Errorf("decode --id-token --verify stderr = %q", e.errOut)
	}
	e.mustRun(0, "decode", "--access-token")
	if e.out.Len() == 0 {
		t.Error("decode --access-token printed nothing")
	}

	// A cache hit: same token, no request, no browser, keychain not needed.
	e.store.SetUnavailable("locked for this test")
	grants := e.op.Grants(refreshGrant)
	withBrowser := e.configure
	e.configure = chain(withBrowser, func(f *Factory) { f.Browser = authtest.NoBrowser(t) })
	e.mustRun(0, "token")
	if got := e.out.String(); got != ent.AccessToken+"\n" {
		t.Errorf("token = %q, want the cached access token and a newline", got)
	}
	if e.errOut.Len() != 0 {
		t.Errorf("token wrote to stderr: %q", e.errOut)
	}
	e.store.SetUnavailable("")

	// An expired access token: renewal through the refresh grant.
	e.expire("work")
	e.mustRun(0, "token", "-o", "json")
	var tj map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &tj); err != nil {
		t.Fatal(err)
	}
	if tj["access_token"] == ent.AccessToken || tj["access_token"] == "" || tj["token_type"] != "Bearer" || tj["expires_at"] == nil || tj["expires_in"] == nil || tj["id_token"] == nil {
		t.Errorf("token -o json after renewal = %v", tj)
	}
	if n := e.op.Grants(refreshGrant) - grants; n != 1 {
		t.Errorf("%d refresh grants, want 1", n)
	}
	rt2, _ := e.store.Get("work")
	if rt2 == rt1 || rt2 == "" {
		t.Error("the rotated refresh token was not stored")
	}

	// The provider rejects the old refresh token: put it back and refresh.
	_ = e.store.Set("work", rt1)
	if code := e.run("refresh"); code != ExitLoginRequired {
		t.Fatalf("refresh with a revoked refresh token: exit %d, stderr %s", code, e.errOut)
	}
	if got := e.errOut.String(); !strings.HasPrefix(got, `oat: profile "work" needs login (`) || !strings.Contains(got, "invalid_grant") || !strings.HasSuffix(got, "run oat login -p work\n") {
		t.Errorf("stderr = %q", got)
	}
	if rt, _ := e.store.Get("work"); rt != rt1 {
		t.Error("a failed refresh changed the stored refresh token")
	}
	rows := e.statusJSON()
	if len(rows) != 1 || !rows[0].NeedsLogin || rows[0].LoggedIn || deref(rows[0].RefreshToken, "") != "keychain" {
		t.Errorf("status after invalid_grant = %+v", rows[0])
	}

	// The next login replaces the tokens and clears needs_login.
	e.configure = withBrowser
	e.mustRun(0, "login")
	rows = e.statusJSON()
	if !rows[0].LoggedIn || rows[0].NeedsLogin || deref(rows[0].Subject, "") != authtest.Subject || rows[0].ExpiresAt == nil {
		t.Errorf("status after login = %+v", rows[0])
	}

	// refresh forces a renewal, -q prints nothing.
	grants = e.op.Grants(refreshGrant)
	e.mustRun(0, "refresh", "-q")
	if e.out.Len() != 0 || e.op.Grants(refreshGrant) != grants+1 {
		t.Errorf("refresh -q: stdout %q, grants %d→%d", e.out, grants, e.op.Grants(refreshGrant))
	}
	e.mustRun(0, "token", "-o", "header")
	if !strings.HasPrefix(e.out.String(), "Authorization: Bearer ") {
		t.Errorf("-o header = %q", e.out)
	}
	e.mustRun(0, "token", "--id-token")
	if strings.Count(strings.TrimSpace(e.out.String()), ".") != 2 {
		t.Errorf("--id-token = %q", e.out)
	}
}

func chain(a, b func(*Factory)) func(*Factory) {
	return func(f *Factory) { a(f); b(f) }
}

func TestLoginDeviceFlow(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowDevice, authtest.WithDeviceInterval(1))
	var opened []string
	e.configure = chain(e.configure, func(f *Factory) {
		f.Browser = func(u string) error {
			// Where the server gives verification_uri_complete oat opens it;
			// approve on the provider as the user would.
			opened = append(opened, u)
			pu, err := url.Parse(u)
			if err != nil {
				return err
			}
			go e.op.ApproveDevice(t, pu.Query().Get("user_code"))
			return nil
		}
	})
	e.mustRun(0, "login")
	if e.out.Len() != 0 {
		t.Errorf("device login wrote to stdout: %q", e.out)
	}
	if len(opened) != 1 || !strings.Contains(opened[0], "user_code=") {
		t.Errorf("opened %v, want verification_uri_complete", opened)
	}
	if !strings.Contains(e.errOut.String(), "Logged in as "+authtest.Subject) {
		t.Errorf("stderr = %q", e.errOut)
	}
	if _, err := e.store.Get("work"); err != nil {
		t.Errorf("refresh token not stored: %v", err)
	}
}

func TestClientCredentialsWithoutConfigFile(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	e := newTestEnv(t)
	e.env["DEPLOY_SECRET"] = op.ClientSecret
	store := keychaintest.NewMemory()
	e.configure = func(f *Factory) {
		f.Browser = authtest.NoBrowser(t)
		f.StoreFor = func(string) (keychain.Store, error) { return store, nil }
	}
	args := []string{"token", "--flow", "client-credentials", "--issuer", op.Issuer, "--client-id", op.ConfidentialClientID, "--client-secret-env", "DEPLOY_SECRET", "-o", "header"}
	e.mustRun(0, args...)
	first := e.out.String()
	if !strings.HasPrefix(first, "Authorization: Bearer ") || e.errOut.Len() != 0 {
		t.Fatalf("stdout %q stderr %q", first, e.errOut)
	}
	e.mustRun(0, args...)
	if e.out.String() != first || op.Grants("client_credentials") != 1 {
		t.Errorf("second run: %q, %d grants; want the cached token and 1 grant", e.out, op.Grants("client_credentials"))
	}
	if _, err := os.Stat(e.configPath()); err == nil {
		t.Error("an ad hoc profile was written to the config file")
	}
	if len(store.Keys()) != 0 {
		t.Errorf("client credentials stored a secret: %v", store.Keys())
	}
	// OAT_CLIENT_SECRET works as well; a wrong secret is the server's error, exit 1.
	e.env["OAT_CLIENT_SECRET"] = "wrong"
	code := e.run("token", "--flow", "client-credentials", "--issuer", op.Issuer, "--client-id", op.ConfidentialClientID, "--audience", "other")
	if code != ExitFailure || !strings.Contains(e.errOut.String(), "invalid_client") || strings.Contains(e.errOut.String(), "wrong") {
		t.Errorf("wrong secret: exit %d, stderr %q", code, e.errOut)
	}
	// No secret at all: a configuration error naming what to do.
	delete(e.env, "OAT_CLIENT_SECRET")
	code = e.run("token", "--flow", "client-credentials", "--issuer", op.Issuer, "--client-id", "x")
	if code != ExitUsage || !strings.Contains(e.errOut.String(), "OAT_CLIENT_SECRET") {
		t.Errorf("no secret: exit %d, stderr %q", code, e.errOut)
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	rt, _ := e.store.Get("work")

	// The server fails: tokens are kept, exit 4.
	e.op.SetFault(authtest.OnPath("/revoke", 0, authtest.HTMLError(http.StatusServiceUnavailable)))
	if code := e.run("revoke"); code != ExitTemporary {
		t.Fatalf("revoke against a failing server: exit %d, stderr %s", code, e.errOut)
	}
	if !strings.Contains(e.errOut.String(), "local tokens are kept") {
		t.Errorf("stderr = %q", e.errOut)
	}
	if got, _ := e.store.Get("work"); got != rt {
		t.Fatal("refresh token deleted although revocation failed")
	}
	e.op.SetFault(nil)

	e.mustRun(0, "logout")
	if e.out.Len() != 0 || !strings.Contains(e.errOut.String(), "Revoked the refresh token at the server.") || !strings.Contains(e.errOut.String(), `Deleted the local tokens of profile "work"`) {
		t.Errorf("revoke: stdout %q stderr %q", e.out, e.errOut)
	}
	if _, err := e.store.Get("work"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("refresh token still stored: %v", err)
	}
	// The provider rejects the revoked refresh token.
	c := &auth.Client{Profile: e.op.Profile(config.FlowPKCE), Endpoints: &auth.Endpoints{Issuer: e.op.Issuer, TokenURL: e.op.Issuer + "/oauth/token"}}
	if _, err := c.Refresh(context.Background(), rt); !errors.Is(err, auth.ErrLoginRequired) {
		t.Errorf("revoked refresh token: %v, want login required", err)
	}
	if code := e.run("token"); code != ExitLoginRequired || e.errOut.String() != "oat: profile \"work\" needs login: run oat login -p work\n" {
		t.Errorf("token after revoke: exit %d, stderr %q", code, e.errOut)
	}
	if code := e.run("decode", "--access-token"); code != ExitLoginRequired || !strings.Contains(e.errOut.String(), "needs login") {
		t.Errorf("decode --access-token after revoke: exit %d, stderr %q", code, e.errOut)
	}

	// --force deletes locally even when the server fails; --local-only never asks it.
	e.mustRun(0, "login")
	e.op.SetFault(authtest.OnPath("/revoke", 0, authtest.HTMLError(http.StatusBadGateway)))
	e.mustRun(0, "revoke", "--force")
	if _, err := e.store.Get("work"); !errors.Is(err, keychain.ErrNotFound) || !strings.Contains(e.errOut.String(), "--force") {
		t.Errorf("--force: %v, stderr %q", err, e.errOut)
	}
	e.op.SetFault(nil)
	e.mustRun(0, "login")
	var revokeCalls int
	e.op.SetFault(authtest.OnPath("/revoke", 0, func(w http.ResponseWriter, r *http.Request) { revokeCalls++ }))
	e.mustRun(0, "revoke", "--local-only")
	if revokeCalls != 0 {
		t.Errorf("--local-only contacted the server %d times", revokeCalls)
	}
	if _, err := e.store.Get("work"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("--local-only kept the refresh token: %v", err)
	}
}

func TestRefreshFaultsKeepTheSession(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault func() authtest.Fault
		code  int
		msg   string
	}{
		{"html 502", func() authtest.Fault { return authtest.OnGrant(refreshGrant, 1, authtest.HTMLError(502)) }, ExitTemporary, "502"},
		{"503 json", func() authtest.Fault {
			return authtest.OnGrant(refreshGrant, 1, authtest.OAuthError(503, "temporarily_unavailable", "try later"))
		}, ExitTemporary, "temporarily_unavailable"},
		{"truncated json", func() authtest.Fault { return authtest.OnGrant(refreshGrant, 1, authtest.TruncatedJSON()) }, ExitFailure, "token"},
		{"huge body", func() authtest.Fault { return authtest.OnGrant(refreshGrant, 1, authtest.HugeBody()) }, ExitFailure, "token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newOPEnv(t, config.FlowPKCE)
			e.mustRun(0, "login")
			rt, _ := e.store.Get("work")
			e.op.SetFault(tc.fault())
			e.expire("work")
			code := e.run("token")
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, e.errOut)
			}
			msg := e.errOut.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "oat: ") || !strings.Contains(msg, tc.msg) || strings.Contains(msg, "<html") {
				t.Errorf("stderr = %q", msg)
			}
			if e.out.Len() != 0 {
				t.Errorf("stdout = %q", e.out)
			}
			if got, _ := e.store.Get("work"); got != rt {
				t.Error("the stored refresh token changed after a failed refresh")
			}
			// The fault has cleared: the next call renews.
			e.mustRun(0, "token")
			if e.out.Len() == 0 {
				t.Error("no token after the fault cleared")
			}
		})
	}
}

func TestLoginNeedsStorageFirst(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.store.SetUnavailable("no D-Bus session")
	e.configure = chain(e.configure, func(f *Factory) { f.Browser = authtest.NoBrowser(t) })
	code := e.run("login")
	if code != ExitStorage {
		t.Fatalf("exit %d, want 6; stderr %q", code, e.errOut)
	}
	if msg := e.errOut.String(); !strings.Contains(msg, "no D-Bus session") || !strings.Contains(msg, `storage = "file"`) || !strings.Contains(msg, "OAT_STORAGE=file") {
		t.Errorf("stderr = %q", msg)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "cache", "oat", "work.json")); err == nil {
		t.Error("a cache file was written")
	}
	if e.op.Grants("authorization_code") != 0 {
		t.Error("the flow ran although storage was unavailable")
	}
	// token with nothing cached and the keychain down: exit 6 too.
	if code := e.run("token"); code != ExitStorage {
		t.Errorf("token: exit %d, want 6", code)
	}
}

func TestFileStorageOptIn(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.configure = func(f *Factory) {
		f.Browser = e.browser.Open
		// The real file store (in the test's XDG_STATE_HOME); the keychain
		// kind, which profile remove also clears, is the memory fake.
		files := isolatedStores(t, f.Getenv)
		f.StoreFor = func(kind string) (keychain.Store, error) {
			if kind == config.StorageFile {
				return files(kind)
			}
			return e.store, nil
		}
	}
	e.env["OAT_STORAGE"] = "file"
	e.mustRun(0, "login")
	if !strings.Contains(e.errOut.String(), "refresh token in file storage") {
		t.Errorf("stderr = %q", e.errOut)
	}
	dir := filepath.Join(e.dir, "state", "oat")
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, ent := range entries {
		names = append(names, ent.Name())
		fi, _ := os.Stat(filepath.Join(dir, ent.Name()))
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode of %s: %v", ent.Name(), fi.Mode().Perm())
		}
	}
	// The token, and the record of the server and client it is bound to.
	if strings.Join(names, " ") != "work.file.binding work.refresh_token" {
		t.Fatalf("state dir holds %q", names)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("mode of the state dir: %v", di.Mode().Perm())
	}
	rows := e.statusJSON()
	if deref(rows[0].RefreshToken, "") != "file" {
		t.Errorf("status = %+v", rows[0])
	}
	e.expire("work")
	e.mustRun(0, "token")
	e.mustRun(0, "profile", "remove", "work")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("profile remove left %d files in the state dir", len(entries))
	}
}

func TestProfileRemoveWithKeychainDown(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	e.store.SetUnavailable("no D-Bus session")
	e.mustRun(0, "profile", "remove", "work")
	msg := e.errOut.String()
	if !strings.Contains(msg, "could not delete the refresh token in the keychain (service oat, user work)") || !strings.Contains(msg, "left behind") || !strings.Contains(msg, `Removed profile "work"`) {
		t.Errorf("stderr = %q", msg)
	}
	// The reason, without the hint to opt in to file storage (it makes no
	// sense when removing).
	if !strings.Contains(msg, "keychain unavailable: no D-Bus session; it is left behind") || strings.Contains(msg, "OAT_STORAGE=file") {
		t.Errorf("stderr = %q, want the reason without the opt-in hint", msg)
	}
	if strings.Contains(e.readConfig(), "[profiles.work]") {
		t.Error("profile not removed")
	}
}

func TestLoginTimeout(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.configure = chain(e.configure, func(f *Factory) { f.Browser = func(string) error { return nil } }) // the user never comes back
	// The browser never comes back: only --timeout can end this login.
	code := e.run("login", "--timeout", "1s")
	if code != ExitFailure || !strings.Contains(e.errOut.String(), "timed out") {
		t.Errorf("exit %d, stderr %q", code, e.errOut)
	}
	if _, err := e.store.Get("work"); !errors.Is(err, keychain.ErrNotFound) {
		t.Error("something was stored")
	}
}

func TestVerboseLogsExchangesWithoutSecrets(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "-v", "login")
	rt, _ := e.store.Get("work")
	e.expire("work")
	e.mustRun(0, "-v", "token")
	log := e.errOut.String()
	if !strings.Contains(log, "* POST "+e.op.Issuer+"/oauth/token -> 200 OK") {
		t.Errorf("verbose log lacks the token exchange:\n%s", log)
	}
	tok := strings.TrimSpace(e.out.String())
	newRT, _ := e.store.Get("work")
	for name, secret := range map[string]string{"access token": tok, "old refresh token": rt, "new refresh token": newRT} {
		if secret != "" && strings.Contains(log, secret) {
			t.Errorf("the %s appears in the verbose log", name)
		}
	}
}

func TestInterruptedLoginExits130(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	ctx, cancel := context.WithCancel(context.Background())
	f := e.factory()
	f.Browser = func(string) error { cancel(); return nil } // Ctrl-C while waiting for the browser
	if code := Run(ctx, f, []string{"login"}); code != ExitInterrupted || !strings.HasSuffix(e.errOut.String(), "\noat: interrupted\n") {
		t.Errorf("exit %d, want 130; stderr %q", code, e.errOut)
	}
	if _, err := e.store.Get("work"); !errors.Is(err, keychain.ErrNotFound) {
		t.Error("an interrupted login stored something")
	}
}

func TestMachineProfileNeedsNoKeychainAndNoSecretOnCacheHit(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowClientCredentials)
	e.store.SetUnavailable("no D-Bus session")
	e.mustRun(0, "token")
	tok := e.out.String()
	// A cache hit needs nothing but the cache file: not even the secret.
	delete(e.env, authtest.SecretEnv)
	e.mustRun(0, "token")
	if e.out.String() != tok {
		t.Error("cache hit printed another token")
	}
	// Renewal does need it, and says where to put it.
	e.expire("work")
	if code := e.run("token"); code != ExitUsage || !strings.Contains(e.errOut.String(), "client_secret_env names "+authtest.SecretEnv) {
		t.Errorf("renewal without the secret: exit %d, %q", code, e.errOut)
	}
	// revoke: no refresh token to look for, the keychain is never asked (it
	// is down: asking it would fail). The example OP cannot revoke its own
	// client-credentials tokens (invalid_client), hence --force.
	e.env[authtest.SecretEnv] = e.op.ClientSecret
	e.mustRun(0, "token")
	e.mustRun(0, "revoke", "--force")
	if strings.Contains(e.errOut.String(), "holds no tokens") || !strings.Contains(e.errOut.String(), `Deleted the local tokens of profile "work"`) {
		t.Errorf("revoke stderr = %q", e.errOut)
	}
}

func TestOverriddenServerNeverGetsTheProfilesRefreshToken(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	rt, _ := e.store.Get("work")
	other := authtest.NewOP(t)
	var sent []string
	other.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if authtest.GrantType(r) == refreshGrant {
			sent = append(sent, authtest.Form(r).Get("refresh_token"))
		}
		return false
	})
	for _, run := range []func() int{
		func() int { return e.run("token", "--issuer", other.Issuer, "--client-id", other.PublicClientID) },
		func() int {
			e.env["OAT_ISSUER"] = other.Issuer
			e.env["OAT_CLIENT_ID"] = other.PublicClientID
			defer delete(e.env, "OAT_ISSUER")
			defer delete(e.env, "OAT_CLIENT_ID")
			return e.run("token")
		},
	} {
		if code := run(); code != ExitLoginRequired || !strings.Contains(e.errOut.String(), "run oat login with the same flags") {
			t.Errorf("exit %d, stderr %q", code, e.errOut)
		}
	}
	for _, s := range sent {
		if s == rt {
			t.Fatal("the profile's refresh token was sent to another issuer")
		}
	}
	rows := e.statusJSON()
	if !rows[0].LoggedIn || rows[0].NeedsLogin {
		t.Errorf("the profile was marked by another server's answer: %+v", rows[0])
	}
}
