package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/issuer"
	"github.com/oatcli/oat/internal/output"
)

// issuerCommands are `oat issuer` and `oat demo`.
func issuerCommands(f *Factory) []*cobra.Command {
	return []*cobra.Command{newCmdIssuer(f), newCmdDemo(f)}
}

// DemoOptions drive `oat demo`.
type DemoOptions struct {
	F *Factory
}

func newCmdDemo(f *Factory) *cobra.Command {
	opts := &DemoOptions{F: f}
	return &cobra.Command{
		Use:   "demo",
		Short: "Try oat end to end against a built-in local issuer (no IdP, no setup)",
		Long: `Start oat's local OpenID Provider on a free 127.0.0.1 port and walk through
oat's whole job with a throwaway profile: add a profile, log in through the real
loopback PKCE flow (approved automatically), print the access token, decode and
verify it, renew it, revoke it. Each step is explained on stderr.

The demo never touches your config file, keychain or token cache: it works in a
temporary folder (file storage) that it deletes at the end. It exits 0 only if
every step worked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), opts)
		},
	}
}

// demoStep is one command the demo runs, with what it explains and the exit
// code that means it worked.
type demoStep struct {
	explain string
	args    []string
	want    int
	// quiet steps send their stdout to stderr (it is not the demo's result).
	quiet bool
}

func runDemo(ctx context.Context, o *DemoOptions) error {
	f := o.F
	w := f.IO.ErrOut
	color := f.IO.ColorEnabledErr()
	tmp, err := os.MkdirTemp("", "oat-demo-")
	if err != nil {
		return fmt.Errorf("demo: creating a temporary folder: %w", err)
	}
	defer os.RemoveAll(tmp)

	iss, err := issuer.Start(ctx, issuer.Config{AutoApprove: true, Users: []string{"alice"}})
	if err != nil {
		return fmt.Errorf("demo: starting the local issuer: %w", err)
	}
	defer iss.Close()
	fmt.Fprintf(w, "%s a local OpenID Provider is running at %s (user \"alice\", client \"oat\"; approvals are automatic)\n",
		output.Colorize(color, output.Bold, "oat demo:"), iss.URL)
	fmt.Fprintf(w, "          everything lives in %s and is deleted at the end\n", tmp)

	child := demoFactory(f, tmp)
	steps := []demoStep{
		{"Add a profile named \"demo\" for that issuer and its public client (written to the throwaway config file).",
			[]string{"profile", "add", "demo", "--issuer", iss.URL, "--client-id", "oat", "--scope", "openid profile offline_access"}, ExitOK, true},
		{"Log in: oat listens on 127.0.0.1, opens the authorization URL (PKCE S256, state, nonce) and waits for the redirect; the ID token is verified.",
			[]string{"login"}, ExitOK, true},
		{"Print the access token, as `$(oat token)` does in scripts (stdout: the token and a newline, nothing else).",
			[]string{"token"}, ExitOK, false},
		{"Decode it and verify its signature with the issuer's JWKS.",
			[]string{"decode", "--access-token", "--verify"}, ExitOK, false},
		{"Renew it now: a refresh-token grant; the rotated refresh token is stored first.",
			[]string{"refresh", "-o", "json"}, ExitOK, false},
		{"Show the profile's status.",
			[]string{"status"}, ExitOK, false},
		{"Revoke the tokens at the issuer (RFC 7009) and delete them locally.",
			[]string{"revoke"}, ExitOK, true},
		{"Ask for a token again: there is none left, so oat says a login is needed (exit code 3).",
			[]string{"token"}, ExitLoginRequired, true},
	}
	for i, s := range steps {
		fmt.Fprintf(w, "\n%s %s\n", output.Colorize(color, output.Cyan, fmt.Sprintf("[%d/%d]", i+1, len(steps))), s.explain)
		fmt.Fprintf(w, "      %s\n", output.Colorize(color, output.Dim, "$ oat -p demo "+strings.Join(quoteArgs(s.args), " ")))
		out := f.IO.Out
		if s.quiet {
			out = w
		}
		child.IO = output.New(f.IO.In, out, w, child.Getenv)
		child.IO.SetTTY(false, f.IO.IsStdoutTTY() && !s.quiet, f.IO.IsStderrTTY())
		if !color {
			child.IO.DisableColor()
		}
		code := Run(ctx, child.clone(), append([]string{"-p", "demo"}, s.args...))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if code != s.want {
			return fmt.Errorf("demo: step %d (oat %s) exited %d, want %d", i+1, strings.Join(s.args, " "), code, s.want)
		}
	}
	fmt.Fprintf(w, "\n%s every step worked. Next: `oat issuer serve` runs this issuer for your own tests (docs/issuer.md).\n",
		output.Colorize(color, output.Green, "oat demo:"))
	return nil
}

// demoFactory is f with a throwaway environment: config, cache and state under
// dir, file storage, and a browser that follows the auto-approved redirect.
func demoFactory(f *Factory, dir string) *Factory {
	env := map[string]string{
		"HOME":            dir,
		"OAT_CONFIG":      filepath.Join(dir, "config.toml"),
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"XDG_CACHE_HOME":  filepath.Join(dir, "cache"),
		"XDG_STATE_HOME":  filepath.Join(dir, "state"),
		"OAT_STORAGE":     "file",
	}
	keep := map[string]bool{"NO_COLOR": true, "CLICOLOR": true, "TERM": true, "TZ": true, "PATH": true}
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if keep[k] {
			return f.Getenv(k)
		}
		return ""
	}
	return &Factory{
		IO:            f.IO,
		Getenv:        getenv,
		Now:           f.Now,
		Browser:       autoApproveBrowser,
		HTTPTransport: f.HTTPTransport,
	}
}

// clone returns a fresh Factory with the same dependencies (each Run binds
// its own global flags and config).
func (f *Factory) clone() *Factory {
	return &Factory{IO: f.IO, Getenv: f.Getenv, Now: f.Now, Browser: f.Browser, HTTPTransport: f.HTTPTransport, StoreFor: f.StoreFor}
}

// autoApproveBrowser plays the browser for the auto-approving local issuer:
// it follows the authorization redirects to oat's loopback listener (the
// issuer sets no cookies).
func autoApproveBrowser(u string) error {
	hc := &http.Client{Timeout: httpx.DefaultTimeout}
	resp, err := hc.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return errors.New("the authorization redirect ended with " + resp.Status)
	}
	return nil
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t\"'$") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}
