package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/urlpolicy"
)

// addServerFlags binds the spec's server flags, shared by every command that
// talks to a server, to o. Call finishServerFlags in RunE before using o.
func addServerFlags(cmd *cobra.Command, o *config.Overrides) {
	fl := cmd.Flags()
	fl.StringVar(&o.Issuer, "issuer", "", "issuer URL (OIDC discovery, RFC 8414 fallback)")
	fl.StringVar(&o.AuthorizationURL, "authorization-url", "", "authorization endpoint (overrides discovery)")
	fl.StringVar(&o.TokenURL, "token-url", "", "token endpoint (overrides discovery)")
	fl.StringVar(&o.DeviceAuthorizationURL, "device-authorization-url", "", "device authorization endpoint (overrides discovery)")
	fl.StringVar(&o.RevocationURL, "revocation-url", "", "revocation endpoint (overrides discovery)")
	fl.StringVar(&o.ClientID, "client-id", "", "OAuth client ID")
	fl.StringVar(&o.ClientSecretEnv, "client-secret-env", "", "name of the environment variable holding the client secret")
	fl.StringArrayVar(&o.Scopes, "scope", nil, "scope to request (repeatable, or one space-separated string)")
	fl.StringVar(&o.Audience, "audience", "", "audience parameter for the token request")
	fl.StringVar(&o.Resource, "resource", "", "resource indicator (RFC 8707)")
	fl.StringVar(&o.Flow, "flow", "", "flow: pkce|device|client-credentials|token-exchange")
	fl.StringVar(&o.SubjectTokenFrom, "subject-token-from", "", "token exchange: where the subject token comes from: github-actions|env:VAR|file:PATH|profile:NAME")
	fl.StringVar(&o.SubjectTokenType, "subject-token-type", "", "token exchange: the subject token's type (default jwt, or access_token for profile:NAME)")
	fl.StringVar(&o.RequestedTokenType, "requested-token-type", "", "token exchange: the type of token to ask for (default: the server's choice)")
	fl.IntVar(&o.RedirectPort, "redirect-port", 0, "loopback redirect port (0 = any free port)")
	fl.StringVar(&o.CAFile, "ca-file", "", "PEM file of extra CA certificates to trust")
	fl.BoolVar(&o.DPoP, "dpop", false, "bind tokens to a DPoP key (RFC 9449), as the profile key dpop = true does")
	fl.StringVar(&o.Provider, "provider", "", "provider defaults and quirks: "+strings.Join(config.ProviderNames(), "|")+" (detected from the issuer's host when unset)")
	// A secret is never taken on the command line: catch the obvious attempt
	// with a message that says what to do instead.
	fl.String("client-secret", "", "")
	_ = fl.MarkHidden("client-secret")
	_ = cmd.RegisterFlagCompletionFunc("flow", cobra.FixedCompletions(
		[]string{config.FlowPKCE, config.FlowDevice, config.FlowClientCredentials, config.FlowTokenExchange}, cobra.ShellCompDirectiveNoFileComp))
	tokenTypes := cobra.FixedCompletions([]string{"jwt", "access_token", "id_token", "refresh_token", "saml1", "saml2"}, cobra.ShellCompDirectiveNoFileComp)
	_ = cmd.RegisterFlagCompletionFunc("subject-token-type", tokenTypes)
	// Not refresh_token: oat keeps none from an exchange (config.Validate).
	_ = cmd.RegisterFlagCompletionFunc("requested-token-type", cobra.FixedCompletions([]string{"access_token", "id_token", "jwt", "saml1", "saml2"}, cobra.ShellCompDirectiveNoFileComp))
}

// finishServerFlags completes o after parsing: which flags were given, and
// refusal of a secret on the command line.
func finishServerFlags(cmd *cobra.Command, o *config.Overrides) error {
	if cmd.Flags().Changed("client-secret") {
		return usageErrorf("a client secret is never taken on the command line (it would show in ps and shell history): put it in an environment variable and pass --client-secret-env NAME, or set OAT_CLIENT_SECRET")
	}
	o.RedirectPortSet = cmd.Flags().Changed("redirect-port")
	o.Scopes = config.SplitScopes(o.Scopes)
	if err := o.Validate(); err != nil {
		return &UsageError{Err: err}
	}
	return nil
}

// parseKeyValues turns k=v strings into a map.
func parseKeyValues(flag string, kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want NAME=VALUE", flag, kv)
		}
		m[k] = v
	}
	return m, nil
}

// checkURLFlag applies the URL policy (https, or http to a loopback host)
// to a URL flag's value, when one was given: a refused URL is a usage error.
func checkURLFlag(flag, value string) error {
	if value == "" {
		return nil
	}
	if err := urlpolicy.Check(flag, value); err != nil {
		return &UsageError{Err: err}
	}
	return nil
}
