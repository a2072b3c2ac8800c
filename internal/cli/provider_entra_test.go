package cli

import (
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/provtest"
)

// Entra ID through the whole CLI, against provtest.Entra (its quirks and
// their doc pages are there). The README line runs as written, plus one
// flag: --domain points the login host (login.microsoftonline.com, or a
// national cloud's) at the emulator; --provider entra keeps Entra's
// handling although the host is 127.0.0.1.
func TestProviderEntra(t *testing.T) {
	t.Parallel()
	args := readmeLine(t, "entra")
	clientID := argAfter(t, args, "--client-id")
	emu := provtest.NewEntra(t, clientID)
	e := newProvEnvA(t)
	e.mustRun(0, append(args, "--domain", emu.URL)...)
	name := args[2]
	if !strings.Contains(e.readConfig(), "issuer = '"+emu.URL+"/"+provtest.EntraDomain+"/v2.0'") {
		t.Fatalf("config:\n%s", e.readConfig())
	}

	// The tenant given by domain: discovery names the tenant's ID as issuer,
	// and the ID token's iss is that too.
	e.mustRun(0, "login")
	if !strings.Contains(e.errOut.String(), "Logged in as ") {
		t.Errorf("login: %s", e.errOut)
	}
	e.mustRun(0, "token")
	first := strings.TrimSpace(e.out.String())
	if first == "" {
		t.Fatal("no token")
	}

	// Renewal after expiry sends scope (Entra v2 requires it).
	e.expire(name)
	e.mustRun(0, "token")
	if got := strings.TrimSpace(e.out.String()); got == first {
		t.Error("the expired token was not renewed")
	}
	if f := emu.LastForm("refresh_token"); f == nil || f.Get("scope") != "openid profile offline_access" {
		t.Errorf("refresh request scope = %q, want the profile's scopes", f.Get("scope"))
	}

	// Re-login, then status names the user by preferred_username.
	e.mustRun(0, "login")
	rows := e.statusJSON()
	if len(rows) != 1 || !rows[0].LoggedIn || deref(rows[0].Subject, "") != provtest.EntraUsername {
		t.Errorf("status = %+v", rows)
	}

	// No revocation endpoint: said honestly, with where to end the session.
	e.mustRun(0, "revoke")
	for _, want := range []string{"no revocation endpoint", "refresh token stays valid there", "Entra ID has no revocation endpoint: sign out everywhere at https://myaccount.microsoft.com", "Deleted the local tokens"} {
		if !strings.Contains(e.errOut.String(), want) {
			t.Errorf("revoke stderr lacks %q:\n%s", want, e.errOut)
		}
	}
	if code := e.run("token"); code != ExitLoginRequired {
		t.Errorf("token after revoke: exit %d", code)
	}
}

// Entra multi-tenant (common): discovery names the issuer template
// {tenantid}; the ID token's iss is the user's tenant, checked with its tid.
// The device flow (Entra's /devicecode, no verification_uri_complete).
func TestProviderEntraCommonDevice(t *testing.T) {
	t.Parallel()
	emu := provtest.NewEntra(t, "11111111-2222-3333-4444-555555555555")
	e := newProvEnvA(t)
	e.mustRun(0, "profile", "add", "ms", "--provider", "entra", "--client-id", emu.ClientID, "--tenant", "common", "--domain", emu.URL)
	e.configure = chain(e.configure, func(f *Factory) { f.Browser = authtest.NoBrowser(t) })
	e.mustRun(0, "login", "--flow", "device")
	if !strings.Contains(e.errOut.String(), "To log in, visit:") {
		t.Errorf("device login: %s", e.errOut)
	}
	e.expire("ms")
	e.mustRun(0, "token")
	if f := emu.LastForm("refresh_token"); f == nil || f.Get("scope") == "" {
		t.Errorf("refresh without scope")
	}
	rows := e.statusJSON()
	if len(rows) != 1 || deref(rows[0].Subject, "") != provtest.EntraUsername {
		t.Errorf("status = %+v", rows)
	}
}

func argAfter(t *testing.T, args []string, flag string) string {
	t.Helper()
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	t.Fatalf("%q has no %s", args, flag)
	return ""
}

// Pointed at the emulator with flags only (no profile), --provider entra
// still turns on Entra's handling: explicit values win over detection.
func TestProviderEntraAdHocFlags(t *testing.T) {
	t.Parallel()
	emu := provtest.NewEntra(t, "22222222-2222-3333-4444-555555555555")
	e := newProvEnvA(t)
	flags := []string{"--provider", "entra", "--issuer", emu.URL + "/organizations/v2.0", "--client-id", emu.ClientID, "--scope", "openid profile offline_access"}
	e.mustRun(0, append([]string{"login"}, flags...)...)
	e.mustRun(0, append([]string{"refresh"}, flags...)...)
	if f := emu.LastForm("refresh_token"); f == nil || f.Get("scope") != "openid profile offline_access" {
		t.Errorf("refresh request without the scopes: %v", f)
	}
	// Without --provider the emulator's host names no provider: generic,
	// and Entra refuses the refresh.
	generic := append([]string{"refresh"}, flags[2:]...)
	if code := e.run(generic...); code == 0 || !strings.Contains(e.errOut.String(), "AADSTS90014") {
		t.Errorf("generic refresh: exit %d, %s", code, e.errOut)
	}
}
