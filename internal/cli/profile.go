package cli

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/output"
	"github.com/oatcli/oat/internal/session"
	"github.com/oatcli/oat/internal/termsafe"
)

func newCmdProfile(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Add, list, show, change, remove and choose profiles in the config file",
		Long: `A profile names one client at one authorization server. Profiles live in the
TOML config file ($OAT_CONFIG, else $XDG_CONFIG_HOME/oat/config.toml, else
~/.config/oat/config.toml). oat keeps every profile and key of a hand-edited
file when it writes it, but not its comments.`,
		Args: groupArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newCmdProfileAdd(f),
		newCmdProfileList(f),
		newCmdProfileShow(f),
		newCmdProfileSet(f),
		newCmdProfileRemove(f),
		newCmdProfileUse(f),
	)
	return cmd
}

// loadForEdit loads the config file for a command that changes it.
func loadForEdit(f *Factory) (*config.File, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	if cfg.Profiles == nil {
		cfg.Profiles = map[string]config.Profile{}
	}
	return cfg, nil
}

func profileNotFound(cfg *config.File, name string) error {
	msg := fmt.Sprintf("unknown profile %q", name)
	if names := cfg.Names(); len(names) > 0 {
		msg += fmt.Sprintf(" (profiles: %v)", names)
	} else {
		msg += ": the config file has no profiles yet; add one with `oat profile add NAME --issuer URL --client-id ID`"
	}
	return &config.Error{Path: cfg.Path, Msg: msg}
}

// ---- add

type ProfileAddOptions struct {
	F          *Factory
	Name       string
	Settings   config.Overrides
	AuthParams []string
	MakeDef    bool
	Domain     string // --domain: the provider's host (Auth0, Okta, Cognito hosted UI, GitHub Enterprise)
	Tenant     string // --tenant: Entra tenant (GUID, domain, common, organizations, consumers)
	AuthServer string // --authorization-server: Okta's authorization server (default "default"; "org")
}

func newCmdProfileAdd(f *Factory) *cobra.Command {
	opts := &ProfileAddOptions{F: f}
	cmd := &cobra.Command{
		Use:   "add NAME [flags]",
		Short: "Add a profile to the config file",
		Example: `  oat profile add work --issuer https://login.example.com --client-id cli-app --scope "openid offline_access"
  oat profile add ci --token-url https://auth.example.com/oauth/token --client-id deploy-bot \
      --client-secret-env DEPLOY_BOT_SECRET --flow client-credentials --audience https://api.example.com`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := finishServerFlags(cmd, &opts.Settings); err != nil {
				return err
			}
			m, err := parseKeyValues("auth-param", opts.AuthParams)
			if err != nil {
				return &UsageError{Err: err}
			}
			opts.Settings.AuthParams = m
			return runProfileAdd(cmd.Context(), opts)
		},
	}
	addServerFlags(cmd, &opts.Settings)
	fl := cmd.Flags()
	fl.StringVar(&opts.Settings.JWKSURL, "jwks-url", "", "JWKS URL (overrides discovery)")
	fl.StringVar(&opts.Settings.ClientAuth, "client-auth", "", "client authentication: none|basic|post")
	fl.StringVar(&opts.Settings.RedirectHost, "redirect-host", "", "loopback redirect host: 127.0.0.1 (default) or localhost")
	fl.StringVar(&opts.Settings.RedirectPath, "redirect-path", "", "loopback redirect path (default /callback)")
	fl.StringVar(&opts.Settings.Storage, "storage", "", "refresh-token storage: keychain (default) or file")
	fl.StringArrayVar(&opts.AuthParams, "auth-param", nil, "extra authorization-request parameter NAME=VALUE (repeatable)")
	fl.BoolVar(&opts.MakeDef, "default", false, "make this the default profile")
	fl.StringVar(&opts.Domain, "domain", "", "with --provider: the provider's host (auth0, okta, cognito hosted UI, GitHub Enterprise, Entra national cloud)")
	fl.StringVar(&opts.Tenant, "tenant", "", "with --provider entra: tenant GUID, domain, common, organizations or consumers")
	fl.StringVar(&opts.AuthServer, "authorization-server", "", "with --provider okta: the authorization server's ID (default \"default\"), or org for the org authorization server")
	return cmd
}

