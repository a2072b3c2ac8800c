package auth

import (
	"encoding/base64"
	"testing"
	"time"
)

func jws(payload string) string {
	return "e30." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
}

func TestJWTClaimsAndDisplayName(t *testing.T) {
	sub, exp := jwtClaims(jws(`{"sub":"alice","exp":1700000000.9,"preferred_username":" ","email":"a@example.com"}`))
	if sub != "alice" || !exp.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("jwtClaims = %q, %v", sub, exp)
	}
	if sub, exp := jwtClaims("opaque-token"); sub != "" || !exp.IsZero() {
		t.Errorf("opaque: jwtClaims = %q, %v", sub, exp)
	}
	if sub, exp := jwtClaims(jws(`{"sub":"bob","exp":-5}`)); sub != "bob" || !exp.IsZero() {
		t.Errorf("negative exp: jwtClaims = %q, %v", sub, exp)
	}
	if got := DisplayName(jws(`{"sub":"alice","preferred_username":" ","email":"a@example.com"}`)); got != "a@example.com" {
		t.Errorf("DisplayName = %q, want the email (preferred_username is blank)", got)
	}
	if got := DisplayName(jws(`{"preferred_username":"alice","email":"a@example.com"}`)); got != "alice" {
		t.Errorf("DisplayName = %q, want alice", got)
	}
	if got := DisplayName("opaque"); got != "" {
		t.Errorf("DisplayName(opaque) = %q", got)
	}
}
