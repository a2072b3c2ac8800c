// Package cli is oat's command tree. Each command is an options struct, a
// newCmdX constructor that binds flags, and a runX function that tests call
// directly with fake streams; Main maps errors to exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/build"
)

// Main runs oat with real streams and environment and returns the exit code.
//
// Ctrl-C cancels the command's context (then exit 130), from the moment
// the command may block: at its start for most commands, only before a
// renewal for `oat token` and only with --verify for `oat decode`. A
// signal handler costs a process three threads; a cached `oat token` does
// not need one.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := NewFactory(stdin, stdout, stderr, os.Getenv)
	f.fastEnviron = os.Environ
	var stop func()
	f.watchInterrupt = func() {
		if stop != nil {
			return
		}
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt)
		stop = func() { signal.Stop(ch) }
		go func() {
			select {
			case <-ch:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	code := Run(ctx, f, args)
	if stop != nil {
		stop()
	}
	return code
}

// lazyInterruptAnnotation marks a command that calls f.interruptible()
// itself, before it may block, instead of at its start.
const lazyInterruptAnnotation = "oat.lazyInterrupt"

// Run executes args against f and returns the exit code, printing any error as
// one line on f.IO.ErrOut.
func Run(ctx context.Context, f *Factory, args []string) int {
	f.fastArgs = args
	root := newRootCmd(f, fastCommand(args))
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var ue *UsageError
	if !started(cmd) && !errors.As(err, &ue) {
		// cobra rejected the command line (unknown command, wrong number of
		// arguments) before the command ran.
		err = &UsageError{Err: err}
	}
	code := ExitCode(err, ctx.Err() != nil)
	var se *SilentExit
	switch {
	case errors.As(err, &se):
		// A child program ended oat; it has said whatever it had to.
	case code == ExitInterrupted:
		fmt.Fprintln(f.IO.ErrOut, "oat: interrupted")
	default:
		fmt.Fprintf(f.IO.ErrOut, "oat: %s\n", oneLine(err.Error()))
		if errors.As(err, &ue) && cmd != nil {
			fmt.Fprintf(f.IO.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return code
}

const startedAnnotation = "oat.started"

func started(cmd *cobra.Command) bool {
	return cmd != nil && cmd.Annotations[startedAnnotation] == "1"
}

// fastCommands are the commands scripts run often. A command line that
// names one of them gets a root holding just it: building the other
// commands and their flags was most of what a cached `oat token` did
// in-process.
var fastCommands = map[string]func(*Factory) *cobra.Command{
	"token":  func(f *Factory) *cobra.Command { return newCmdToken(f) },
	"decode": func(f *Factory) *cobra.Command { return newCmdDecode(f, nil) },
}

// fastCommand returns the constructor of the fast command args run, or nil
// when args name another command or hold a flag before the command that
// only the whole tree may judge.
func fastCommand(args []string) func(*Factory) *cobra.Command {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-p" || a == "--profile" || a == "--config":
			i++ // the flag's value
		case a == "-v" || a == "--verbose" || a == "--no-color",
			strings.HasPrefix(a, "--profile=") || strings.HasPrefix(a, "--config="),
			len(a) > 2 && strings.HasPrefix(a, "-p") && !strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-"):
			return nil
		default:
			return fastCommands[a]
		}
	}
	return nil
}

// newRootCmd builds the root with every command, or with only the command
// only makes.
func newRootCmd(f *Factory, only func(*Factory) *cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:   "oat",
		Short: "Get, keep, renew, inspect and revoke OAuth 2.0 / OpenID Connect tokens",
		Long: `oat gets OAuth 2.0 and OpenID Connect tokens from a terminal, a script or a CI job.

  oat profile add work --issuer https://login.example.com --client-id cli-app
  oat login -p work
  oat curl -p work -- https://api.example.com/

Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 login required,
4 temporary failure (retry may help), 5 token verification failed, 6 token
storage unavailable, 130 interrupted. oat exec and oat curl exit with their
command's code (126 cannot run, 127 not found for exec).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Annotations == nil {
				cmd.Annotations = map[string]string{}
			}
			cmd.Annotations[startedAnnotation] = "1"
			if cmd.Annotations[lazyInterruptAnnotation] == "" {
				f.interruptible()
			}
			if noColor, _ := cmd.Flags().GetBool("no-color"); noColor {
				f.IO.DisableColor()
			}
			return nil
		},
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })

	pf := root.PersistentFlags()
	pf.StringVarP(&f.ProfileFlag, "profile", "p", "", "profile to use (default: $OAT_PROFILE, else default_profile, else \"default\")")
	pf.StringVar(&f.ConfigFlag, "config", "", "config file (default: $OAT_CONFIG, else $XDG_CONFIG_HOME/oat/config.toml)")
	pf.BoolVarP(&f.Verbose, "verbose", "v", false, "log each HTTP exchange on stderr (tokens and secrets redacted)")
	pf.Bool("no-color", false, "never colour output (also: NO_COLOR)")
	_ = root.RegisterFlagCompletionFunc("profile", f.completeProfiles)

	if only != nil {
		root.AddCommand(only(f))
		// A fast root is never asked for `completion` or `--version` (those
		// command lines take the whole tree): it skips cobra's completion
		// command (four shells' help texts formatted on every run) and
		// reading the build information.
		root.CompletionOptions.DisableDefaultCmd = true
		return root
	}
	root.Version = versionString(build.Info())
	root.AddCommand(
		newCmdLogin(f),
		newCmdToken(f),
		newCmdRefresh(f),
		newCmdRevoke(f),
		newCmdStatus(f),
		newCmdDecode(f, nil),
		newCmdExec(f),
		newCmdIntrospect(f),
		newCmdUserinfo(f),
		newCmdCurl(f),
		newCmdGitCredential(f),
		newCmdProfile(f),
		newCmdVersion(f),
	)
	root.AddCommand(issuerCommands(f)...)
	root.InitDefaultCompletionCmd()
	return root
}

// completeProfiles completes profile names from the config file.
func (f *Factory) completeProfiles(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	cfg, err := f.Config()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return cfg.Names(), cobra.ShellCompDirectiveNoFileComp
}
