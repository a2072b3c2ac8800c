package auth

import "testing"

func TestMatchIssuer(t *testing.T) {
	const tmpl = "https://login.microsoftonline.com/{tenantid}/v2.0"
	for _, tc := range []struct {
		configured, discovered, tid string
		want                        bool
	}{
		{"https://op.example", "https://op.example/", "", true},
		{"https://op.example", "https://evil.example", "", false},
		{"https://login.microsoftonline.com/common/v2.0", tmpl, "", true},
		{"https://login.microsoftonline.com/organizations/v2.0", tmpl, "", true},
		{"https://login.microsoftonline.com/consumers/v2.0/", tmpl, "", true},
		{"https://login.microsoftonline.com/other/v2.0", tmpl, "", false},
		{"https://evil.example/common/v2.0", tmpl, "", false},
		{tmpl, "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "9188040d-6c67-4c5b-b112-36a304b66dad", true},
		{tmpl, "https://login.microsoftonline.com/aaaa/v2.0", "bbbb", false},
		{tmpl, "https://evil.example/x/v2.0", "x", false},
		{tmpl, "https://login.microsoftonline.com/a/b/v2.0", "a/b", false},
		{"https://op.example", "https://op.example/x", "x", false},
		// Entra tenant by domain: discovery names the tenant ID.
		{"https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0", "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "", true},
		{"https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0", "https://evil.example/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "", false},
		{"https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0", "https://login.microsoftonline.com/not-a-guid/v2.0", "", false},
		{"https://login.microsoftonline.com/common/v2.0", "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "", false},
		{"https://login.microsoftonline.com/contoso.com/v1.0", "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v1.0", "", false},
	} {
		if got := matchIssuer(tc.configured, tc.discovered, tc.tid); got != tc.want {
			t.Errorf("matchIssuer(%q, %q, %q) = %v, want %v", tc.configured, tc.discovered, tc.tid, got, tc.want)
		}
	}
}
