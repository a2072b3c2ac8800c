package session

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/keychain/keychaintest"
	"github.com/oatcli/oat/internal/tokencache"
)

// flakyStore fails Set after failSetAfter successful calls.
type flakyStore struct {
	*keychaintest.Memory
	sets, failSetAfter int
}

func (s *flakyStore) Set(key, secret string) error {
	s.sets++
	if s.failSetAfter >= 0 && s.sets > s.failSetAfter {
		return errors.New("keychain said no")
	}
	return s.Memory.Set(key, secret)
}

func newManager(t *testing.T, op *authtest.OP, st keychain.Store) *Manager {
	t.Helper()
	f := &config.File{Profiles: map[string]config.Profile{"work": op.Profile(config.FlowPKCE)}}
	r, err := f.Resolve("work", config.Overrides{}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return &Manager{
		Profile:  r,
		Cache:    tokencache.New(filepath.Join(t.TempDir(), "cache")),
		Store:    func() (keychain.Store, error) { return st, nil },
		Bindings: filepath.Join(t.TempDir(), "state"),
		HTTP:     func() (*http.Client, error) { return newHTTP(t), nil },
	}
}

// newHTTP is the client oat itself uses (httpx: its timeout, redirect and
// response-size rules), not http.DefaultClient.
func newHTTP(t *testing.T) *http.Client {
	t.Helper()
	c, err := httpx.NewClient(httpx.Options{UserAgent: "oat-test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func login(t *testing.T, m *Manager) *tokencache.Entry {
	t.Helper()
	e, err := m.Login(context.Background(), config.FlowPKCE, LoginOptions{Browser: authtest.NewBrowser(t).Open})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestInvalidGrantRereadsARotatedRefreshToken(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	mem := keychaintest.NewMemory()
	m := newManager(t, op, mem)
	login(t, m)
	rt1, _ := mem.Get("work")

	// Another process (sharing the keychain) refreshes: it rotates rt1 to rt2.
	hc := newHTTP(t)
	ep, err := auth.ResolveEndpoints(context.Background(), hc, m.Profile.Profile)
	if err != nil {
		t.Fatal(err)
	}
	other := &auth.Client{Profile: m.Profile.Profile, Endpoints: ep, HTTP: hc}
	res, err := other.Refresh(context.Background(), rt1)
	if err != nil {
		t.Fatal(err)
	}
	rt2 := res.Token.RefreshToken
	// This process read rt1 before that, so its first attempt gets
	// invalid_grant; by then the keychain holds rt2.
	reads := 0
	m.Store = func() (keychain.Store, error) {
		return &readHook{Memory: mem, onGet: func() {
			reads++
			if reads == 1 {
				_ = mem.Set("work", rt1)
			} else {
				_ = mem.Set("work", rt2)
			}
		}}, nil
	}
	before := op.Grants("refresh_token")
	e, err := m.Refresh(context.Background())
	if err != nil {
		t.Fatalf("refresh after another process rotated the token: %v", err)
	}
	if op.Grants("refresh_token")-before != 2 || e.AccessToken == "" {
		t.Errorf("grants %d, want 2 (rt1 rejected, rt2 accepted)", op.Grants("refresh_token")-before)
	}
	if got, _ := mem.Get("work"); got == rt1 || got == rt2 {
		t.Error("the token rotated from rt2 was not stored")
	}
}

type readHook struct {
	*keychaintest.Memory
	onGet    func()
	onGetKey func(key string) // when set, also told which key is read
}

func (r *readHook) Get(key string) (string, error) {
	r.onGet()
	if r.onGetKey != nil {
		r.onGetKey(key)
	}
	return r.Memory.Get(key)
}

func TestRotatedTokenStoredBeforeTheCache(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	st := &flakyStore{Memory: keychaintest.NewMemory(), failSetAfter: 1} // login's Set works, the rotation's fails
	m := newManager(t, op, st)
	first := login(t, m)
	_, err := m.Refresh(context.Background())
	if err == nil || err.Error() != "storing the rotated refresh token: keychain said no" {
		t.Fatalf("err = %v", err)
	}
	// Nothing else happened with the response: the cache still holds the old token.
	e, _ := m.Cache.Load("work")
	if e.AccessToken != first.AccessToken {
		t.Error("the cache was updated although the rotated refresh token could not be stored")
	}
}

func TestSettingsChangeIsACacheMiss(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	mem := keychaintest.NewMemory()
	m := newManager(t, op, mem)
	login(t, m)
	if m.Cached(time.Minute) == nil {
		t.Fatal("no cache hit right after login")
	}
	p := m.Profile.Profile
	p.Scopes = append(p.Scopes, "email")
	m.Profile.Profile, m.Profile.Fingerprint = p, config.Fingerprint(p)
	if m.Cached(time.Minute) != nil {
		t.Error("a token minted for other scopes was returned")
	}
}

func TestDiscoveryCachedForRenewals(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	var discoveries int
	op.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/.well-known/openid-configuration" {
			discoveries++
		}
		return false
	})
	m := newManager(t, op, keychaintest.NewMemory())
	login(t, m)
	for range 3 {
		if _, err := m.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if discoveries != 1 {
		t.Errorf("%d discovery requests for a login and 3 refreshes, want 1", discoveries)
	}
}

// A renewal is one round trip: the ID token in the refresh response is
// verified against the JWKS kept in the cache folder, fetched again only when
// the cached keys do not verify it (the issuer rotated its keys).
func TestRefreshIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	var requests, keys atomic.Int32
	op.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		requests.Add(1)
		if r.URL.Path == "/keys" {
			keys.Add(1)
		}
		return false
	})
	m := newManager(t, op, keychaintest.NewMemory())
	login(t, m)
	requests.Store(0)
	keys.Store(0)
	for range 3 {
		e, err := m.Refresh(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if e.IDToken == "" {
			t.Fatal("the refresh brought no ID token: this test needs one")
		}
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("%d requests for 3 refreshes, want 3 (keys fetched %d times)", n, keys.Load())
	}

	// Keys that no longer verify (rotation): fetched again, once.
	path := m.jwksPath(op.Issuer + "/keys")
	if err := os.WriteFile(path, []byte(`{"keys":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	keys.Store(0)
	for range 2 {
		if _, err := m.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := keys.Load(); n != 1 {
		t.Errorf("keys fetched %d times after a rotation, want 1", n)
	}
}

// A JWKS the renewal cannot fetch for a reason that may go away (here a 503)
// fails the renewal as a *httpx.TemporaryError (exit 4), through jwt.KeySet's
// FetchErr, which go-oidc's verifier would otherwise reduce to text; a JWKS
// that is gone (404) is not temporary.
func TestRefreshWithTheKeysDownIsTemporary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status    int
		temporary bool
	}{{http.StatusServiceUnavailable, true}, {http.StatusNotFound, false}} {
		op := authtest.NewOP(t)
		m := newManager(t, op, keychaintest.NewMemory())
		login(t, m)
		if err := os.Remove(m.jwksPath(op.Issuer + "/keys")); err != nil {
			t.Fatal(err) // the login kept the keys: this test needs them gone
		}
		op.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != "/keys" {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			w.Write([]byte(`{}`))
			return true
		})
		_, err := m.Refresh(context.Background())
		var te *httpx.TemporaryError
		if err == nil || errors.As(err, &te) != tc.temporary {
			t.Errorf("keys answering %d: err = %v, want temporary %v", tc.status, err, tc.temporary)
		}
	}
}

func TestShortLivedTokensAreNotRenewedOnEveryCall(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithAccessTokenTTL(30*time.Second))
	m := newManager(t, op, keychaintest.NewMemory())
	first := login(t, m)
	before := op.Grants("refresh_token")
	for range 3 {
		e, err := m.Token(context.Background(), 60*time.Second) // longer than the tokens live
		if err != nil {
			t.Fatal(err)
		}
		if e.AccessToken != first.AccessToken {
			t.Error("a fresh 30s token was renewed because --min-ttl is 60s")
		}
	}
	if n := op.Grants("refresh_token") - before; n != 0 {
		t.Errorf("%d refresh grants for fresh tokens, want 0", n)
	}
}

func TestRotationStoredEvenWhenTheIDTokenCannotBeChecked(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	mem := keychaintest.NewMemory()
	m := newManager(t, op, mem)
	login(t, m)
	rt1, _ := mem.Get("work")
	// The issuer's keys become unreachable (and are not cached).
	if err := os.RemoveAll(filepath.Join(m.Cache.Dir(), "discovery")); err != nil {
		t.Fatal(err)
	}
	m.DiscoveryTTL = time.Nanosecond
	op.SetFault(authtest.OnPath("/keys", 0, authtest.HTMLError(http.StatusServiceUnavailable)))
	_, err := m.Refresh(context.Background())
	var te *httpx.TemporaryError
	if !errors.As(err, &te) {
		t.Fatalf("refresh with the issuer's keys unreachable: %v (%T), want a temporary error (exit 4)", err, err)
	}
	rt2, _ := mem.Get("work")
	if rt2 == rt1 {
		t.Fatal("the rotated refresh token was not stored: the session is lost")
	}
	// Once the keys are back, the session goes on with the stored token.
	op.SetFault(nil)
	if _, err := m.Refresh(context.Background()); err != nil {
		t.Fatalf("refresh after the keys came back: %v", err)
	}
}

// A login that returns no refresh token keeps the stored one only for the
// same user: a stored token whose record names another sub is dropped.
func TestLoginWithoutRefreshTokenDropsAnotherUsersToken(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t, authtest.WithRefreshTokenOnce())
	mem := keychaintest.NewMemory()
	m := newManager(t, op, mem)
	login(t, m)
	b := keychain.NewBound(mem, m.Bindings)
	rec, err := b.Record("work")
	if err != nil || rec == nil || rec.Subject != authtest.Subject {
		t.Fatalf("record after login: %+v, %v", rec, err)
	}
	rec.Subject = "someone-else"
	if err := b.Adopt("work", *rec); err != nil {
		t.Fatal(err)
	}
	e := login(t, m) // no refresh token this time, and the user is id1
	if _, err := mem.Get("work"); !errors.Is(err, keychain.ErrNotFound) || e.Storage != "" {
		t.Errorf("another user's refresh token was kept: %v, storage %q", err, e.Storage)
	}
}
