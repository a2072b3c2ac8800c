package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// viaTOML decodes data as Parse did before parseSimple: go-toml, strict.
func viaTOML(data []byte) (File, error) {
	var f File
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&f)
	return f, err
}

func simpleSamples() []File {
	return []File{
		{},
		{DefaultProfile: "work"},
		{DefaultProfile: "work", Profiles: map[string]Profile{"work": {Issuer: "https://login.example.com", ClientID: "cli-app", Scopes: []string{"openid", "profile", "offline_access"}}}},
		{Profiles: map[string]Profile{
			"a-1": {TokenURL: "https://t.example.com/token?x=1&y='2'", ClientID: `c"d`, Flow: FlowClientCredentials, ClientSecretEnv: "SECRET",
				ClientAuth: ClientAuthPost, RedirectPort: 8080, RedirectHost: "127.0.0.1", RedirectPath: "/cb", DPoP: true, Storage: StorageFile,
				AuthParams: map[string]string{"prompt": "login", "max_age": "0"}, Scopes: []string{}, AssumeTTL: "30m", Provider: "github",
				CAFile: "/etc/ca.pem", Audience: "api", Resource: "https://api.example.com", JWKSURL: "https://k.example.com", RevocationURL: "https://r",
				DeviceAuthorizationURL: "https://d", AuthorizationURL: "https://a", ClientAssertion: "env:X", ClientAssertionAudience: "aud", ClientKeyFile: "/k.pem"},
			"B_2": {Issuer: "http://127.0.0.1:9999", ClientID: "x", AuthParams: map[string]string{}},
		}},
	}
}

// What Save writes takes the fast path and decodes as go-toml decodes it.
func TestParseSimpleReadsWhatSaveWrites(t *testing.T) {
	for _, want := range simpleSamples() {
		want.Path = filepath.Join(t.TempDir(), "config.toml")
		if err := want.Save(); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(want.Path)
		if err != nil {
			t.Fatal(err)
		}
		toml, err := viaTOML(data)
		if err != nil {
			t.Fatal(err)
		}
		var got File
		if !parseSimple(data, &got) {
			t.Errorf("parseSimple refused what Save wrote:\n%s", data)
		} else if !reflect.DeepEqual(got, toml) {
			t.Errorf("parseSimple read %+v, go-toml %+v, from\n%s", got, toml, data)
		}
	}
}

// Every key of Profile takes the fast path: a key parseSimple does not know
// still works (go-toml reads the file), but every config using it pays
// go-toml's decoder on each cached oat token.
func TestParseSimpleKnowsEveryKey(t *testing.T) {
	typ := reflect.TypeOf(Profile{})
	for i := range typ.NumField() {
		fld := typ.Field(i)
		key, _, _ := strings.Cut(fld.Tag.Get("toml"), ",")
		var val string
		switch fld.Type.Kind() {
		case reflect.String:
			val = "'x'"
		case reflect.Slice:
			val = "['x']"
		case reflect.Int:
			val = "1"
		case reflect.Bool:
			val = "true"
		case reflect.Map:
			key, val = "", "" // a table of its own: [profiles.a.auth_params]
		}
		data := "[profiles.a]\n" + key + " = " + val + "\n"
		if key == "" {
			data = "[profiles.a]\n[profiles.a." + strings.Split(fld.Tag.Get("toml"), ",")[0] + "]\nk = 'v'\n"
		}
		var got File
		if !parseSimple([]byte(data), &got) {
			t.Errorf("parseSimple does not know the key %q of Profile.%s: add it to setField/stringField in simple.go", key, fld.Name)
			continue
		}
		if want, err := viaTOML([]byte(data)); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: parseSimple read %+v, go-toml %+v (%v)", data, got, want, err)
		}
	}
}

// parseSimple never accepts a file that go-toml reads differently or
// refuses: go-toml stays the definition of the config file.
func FuzzParseSimple(f *testing.F) {
	for _, s := range simpleSamples() {
		var buf bytes.Buffer
		enc := toml.NewEncoder(&buf)
		enc.SetIndentTables(false)
		_ = enc.Encode(s)
		f.Add(buf.Bytes())
	}
	if doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md")); err == nil {
		for _, m := range regexp.MustCompile("(?s)```toml\n(.*?)```").FindAllSubmatch(doc, -1) {
			f.Add(m[1])
		}
	}
	for _, s := range []string{
		"", "\n", "# only a comment — with UTF-8\n", "default_profile = 'a'\ndefault_profile = 'b'\n",
		"[profiles.a]\n[profiles.a]\n", "[profiles.a]\nissuer = 'x'\nissuer = 'y'\n", "[profiles]\n[profiles]\n",
		"[profiles.a.auth_params]\n[profiles.a]\n", "[profiles.a]\n[profiles.a.auth_params]\nx = 'y'\n[profiles.a.auth_params]\n",
		"[profiles.a]\nscopes = []\n", "[profiles.a]\nscopes = [ 'a' , \"b\" , ]\n", "[profiles.a]\nscopes = 'a'\n",
		"[profiles.a]\nredirect_port = 08080\n", "[profiles.a]\nredirect_port = 0\n", "[profiles.a]\nredirect_port = 99999999999\n",
		"[profiles.a]\ndpop = true # yes\n", "[profiles.a]\ndpop = 'true'\n", "[profiles.a]\nIssuer = 'x'\n",
		"[profiles.a]\nunknown = 'x'\n", "[profiles.a]\nclient_secret = 'x'\n", "[profiles.a] # c\nissuer = \"x\"   # c\n",
		"[profiles.a]\r\nissuer = 'x'\r\n", "[profiles.a]\nissuer = \"a\\tb\"\n", "[profiles.a]\nissuer = 'a\tb'\n",
		"[profiles.a]\nissuer = 'é'\n", "[[profiles.a]]\n", "[profiles.'a']\n", "[ profiles.a ]\n", "profiles.a.issuer = 'x'\n",
		"[profiles]\na = { issuer = 'x' }\n", "[profiles.a]\nissuer = 'x'\n[profiles.b]\nissuer = 'y'\n[profiles.a.auth_params]\n",
		"[profiles.a]\nauth_params = { x = 'y' }\n", "[profiles.a]\nissuer = '''x'''\n", "[profiles.a]\nissuer = 'x' 'y'\n",
		"default_profile = 'a'\n[profiles]\n[profiles.a]\nissuer = 'x'\n[profiles.a.auth_params]\nprompt = 'login'\nprompt2 = \"x\"\n",
		"[profiles.a]\nflow = 'device'\n# c\n\n\t\n", "[profiles]\n", "[profiles.a]\n[profiles.a.auth_params]\n",
		"[profiles]\n[profiles.a]\n", "[profiles.a]\nissuer='x'#c\n", "  [profiles.a]\n  issuer\t=\t'x'\n", "[profiles.a]\n[profiles.a.auth_params]", "[profiles]", "x = 1\n", "default_profile = 1\n", "[x]\n", "[profiles.a.b]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got File
		if !parseSimple(data, &got) {
			return
		}
		want, err := viaTOML(data)
		if err != nil {
			t.Fatalf("parseSimple accepted %q, which go-toml refuses: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: parseSimple read %+v, go-toml %+v", data, got, want)
		}
	})
}
