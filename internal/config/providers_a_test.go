package config

import "testing"

// --domain: a host name (https), or http://LOOPBACK[:PORT] for an emulator;
// never plain http elsewhere, never a path.
func TestDomainBase(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "https://login.microsoftonline.com",
		"login.microsoftonline.us": "https://login.microsoftonline.us",
		"https://ghe.example.com/": "https://ghe.example.com",
		"http://127.0.0.1:8080":    "http://127.0.0.1:8080",
		"http://localhost:1":       "http://localhost:1",
	} {
		if got, err := domainBase(in, "login.microsoftonline.com"); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"http://ghe.example.com", "ghe.example.com/path", "http://127.0.0.1:1/x", "a@b"} {
		if got, err := domainBase(bad, "x"); err == nil {
			t.Errorf("%q accepted as %q", bad, got)
		}
	}
}

func TestProfileAddEntraGitHubGitLab(t *testing.T) {
	p := Profile{Provider: ProviderEntra, ClientID: "c"}
	if err := p.ForProfileAdd("login.microsoftonline.us", "contoso.onmicrosoft.us"); err != nil || p.Issuer != "https://login.microsoftonline.us/contoso.onmicrosoft.us/v2.0" {
		t.Errorf("entra national cloud: %q %v", p.Issuer, err)
	}
	gh := Profile{Provider: ProviderGitHub, ClientID: "c"}
	if err := gh.ForProfileAdd("", ""); err != nil || gh.Flow != FlowDevice || gh.ClientAuth != ClientAuthPost {
		t.Errorf("github without secret: flow %q, client_auth %q, %v", gh.Flow, gh.ClientAuth, err)
	}
	ghs := Profile{Provider: ProviderGitHub, ClientID: "c", ClientSecretEnv: "S"}
	if err := ghs.ForProfileAdd("ghe.example.com", ""); err != nil || ghs.Flow != "" || ghs.TokenURL != "https://ghe.example.com/login/oauth/access_token" {
		t.Errorf("github with secret on GHES: %+v %v", ghs, err)
	}
	gl := Profile{Provider: ProviderGitLab, ClientID: "c"}
	if err := gl.ForProfileAdd("", ""); err != nil || gl.DeviceAuthorizationURL != "https://gitlab.com/oauth/authorize_device" {
		t.Errorf("gitlab: %q %v", gl.DeviceAuthorizationURL, err)
	}
}
