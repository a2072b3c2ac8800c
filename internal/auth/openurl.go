package auth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/oatcli/oat/internal/urlpolicy"
)

// CheckOpenURL is oat's one rule for a URL it hands to a browser launcher
// (the authorization URL, the device flow's verification_uri_complete): an
// absolute https URL (http only on a loopback host) made of visible ASCII
// only, so no control character, space or option ("-…") can reach the
// launcher's command line, and no file:, javascript: or other scheme can make
// the browser or the OS run something. The host may be any host: device
// verification pages often live elsewhere than the issuer (Google, Entra).
// A URL that fails is printed (escaped), never opened.
func CheckOpenURL(raw string) error {
	if raw == "" {
		return errors.New("the URL is empty")
	}
	if raw[0] == '-' {
		return errors.New("the URL starts with '-' (it would be read as an option)")
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x21 || c > 0x7e {
			return errors.New("the URL holds a control character, a space or a non-ASCII byte")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("the URL does not parse")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && urlpolicy.IsLoopbackHost(u.Hostname()):
	case u.Scheme == "http":
		return errors.New("the URL uses http on a host that is not loopback (only https is opened)")
	default:
		return fmt.Errorf("the URL's scheme is %q, not https", strings.ToLower(u.Scheme))
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return errors.New("the URL has no host")
	}
	return nil
}