func runProfileAdd(_ context.Context, o *ProfileAddOptions) error {
	if err := config.ValidateName(o.Name); err != nil {
		return &UsageError{Err: err}
	}
	cfg, err := loadForEdit(o.F)
	if err != nil {
		return err
	}
	if _, ok := cfg.Profiles[o.Name]; ok {
		return usageErrorf("profile %q already exists: change it with `oat profile set %s KEY VALUE`, or remove it first", o.Name, o.Name)
	}
	p := o.Settings.Profile
	if err := p.ForProfileAdd(o.Domain, o.Tenant, o.AuthServer); err != nil {
		return &UsageError{Err: err}
	}
	if p.Issuer == "" && p.TokenURL == "" {
		return usageErrorf("profile %q needs a server: pass --issuer URL (or --token-url URL)", o.Name)
	}
	if p.ClientID == "" {
		return usageErrorf("profile %q needs a client: pass --client-id ID", o.Name)
	}
	if err := p.Validate(); err != nil {
		return &UsageError{Err: err}
	}
	cfg.Profiles[o.Name] = p
	becameDefault := false
	if o.MakeDef || cfg.DefaultProfile == "" {
		becameDefault = cfg.DefaultProfile != o.Name
		cfg.DefaultProfile = o.Name
	}
	if err := cfg.Save(); err != nil {
		return fmt.Errorf("saving %s: %w", cfg.Path, err)
	}
	msg := fmt.Sprintf("Added profile %q to %s", o.Name, cfg.Path)
	if becameDefault {
		msg += " (now the default profile)"
	}
	fmt.Fprintln(o.F.IO.ErrOut, msg)
	return nil
}

// ---- list

type ProfileListOptions struct {
	F      *Factory
	Output string
}

