package auth

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
)

// freshAssertion re-signs the private_key_jwt client assertion of each POST
// to the token endpoint as it is sent. x/oauth2 takes the assertion as a
// parameter built once per call, but sends that call's form more than once:
// every device-flow poll (for up to the device code's lifetime, far beyond
// the assertion's 2-minute exp) and the retry after a 429/5xx. Each send
// gets its own jti, iat and exp (RFC 7523 §3: servers may refuse a reused
// jti, and must refuse an expired assertion).
type freshAssertion struct {
	c    *Client
	next http.RoundTripper
}

func (t freshAssertion) RoundTrip(r *http.Request) (*http.Response, error) {
	e := t.c.Endpoints
	if r.Method != http.MethodPost || r.Body == nil || e == nil || e.TokenURL == "" || r.URL.String() != e.TokenURL {
		return t.next.RoundTrip(r)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, httpx.MaxBody))
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	form, perr := url.ParseQuery(string(body))
	if perr == nil && form.Get("client_assertion") != "" {
		v, err := t.c.clientAssertion(e.TokenURL)
		if err != nil {
			return nil, err
		}
		for k := range v {
			form.Set(k, v.Get(k))
		}
		body = []byte(form.Encode())
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(strings.NewReader(string(body)))
	r2.ContentLength = int64(len(body))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(body))), nil }
	return t.next.RoundTrip(r2)
}

// refreshesAssertion says token requests need freshAssertion: signed
// private_key_jwt assertions only (a federated one is the CI's token, sent
// as it is).
func (c *Client) refreshesAssertion() bool {
	return c.Profile.ClientAssertion == "" && c.clientAuth() == config.ClientAuthPrivateKeyJWT
}
