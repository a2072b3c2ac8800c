package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oatcli/oat/internal/termsafe"
)

// LoginDevice runs the device authorization grant (RFC 8628): it prints the
// verification URI and user code on o.Prompt, opens verification_uri_complete
// when the server sends one (unless o.NoBrowser), and polls the token
// endpoint at the server's interval (slow_down adds 5s each time) until the
// user approves, the code expires, or ctx ends.
func (c *Client) LoginDevice(ctx context.Context, o LoginOptions) (*Result, error) {
	if c.Endpoints == nil || c.Endpoints.DeviceAuthURL == "" {
		return nil, errors.New("login: the server has no device authorization endpoint: set device_authorization_url, or use --flow pkce")
	}
	conf, err := c.oauthConfig("")
	if err != nil {
		return nil, err
	}
	octx := c.ctx(ctx)
	da, err := conf.DeviceAuth(octx, c.extraParams()...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, loginCtxErr(ctx, "the device authorization did not start")
		}
		return nil, mapError(ctx, "device authorization", "device authorization endpoint", err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, errors.New("device authorization: the server's answer lacks device_code, user_code or verification_uri")
	}

	prompt := newPromptWriter(o.Prompt)
	defer prompt.close()
	// The URI and the code are the server's text: shown escaped, so that an
	// escape sequence (an OSC 8 link) cannot show one URL and link another.
	fmt.Fprintf(prompt, "To log in, visit:\n\n  %s\n\nand enter the code: %s\n\n", termsafe.Line(da.VerificationURI), termsafe.Line(da.UserCode))
	if o.Ready != nil {
		o.Ready(da.VerificationURI)
	}
	open := da.VerificationURIComplete != "" && !o.NoBrowser && o.Browser != nil
	if open {
		if err := CheckOpenURL(da.VerificationURIComplete); err != nil {
			fmt.Fprintf(prompt, "Not opening the server's verification_uri_complete in a browser: %s. Use the URL and code above.\n", err)
			open = false
		}
	}
	if open {
		browserDone := make(chan struct{})
		go func() {
			defer close(browserDone)
			if err := o.Browser(da.VerificationURIComplete); err != nil {
				fmt.Fprintf(prompt, "Could not open a browser (%s); use the URL and code above.\n", termsafe.Line(err.Error()))
				return
			}
			fmt.Fprintf(prompt, "Opened a browser at the server's verification page (%s); if it did not open, use the URL and code above.\n", da.VerificationURIComplete)
		}()
		defer func() {
			// Let the browser helper return, but never wait long for it.
			select {
			case <-browserDone:
			case <-time.After(3 * time.Second):
			}
		}()
	}
	fmt.Fprintf(prompt, "Waiting for approval…\n")

	ao, err := c.assertionOpts(conf.Endpoint.TokenURL)
	if err != nil {
		return nil, err
	}
	tok, err := conf.DeviceAccessToken(octx, da, append(c.extraParams(), ao...)...)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, loginCtxErr(ctx, "the device code was not approved")
		case errors.Is(err, context.DeadlineExceeded) && !da.Expiry.IsZero() && !time.Now().Before(da.Expiry):
			// x/oauth2 stops polling when the code expires.
			return nil, &ServerError{Op: "login", Code: "expired_token", Description: "the device code expired before it was approved"}
		}
		return nil, c.clientErr(mapError(ctx, "login", "token endpoint", err))
	}
	return c.result(ctx, tok, "")
}
