package config

import "testing"

func TestProfileAddEntraGitHubGitLab(t *testing.T) {
	p := Profile{Provider: ProviderEntra, ClientID: "c"}
	if err := p.ForProfileAdd("login.microsoftonline.us", "contoso.onmicrosoft.us", ""); err != nil || p.Issuer != "https://login.microsoftonline.us/contoso.onmicrosoft.us/v2.0" {
		t.Errorf("entra national cloud: %q %v", p.Issuer, err)
	}
	gh := Profile{Provider: ProviderGitHub, ClientID: "c"}
	if err := gh.ForProfileAdd("", "", ""); err != nil || gh.Flow != FlowDevice || gh.ClientAuth != ClientAuthPost {
		t.Errorf("github without secret: flow %q, client_auth %q, %v", gh.Flow, gh.ClientAuth, err)
	}
	ghs := Profile{Provider: ProviderGitHub, ClientID: "c", ClientSecretEnv: "S"}
	if err := ghs.ForProfileAdd("ghe.example.com", "", ""); err != nil || ghs.Flow != "" || ghs.TokenURL != "https://ghe.example.com/login/oauth/access_token" {
		t.Errorf("github with secret on GHES: %+v %v", ghs, err)
	}
	gl := Profile{Provider: ProviderGitLab, ClientID: "c"}
	if err := gl.ForProfileAdd("", "", ""); err != nil || gl.DeviceAuthorizationURL != "https://gitlab.com/oauth/authorize_device" {
		t.Errorf("gitlab: %q %v", gl.DeviceAuthorizationURL, err)
	}
}
