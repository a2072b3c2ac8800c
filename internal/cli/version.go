package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/build"
	"github.com/oatcli/oat/internal/output"
)

func versionString(version, commit, date string) string {
	s := version
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		s += " (commit " + commit
		if date != "" {
			s += ", built " + date
		}
		s += ")"
	}
	return s
}

func newCmdVersion(f *Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print oat's version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := output.CheckFormat(format, "text", "json"); err != nil {
				return &UsageError{Err: err}
			}
			version, commit, date := build.Info()
			if format == "json" {
				return output.WriteJSON(f.IO.Out, map[string]string{"version": version, "commit": commit, "date": date})
			}
			_, err := fmt.Fprintf(f.IO.Out, "oat %s\n", versionString(version, commit, date))
			return err
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text|json")
	return cmd
}
