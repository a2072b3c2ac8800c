package issuer

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// redirectAllowed reports whether raw is a redirect URI of c: one of its
// RedirectURIs exactly, or an http URI on a loopback host (127.0.0.1, [::1],
// localhost) with any port and path, as RFC 8252 §7.3 asks of native apps.
func (c Client) redirectAllowed(raw string) bool {
	if slices.Contains(c.RedirectURIs, raw) {
		return true
	}
	if strings.Contains(raw, "#") {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Opaque != "" || u.User != nil {
		return false
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
	default:
		return false
	}
	if p := u.Port(); p != "" {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return false
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return false
	}
	return true
}

// authenticate finds the client of a token, device, revocation or
// introspection request (its form already parsed): a confidential client by
// HTTP Basic (client_secret_basic) or client_id and client_secret in the
// form (client_secret_post), a public one by client_id alone.
func (s *storage) authenticate(r *http.Request) (Client, *oauthError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: both are form-encoded before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return Client{}, errInvalidClient("malformed Basic credentials")
		}
		if fid := r.PostForm.Get("client_id"); fid != "" && fid != id {
			return Client{}, errInvalidRequest("client_id in the form differs from the Basic credentials")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return Client{}, errInvalidClient("client authentication is required (client_id)")
	}
	c, ok := s.client(id)
	if !ok {
		return Client{}, errInvalidClient("unknown client")
	}
	if c.Secret != "" && subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, errInvalidClient("wrong client ID or secret")
	}
	return c, nil
}
