package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/jwt"
	"github.com/oatcli/oat/internal/termsafe"
)

// IntrospectOptions drive `oat introspect`.
type IntrospectOptions struct {
	F         *Factory
	Settings  config.Overrides
	Token     string // the argument; "" = the profile's access token
	FromStdin bool   // the argument was "-"
	Hint      string // token_type_hint
	URL       string // --introspection-url
}

func newCmdIntrospect(f *Factory) *cobra.Command {
	opts := &IntrospectOptions{F: f}
	cmd := &cobra.Command{
		Use:   "introspect [TOKEN|-]",
		Short: "Ask the server whether a token is active (RFC 7662)",
		Long: `Ask the profile's introspection endpoint (RFC 7662) about a token, with the
profile's client credentials, and print the server's JSON answer.

The token comes from the argument, from stdin ("-"), or is the profile's
access token (renewed first when it has expired). The endpoint is the
introspection_endpoint of the server's metadata, or --introspection-url.
Most servers let only confidential clients introspect.

Exit codes: 0 when the server says "active": true, 5 when it says false,
and the usual ones otherwise (4 for network failures, 5xx and 429).`,
		Example: `  oat introspect -p ci
  oat token -p other | oat introspect -p ci -`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := finishServerFlags(cmd, &opts.Settings); err != nil {
				return err
			}
			if len(args) == 1 {
				if args[0] == "-" {
					opts.FromStdin = true
				} else {
					opts.Token = args[0]
				}
			}
			if err := checkURLFlag("--introspection-url", opts.URL); err != nil {
				return err
			}
			return runIntrospect(cmd.Context(), opts)
		},
	}
	addServerFlags(cmd, &opts.Settings)
	cmd.Flags().StringVar(&opts.Hint, "token-type-hint", "", "token_type_hint to send: access_token or refresh_token")
	cmd.Flags().StringVar(&opts.URL, "introspection-url", "", "introspection endpoint (overrides discovery)")
	_ = cmd.RegisterFlagCompletionFunc("token-type-hint", cobra.FixedCompletions([]string{"access_token", "refresh_token"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runIntrospect(ctx context.Context, o *IntrospectOptions) error {
	tok := o.Token
	if o.FromStdin {
		b, err := io.ReadAll(io.LimitReader(o.F.IO.In, maxTokenInput+1))
		if err != nil {
			return fmt.Errorf("reading the token from stdin: %w", err)
		}
		if len(b) > maxTokenInput {
			return &jwt.MalformedError{Part: "token", Msg: fmt.Sprintf("input larger than %d bytes", maxTokenInput)}
		}
		if tok = strings.TrimSpace(string(b)); tok == "" {
			return usageErrorf("no token on stdin")
		}
	}
	m, err := o.F.Session(o.Settings)
	if err != nil {
		return err
	}
	if tok == "" {
		e, err := m.Token(ctx, 0)
		if err != nil {
			return err
		}
		tok = e.AccessToken
	}
	res, err := m.Introspect(ctx, tok, o.Hint, o.URL)
	if err != nil {
		return err
	}
	if err := writeServerJSON(o.F.IO.Out, res.Raw); err != nil {
		return err
	}
	if !res.Active {
		return &CodeError{Code: ExitVerify, Err: errors.New("introspect: the server says the token is not active")}
	}
	return nil
}

// writeServerJSON prints a JSON object a server sent: indented, members in
// the server's order, and every control or format character inside strings
// (C0, DEL, C1, bidi overrides) and every byte that is not UTF-8 escaped, so
// that a hostile server cannot drive the terminal. The value is unchanged.
func writeServerJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		return fmt.Errorf("the server's JSON cannot be shown: %v", err)
	}
	out := append(termsafe.JSON(buf.Bytes()), '\n')
	_, err := w.Write(out)
	return err
}
