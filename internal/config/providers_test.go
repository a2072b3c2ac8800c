package config

import (
	"slices"
	"testing"
)

func TestProviderDetectedFromHostExplicitWins(t *testing.T) {
	for _, tc := range []struct {
		p    Profile
		want string
	}{
		{Profile{Issuer: "https://accounts.google.com"}, ProviderGoogle},
		{Profile{Issuer: "https://login.microsoftonline.com/common/v2.0"}, ProviderEntra},
		{Profile{Issuer: "https://dev-x.us.auth0.com/"}, ProviderAuth0},
		{Profile{Issuer: "https://acme.okta.com/oauth2/default"}, ProviderOkta},
		{Profile{Issuer: "https://gitlab.com"}, ProviderGitLab},
		{Profile{Issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"}, ProviderCognito},
		{Profile{TokenURL: "https://github.com/login/oauth/access_token"}, ProviderGitHub},
		{Profile{Issuer: "https://login.example.com"}, ProviderGeneric},
		{Profile{Issuer: "http://127.0.0.1:9999", Provider: ProviderGoogle}, ProviderGoogle},
		{Profile{Issuer: "https://accounts.google.com", Provider: ProviderGeneric}, ProviderGeneric},
	} {
		if got := tc.p.EffectiveProvider(); got != tc.want {
			t.Errorf("%+v: provider %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestApplyProviderExplicitWins(t *testing.T) {
	p := Profile{Provider: ProviderGoogle, Issuer: "http://127.0.0.1:1", Scopes: []string{"openid"}, AuthParams: map[string]string{"prompt": "select_account"}, ClientAuth: ClientAuthBasic}
	p.ApplyProvider()
	if p.Issuer != "http://127.0.0.1:1" || !slices.Equal(p.Scopes, []string{"openid"}) || p.AuthParams["prompt"] != "select_account" || p.ClientAuth != ClientAuthBasic {
		t.Errorf("explicit settings changed: %+v", p)
	}
	if p.AuthParams["access_type"] != "offline" {
		t.Errorf("access_type not filled: %+v", p.AuthParams)
	}
	var g Profile
	g.Provider = ProviderGitHub
	g.ApplyProvider()
	if g.TokenURL != "https://github.com/login/oauth/access_token" || g.ClientAuth != ClientAuthPost {
		t.Errorf("github defaults: %+v", g)
	}
}

// Flags that name another server start from an empty profile: the file's
// provider does not carry over either.
func TestProviderNotCarriedToAnotherServer(t *testing.T) {
	f := &File{Profiles: map[string]Profile{"g": {Provider: ProviderGoogle, ClientID: "c", ClientSecretEnv: "S"}}}
	r, err := f.Resolve("g", Overrides{Profile: Profile{Issuer: "https://login.example.com", ClientID: "x"}}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if r.Profile.Provider != "" || r.Profile.AuthParams["access_type"] != "" || r.Profile.ClientAuth != "" {
		t.Errorf("google settings carried to another server: %+v", r.Profile)
	}
}
