package jwt

import (
	"encoding/base64"
	"testing"
)

func TestClaimsReadsTheServersTokens(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"alice","exp":1700000000.5}`))
	for name, raw := range map[string]string{
		"plain":  "e30." + payload + ".c2ln",
		"padded": "e30." + payload + "==.c2ln", // go-jose accepts it when verifying
	} {
		sub, ok := Claims(raw).String("sub")
		if !ok || sub != "alice" {
			t.Errorf("%s: sub = %q, %v; want alice", name, sub, ok)
		}
	}
	for name, raw := range map[string]string{
		"opaque":        "2YotnFZFEjr1zCsicMWpAA",
		"five parts":    "a.b.c.d.e",
		"not base64url": "e30.$$$.c2ln",
		"not JSON":      "e30." + base64.RawURLEncoding.EncodeToString([]byte("sub")) + ".c2ln",
	} {
		if c := Claims(raw); c != nil {
			t.Errorf("%s: Claims = %v, want nil", name, c)
		}
		if _, ok := Claims(raw).String("sub"); ok {
			t.Errorf("%s: a sub from nothing", name)
		}
	}
}
