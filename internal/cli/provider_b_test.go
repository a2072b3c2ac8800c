package cli

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/keychain/keychaintest"
	"github.com/oatcli/oat/internal/provtest"
	"github.com/oatcli/oat/internal/tokencache"
)

// Helpers of the Auth0, Okta, Keycloak and Cognito whole-CLI tests
// (provider_{auth0,okta,keycloak,cognito}_test.go), which run oat against
// the emulators of internal/provtest.

// provEnv is an oat installation whose browser is provtest.Browser and
// whose refresh tokens live in an in-memory keychain.
type provEnv struct {
	*testEnv
	store *keychaintest.Memory
}

func newProvEnv(t *testing.T) *provEnv {
	t.Helper()
	e := &provEnv{testEnv: newTestEnv(t), store: keychaintest.NewMemory()}
	e.configure = func(f *Factory) {
		f.Browser = provtest.Browser(t)
		f.StoreFor = func(string) (keychain.Store, error) { return e.store, nil }
	}
	return e
}

// readmeProfileAdd returns the README's `oat profile add` line for
// provider, as arguments (without "oat"), with the host of --domain and
// --issuer replaced by base (an emulator's http://127.0.0.1:PORT); paths
// stay as written. The README's lines have no quoting.
func readmeProfileAdd(t *testing.T, provider string, base map[string]string) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "oat profile add ") || !strings.Contains(line, " --provider "+provider+" ") {
			continue
		}
		args := strings.Fields(line)[1:]
		for i := 0; i+1 < len(args); i++ {
			repl, ok := base[args[i]]
			if !ok {
				continue
			}
			if args[i] == "--domain" {
				args[i+1] = repl
				continue
			}
			u, err := url.Parse(args[i+1])
			if err != nil {
				t.Fatal(err)
			}
			args[i+1] = repl + u.EscapedPath()
		}
		return args
	}
	t.Fatalf("README has no `oat profile add … --provider %s` line", provider)
	return nil
}

// expireAccess makes the cached access token of profile expired.
func (e *provEnv) expireAccess(profile string) {
	e.t.Helper()
	dir, _ := tokencache.Dir(func(k string) string { return e.env[k] })
	c := tokencache.New(dir)
	ent, err := c.Load(profile)
	if err != nil {
		e.t.Fatal(err)
	}
	ent.Expiry = time.Now().Add(-time.Second)
	if err := c.Save(profile, ent); err != nil {
		e.t.Fatal(err)
	}
}

func (e *provEnv) refreshToken(profile string) string {
	rt, _ := e.store.Get(profile)
	return rt
}

func (e *provEnv) token() string {
	e.t.Helper()
	e.mustRun(0, "token")
	return strings.TrimSuffix(e.out.String(), "\n")
}

func (e *provEnv) status() []statusRow {
	e.t.Helper()
	e.mustRun(0, "status", "-o", "json")
	var rows []statusRow
	if err := json.Unmarshal(e.out.Bytes(), &rows); err != nil {
		e.t.Fatalf("status -o json: %v\n%s", err, e.out)
	}
	return rows
}
