package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/keychain"
)

// ProfileRemoveOptions drive `oat profile remove`.
type ProfileRemoveOptions struct {
	F    *Factory
	Name string
}

func newCmdProfileRemove(f *Factory, runF func(*ProfileRemoveOptions) error) *cobra.Command {
	opts := &ProfileRemoveOptions{F: f}
	return &cobra.Command{
		Use:               "remove NAME",
		Aliases:           []string{"rm"},
		Short:             "Remove a profile and delete its stored tokens",
		Args:              exactArgs(1, "NAME"),
		ValidArgsFunction: f.completeProfileArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runProfileRemove(opts)
		},
	}
}

// runProfileRemove deletes the profile's tokens (keychain or file, and cache)
// and removes it from the config file. When the keychain cannot be reached it
// says what is left behind and still removes the profile.
func runProfileRemove(o *ProfileRemoveOptions) error {
	f := o.F
	cfg, err := loadForEdit(f)
	if err != nil {
		return err
	}
	if _, ok := cfg.Profiles[o.Name]; !ok {
		return profileNotFound(cfg, o.Name)
	}
	r, err := cfg.Resolve(o.Name, config.Overrides{}, f.Getenv)
	if err != nil {
		return err
	}
	st, err := f.Store(r.Profile.Storage)
	if err == nil {
		err = st.Delete(r.Key)
	}
	if err != nil {
		what := "the refresh token in the keychain (service oat, user " + r.Key + ")"
		if errors.Is(err, keychain.ErrUnavailable) && r.Profile.Storage == config.StorageFile {
			what = "the refresh token file"
		}
		fmt.Fprintf(f.IO.ErrOut, "oat: could not delete %s: %v; it is left behind\n", what, err)
	}
	if cache, err := f.Cache(); err == nil {
		if err := cache.Delete(r.Key); err != nil {
			fmt.Fprintf(f.IO.ErrOut, "oat: could not delete the cached tokens: %v\n", err)
		}
	}
	delete(cfg.Profiles, o.Name)
	if cfg.DefaultProfile == o.Name {
		cfg.DefaultProfile = ""
	}
	if err := cfg.Save(); err != nil {
		return fmt.Errorf("saving %s: %w", cfg.Path, err)
	}
	fmt.Fprintf(f.IO.ErrOut, "Removed profile %q\n", o.Name)
	return nil
}
