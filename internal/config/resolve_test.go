package config

import (
	"encoding/json"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolvePrecedence(t *testing.T) {
	f := &File{Path: "c.toml", DefaultProfile: "work", Profiles: map[string]Profile{
		"work":  {Issuer: "https://file.example.com", ClientID: "file-client", Scopes: []string{"openid"}, Storage: "keychain"},
		"other": {Issuer: "https://other.example.com", ClientID: "o"},
	}}
	// file only
	r, err := f.Resolve("", Overrides{}, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "work" || r.Profile.Issuer != "https://file.example.com" || r.Key != "work" {
		t.Errorf("file only: %+v", r)
	}
	// env over file
	env := map[string]string{"OAT_ISSUER": "https://env.example.com", "OAT_CLIENT_ID": "env-client", "OAT_STORAGE": "file"}
	r, _ = f.Resolve("", Overrides{}, envOf(env))
	if r.Profile.Issuer != "https://env.example.com" || r.Profile.ClientID != "env-client" || r.Profile.Storage != "file" {
		t.Errorf("env over file: %+v", r.Profile)
	}
	// flags over env
	o := Overrides{Profile: Profile{Issuer: "https://flag.example.com", Scopes: []string{"a b", "c"}}}
	r, _ = f.Resolve("", o, envOf(env))
	if r.Profile.Issuer != "https://flag.example.com" || r.Profile.ClientID != "env-client" || strings.Join(r.Profile.Scopes, ",") != "a,b,c" {
		t.Errorf("flags over env: %+v", r.Profile)
	}
	// the file is not modified by resolution
	if f.Profiles["work"].Issuer != "https://file.example.com" || len(f.Profiles["work"].Scopes) != 1 {
		t.Errorf("resolve changed the file's profile: %+v", f.Profiles["work"])
	}
	// profile choice: flag > OAT_PROFILE > default_profile
	r, _ = f.Resolve("", Overrides{}, envOf(map[string]string{"OAT_PROFILE": "other"}))
	if r.Name != "other" {
		t.Errorf("OAT_PROFILE: got %q", r.Name)
	}
	r, _ = f.Resolve("work", Overrides{}, envOf(map[string]string{"OAT_PROFILE": "other"}))
	if r.Name != "work" {
		t.Errorf("-p over OAT_PROFILE: got %q", r.Name)
	}
	// redirect port 0 from a flag overrides the file's port
	f.Profiles["other"] = Profile{Issuer: "https://o", ClientID: "o", RedirectPort: 8000}
	r, _ = f.Resolve("other", Overrides{RedirectPortSet: true}, envOf(nil))
	if r.Profile.RedirectPort != 0 {
		t.Errorf("--redirect-port 0 ignored: %d", r.Profile.RedirectPort)
	}
}

func TestResolveAdHoc(t *testing.T) {
	f := &File{Profiles: map[string]Profile{"work": {Issuer: "https://x", ClientID: "c"}}}
	o := Overrides{Profile: Profile{TokenURL: "https://auth.example.com/token", ClientID: "bot", Flow: FlowClientCredentials, Audience: "https://api"}}
	r, err := f.Resolve("", o, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !r.AdHoc() || !strings.HasPrefix(r.Key, "adhoc-") || len(r.Key) != len("adhoc-")+16 {
		t.Errorf("ad hoc: %+v", r)
	}
	// same settings, same key; another audience, another key; never a configured name
	r2, _ := f.Resolve("", o, envOf(nil))
	o.Audience = "https://other-api"
	r3, _ := f.Resolve("", o, envOf(nil))
	if r.Key != r2.Key || r.Key == r3.Key {
		t.Errorf("keys: %s %s %s", r.Key, r2.Key, r3.Key)
	}
	// -p NAME not in the file, with flags naming a server and a client: ad hoc too
	r4, err := f.Resolve("ci", o, envOf(nil))
	if err != nil || r4.Name != "ci" || r4.Key == "ci" {
		t.Errorf("-p ci ad hoc: %+v %v", r4, err)
	}
	// -p NAME not in the file, without enough flags: unknown profile
	_, err = f.Resolve("nope", Overrides{}, envOf(nil))
	if err == nil || !strings.Contains(err.Error(), `unknown profile "nope"`) || !strings.Contains(err.Error(), "profiles: work") {
		t.Errorf("unknown profile: %v", err)
	}
	// no profile at all
	_, err = (&File{}).Resolve("", Overrides{}, envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "no profile configured") {
		t.Errorf("no profile: %v", err)
	}
	// invalid flag value
	_, err = f.Resolve("", Overrides{Profile: Profile{Issuer: "http://evil.example.com", ClientID: "x"}}, envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "only https") {
		t.Errorf("http issuer: %v", err)
	}
}

func TestFingerprintIgnoresScopeOrderAndSeesChanges(t *testing.T) {
	a := Profile{Issuer: "https://x", ClientID: "c", Scopes: []string{"openid", "email"}}
	b := Profile{Issuer: "https://x", ClientID: "c", Scopes: []string{"email", "openid"}, Flow: FlowDevice, RedirectPort: 9}
	c := Profile{Issuer: "https://x", ClientID: "c", Scopes: []string{"email", "openid", "admin"}}
	if Fingerprint(a) != Fingerprint(b) {
		t.Error("scope order or non-token settings changed the fingerprint")
	}
	if Fingerprint(a) == Fingerprint(c) {
		t.Error("an added scope did not change the fingerprint")
	}
}

func TestAnotherServerStartsFromAnEmptyProfile(t *testing.T) {
	full := Profile{
		Issuer: "https://a.example", AuthorizationURL: "https://a.example/auth", TokenURL: "https://a.example/token",
		DeviceAuthorizationURL: "https://a.example/device", RevocationURL: "https://a.example/revoke", JWKSURL: "https://a.example/jwks",
		ClientID: "a-client", ClientSecretEnv: "A_SECRET", ClientAuth: ClientAuthPost, Scopes: []string{"openid"},
		Audience: "https://api.a", Resource: "https://res.a", Flow: FlowDevice, AuthParams: map[string]string{"x": "y"},
		Storage: StorageFile, CAFile: "/ca.pem", RedirectHost: "localhost", RedirectPort: 8123, RedirectPath: "/cb",
	}
	f := &File{DefaultProfile: "work", Profiles: map[string]Profile{"work": full}}
	want := Profile{Issuer: "https://b.example", ClientID: "b-client", Storage: StorageFile, CAFile: "/ca.pem", RedirectHost: "localhost", RedirectPort: 8123, RedirectPath: "/cb"}
	for _, tc := range []struct {
		name string
		flag string
		o    Overrides
		env  map[string]string
	}{
		{"default profile, --issuer", "", Overrides{Profile: Profile{Issuer: "https://b.example", ClientID: "b-client"}}, nil},
		{"-p, --issuer", "work", Overrides{Profile: Profile{Issuer: "https://b.example", ClientID: "b-client"}}, nil},
		{"OAT_PROFILE, OAT_ISSUER", "", Overrides{}, map[string]string{"OAT_PROFILE": "work", "OAT_ISSUER": "https://b.example", "OAT_CLIENT_ID": "b-client"}},
	} {
		r, err := f.Resolve(tc.flag, tc.o, envOf(tc.env))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got, _ := json.Marshal(r.Profile); string(got) != mustMarshal(want) || r.Key == "work" {
			t.Errorf("%s: %s (key %s), want %s", tc.name, got, r.Key, mustMarshal(want))
		}
	}
	// --token-url alone, other than the profile's: the issuer goes too.
	r, err := f.Resolve("", Overrides{Profile: Profile{TokenURL: "https://b.example/token", ClientID: "b"}}, envOf(nil))
	if err != nil || r.Profile.Issuer != "" || r.Profile.Scopes != nil {
		t.Errorf("--token-url: %+v, %v", r.Profile, err)
	}
	// The profile's own server named again changes nothing.
	r, err = f.Resolve("", Overrides{Profile: Profile{Issuer: full.Issuer}}, envOf(nil))
	if err != nil || r.Profile.ClientID != "a-client" || r.Key != "work" {
		t.Errorf("own issuer: %+v, %v", r, err)
	}
	// Another server without a client: an error, not the profile's client.
	if _, err := f.Resolve("", Overrides{Profile: Profile{Issuer: "https://b.example"}}, envOf(nil)); err == nil || !strings.Contains(err.Error(), "--client-id") {
		t.Errorf("no client: %v", err)
	}
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
