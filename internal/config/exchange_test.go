package config

import (
	"strings"
	"testing"
)

func TestTokenExchangeAndPARKeys(t *testing.T) {
	for _, tc := range []struct {
		key, value, wantErr string
	}{
		{"flow", "token-exchange", ""},
		{"subject_token_from", "github-actions", ""},
		{"subject_token_from", "env:CI_JOB_JWT", ""},
		{"subject_token_from", "file:/var/run/secrets/tokens/oat", ""},
		{"subject_token_from", "profile:ci", ""},
		{"subject_token_from", "eyJhbGciOiJFUzI1NiJ9.e30.sig", "subject_token_from must be"},
		{"subject_token_from", "profile:-x", "subject_token_from must be"},
		{"subject_token_from", "env:1X", "subject_token_from must be"},
		{"subject_token_type", "jwt", ""},
		{"subject_token_type", "urn:ietf:params:oauth:token-type:id_token", ""},
		{"subject_token_type", "jwt token", "not a token type"},
		{"requested_token_type", "access_token", ""},
		{"requested_token_type", "bogus", "not a token type"},
		{"par", "true", ""},
		{"par", "false", ""},
		{"par", "yes please", "not true or false"},
	} {
		var p Profile
		err := p.Set(tc.key, tc.value)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("set %s %q: err %v, want %q", tc.key, tc.value, err, tc.wantErr)
		}
	}
	if TokenTypeURI("jwt") != TokenTypeJWT || TokenTypeURI("urn:x:y") != "urn:x:y" {
		t.Error("TokenTypeURI")
	}
}

// A token-exchange profile's cached token is another one when the subject
// token's source or the types change; its binding is still readable.
func TestFingerprintOfTokenExchange(t *testing.T) {
	p := Profile{Issuer: "https://a", ClientID: "c", Flow: FlowTokenExchange, SubjectTokenFrom: "file:/a"}
	q := p
	q.SubjectTokenFrom = "file:/b"
	r := p
	r.RequestedTokenType = "id_token"
	if Fingerprint(p) == Fingerprint(q) || Fingerprint(p) == Fingerprint(r) {
		t.Error("subject_token_from / requested_token_type do not change the fingerprint")
	}
	if b, ok := BindingOf(Fingerprint(p)); !ok || b != p.Binding() {
		t.Errorf("BindingOf = %v, %v", b, ok)
	}
	// Other flows keep the fingerprint they had.
	cc := Profile{Issuer: "https://a", ClientID: "c", Flow: FlowClientCredentials, SubjectTokenFrom: "file:/a"}
	if strings.Count(Fingerprint(cc), "\n") != 5 {
		t.Errorf("client-credentials fingerprint changed: %q", Fingerprint(cc))
	}
}
