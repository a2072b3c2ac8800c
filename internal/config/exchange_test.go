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
		{"requested_token_type", "refresh_token", "oat keeps no refresh token from a token exchange"},
		{"requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token", "oat keeps no refresh token"},
		{"subject_token_type", "refresh_token", ""},
		{"par", "true", ""},
		{"par", "false", ""},
		{"par", "yes please", "not true or false"},
	} {
		p := Profile{Flow: FlowTokenExchange}
		if tc.key == "par" {
			p.Flow = FlowPKCE
		}
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

// A key that only one flow reads, on a profile of another flow, would be
// silently ignored: the file, oat profile set and the merged settings of a
// command refuse it (exit 2), naming the key and the fix; flags are checked
// once merged with the profile's flow.
func TestFlowKeysOnAnotherFlow(t *testing.T) {
	for _, tc := range []struct {
		p    Profile
		want string
	}{
		{Profile{SubjectTokenFrom: "env:X"}, `subject_token_from is read only by flow "token-exchange", and this profile's flow is "pkce"`},
		{Profile{Flow: FlowClientCredentials, SubjectTokenType: "jwt"}, `subject_token_type is read only by flow "token-exchange", and this profile's flow is "client-credentials"`},
		{Profile{Flow: FlowDevice, RequestedTokenType: "id_token"}, "requested_token_type is read only"},
		{Profile{Flow: FlowDevice, PAR: true}, `par is read only by flow "pkce"`},
		{Profile{Flow: FlowTokenExchange, PAR: true}, `par is read only by flow "pkce"`},
		{Profile{Flow: FlowTokenExchange, SubjectTokenFrom: "env:X", SubjectTokenType: "jwt", RequestedTokenType: "id_token"}, ""},
		{Profile{PAR: true}, ""},
		{Profile{Flow: FlowPKCE, PAR: true}, ""},
	} {
		err := tc.p.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: err %v, want %q", tc.p, err, tc.want)
		}
		if o := (Overrides{Profile: tc.p}); o.Validate() != nil {
			t.Errorf("flags %+v refused before they meet the profile's flow: %v", tc.p, o.Validate())
		}
	}
	// In the file: refused with the profile named.
	var f File
	err := Parse("config.toml", []byte("[profiles.ci]\nissuer = \"https://a\"\nclient_id = \"c\"\nflow = \"client-credentials\"\nsubject_token_from = \"env:X\"\n"), &f)
	if err == nil || !strings.Contains(err.Error(), `profile "ci": subject_token_from is read only`) {
		t.Errorf("Parse: %v", err)
	}
	// oat profile set: the flow first, then its keys; and not away from it.
	p := Profile{Issuer: "https://a", ClientID: "c"}
	if err := p.Set("subject_token_from", "env:X"); err == nil {
		t.Error("subject_token_from set on a pkce profile")
	}
	if err := p.Set("flow", FlowTokenExchange); err != nil {
		t.Fatal(err)
	}
	if err := p.Set("subject_token_from", "env:X"); err != nil {
		t.Fatal(err)
	}
	if err := p.Set("flow", FlowPKCE); err == nil {
		t.Error("flow changed away from token-exchange with subject_token_from still set")
	}
}
