package auth

import (
	"strings"
	"testing"
)

func TestCheckOpenURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want string // "" = opened; else a part of the reason
	}{
		{"https://login.example.com/authorize?client_id=x&state=y", ""},
		{"https://microsoft.com/devicelogin?otc=ABCD", ""}, // another host than the issuer's
		{"HTTPS://login.example.com/", ""},
		{"http://127.0.0.1:8080/device", ""},
		{"http://localhost/device", ""},
		{"http://[::1]:9000/device", ""},
		{"https://accounts.example.com/o/oauth2/auth?redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2F&x=!", ""},
		{"", "empty"},
		{"--gpu-launcher=calc", "starts with '-'"},
		{"-https://x/", "starts with '-'"},
		{"file:///etc/passwd", `scheme is "file"`},
		{"javascript:alert(1)", `scheme is "javascript"`},
		{"ms-msdt:/id", `scheme is "ms-msdt"`},
		{"data:text/html,x", `scheme is "data"`},
		{"http://evil.example/", "not loopback"},
		{"http://127.0.0.1.evil.example/", "not loopback"},
		{"https://x/\x1b[2J", "control character"},
		{"https://x/\nhttps://y/", "control character"},
		{"https://x/ y", "space"},
		{"https://x/\u202e", "non-ASCII"},
		{"https:///path", "no host"},
		{"https:opaque", "no host"},
		{"login.example.com/device", `scheme is ""`},
	} {
		err := CheckOpenURL(tc.url)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v, want it opened", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %v, want an error saying %q", tc.url, err, tc.want)
		}
	}
}
