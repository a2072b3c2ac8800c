package cli

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/provtest"
)

// GitLab through the whole CLI, against provtest.GitLab (its quirks and
// their doc pages are there). The README line runs as written, plus one
// flag: --issuer points at the emulator instead of https://gitlab.com (as
// for a self-managed instance; --provider gitlab keeps GitLab's handling).
func TestProviderGitLab(t *testing.T) {
	t.Parallel()
	args := readmeLine(t, "gitlab")
	emu := provtest.NewGitLab(t, argAfter(t, args, "--client-id"))
	e := newProvEnvA(t)
	e.mustRun(0, append(args, "--issuer", emu.URL)...)
	name := args[2]
	if !strings.Contains(e.readConfig(), "device_authorization_url = '"+emu.URL+"/oauth/authorize_device'") {
		t.Errorf("config lacks GitLab's device endpoint:\n%s", e.readConfig())
	}

	e.mustRun(0, "login")
	e.mustRun(0, "token")
	first := e.out.String()
	old, _ := e.store.Get(name)

	// Renewal rotates the refresh token: the new one is stored, the old one
	// is dead at GitLab.
	e.expire(name)
	e.mustRun(0, "token")
	rotated, _ := e.store.Get(name)
	if e.out.String() == first || rotated == old || rotated == "" {
		t.Errorf("renewal: new token %v, rotated refresh token stored %v", e.out.String() != first, rotated != old)
	}
	resp, err := http.PostForm(emu.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}, "client_id": {emu.ClientID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the used refresh token still works at the emulator: %d", resp.StatusCode)
	}
	e.expire(name)
	e.mustRun(0, "token")

	// Device flow at /oauth/authorize_device (not in GitLab's discovery).
	var opened []string
	e.configure = chain(e.configure, func(f *Factory) {
		f.Browser = func(u string) error { opened = append(opened, u); return nil }
	})
	e.mustRun(0, "login", "--flow", "device")
	if len(opened) != 1 || !strings.HasPrefix(opened[0], emu.URL+"/oauth/device?user_code=") {
		t.Errorf("device login opened %q", opened)
	}
	rows := e.statusJSON()
	if len(rows) != 1 || !rows[0].LoggedIn || deref(rows[0].Subject, "") != provtest.GitLabUsername {
		t.Errorf("status = %+v", rows)
	}

	// Re-login (PKCE), then revoke at /oauth/revoke.
	e.configure = func(f *Factory) { f.Browser = e.browser.Open; f.StoreFor = e.storeFor }
	e.mustRun(0, "login", "--flow", "pkce")
	e.mustRun(0, "revoke")
	if !strings.Contains(e.errOut.String(), "Revoked the refresh token at the server.") {
		t.Errorf("revoke: %s", e.errOut)
	}
	if code := e.run("token"); code != ExitLoginRequired {
		t.Errorf("token after revoke: exit %d", code)
	}
}
