// Package urlpolicy is oat's one rule for the URLs it talks to: https, or
// http only on a loopback host (local development and tests). Profile
// validation, discovery, JWKS fetches, decode --verify and redirects all ask
// it, so they cannot disagree about a URL.
package urlpolicy

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Check accepts an empty value, an https URL, or an http URL whose host is a
// loopback address or localhost. name says what the value is in the message
// ("token_url", "--jwks-url", "the redirect target").
func Check(name, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("%s is not an absolute http(s) URL (it does not parse)", name)
	}
	// Messages show the URL as given, but with any password in it replaced.
	shown := v
	if _, ok := u.User.Password(); ok {
		shown = u.Redacted()
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s %q is not an absolute http(s) URL", name, shown)
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return fmt.Errorf("%s %q uses http: only https is allowed, except for loopback hosts (127.0.0.1, ::1, localhost)", name, shown)
	}
	return nil
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
