package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/keychain/keychaintest"
	"github.com/oatcli/oat/internal/tokencache"
)

// tokenAuthRecorder puts a fault in front of op that serves op's own
// discovery document with token_endpoint_auth_methods_supported set to
// methods, and records how each token request authenticated the client.
type tokenAuthRecorder struct {
	mu    sync.Mutex
	basic []bool // a token request carried an Authorization: Basic header
	post  []bool // a token request carried client_secret in its body
}

func listAuthMethods(t *testing.T, op *authtest.OP, methods ...string) *tokenAuthRecorder {
	t.Helper()
	resp, err := http.Get(op.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var md map[string]any
	if err := json.Unmarshal(b, &md); err != nil {
		t.Fatal(err)
	}
	md["token_endpoint_auth_methods_supported"] = methods
	doc, _ := json.Marshal(md)
	rec := &tokenAuthRecorder{}
	op.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.URL.Path == "/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			w.Write(doc)
			return true
		case authtest.GrantType(r) != "":
			rec.mu.Lock()
			rec.basic = append(rec.basic, strings.HasPrefix(r.Header.Get("Authorization"), "Basic "))
			rec.post = append(rec.post, authtest.Form(r).Get("client_secret") != "")
			rec.mu.Unlock()
		}
		return false
	})
	return rec
}

func (rec *tokenAuthRecorder) last() (basic, post bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.basic) == 0 {
		return false, false
	}
	return rec.basic[len(rec.basic)-1], rec.post[len(rec.post)-1]
}

// The default client_auth with a secret is the first method of the server's
// token_endpoint_auth_methods_supported that oat supports (spec, "Profiles
// and configuration"); an explicit client_auth wins. Google, for one, lists
// only client_secret_post and client_secret_basic in that order and
// documents the secret in the body
// (https://accounts.google.com/.well-known/openid-configuration,
// https://developers.google.com/identity/protocols/oauth2/native-app#exchange-authorization-code).
func TestDefaultClientAuthFollowsDiscovery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		methods    []string
		clientAuth string // in the profile; "" = the default
		wantBasic  bool
	}{
		{"only post listed", []string{"client_secret_post"}, "", false},
		{"post before basic", []string{"none", "private_key_jwt", "client_secret_post", "client_secret_basic"}, "", false},
		{"basic before post", []string{"client_secret_basic", "client_secret_post"}, "", true},
		{"nothing oat supports", []string{"private_key_jwt"}, "", true},
		{"explicit basic wins", []string{"client_secret_post"}, "basic", true},
		{"explicit post wins", []string{"client_secret_basic"}, "post", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op := authtest.NewOP(t)
			rec := listAuthMethods(t, op, tc.methods...)
			e := newTestEnv(t)
			e.configure = func(f *Factory) {
				f.Browser = authtest.NoBrowser(t)
				f.StoreFor = func(string) (keychain.Store, error) { return keychaintest.NewMemory(), nil }
			}
			cfg := fmt.Sprintf("default_profile = \"ci\"\n[profiles.ci]\nissuer = %q\nclient_id = %q\nclient_secret_env = \"CI_SECRET\"\nflow = \"client-credentials\"\n", op.Issuer, op.ConfidentialClientID)
			if tc.clientAuth != "" {
				cfg += fmt.Sprintf("client_auth = %q\n", tc.clientAuth)
			}
			e.writeConfig(cfg)
			e.env["CI_SECRET"] = op.ClientSecret
			e.mustRun(0, "token")
			basic, post := rec.last()
			if basic != tc.wantBasic || post == tc.wantBasic {
				t.Errorf("token request: Basic header %v, client_secret in the body %v; want Basic %v", basic, post, tc.wantBasic)
			}
		})
	}
}

// A device authorization response with expires_in and interval as strings
// and verification_url instead of verification_uri (Entra ID v1, Google; see
// authtest.WithLegacyDeviceResponse for the doc pages) logs in like a
// standard one.
func TestDeviceLoginAcceptsLegacyResponse(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowDevice, authtest.WithDeviceInterval(1), authtest.WithLegacyDeviceResponse())
	e.configure = chain(e.configure, func(f *Factory) {
		f.Browser = func(u string) error {
			pu, err := url.Parse(u)
			if err != nil {
				return err
			}
			go e.op.ApproveDevice(t, pu.Query().Get("user_code"))
			return nil
		}
	})
	e.mustRun(0, "login")
	if !strings.Contains(e.errOut.String(), "To log in, visit:\n\n  "+e.op.Issuer+"/device") {
		t.Errorf("stderr does not show the verification_url: %q", e.errOut)
	}
	if !strings.Contains(e.errOut.String(), "Logged in as "+authtest.Subject) {
		t.Errorf("stderr = %q", e.errOut)
	}
	if _, err := e.store.Get("work"); err != nil {
		t.Errorf("refresh token not stored: %v", err)
	}
}

