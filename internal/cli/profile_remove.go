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

func newCmdProfileRemove(f *Factory) *cobra.Command {
	opts := &ProfileRemoveOptions{F: f}
	return profileNameCmd(f, &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Remove a profile and delete its stored tokens",
	}, func(name string) error {
		opts.Name = name
		return runProfileRemove(opts)
	})
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
	// The profile's own tokens: its name is their key. Delete from the store
	// the profile names and from the one OAT_STORAGE names, if another.
	kinds := []string{cfg.Profiles[o.Name].StorageOrDefault()}
	if env := f.Getenv("OAT_STORAGE"); env != "" && env != kinds[0] {
		kinds = append(kinds, env)
	}
	for _, kind := range kinds {
		st, err := f.BoundStore(kind)
		if err == nil {
			err = st.Delete(o.Name)
		}
		if err != nil {
			what := "the refresh token in the keychain (service oat, user " + o.Name + ")"
			if kind == config.StorageFile {
				what = "the refresh token file"
			}
			fmt.Fprintf(f.IO.ErrOut, "oat: could not delete %s: %s; it is left behind\n", what, removeReason(err))
		}
	}
	if cache, err := f.Cache(); err == nil {
		if err := cache.Delete(o.Name); err != nil {
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

// removeReason is a storage error without the hint to opt in to file
// storage, which makes no sense when removing.
func removeReason(err error) string {
	var ue *keychain.UnavailableError
	if errors.As(err, &ue) {
		return ue.Problem()
	}
	return err.Error()
}
