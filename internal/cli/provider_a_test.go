package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/keychain/keychaintest"
)

// newProvEnvA is an opEnv without an OP of its own: a provider emulator
// (internal/provtest) is the server, the profile comes from `oat profile
// add`. It has a scripted browser and in-memory stores.
func newProvEnvA(t *testing.T) *opEnv {
	t.Helper()
	e := &opEnv{testEnv: newTestEnv(t), store: keychaintest.NewMemory(), fileStore: keychaintest.NewMemory(), browser: authtest.NewBrowser(t)}
	e.fileStore.SetKind(keychain.KindFile)
	e.configure = func(f *Factory) {
		f.Browser = e.browser.Open
		f.StoreFor = e.storeFor
	}
	return e
}

// readmeLine returns the arguments of the README's `oat profile add` line
// for provider (section "Providers"), without the leading "oat": the test
// runs it as written.
func readmeLine(t *testing.T, provider string) []string {
	t.Helper()
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Providers"
		}
		fields := strings.Fields(line)
		if in && len(fields) > 3 && fields[0] == "oat" && fields[1] == "profile" && fields[2] == "add" && strings.Contains(line, "--provider "+provider+" ") {
			return fields[1:]
		}
	}
	t.Fatalf("README.md has no `oat profile add … --provider %s` line in its Providers section", provider)
	return nil
}

// provTokenJSON runs `oat token -o json` (plus args) and decodes it.
func provTokenJSON(e *opEnv, args ...string) map[string]any {
	e.t.Helper()
	e.mustRun(0, append([]string{"token", "-o", "json"}, args...)...)
	var m map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &m); err != nil {
		e.t.Fatalf("token -o json: %v\n%s", err, e.out)
	}
	return m
}
