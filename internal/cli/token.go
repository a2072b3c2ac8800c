package cli

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/dpop"
	"github.com/oatcli/oat/internal/fastpath"
	"github.com/oatcli/oat/internal/output"
	"github.com/oatcli/oat/internal/session"
	"github.com/oatcli/oat/internal/tokencache"
	"github.com/oatcli/oat/internal/tokentext"
)

// TokenOptions drive `oat token` and `oat refresh`.
type TokenOptions struct {
	F        *Factory
	Settings config.Overrides
	MinTTL   time.Duration
	Output   string
	IDToken  bool
	Quiet    bool // refresh -q
	Force    bool // refresh: renew whatever the cache holds

	// DPoPMethod and DPoPURL (token --dpop-proof METHOD URL): print the
	// headers of a request with a new proof instead of the token.
	DPoPMethod string
	DPoPURL    string

	Shell   string // -o env: bash|zsh|fish|powershell ("" = from $SHELL)
	EnvVar  string // -o env: the variable's name
	k8sInfo execInfo

	// onlyProfileFlag: no flag was given but -p/--profile, so the token this
	// prints may be remembered for package fastpath.
	onlyProfileFlag bool
}

func newCmdToken(f *Factory) *cobra.Command {
	opts := &TokenOptions{F: f}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a valid access token, renewing it first when it is about to expire",
		Long: `Print a valid access token and a newline, nothing else.

When the cached token expires within --min-ttl, oat renews it first: a
refresh-token grant, or a new client-credentials grant for machine profiles.
A cached token is printed without touching the network or the keychain.
oat token never opens a browser: when a login is needed it exits with code 3.`,
		Example: `  curl -H "Authorization: Bearer $(oat token)" https://api.example.com/
  curl -H "$(oat token -o header)" https://api.example.com/
  eval "$(oat token -o env)"            # sets $OAT_ACCESS_TOKEN (--shell fish|zsh|powershell)
  oat token -p k8s -o exec-credential   # for a kubeconfig exec user (kubectl)
  oat token --dpop-proof GET https://api.example.com/v1/me   # DPoP: Authorization and DPoP headers
  OAT_CLIENT_SECRET=… oat token --flow client-credentials --token-url https://auth.example.com/token --client-id bot`,
		Args: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("dpop-proof") {
				return cobra.NoArgs(cmd, args)
			}
			if len(args) != 1 {
				return usageErrorf("--dpop-proof takes METHOD URL, as in --dpop-proof GET https://api.example.com/ (got %d URLs)", len(args))
			}
			opts.DPoPURL = args[0]
			return nil
		},
		RunE:        tokenRunE(opts),
		Annotations: map[string]string{lazyInterruptAnnotation: "1"},
	}
	addServerFlags(cmd, &opts.Settings)
	addTokenOutputFlags(cmd, opts)
	cmd.Flags().DurationVar(&opts.MinTTL, "min-ttl", fastpath.MinTTL, "renew when the access token expires within this duration")
	cmd.Flags().StringVar(&opts.DPoPMethod, "dpop-proof", "", "print `METHOD` URL's two headers for the DPoP-bound token: Authorization: DPoP … and DPoP: <a new proof>")
	return cmd
}

// tokenRunE checks token/refresh flags, then runs runToken.
func tokenRunE(opts *TokenOptions) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := finishServerFlags(cmd, &opts.Settings); err != nil {
			return err
		}
		if err := output.CheckFormat(opts.Output, tokenFormats...); err != nil {
			return &UsageError{Err: err}
		}
		if err := checkTokenFormatFlags(cmd, opts); err != nil {
			return err
		}
		if opts.MinTTL < 0 {
			return usageErrorf("--min-ttl must not be negative")
		}
		if cmd.Flags().Changed("dpop-proof") {
			if opts.IDToken || (opts.Output != "raw" && opts.Output != "header") {
				return usageErrorf("--dpop-proof prints two headers: it goes with neither --id-token nor -o %s", opts.Output)
			}
			if !dpop.ValidMethod(opts.DPoPMethod) {
				return usageErrorf("--dpop-proof %q: not an HTTP method", opts.DPoPMethod)
			}
			if u, err := url.Parse(opts.DPoPURL); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
				return usageErrorf("--dpop-proof %s %q: want an absolute http(s) URL", opts.DPoPMethod, opts.DPoPURL)
			}
		}
		opts.onlyProfileFlag = onlyProfileFlag(cmd)
		return runToken(cmd.Context(), opts)
	}
}

// onlyProfileFlag reports whether no flag was set on cmd's command line but
// -p/--profile.
func onlyProfileFlag(cmd *cobra.Command) bool {
	n := cmd.Flags().NFlag() // the command's and the inherited ones, as cobra merged them
	return n == 0 || n == 1 && cmd.Flags().Changed("profile")
}

func addTokenOutputFlags(cmd *cobra.Command, opts *TokenOptions) {
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "raw", "output format: "+output.Formats(tokenFormats...))
	cmd.Flags().BoolVar(&opts.IDToken, "id-token", false, "print the ID token instead of the access token")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(tokenFormats, cobra.ShellCompDirectiveNoFileComp))
	addTokenFormatFlags(cmd, opts)
}

