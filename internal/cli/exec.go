package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/config"
)

// ExecOptions drive `oat exec`.
type ExecOptions struct {
	F        *Factory
	Settings config.Overrides
	MinTTL   time.Duration
	EnvVar   string
	Args     []string // CMD and its arguments
}

func newCmdExec(f *Factory) *cobra.Command {
	opts := &ExecOptions{F: f}
	cmd := &cobra.Command{
		Use:   "exec [flags] -- CMD [ARGS...]",
		Short: "Run a command with a valid access token in its environment",
		Long: `Run CMD with a valid access token in the environment variable OAT_ACCESS_TOKEN
(--env-var NAME), and its expiry (RFC 3339) in NAME_EXPIRES_AT. The token is
renewed first when it expires within --min-ttl, and never appears on any
command line. CMD gets oat's stdin, stdout and stderr; SIGINT, SIGTERM,
SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to oat are passed on to it; oat
exits with CMD's exit code (128+N when CMD was killed by signal N). CMD not
found: exit 127; found but not runnable: exit 126.

Flags after CMD belong to CMD; "--" before CMD is optional but clearer.`,
		Example: `  oat exec -p work -- ./deploy.sh              # reads $OAT_ACCESS_TOKEN
  oat exec --env-var VAULT_TOKEN -- vault status
  oat exec -p gh --env-var GH_TOKEN -- gh api /user`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("no command given: oat exec [flags] -- CMD [ARGS...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := finishServerFlags(cmd, &opts.Settings); err != nil {
				return err
			}
			if err := checkEnvVarName(opts.EnvVar); err != nil {
				return err
			}
			if opts.MinTTL < 0 {
				return usageErrorf("--min-ttl must not be negative")
			}
			opts.Args = args
			return runExec(cmd.Context(), opts)
		},
	}
	// Everything after CMD is CMD's: `oat exec curl -v` passes -v to curl.
	cmd.Flags().SetInterspersed(false)
	addServerFlags(cmd, &opts.Settings)
	cmd.Flags().DurationVar(&opts.MinTTL, "min-ttl", 60*time.Second, "renew when the access token expires within this duration")
	cmd.Flags().StringVar(&opts.EnvVar, "env-var", defaultEnvVar, "the variable that holds the token (its expiry goes in NAME_EXPIRES_AT)")
	return cmd
}

func runExec(ctx context.Context, o *ExecOptions) error {
	// Find CMD before anything else: no token is fetched for a typo.
	path, err := exec.LookPath(o.Args[0])
	if err != nil {
		code := 127
		if !errors.Is(err, exec.ErrNotFound) {
			code = 126
		}
		what := "not found"
		if code == 126 {
			what = "cannot be run"
		}
		return &CodeError{Code: code, Err: fmt.Errorf("exec: %q %s: %v", o.Args[0], what, unwrapExecError(err))}
	}
	m, e, err := o.F.ValidToken(ctx, o.Settings, o.MinTTL)
	if err != nil {
		return err
	}
	o.F.maskTokens(e.AccessToken)

	expName := o.EnvVar + "_EXPIRES_AT"
	env := withoutVars(o.F.childEnv(m.Profile.Profile), o.EnvVar, expName)
	env = append(env, o.EnvVar+"="+e.AccessToken)
	if !e.Expiry.IsZero() {
		env = append(env, expName+"="+e.Expiry.UTC().Format(time.RFC3339))
	}
	c := exec.Command(path, o.Args[1:]...)
	c.Args[0] = o.Args[0] // as a shell would: argv[0] as typed
	c.Env = env
	c.Stdin, c.Stdout, c.Stderr = o.F.IO.In, o.F.IO.Out, o.F.IO.ErrOut

	startErr, err := runChild(c, nil)
	if startErr != nil {
		return &CodeError{Code: 126, Err: fmt.Errorf("exec: %q cannot be run: %v", o.Args[0], unwrapExecError(startErr))}
	}
	var se *SilentExit
	if err != nil && !errors.As(err, &se) {
		// Copying a non-file stdin/stdout failed after a clean exit.
		return fmt.Errorf("exec: %v", err)
	}
	return err
}

// runChild starts c, a program oat hands a token to (oat exec, oat curl),
// calls started once it runs, passes on the signals meant for it
// (shouldForward), and waits. The child's exit is oat's: a non-zero status is
// a *SilentExit with its code (128+N when signal N ended it), since the child
// has said whatever it had to. startErr is set when c could not start.
func runChild(c *exec.Cmd, started func()) (startErr, err error) {
	// Listen before the child starts, so that no signal meant for it is
	// lost or kills oat on the way.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := c.Start(); err != nil {
		return err, nil
	}
	if started != nil {
		started()
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if shouldForward(s) {
					_ = c.Process.Signal(s)
				}
			case <-done:
				return
			}
		}
	}()
	err = c.Wait()
	close(done)
	if code := childExitCode(c.ProcessState); code != 0 {
		return nil, &SilentExit{Code: code}
	}
	return nil, err
}

// withoutVars drops NAME=… entries for the given names from env.
func withoutVars(env []string, names ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		drop := false
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// unwrapExecError keeps the reason of an *exec.Error or *os.PathError
// without repeating the program name.
func unwrapExecError(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err
}
