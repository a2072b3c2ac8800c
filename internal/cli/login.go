package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/dpop"
	"github.com/oatcli/oat/internal/termsafe"
	"github.com/oatcli/oat/internal/tokentext"
)

// LoginOptions drive `oat login`.
type LoginOptions struct {
	F         *Factory
	Settings  config.Overrides
	NoBrowser bool
	Timeout   time.Duration
}

func newCmdLogin(f *Factory) *cobra.Command {
	opts := &LoginOptions{F: f}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in with a browser (PKCE), a device code, or client credentials, and store the tokens",
		Long: `Run a flow and store the result: the refresh token in the OS keychain (or
the file storage you opted in to), the access and ID tokens in oat's cache.

Flows: pkce (a browser and a loopback redirect on 127.0.0.1, RFC 8252 + PKCE),
device (a code to enter on another device, RFC 8628), client-credentials (a
machine client with a secret). Default: the profile's flow; else pkce, or device
where no browser can open (SSH session, no display) and the server supports it.`,
		Example: `  oat login -p work
  oat login -p work --flow device
  oat login --issuer https://login.example.com --client-id cli-app --no-browser`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := finishServerFlags(cmd, &opts.Settings); err != nil {
				return err
			}
			if opts.Timeout <= 0 {
				return usageErrorf("--timeout must be positive")
			}
			return runLogin(cmd.Context(), opts)
		},
	}
	addServerFlags(cmd, &opts.Settings)
	cmd.Flags().BoolVar(&opts.NoBrowser, "no-browser", false, "print the URL instead of opening a browser")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "give up waiting for the user after this long")
	return cmd
}

func runLogin(ctx context.Context, o *LoginOptions) error {
	f := o.F
	m, err := f.Session(o.Settings)
	if err != nil {
		return err
	}
	p := m.Profile.Profile
	flow := p.FlowOrDefault()
	if p.Flow == "" {
		if !f.canOpenBrowser() && !o.NoBrowser && m.HasDeviceEndpoint(ctx) {
			flow = config.FlowDevice
			fmt.Fprintln(f.IO.ErrOut, "No browser can be opened here: using the device flow (pass --flow pkce --no-browser to print a URL instead).")
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	e, err := m.Login(ctx, flow, auth.LoginOptions{
		Browser:   f.browserFor(p),
		NoBrowser: o.NoBrowser,
		Prompt:    f.IO.ErrOut,
	})
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, auth.ErrTimeout) {
		return fmt.Errorf("login timed out after %s: run oat login again (or pass a longer --timeout)", o.Timeout)
	}
	if err != nil {
		return err
	}
	who := e.Subject
	if who == "" {
		who = "client " + p.ClientID
	}
	where := ""
	switch e.Storage {
	case "":
		if !config.IsMachineFlow(flow) {
			where = "; the server sent no refresh token, so log in again when it expires"
		}
	default:
		where = "; refresh token in " + storageName(e.Storage)
	}
	// The subject is the server's text: shown escaped (termsafe).
	fmt.Fprintf(f.IO.ErrOut, "Logged in as %s (profile %q); access token %s%s\n", termsafe.Line(who), m.Profile.Name, formatExpiry(e.Expiry, f.Now()), where)
	if e.DPoPJKT != "" && tokentext.NormalizeTokenType(e.TokenType) != dpop.TokenType {
		// Whoever set dpop counts on a bound token: say that it is not.
		fmt.Fprintf(f.IO.ErrOut, "Note: dpop is set, but the server issued a %s token, not a DPoP-bound one: it does not support DPoP (RFC 9449), so the token works for whoever holds it.\n", termsafe.Line(tokentext.NormalizeTokenType(e.TokenType)))
	}
	return nil
}

func storageName(kind string) string {
	if kind == config.StorageFile {
		return "file storage"
	}
	return "the keychain"
}