// A token response without expires_in but with a refresh token (Salesforce)
// gets the assumed lifetime assume_ttl (1h by default) so that it is renewed;
// one with neither (GitHub OAuth apps) is used as long as the server takes
// it. See authtest.WithoutExpiresIn for the doc pages.
func TestNoExpiresInAssumesALifetimeWhenRenewable(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE, authtest.WithoutExpiresIn())
	near := func(got, want time.Time) bool { return got.Sub(want).Abs() < time.Minute }

	e.mustRun(0, "login")
	if ent := e.cacheEntry("work"); !near(ent.Expiry, time.Now().Add(time.Hour)) {
		t.Errorf("after login the access token expires at %v, want an hour from now (assume_ttl's default)", ent.Expiry)
	}
	if rows := e.statusJSON(); len(rows) != 1 || rows[0].ExpiresAt == nil {
		t.Errorf("status shows no expiry: %+v", rows)
	}

	e.mustRun(0, "profile", "set", "work", "assume_ttl", "10m")
	if !strings.Contains(e.readConfig(), `assume_ttl = '10m'`) {
		t.Errorf("config file:\n%s", e.readConfig())
	}
	e.expire("work")
	grants := e.op.Grants(refreshGrant)
	e.mustRun(0, "token")
	if n := e.op.Grants(refreshGrant) - grants; n != 1 {
		t.Errorf("%d refresh grants, want 1", n)
	}
	if ent := e.cacheEntry("work"); !near(ent.Expiry, time.Now().Add(10*time.Minute)) {
		t.Errorf("after renewal the access token expires at %v, want assume_ttl (10m) from now", ent.Expiry)
	}

	if code := e.run("profile", "set", "work", "assume_ttl", "soon"); code != ExitUsage || !strings.Contains(e.errOut.String(), "assume_ttl") {
		t.Errorf("assume_ttl soon: exit %d, stderr %q", code, e.errOut)
	}

	// No refresh token either: the token is kept until the server refuses it.
	op := authtest.NewOP(t, authtest.WithoutExpiresIn())
	c := newTestEnv(t)
	c.env["CI_SECRET"] = op.ClientSecret
	c.configure = func(f *Factory) {
		f.Browser = authtest.NoBrowser(t)
		f.StoreFor = func(string) (keychain.Store, error) { return keychaintest.NewMemory(), nil }
	}
	args := []string{"token", "--flow", "client-credentials", "--issuer", op.Issuer, "--client-id", op.ConfidentialClientID, "--client-secret-env", "CI_SECRET"}
	c.mustRun(0, args...)
	first := c.out.String()
	c.mustRun(0, args...)
	if c.out.String() != first || op.Grants("client_credentials") != 1 {
		t.Errorf("a token without expiry or refresh token was not reused: %d grants", op.Grants("client_credentials"))
	}
}

// status shows a name a person recognises: the ID token's
// preferred_username, else email, else sub (spec, the status row).
func TestStatusShowsARecognisableName(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE, authtest.WithUserinfoInIDToken())
	for _, tc := range []struct{ scopes, want string }{
		{"openid profile email offline_access", authtest.Username},
		{"openid email offline_access", "test-user@zitadel.ch"}, // the example OP's e-mail address
		{"openid offline_access", authtest.Subject},
	} {
		e.mustRun(0, "profile", "set", "work", "scopes", tc.scopes)
		e.mustRun(0, "login")
		rows := e.statusJSON()
		if len(rows) != 1 || rows[0].Subject == nil || *rows[0].Subject != tc.want {
			t.Errorf("scopes %q: status -o json = %+v, want subject %q", tc.scopes, rows, tc.want)
		}
		e.mustRun(0, "status")
		if !strings.Contains(e.out.String(), " "+tc.want+" ") {
			t.Errorf("scopes %q: status table does not show %q:\n%s", tc.scopes, tc.want, e.out)
		}
	}
}

// A preferred_username with escape sequences and bidi controls is shown
// escaped in the status table (termsafe) and decodes unchanged from -o json.
func TestHostilePreferredUsernameShownEscaped(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.writeConfig("[profiles.default]\nissuer = \"https://login.example.com\"\nclient_id = \"cli\"\nflow = \"client-credentials\"\n")
	f := e.factory()
	r, err := f.Resolve(config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	name := "bob\x1b]0;owned\a\u202etxt.exe\u009b"
	dir, _ := tokencache.Dir(f.Getenv)
	ent := &tokencache.Entry{AccessToken: "tok", TokenType: "Bearer", Subject: "id1", Fingerprint: r.Fingerprint, UpdatedAt: time.Now(),
		IDToken: unsignedJWT(map[string]any{"sub": "id1", "preferred_username": name})}
	if err := tokencache.New(dir).Save(r.Key, ent); err != nil {
		t.Fatal(err)
	}
	e.mustRun(0, "status")
	if got := e.out.String(); !strings.Contains(got, `bob\u001b]0;owned\u0007\u202etxt.exe\u009b`) || rawUnsafe(got) {
		t.Errorf("status: %q", got)
	}
	e.mustRun(0, "status", "-o", "json")
	var rows []statusRow
	if err := json.Unmarshal(e.out.Bytes(), &rows); err != nil || len(rows) != 1 || deref(rows[0].Subject, "") != name || rawUnsafe(e.out.String()) {
		t.Errorf("status -o json: %v %s", err, e.out)
	}
}
