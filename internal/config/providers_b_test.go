package config

import (
	"strings"
	"testing"
)

// Auth0, Okta and Cognito get the fixed redirect port (exact callback
// matching); a port in the file or --redirect-port (0 included) wins.
func TestFixedRedirectPort(t *testing.T) {
	none := func(string) string { return "" }
	f := &File{Profiles: map[string]Profile{
		"a": {Provider: ProviderAuth0, Issuer: "https://d.example.com/", ClientID: "c"},
		"b": {Issuer: "https://dev-1.okta.com/oauth2/default", ClientID: "c", RedirectPort: 7000},
		"k": {Provider: ProviderKeycloak, Issuer: "https://sso.example.com/realms/x", ClientID: "c"},
	}}
	for _, tc := range []struct {
		name string
		o    Overrides
		want int
	}{
		{"a", Overrides{}, FixedRedirectPort},
		{"a", Overrides{RedirectPortSet: true}, 0},
		{"a", Overrides{Profile: Profile{RedirectPort: 7001}, RedirectPortSet: true}, 7001},
		{"b", Overrides{}, 7000},
		{"k", Overrides{}, 0},
	} {
		r, err := f.Resolve(tc.name, tc.o, none)
		if err != nil {
			t.Fatal(err)
		}
		if r.Profile.RedirectPort != tc.want {
			t.Errorf("%s %+v: redirect_port %d, want %d", tc.name, tc.o, r.Profile.RedirectPort, tc.want)
		}
	}
	var c Profile
	c.Provider = ProviderCognito
	c.ApplyProvider()
	if c.RedirectHost != "localhost" || c.RedirectPort != FixedRedirectPort {
		t.Errorf("cognito: %+v", c)
	}
}

func TestForProfileAddDomainAndAuthorizationServer(t *testing.T) {
	for _, tc := range []struct {
		provider, domain, as, issuer, errPart string
	}{
		{ProviderOkta, "dev-1.okta.com", "", "https://dev-1.okta.com/oauth2/default", ""},
		{ProviderOkta, "https://dev-1.okta.com/", "aus1", "https://dev-1.okta.com/oauth2/aus1", ""},
		{ProviderOkta, "dev-1.okta.com", "org", "https://dev-1.okta.com", ""},
		{ProviderOkta, "http://127.0.0.1:8080", "", "http://127.0.0.1:8080/oauth2/default", ""},
		{ProviderAuth0, "http://[::1]:8080", "", "http://[::1]:8080/", ""},
		{ProviderAuth0, "http://dev.example.com", "", "", "uses http"},
		{ProviderAuth0, "dev.example.com/x", "", "", "host name"},
		{ProviderAuth0, "dev.example.com", "default", "", "--authorization-server is for"},
		{ProviderOkta, "dev-1.okta.com", "../x", "", "authorization server's ID"},
		{ProviderOkta, "", "org", "", "goes with --domain"},
	} {
		p := Profile{Provider: tc.provider, ClientID: "c"}
		err := p.ForProfileAdd(tc.domain, "", tc.as)
		if tc.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("%s %q %q: error %v, want one with %q", tc.provider, tc.domain, tc.as, err, tc.errPart)
			}
			continue
		}
		if err != nil || p.Issuer != tc.issuer {
			t.Errorf("%s %q %q: issuer %q (%v), want %q", tc.provider, tc.domain, tc.as, p.Issuer, err, tc.issuer)
		}
	}
	p := Profile{Provider: ProviderCognito, Issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x", ClientID: "c"}
	if err := p.ForProfileAdd("acme.auth.us-east-1.amazoncognito.com", "", ""); err != nil || p.RevocationURL != "https://acme.auth.us-east-1.amazoncognito.com/oauth2/revoke" {
		t.Errorf("cognito: %q %v", p.RevocationURL, err)
	}
}
