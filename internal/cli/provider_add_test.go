package cli

import (
	"strings"
	"testing"
)

// `oat profile add NAME --provider P` with only what the provider's docs give
// the user writes a complete profile (spec: Providers).
func TestProfileAddProviderWritesCompleteProfile(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.mustRun(0, "profile", "add", "g", "--provider", "google", "--client-id", "c.apps.googleusercontent.com", "--client-secret-env", "GOOGLE_SECRET")
	e.mustRun(0, "profile", "add", "e", "--provider", "entra", "--client-id", "cid", "--tenant", "contoso.onmicrosoft.com")
	e.mustRun(0, "profile", "add", "gh", "--provider", "github", "--client-id", "Iv1.x")
	e.mustRun(0, "profile", "add", "a", "--provider", "auth0", "--client-id", "cid", "--domain", "dev-x.us.auth0.com", "--audience", "https://api.example.com")
	cfg := e.readConfig()
	for _, want := range []string{
		`issuer = 'https://accounts.google.com'`, `access_type = 'offline'`, `prompt = 'consent'`, `client_auth = 'post'`,
		`issuer = 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0'`,
		`token_url = 'https://github.com/login/oauth/access_token'`, `device_authorization_url = 'https://github.com/login/device/code'`,
		`issuer = 'https://dev-x.us.auth0.com/'`, `provider = 'auth0'`,
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %s:\n%s", want, cfg)
		}
	}
}
