//go:build linux

package cli

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/keychain/keychaintest"
)

// TestWholeCLIWithRealSecretService runs login → renewal → revoke with oat's
// real keychain store against the Secret Service, reading the entry back
// with secret-tool as a user would. It skips without a Secret Service, and
// fails instead under .ci/keyring-session (OAT_REQUIRE_KEYRING=1):
//
//	bash .ci/keyring-session go test ./internal/cli -run TestWholeCLIWithRealSecretService
func TestWholeCLIWithRealSecretService(t *testing.T) {
	// keychaintest holds a shared lock on the Secret Service meanwhile, so
	// the keychain package's test that locks the keyring (go test runs
	// packages in parallel) waits for this one.
	ss := keychain.NewOS(keychain.OSOptions{})
	keychaintest.SecretService(t, ss.Check)

	e := newOPEnv(t, config.FlowPKCE)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "oat-clitest-" + hex.EncodeToString(b) // no other run or user entry has it
	cfg := &config.File{Path: e.configPath(), DefaultProfile: name, Profiles: map[string]config.Profile{name: e.op.Profile(config.FlowPKCE)}}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ss.Delete(name); err != nil {
			t.Errorf("cleanup: deleting keychain entry %s: %v", name, err)
		}
	})
	e.configure = func(f *Factory) { f.Browser = e.browser.Open }
	e.realStores = true // StoreFor unset: the private keyring SecretService checked

	e.mustRun(0, "login")
	if !strings.Contains(e.errOut.String(), "refresh token in the keychain") {
		t.Errorf("login stderr = %q", e.errOut)
	}
	rt1, ok := keychaintest.Lookup(t, name)
	if !ok || rt1 == "" {
		t.Fatalf("secret-tool lookup service oat username %s found nothing after login", name)
	}
	// The state folder holds only the binding record (which server and
	// client the keychain's token is for), never a refresh-token file.
	if entries, _ := os.ReadDir(filepath.Join(e.dir, "state", "oat")); len(entries) != 1 || entries[0].Name() != name+".keychain.binding" {
		t.Errorf("login wrote to the state folder: %v", entries)
	}
	if raw, _ := os.ReadFile(filepath.Join(e.dir, "cache", "oat", name+".json")); strings.Contains(string(raw), rt1) {
		t.Error("the cache file holds the refresh token")
	}
	rows := e.statusJSON()
	if len(rows) != 1 || !rows[0].LoggedIn || deref(rows[0].RefreshToken, "") != "keychain" {
		t.Errorf("status = %+v", rows)
	}

	// Renewal: the refresh token is read from the Secret Service, used, and
	// the rotated one written back.
	old := e.cacheEntry(name).AccessToken
	e.expire(name)
	grants := e.op.Grants(refreshGrant)
	e.mustRun(0, "token")
	if tok := strings.TrimSpace(e.out.String()); tok == "" || tok == old {
		t.Error("token after expiry printed the old token (or nothing)")
	}
	if n := e.op.Grants(refreshGrant) - grants; n != 1 {
		t.Errorf("%d refresh grants, want 1", n)
	}
	rt2, ok := keychaintest.Lookup(t, name)
	if !ok || rt2 == "" || rt2 == rt1 {
		t.Fatalf("after renewal secret-tool finds: found=%v, rotated=%v", ok, rt2 != rt1)
	}

	e.mustRun(0, "revoke")
	if msg := e.errOut.String(); !strings.Contains(msg, "Revoked the refresh token at the server.") || !strings.Contains(msg, `Deleted the local tokens of profile "`+name+`"`) {
		t.Errorf("revoke stderr = %q", msg)
	}
	if _, ok := keychaintest.Lookup(t, name); ok {
		t.Fatal("secret-tool still finds the refresh token after revoke")
	}
	if code := e.run("token"); code != ExitLoginRequired {
		t.Errorf("token after revoke: exit %d, stderr %q", code, e.errOut)
	}
}
