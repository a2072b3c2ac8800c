package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A default_profile that names no profile does not break loading the file
// (so `oat profile use` can fix it); it is an error only where the default
// is the profile used.
func TestDanglingDefaultProfile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.toml")
	data := "default_profile = \"nope\"\n\n[profiles.a]\nissuer = \"https://a.example.com\"\nclient_id = \"x\"\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if f.DefaultProfile != "nope" {
		t.Errorf("DefaultProfile = %q, want it kept as written", f.DefaultProfile)
	}
	want := "default_profile \"nope\" names no profile in " + path + ": run `oat profile use NAME`"
	for _, tt := range []struct {
		name string
		flag string
		env  map[string]string
		o    Overrides
		ok   bool
	}{
		{"default used", "", nil, Overrides{}, false},
		{"default used with server flags", "", nil, Overrides{Profile: Profile{Issuer: "https://b.example.com", ClientID: "y"}}, false},
		{"-p", "a", nil, Overrides{}, true},
		{"OAT_PROFILE", "", map[string]string{"OAT_PROFILE": "a"}, Overrides{}, true},
	} {
		_, err := f.Resolve(tt.flag, tt.o, envOf(tt.env))
		if tt.ok {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want *config.Error with %q", tt.name, err, want)
		}
		if err := f.CheckProfileName(tt.flag, envOf(tt.env)); err == nil || err.Error() != ce.Error() {
			t.Errorf("%s: CheckProfileName = %v, want the same error as Resolve", tt.name, err)
		}
	}
	if err := f.CheckProfileName("a", envOf(nil)); err != nil {
		t.Errorf("CheckProfileName with -p: %v", err)
	}
	// Saving keeps it as the user wrote it.
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	g, err := Load(path)
	if err != nil || g.DefaultProfile != "nope" {
		t.Errorf("after Save: %v, default %q", err, g.DefaultProfile)
	}
}
