package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
)

// status shows a name a person recognises (spec: preferred_username, else
// email, else sub) from the ID token.
func TestStatusShowsPreferredUsername(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE, authtest.WithUserinfoInIDToken())
	e.mustRun(0, "login")
	e.mustRun(0, "status", "-o", "json")
	var rows []struct {
		Subject *string `json:"subject"`
	}
	if err := json.Unmarshal(e.out.Bytes(), &rows); err != nil || len(rows) != 1 || rows[0].Subject == nil {
		t.Fatalf("status -o json = %q (%v)", e.out, err)
	}
	if got := *rows[0].Subject; !strings.HasPrefix(got, "test-user@") {
		t.Errorf("subject = %q, want the ID token's preferred_username (test-user@…)", got)
	}
	e.mustRun(0, "status")
	if !strings.Contains(e.out.String(), "test-user@") {
		t.Errorf("status table = %q, want the preferred_username", e.out)
	}
}
