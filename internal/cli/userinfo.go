package cli

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/session"
)

// UserinfoOptions drive `oat userinfo`.
type UserinfoOptions struct {
	F        *Factory
	Settings config.Overrides
	URL      string // --userinfo-url
}

func newCmdUserinfo(f *Factory) *cobra.Command {
	opts := &UserinfoOptions{F: f}
	cmd := &cobra.Command{
		Use:   "userinfo",
		Short: "Print the OpenID Connect UserInfo response for the profile's access token",
		Long: `Print, as JSON, what the server's UserInfo endpoint (OpenID Connect Core 5.3)
says about the user of the profile's access token. The token is renewed first
when it expires within 60s; a token the server refuses (401) is renewed once
and tried again, and refused again means the session is over (exit 3).

The endpoint is the userinfo_endpoint of the server's metadata, or
--userinfo-url. A response whose sub is not the ID token's exits 5.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := finishServerFlags(cmd, &opts.Settings); err != nil {
				return err
			}
			if err := checkURLFlag("--userinfo-url", opts.URL); err != nil {
				return err
			}
			return runUserinfo(cmd.Context(), opts)
		},
	}
	addServerFlags(cmd, &opts.Settings)
	cmd.Flags().StringVar(&opts.URL, "userinfo-url", "", "userinfo endpoint (overrides discovery)")
	return cmd
}

func runUserinfo(ctx context.Context, o *UserinfoOptions) error {
	m, err := o.F.Session(o.Settings)
	if err != nil {
		return err
	}
	body, err := m.UserInfo(ctx, 60*time.Second, o.URL)
	var mismatch *session.SubjectMismatchError
	if errors.As(err, &mismatch) {
		return &CodeError{Code: ExitVerify, Err: err}
	}
	if err != nil {
		return err
	}
	return writeServerJSON(o.F.IO.Out, body)
}