type profileListItem struct {
	Name     string `json:"name"`
	Default  bool   `json:"default"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	Flow     string `json:"flow"`
}

func newCmdProfileList(f *Factory) *cobra.Command {
	opts := &ProfileListOptions{F: f}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List profiles (a table, or -o json)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := output.CheckFormat(opts.Output, "table", "json"); err != nil {
				return &UsageError{Err: err}
			}
			return runProfileList(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output format: table|json")
	return cmd
}

func runProfileList(o *ProfileListOptions) error {
	cfg, err := o.F.Config()
	if err != nil {
		return err
	}
	items := []profileListItem{}
	for _, n := range cfg.Names() {
		p := cfg.Profiles[n]
		issuer := p.Issuer
		if issuer == "" {
			issuer = p.TokenURL
		}
		items = append(items, profileListItem{Name: n, Default: n == cfg.DefaultProfile, Issuer: issuer, ClientID: p.ClientID, Flow: p.FlowOrDefault()})
	}
	if o.Output == "json" {
		return output.WriteJSON(o.F.IO.Out, items)
	}
	if len(items) == 0 {
		fmt.Fprintf(o.F.IO.ErrOut, "No profiles in %s. Add one with `oat profile add NAME --issuer URL --client-id ID`.\n", cfg.Path)
		return nil
	}
	t := output.NewTable("", "NAME", "ISSUER", "CLIENT ID", "FLOW")
	for _, it := range items {
		mark := ""
		if it.Default {
			mark = "*"
		}
		t.AddRow(mark, it.Name, it.Issuer, it.ClientID, it.Flow)
	}
	return t.Render(o.F.IO.Out, o.F.IO.ColorEnabled())
}

// ---- show

type ProfileShowOptions struct {
	F      *Factory
	Name   string
	Output string
}

func newCmdProfileShow(f *Factory) *cobra.Command {
	opts := &ProfileShowOptions{F: f}
	cmd := &cobra.Command{
		Use:               "show [NAME]",
		Short:             "Show a profile's settings (default: the current profile)",
		Args:              maxArgs(1, "NAME"),
		ValidArgsFunction: f.completeProfileArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if err := output.CheckFormat(opts.Output, "toml", "json"); err != nil {
				return &UsageError{Err: err}
			}
			return runProfileShow(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "toml", "output format: toml|json")
	return cmd
}

func runProfileShow(o *ProfileShowOptions) error {
	cfg, err := o.F.Config()
	if err != nil {
		return err
	}
	name := o.Name
	if name == "" {
		if err := cfg.CheckProfileName(o.F.ProfileFlag, o.F.Getenv); err != nil {
			return err
		}
		name, _ = cfg.ProfileName(o.F.ProfileFlag, o.F.Getenv)
	}
	p, ok := cfg.Profiles[name]
	if !ok {
		return profileNotFound(cfg, name)
	}
	if o.Output == "json" {
		return output.WriteJSON(o.F.IO.Out, struct {
			Name    string `json:"name"`
			Default bool   `json:"default"`
			config.Profile
		}{name, name == cfg.DefaultProfile, p})
	}
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	enc.SetIndentTables(false)
	doc := map[string]map[string]config.Profile{"profiles": {name: p}}
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err = o.F.IO.Out.Write(buf.Bytes())
	return err
}

// ---- set

type ProfileSetOptions struct {
	F                *Factory
	Name, Key, Value string
}

func newCmdProfileSet(f *Factory) *cobra.Command {
	opts := &ProfileSetOptions{F: f}
	cmd := &cobra.Command{
		Use:   "set NAME KEY VALUE",
		Short: "Change one key of a profile (an empty VALUE removes the key)",
		Long: `Change one key of a profile. Keys: ` + joinKeys() + `, and auth_params.NAME
for one extra authorization-request parameter. scopes takes a space- or
comma-separated list. An empty VALUE ("") removes the key.`,
		Args: exactArgs(3, "NAME KEY VALUE"),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			switch len(args) {
			case 0:
				return f.completeProfiles(cmd, args, toComplete)
			case 1:
				return config.Keys(), cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.Key, opts.Value = args[0], args[1], args[2]
			return runProfileSet(cmd.Context(), opts)
		},
	}
	return cmd
}

func joinKeys() string {
	var b bytes.Buffer
	for i, k := range config.Keys() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
	}
	return b.String()
}

func runProfileSet(ctx context.Context, o *ProfileSetOptions) error {
	cfg, err := loadForEdit(o.F)
	if err != nil {
		return err
	}
	p, ok := cfg.Profiles[o.Name]
	if !ok {
		return profileNotFound(cfg, o.Name)
	}
	old := p
	p.Scopes = slices.Clone(p.Scopes)
	if err := p.Set(o.Key, o.Value); err != nil {
		return &config.Error{Path: cfg.Path, Msg: fmt.Sprintf("profile %q: %v", o.Name, err)}
	}
	cfg.Profiles[o.Name] = p
	if err := cfg.Save(); err != nil {
		return fmt.Errorf("saving %s: %w", cfg.Path, err)
	}
	fmt.Fprintf(o.F.IO.ErrOut, "Set %s of profile %q\n", o.Key, o.Name)
	if old.Binding() != p.Binding() {
		dropRebound(ctx, o.F, o.Name, old)
	}
	return nil
}

// reboundRevokeTimeout bounds what dropRebound spends at the old server.
const reboundRevokeTimeout = 20 * time.Second

// dropRebound revokes at the old server (where it can) and deletes the tokens
// profile name got with its old settings, now that it names another server
// or client: they are bound to the old ones and could never be used again.
// Nothing here fails the set; what happened is said on stderr.
func dropRebound(ctx context.Context, f *Factory, name string, old config.Profile) {
	r := &config.Resolved{Name: name, Profile: old, Key: name, Fingerprint: config.Fingerprint(old)}
	if env := f.Getenv("OAT_STORAGE"); env != "" {
		r.Profile.Storage = env
	}
	w := f.IO.ErrOut
	m, err := f.sessionFor(r)
	if err != nil {
		fmt.Fprintf(w, "oat: could not look for the tokens of the old settings: %v\n", err)
		return
	}
	if kind, usable, err := m.StoredRefreshToken(); err == nil && kind != "" && !usable {
		// Stored under this name for settings other than the old ones
		// (another config file): not this profile's tokens to remove.
		return
	}
	// Bounded: a config edit must not hang on an unreachable old server.
	ctx, cancel := context.WithTimeout(ctx, reboundRevokeTimeout)
	defer cancel()
	rep, err := m.Revoke(ctx, session.RevokeOptions{Force: true})
	if rep == nil || (!rep.HadRefresh && !rep.HadAccess && rep.StoreUnavailable == nil) {
		if err != nil {
			fmt.Fprintf(w, "oat: could not remove the tokens of the old settings (%v); any left behind are never used with the new ones\n", err)
		}
		return
	}
	server := old.Binding().Server()
	what := fmt.Sprintf("The tokens of profile %q were issued by %s to client %q and cannot be used with the new settings", name, server, old.ClientID)
	switch {
	case rep.RefreshErr != nil:
		fmt.Fprintf(w, "%s: could not revoke them there (%s); ", what, termsafe.Line(rep.RefreshErr.Error()))
	case rep.NoEndpoint:
		fmt.Fprintf(w, "%s: the server has no revocation endpoint, so they stay valid there until they expire; ", what)
	default:
		fmt.Fprintf(w, "%s: revoked them there; ", what)
	}
	switch {
	case rep.StoreUnavailable != nil:
		fmt.Fprintf(w, "deleted the cached tokens, but the refresh token could not be reached (%s): it is left behind, never to be used. ", removeReason(rep.StoreUnavailable))
	case err != nil:
		fmt.Fprintf(w, "could not delete them (%v). ", err)
	default:
		fmt.Fprint(w, "deleted them. ")
	}
	fmt.Fprintf(w, "Run oat login -p %s\n", name)
}

// ---- use

type ProfileUseOptions struct {
	F    *Factory
	Name string
}

func newCmdProfileUse(f *Factory) *cobra.Command {
	opts := &ProfileUseOptions{F: f}
	return profileNameCmd(f, &cobra.Command{Use: "use NAME", Short: "Make NAME the default profile"}, func(name string) error {
		opts.Name = name
		return runProfileUse(opts)
	})
}

// profileNameCmd completes cmd as a `profile VERB NAME` command: one
// argument, a profile name (completed from the config), handed to run.
func profileNameCmd(f *Factory, cmd *cobra.Command, run func(name string) error) *cobra.Command {
	cmd.Args = exactArgs(1, "NAME")
	cmd.ValidArgsFunction = f.completeProfileArg
	cmd.RunE = func(_ *cobra.Command, args []string) error { return run(args[0]) }
	return cmd
}

func runProfileUse(o *ProfileUseOptions) error {
	cfg, err := loadForEdit(o.F)
	if err != nil {
		return err
	}
	if _, ok := cfg.Profiles[o.Name]; !ok {
		return profileNotFound(cfg, o.Name)
	}
	cfg.DefaultProfile = o.Name
	if err := cfg.Save(); err != nil {
		return fmt.Errorf("saving %s: %w", cfg.Path, err)
	}
	fmt.Fprintf(o.F.IO.ErrOut, "Default profile is now %q\n", o.Name)
	return nil
}

// completeProfileArg completes the first positional argument with profile names.
func (f *Factory) completeProfileArg(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return f.completeProfiles(cmd, args, toComplete)
}

// groupArgs rejects an unknown subcommand of a command group as a usage error.
func groupArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

// exactArgs and maxArgs are cobra's argument checks with usage errors that
// name the expected arguments.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %s (got %d argument(s))", cmd.CommandPath(), names, len(args))
		}
		return nil
	}
}

func maxArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageErrorf("%s takes at most %s (got %d arguments)", cmd.CommandPath(), names, len(args))
		}
		return nil
	}
}
