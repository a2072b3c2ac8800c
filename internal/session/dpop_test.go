package session

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
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

// sentRefreshTokens records the refresh_token of every refresh request.
type sentRefreshTokens struct {
	mu   sync.Mutex
	seen []string
	next http.RoundTripper
}

func (s *sentRefreshTokens) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Method == http.MethodPost {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if v, err := url.ParseQuery(string(b)); err == nil && v.Get("grant_type") == "refresh_token" {
			s.mu.Lock()
			s.seen = append(s.seen, v.Get("refresh_token"))
			s.mu.Unlock()
		}
		r.Body = io.NopCloser(strings.NewReader(string(b)))
	}
	return s.next.RoundTrip(r)
}

// After invalid_grant, refresh reads the stored refresh token once more in
// case another machine sharing the keychain rotated it. When that one is
// bound to another DPoP key (the other machine logged in anew), it must not
// be sent with a proof of the key this process read: it is left unsent and
// the session needs a login, as for any token whose key does not match.
func TestRereadRefreshTokenOfAnotherKeyIsNotSent(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	as := authtest.NewDPoPServer(t, op.Issuer+"/oauth/token")
	p := op.Profile(config.FlowPKCE)
	p.TokenURL, p.DPoP = as.TokenURL, true
	f := &config.File{Profiles: map[string]config.Profile{"work": p}}
	r, err := f.Resolve("work", config.Overrides{}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	mem := keychaintest.NewMemory()
	sent := &sentRefreshTokens{next: http.DefaultTransport}
	bindings := filepath.Join(t.TempDir(), "state")
	cacheDir := filepath.Join(t.TempDir(), "cache")
	manager := func() *Manager {
		return &Manager{
			Profile:  r,
			Cache:    tokencache.New(cacheDir),
			Store:    func() (keychain.Store, error) { return mem, nil },
			Bindings: bindings,
			HTTP: func() (*http.Client, error) {
				hc := newHTTP(t)
				sent.next = hc.Transport
				hc.Transport = sent
				return hc, nil
			},
		}
	}
	m := manager()
	login(t, m)
	rt1, _ := mem.Get("work")
	k1, _ := mem.Get("work:dpop")
	recs, _ := filepath.Glob(filepath.Join(bindings, "*.binding"))
	if len(recs) != 1 {
		t.Fatalf("binding records %q", recs)
	}
	rec1, err := os.ReadFile(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Refresh(context.Background()); err != nil { // rt1 is spent now
		t.Fatal(err)
	}
	login(t, manager()) // "another machine": a new session, a new key
	rt2, _ := mem.Get("work")
	k2, _ := mem.Get("work:dpop")
	rec2, _ := os.ReadFile(recs[0])
	if rt2 == rt1 || k2 == k1 || string(rec2) == string(rec1) {
		t.Fatal("the second login stored the same token, key or record")
	}
	// This process read rt1, its record and key k1 before all that; the
	// other machine's login lands between its read and its retry.
	_ = mem.Set("work", rt1)
	_ = mem.Set("work:dpop", k1)
	if err := os.WriteFile(recs[0], rec1, 0o600); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	m.Store = func() (keychain.Store, error) {
		return &readHook{Memory: mem, onGet: func() {}, onGetKey: func(key string) {
			if key == "work:dpop" {
				once.Do(func() {
					_ = os.WriteFile(recs[0], rec2, 0o600)
					_ = mem.Set("work", rt2)
				})
			}
		}}, nil
	}
	sent.mu.Lock()
	sent.seen = nil
	sent.mu.Unlock()
	_, err = m.Refresh(context.Background())
	var lre *LoginRequiredError
	if !errors.As(err, &lre) {
		t.Errorf("err = %v, want login required", err)
	}
	sent.mu.Lock()
	defer sent.mu.Unlock()
	for _, s := range sent.seen {
		if s == rt2 {
			t.Fatal("the other session's refresh token was sent with a proof of this session's key")
		}
	}
	if len(sent.seen) != 1 || sent.seen[0] != rt1 {
		t.Errorf("refresh tokens sent %d, want rt1 once", len(sent.seen))
	}
}
