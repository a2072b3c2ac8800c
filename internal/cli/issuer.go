package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/issuer"
)

// IssuerServeOptions drive `oat issuer serve`.
type IssuerServeOptions struct {
	F                *Factory
	Port             int
	Addr             string
	AccessTokenTTL   time.Duration
	Clients          []string
	Users            []string
	KeyFile          string
	AllowNonLoopback bool
	AutoApprove      bool

	// onReady, when set (tests), is called once the issuer listens.
	onReady func(*issuer.Issuer)
}

func newCmdIssuer(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "issuer",
		Short: "Run a local OpenID Provider for trying oat and testing APIs",
		Args:  groupArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCmdIssuerServe(f, nil))
	return cmd
}

func newCmdIssuerServe(f *Factory, runF func(context.Context, *IssuerServeOptions) error) *cobra.Command {
	opts := &IssuerServeOptions{F: f}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a local OpenID Provider on 127.0.0.1 until Ctrl-C",
		Long: `Serve a real OpenID Provider on 127.0.0.1: discovery, JWKS,
authorization code with PKCE and a login page, the device flow with a
verification page, refresh-token rotation, client credentials, revocation,
introspection and userinfo. Access tokens are JWTs an API can verify with the
JWKS. State lives in memory; keys are generated at start unless --key.

Users sign in by picking a name (--user; no password). The public client
(--client, default "oat") does PKCE, device and refresh; the confidential
client "oat-machine" does client credentials with a secret generated for this
run and shown on stderr.

Prints the issuer URL on stdout, and the ready-made oat profile add lines on
stderr. Stops cleanly on Ctrl-C. It refuses any address but loopback unless
--allow-non-loopback: anyone who reaches it can get tokens.`,
		Example: `  oat issuer serve
  oat issuer serve --port 9000 --user alice --user bob --access-token-ttl 1m
  oat issuer serve --key signing-key.pem --client my-cli`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Port < 0 || opts.Port > 65535 {
				return usageErrorf("--port %d is not a port (0-65535; 0 picks a free one)", opts.Port)
			}
			if opts.Addr != "" && cmd.Flags().Changed("port") {
				return usageErrorf("give --addr or --port, not both")
			}
			if opts.AccessTokenTTL < time.Second {
				return usageErrorf("--access-token-ttl %s is below one second", opts.AccessTokenTTL)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runIssuerServe(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Port, "port", 0, "port on 127.0.0.1 (0 picks a free one)")
	fl.StringVar(&opts.Addr, "addr", "", "host:port to listen on instead of 127.0.0.1:PORT (non-loopback needs --allow-non-loopback)")
	fl.DurationVar(&opts.AccessTokenTTL, "access-token-ttl", issuer.DefaultAccessTokenTTL, "life of access tokens")
	fl.StringArrayVar(&opts.Clients, "client", nil, `public client ID (repeatable; default "oat")`)
	fl.StringArrayVar(&opts.Users, "user", nil, `user one can sign in as (repeatable; default "alice")`)
	fl.StringVar(&opts.KeyFile, "key", "", "PEM private key to sign with (RSA or ECDSA); default: a new ES256 key")
	fl.BoolVar(&opts.AllowNonLoopback, "allow-non-loopback", false, "allow --addr on a non-loopback interface")
	fl.BoolVar(&opts.AutoApprove, "auto-approve", false, "skip the login page (sign in the first user) and approve device codes opened with verification_uri_complete")
	return cmd
}

func runIssuerServe(ctx context.Context, o *IssuerServeOptions) error {
	addr := o.Addr
	if addr == "" {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port))
	}
	cfg := issuer.Config{
		Addr:             addr,
		AllowNonLoopback: o.AllowNonLoopback,
		AccessTokenTTL:   o.AccessTokenTTL,
		Users:            o.Users,
		KeyFile:          o.KeyFile,
		AutoApprove:      o.AutoApprove,
	}
	public := o.Clients
	if len(public) == 0 {
		public = []string{issuer.DefaultPublicClient}
	}
	for _, id := range public {
		if id == issuer.DefaultMachineClient {
			return usageErrorf("--client %s: that ID is the confidential client's", id)
		}
		cfg.Clients = append(cfg.Clients, issuer.Client{ID: id})
	}
	cfg.Clients = append(cfg.Clients, issuer.Client{ID: issuer.DefaultMachineClient, Confidential: true})
	if o.F.Verbose {
		cfg.Log = o.F.IO.ErrOut
	}

	iss, err := issuer.Start(ctx, cfg)
	if err != nil {
		if ce := (*issuer.ConfigError)(nil); errors.As(err, &ce) {
			return &UsageError{Err: err}
		}
		return err
	}
	defer iss.Close()

	w := o.F.IO.ErrOut
	fmt.Fprintf(o.F.IO.Out, "%s\n", iss.URL)
	fmt.Fprintf(w, "Local OpenID Provider at %s (state in memory; Ctrl-C stops it).\n", iss.URL)
	fmt.Fprintf(w, "Users (pick one on the login page, no password): %s\n", strings.Join(iss.Users(), ", "))
	if o.AutoApprove {
		fmt.Fprintf(w, "Auto-approve: every sign-in and device code is approved as %s.\n", iss.Users()[0])
	}
	for _, c := range iss.Clients() {
		if c.Confidential {
			fmt.Fprintf(w, "\nConfidential client %q (client credentials). Its secret is a throwaway made for this run:\n", c.ID)
			fmt.Fprintf(w, "  export %s=%s\n", issuer.SecretEnv(c.ID), c.Secret)
			fmt.Fprintf(w, "  %s\n", iss.ProfileAddCommand(c.ID))
			continue
		}
		fmt.Fprintf(w, "\nPublic client %q (PKCE, device, refresh):\n", c.ID)
		fmt.Fprintf(w, "  %s\n  oat login -p local\n", iss.ProfileAddCommand(c.ID))
	}
	fmt.Fprintf(w, "\nAccess tokens are JWTs: verify them with %s/keys (see docs/issuer.md).\n", iss.URL)
	if o.onReady != nil {
		o.onReady(iss)
	}

	select {
	case <-ctx.Done():
	case <-iss.Done():
	}
	if err := iss.Close(); err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	fmt.Fprintln(w, "Issuer stopped.")
	return nil
}