func runToken(ctx context.Context, o *TokenOptions) error {
	m, err := o.F.Session(o.Settings)
	if err != nil {
		return err
	}
	var e *tokencache.Entry
	if o.Force {
		e, err = m.Refresh(ctx)
	} else if e, err = m.Lookup(o.MinTTL); e == nil && err == nil {
		// A renewal waits on the network or on the profile's lock: from
		// here Ctrl-C must cancel it (a cached token needs no handler).
		o.F.interruptible()
		e, err = m.Renew(ctx, o.MinTTL)
	}
	if err != nil {
		return err
	}
	if o.Quiet {
		return nil
	}
	if o.DPoPMethod != "" {
		return writeDPoPProof(o, m, e)
	}
	if err := writeToken(o, e); err != nil {
		return err
	}
	o.F.rememberToken(o, m)
	return nil
}

// rememberToken records the resolution of an `oat token` with no flag but
// -p/--profile (raw output: what package fastpath answers before package
// initialisation) for the next one with the same command line, config file,
// environment and executable. Failing to only costs that run its shortcut.
func (f *Factory) rememberToken(o *TokenOptions, m *session.Manager) {
	if f.fastEnviron == nil || f.fastArgs == nil || !o.onlyProfileFlag || o.Force ||
		o.Output != "raw" || o.IDToken || o.Quiet || o.MinTTL != fastpath.MinTTL || f.cfg == nil {
		return
	}
	_ = fastpath.Remember(f.fastArgs, f.fastEnviron(), f.cfg.Raw, fastpath.Memo{
		Config: f.cfg.Path, Key: m.Profile.Key, Fingerprint: m.Profile.Fingerprint, DPoP: m.Profile.Profile.DPoP})
}

// writeDPoPProof prints the two headers that send e's DPoP-bound token on
// one request (--dpop-proof METHOD URL).
func writeDPoPProof(o *TokenOptions, m *session.Manager, e *tokencache.Entry) error {
	if t := tokentext.NormalizeTokenType(e.TokenType); t != dpop.TokenType {
		if e.DPoPJKT != "" {
			return fmt.Errorf("the server issued a %s token although dpop is set (it does not support DPoP): send it with oat token -o header, without a proof", t)
		}
		return fmt.Errorf("the access token is a %s token, not a DPoP-bound one: set dpop = true in the profile and log in again, or use oat token -o header", t)
	}
	if !tokentext.IsTokenText(e.AccessToken) {
		return errBadTokenText
	}
	h, err := dpopHeaders(m, e, o.DPoPMethod, o.DPoPURL, o.F.Now())
	if err != nil {
		return err
	}
	o.F.maskTokens(e.AccessToken)
	_, err = fmt.Fprintln(o.F.IO.Out, strings.Join(h, "\n"))
	return err
}

// tokenJSON is the stable -o json shape of token and refresh.
type tokenJSON struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresAt   string `json:"expires_at,omitempty"`
	ExpiresIn   *int64 `json:"expires_in,omitempty"`
	Scope       string `json:"scope,omitempty"`
	IDToken     string `json:"id_token,omitempty"`
}

func writeToken(o *TokenOptions, e *tokencache.Entry) error {
	w := o.F.IO.Out
	tok, scheme := e.AccessToken, tokentext.NormalizeTokenType(e.TokenType)
	if o.IDToken {
		if e.IDToken == "" {
			return fmt.Errorf("profile has no ID token: the server sent none (log in with the openid scope to get one)")
		}
		tok, scheme = e.IDToken, "Bearer"
	}
	// Checked when received; checked again here, for what an older oat
	// cached, where nothing quotes it (env, exec-credential and json do).
	quoted := o.Output == "env" || o.Output == "exec-credential" || o.Output == "json"
	if !quoted && (!tokentext.IsTokenText(tok) || !tokentext.IsTokenText(scheme)) {
		return fmt.Errorf("the cached token holds a control character, a space or a non-ASCII byte: not printing it; run oat refresh (or oat login)")
	}
	// In GitHub Actions, the runner masks what it is told to on stderr
	// before the token reaches stdout (see ghactions.go).
	if o.Output == "json" {
		o.F.maskTokens(e.AccessToken, e.IDToken)
	} else {
		o.F.maskTokens(tok)
	}
	switch o.Output {
	case "env":
		return writeTokenEnv(o, tok, e.Expiry)
	case "exec-credential":
		return writeExecCredential(o, tok, e.Expiry)
	case "json":
		j := tokenJSON{AccessToken: e.AccessToken, TokenType: tokentext.NormalizeTokenType(e.TokenType), Scope: e.Scope, IDToken: e.IDToken}
		if !e.Expiry.IsZero() {
			j.ExpiresAt = e.Expiry.UTC().Format(time.RFC3339)
			in := int64(e.Expiry.Sub(o.F.Now()).Seconds())
			j.ExpiresIn = &in
		}
		return output.WriteJSON(w, j)
	case "header":
		// The scheme follows token_type: a DPoP token is not a Bearer token,
		// and an N_A one is no access token at all.
		if auth.IsNotAccessToken(scheme) {
			return fmt.Errorf("-o header: %w", errNotAccessToken)
		}
		_, err := fmt.Fprintf(w, "Authorization: %s %s\n", scheme, tok)
		return err
	default:
		_, err := fmt.Fprintln(w, tok)
		return err
	}
}

func newCmdRefresh(f *Factory) *cobra.Command {
	opts := &TokenOptions{F: f, Force: true}
	cmd := &cobra.Command{
		Use:   "refresh",
		Short: "Renew the access token now and print it",
		Long: `Force a refresh-token grant now (a new client-credentials grant for machine
profiles), store the rotated refresh token, and print the new access token.`,
		Args: cobra.NoArgs,
		RunE: tokenRunE(opts),
	}
	addServerFlags(cmd, &opts.Settings)
	addTokenOutputFlags(cmd, opts)
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing")
	return cmd
}
