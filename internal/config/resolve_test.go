package config

import (
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
	if r.Name != "work" || r.Profile.Issuer != "https://file.example.com" || r.Key != "work" || !r.InFile {
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
	if r.InFile || !strings.HasPrefix(r.Key, "adhoc-") || len(r.Key) != len("adhoc-")+16 {
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
	if err != nil || r4.Name != "ci" || r4.InFile || r4.Key == "ci" {
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
