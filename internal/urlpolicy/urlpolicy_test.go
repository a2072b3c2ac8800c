package urlpolicy

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "https://a.example.com", "http://127.0.0.1:8080/x", "http://localhost/x",
		"http://LOCALHOST/x", "http://[::1]:9/"} {
		if err := Check("k", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"ftp://a", "a.example.com", "/relative", "http://10.0.0.1/", "http://example.com",
		"https://", "http://127.0.0.1.evil.com/x"} {
		if err := Check("k", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A refused URL's password never appears in the message.
func TestCheckRedactsPasswords(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"http://user:s3cret-pw@example.com/x", "ftp://user:s3cret-pw@a/", "http://user:s3cret-pw@%zz/"} {
		err := Check("token_url", bad)
		if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
