package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/output"
	"github.com/oatcli/oat/internal/termsafe"
)

// StatusOptions drive `oat status`.
type StatusOptions struct {
	F        *Factory
	Settings config.Overrides
	Output   string
}

// statusRow is the stable -o json shape of one profile.
type statusRow struct {
	Profile      string  `json:"profile"`
	LoggedIn     bool    `json:"logged_in"`
	Subject      *string `json:"subject"`
	ExpiresAt    *string `json:"expires_at"`
	RefreshToken *string `json:"refresh_token"`
	NeedsLogin   bool    `json:"needs_login"`
}

func newCmdStatus(f *Factory) *cobra.Command {
	opts := &StatusOptions{F: f}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show which profiles are logged in, token expiry and where refresh tokens are kept",
		Long: `One row per profile: logged in or not, subject, access-token expiry, and
whether a refresh token is stored and where (keychain or file). With -p or
server flags, only that profile.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := finishServerFlags(cmd, &opts.Settings); err != nil {
				return err
			}
			if err := output.CheckFormat(opts.Output, "table", "json"); err != nil {
				return &UsageError{Err: err}
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	addServerFlags(cmd, &opts.Settings)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output format: table|json")
	return cmd
}

func runStatus(_ context.Context, o *StatusOptions) error {
	f := o.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	var profiles []*config.Resolved
	if f.ProfileFlag != "" || o.Settings.Issuer != "" || o.Settings.TokenURL != "" || o.Settings.ClientID != "" {
		r, err := cfg.Resolve(f.ProfileFlag, o.Settings, f.Getenv)
		if err != nil {
			return err
		}
		profiles = append(profiles, r)
	} else {
		for _, name := range cfg.Names() {
			r, err := cfg.Resolve(name, config.Overrides{}, f.Getenv)
			if err != nil {
				return err
			}
			profiles = append(profiles, r)
		}
	}
	cache, err := f.Cache()
	if err != nil {
		return err
	}
	now := f.Now()
	rows := make([]statusRow, 0, len(profiles))
	warned := map[string]bool{}
	for _, r := range profiles {
		row := statusRow{Profile: r.Name}
		validAT := false
		if e, err := cache.Load(r.Key); err == nil && e.Fingerprint == r.Fingerprint {
			row.NeedsLogin = e.NeedsLogin
			if name := auth.DisplayName(e.IDToken); name != "" {
				row.Subject = ptr(name)
			} else if e.Subject != "" {
				row.Subject = ptr(e.Subject)
			}
			if e.AccessToken != "" && !e.Expiry.IsZero() {
				row.ExpiresAt = ptr(e.Expiry.UTC().Format(time.RFC3339))
			}
			validAT = e.AccessToken != "" && (e.Expiry.IsZero() || e.Expiry.After(now))
		}
		if !config.IsMachineFlow(r.Profile.Flow) {
			kind, usable := "", false
			m, err := f.sessionFor(r)
			if err == nil {
				kind, usable, err = m.StoredRefreshToken()
			}
			switch {
			case err == nil && kind != "":
				row.RefreshToken = ptr(kind)
				// Issued to another server or client: stored, but no use.
				row.NeedsLogin = row.NeedsLogin || !usable
			case err == nil:
			default:
				if !warned[err.Error()] {
					warned[err.Error()] = true
					fmt.Fprintf(f.IO.ErrOut, "oat: cannot tell whether refresh tokens are stored: %v\n", err)
				}
			}
		}
		row.LoggedIn = !row.NeedsLogin && (validAT || row.RefreshToken != nil)
		rows = append(rows, row)
	}
	if o.Output == "json" {
		return output.WriteJSON(f.IO.Out, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "No profiles. Add one with `oat profile add NAME --issuer URL --client-id ID`.")
		return nil
	}
	color := f.IO.ColorEnabled()
	t := output.NewTable("PROFILE", "STATUS", "SUBJECT", "ACCESS TOKEN", "REFRESH TOKEN")
	for _, row := range rows {
		status := output.Colorize(color, output.Green, "logged in")
		switch {
		case row.NeedsLogin:
			status = output.Colorize(color, output.Red, "needs login")
		case !row.LoggedIn:
			status = output.Colorize(color, output.Dim, "not logged in")
		}
		exp := "-"
		if row.ExpiresAt != nil {
			t, _ := time.Parse(time.RFC3339, *row.ExpiresAt)
			exp = formatExpiry(t, now)
		}
		rt := "-"
		if row.RefreshToken != nil {
			rt = *row.RefreshToken
		}
		// The subject came from a server, the profile name from a file:
		// both shown escaped (termsafe).
		t.AddRow(termsafe.Line(row.Profile), status, termsafe.Line(deref(row.Subject, "-")), exp, rt)
	}
	return t.Render(f.IO.Out, color)
}

func ptr(s string) *string { return &s }

func deref(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
