//go:build noissuer

package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"
)

// IssuerBinary is the program that holds the local issuer in builds made
// with -tags noissuer (the release builds): the OpenID Provider library's
// package initialisation would otherwise slow down every oat command, the
// cached `oat token` first of all.
const IssuerBinary = "oat-issuer"

// issuerCommands are `oat issuer` and `oat demo`, run by the oat-issuer binary
// found next to oat or on PATH, with oat's arguments, streams and exit code.
func issuerCommands(f *Factory) []*cobra.Command {
	forward := func(name, short string) *cobra.Command {
		return &cobra.Command{
			Use:                name,
			Short:              short + " (runs " + IssuerBinary + ")",
			DisableFlagParsing: true,
			RunE: func(cmd *cobra.Command, args []string) error {
				return runIssuerBinary(f, append([]string{name}, args...))
			},
		}
	}
	return []*cobra.Command{
		forward("issuer", "Run a local OpenID Provider for trying oat and testing APIs"),
		forward("demo", "Try oat end to end against a built-in local issuer (no IdP, no setup)"),
	}
}

func runIssuerBinary(f *Factory, args []string) error {
	bin, err := findIssuerBinary()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f.IO.In, f.IO.Out, f.IO.ErrOut
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		// oat-issuer has said what went wrong; pass its exit code on.
		return &SilentExit{Code: ee.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("running %s: %w", bin, err)
	}
	return nil
}

func findIssuerBinary() (string, error) {
	name := IssuerBinary
	if filepath.Ext(os.Args[0]) == ".exe" {
		name += ".exe"
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("this oat was built without the local issuer and %s is neither next to it nor on PATH: install it from the same release archive, or run go install github.com/oatcli/oat/cmd/oat@latest (which builds it in)", IssuerBinary)
}
