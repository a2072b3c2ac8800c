package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/session"
	"github.com/oatcli/oat/internal/termsafe"
)

// RevokeOptions drive `oat revoke` (alias logout).
type RevokeOptions struct {
	F         *Factory
	Settings  config.Overrides
	Force     bool
	LocalOnly bool
}

func newCmdRevoke(f *Factory) *cobra.Command {
	opts := &RevokeOptions{F: f}
	cmd := &cobra.Command{
		Use:     "revoke",
		Aliases: []string{"logout"},
		Short:   "Revoke the tokens at the server (RFC 7009) and delete them locally",
		Long: `Revoke the refresh token (and the access token) at the server's revocation
endpoint, then delete them from the keychain and the cache.

If the server cannot revoke the refresh token, the local tokens are kept so you
can try again, unless --force. --local-only deletes them without asking the
server. A server that answers unsupported_token_type for the access token (as
many do for JWT access tokens) has not failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := finishServerFlags(cmd, &opts.Settings); err != nil {
				return err
			}
			return runRevoke(cmd.Context(), opts)
		},
	}
	addServerFlags(cmd, &opts.Settings)
	cmd.Flags().BoolVar(&opts.Force, "force", false, "delete the local tokens even if the server could not revoke them")
	cmd.Flags().BoolVar(&opts.LocalOnly, "local-only", false, "delete the local tokens without contacting the server")
	return cmd
}

func runRevoke(ctx context.Context, o *RevokeOptions) error {
	m, err := o.F.Session(o.Settings)
	if err != nil {
		return err
	}
	w := o.F.IO.ErrOut
	r, err := m.Revoke(ctx, session.RevokeOptions{Force: o.Force, LocalOnly: o.LocalOnly})
	if err != nil && (r == nil || !r.DeletedLocally) {
		// Nothing was deleted: the error says what failed and what is kept.
		return err
	}
	if r != nil {
		switch {
		case o.LocalOnly:
		case !r.HadRefresh && !r.HadAccess:
			fmt.Fprintf(w, "Profile %q holds no tokens: nothing to revoke.\n", m.Profile.Name)
		case r.NoEndpoint:
			fmt.Fprintln(w, "The server has no revocation endpoint: the tokens were not revoked there.")
			if r.HadRefresh {
				fmt.Fprintln(w, "The refresh token stays valid there until the server expires or drops it.")
			}
			if r.HadAccess {
				fmt.Fprintf(w, "The access token %s.\n", accessValidity(r.AccessExpiry, o.F.Now()))
			}
			if r.Manual != "" {
				fmt.Fprintf(w, "To end the session there: %s.\n", r.Manual)
			}
		default:
			if r.RefreshRevoked {
				fmt.Fprintln(w, "Revoked the refresh token at the server.")
			}
			if r.AccessRevoked {
				fmt.Fprintln(w, "Revoked the access token at the server.")
			}
			if r.AccessNotRevocable != "" {
				fmt.Fprintf(w, "%s does not revoke access tokens: the access token %s.\n", r.AccessNotRevocable, accessValidity(r.AccessExpiry, o.F.Now()))
			}
			if r.UnsupportedAccess {
				fmt.Fprintf(w, "The server does not revoke access tokens (unsupported_token_type): the access token %s.\n", accessValidity(r.AccessExpiry, o.F.Now()))
			}
			if r.AccessErr != nil && r.HadRefresh {
				fmt.Fprintf(w, "Could not revoke the access token (%s): it %s.\n", termsafe.Line(r.AccessErr.Error()), accessValidity(r.AccessExpiry, o.F.Now()))
			}
			if r.RefreshNotRevocable {
				fmt.Fprintln(w, "The server cannot revoke a refresh token on its own: it stays valid there until it is used or expires.")
			}
			if r.AccessNeedsSecret {
				fmt.Fprintf(w, "The server revokes a token only for a client that sends its secret (client_secret_env), and this profile has none: the access token %s.\n", accessValidity(r.AccessExpiry, o.F.Now()))
			}
			if r.Manual != "" {
				fmt.Fprintf(w, "To end the session there: %s.\n", r.Manual)
			}
			if r.RefreshErr != nil && o.Force {
				fmt.Fprintf(w, "Could not revoke at the server (%s); deleting locally because of --force.\n", termsafe.Line(r.RefreshErr.Error()))
			}
		}
		if r.DeletedLocally && r.StoreUnavailable == nil {
			fmt.Fprintf(w, "Deleted the local tokens of profile %q.\n", m.Profile.Name)
		}
		if r.StoreUnavailable != nil {
			fmt.Fprintf(w, "Deleted the cached tokens of profile %q, but the refresh token could not be reached to delete it.\n", m.Profile.Name)
		}
	}
	return err
}

// accessValidity says how long an access token that was not revoked stays
// usable at the server: until its known expiry, or, without one, until the
// server drops it.
func accessValidity(exp, now time.Time) string {
	switch {
	case exp.IsZero():
		return "has no expiry and stays valid there until the server drops it"
	case !exp.After(now):
		return "has already expired"
	}
	return "stays valid there until it " + formatExpiry(exp, now)
}
