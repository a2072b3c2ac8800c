package auth

import (
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/config"
)

// The GitHub REST API root: api.github.com for github.com, /api/v3 on a
// GitHub Enterprise Server host.
func TestGitHubAPI(t *testing.T) {
	for tokenURL, want := range map[string]string{
		"https://github.com/login/oauth/access_token":           "https://api.github.com",
		"https://GitHub.com/login/oauth/access_token":           "https://api.github.com",
		"https://ghe.example.com/login/oauth/access_token":      "https://ghe.example.com/api/v3",
		"http://127.0.0.1:8080/login/oauth/access_token":        "http://127.0.0.1:8080/api/v3",
		"https://ghe.example.com:8443/login/oauth/access_token": "https://ghe.example.com:8443/api/v3",
	} {
		c := &Client{Profile: config.Profile{Provider: config.ProviderGitHub, TokenURL: tokenURL}}
		if got, err := c.GitHubAPI(); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", tokenURL, got, err, want)
		}
	}
}

// Only Entra gets scope on a refresh.
func TestRefreshScopeOnlyForEntra(t *testing.T) {
	scopes := []string{"openid", "offline_access"}
	if got := (&Client{Profile: config.Profile{Provider: config.ProviderEntra, Scopes: scopes}}).refreshScope(); got != "openid offline_access" {
		t.Errorf("entra: %q", got)
	}
	if got := (&Client{Profile: config.Profile{Issuer: "https://login.microsoftonline.com/common/v2.0", Scopes: scopes}}).refreshScope(); got == "" {
		t.Error("entra detected from the host: no scope")
	}
	if got := (&Client{Profile: config.Profile{Issuer: "https://op.example", Scopes: scopes}}).refreshScope(); got != "" {
		t.Errorf("generic: %q", got)
	}
}

func TestManualRevocation(t *testing.T) {
	gh := &Client{Profile: config.Profile{Provider: config.ProviderGitHub, TokenURL: "https://ghe.example.com/login/oauth/access_token"}}
	if got := gh.ManualRevocation(); !strings.Contains(got, "https://ghe.example.com/settings/applications") {
		t.Errorf("github: %q", got)
	}
	if got := (&Client{Profile: config.Profile{Issuer: "https://op.example"}}).ManualRevocation(); got != "" {
		t.Errorf("generic: %q", got)
	}
}
