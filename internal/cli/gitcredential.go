package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/termsafe"
	"github.com/oatcli/oat/internal/tokentext"
	"github.com/oatcli/oat/internal/urlpolicy"
)

// GitCredentialOptions drive `oat git-credential`.
type GitCredentialOptions struct {
	F        *Factory
	Settings config.Overrides
	MinTTL   time.Duration
	Username string
	Action   string // get, store, erase (others are ignored, as git asks)
}

func newCmdGitCredential(f *Factory) *cobra.Command {
	opts := &GitCredentialOptions{F: f}
	cmd := &cobra.Command{
		Use:   "git-credential [flags] get|store|erase",
		Short: "A git credential helper that answers with the profile's access token",
		Long: `A git credential helper (gitcredentials(7)) for HTTPS remotes whose server
takes OAuth access tokens (GitLab, GitHub, Gitea, Bitbucket…):

  git config --global credential.https://git.example.com.helper "!oat git-credential -p work"

get answers username (--username, default oauth2) and password = a valid
access token of the profile (renewed first as oat token does), with
password_expiry_utc. When git announces capability[]=authtype, it answers
authtype=Bearer and credential=<token> instead. erase (git saw the token
refused) drops the cached access token when it is the one git was given, so
that the next get renews it; the refresh token stays. store does nothing.

oat answers only for https, or http to a loopback host: over plain http the
token would cross the network readable. stdout carries only the answer;
messages and errors go to stderr.`,
		Example: `  git config --global credential.https://gitlab.example.com.helper "!oat git-credential -p gitlab"
  printf 'protocol=https\nhost=gitlab.example.com\n\n' | oat git-credential -p gitlab get`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"get", "store", "erase"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := finishServerFlags(cmd, &opts.Settings); err != nil {
				return err
			}
			if opts.MinTTL < 0 {
				return usageErrorf("--min-ttl must not be negative")
			}
			if opts.Username == "" || strings.ContainsAny(opts.Username, "\n\r\x00") {
				return usageErrorf("--username must be a non-empty line")
			}
			opts.Action = args[0]
			return runGitCredential(cmd.Context(), opts)
		},
	}
	addServerFlags(cmd, &opts.Settings)
	cmd.Flags().StringVar(&opts.Username, "username", "oauth2", "username to answer with the token")
	cmd.Flags().DurationVar(&opts.MinTTL, "min-ttl", 60*time.Second, "renew when the access token expires within this duration")
	return cmd
}

// gitCredential is what git sent: single attributes and the values of
// multi-valued ones (key[]), per git-credential(1) "INPUT/OUTPUT FORMAT".
type gitCredential struct {
	attrs map[string]string
	multi map[string][]string
}

func (c *gitCredential) has(key string) bool { _, ok := c.attrs[key]; return ok }

func (c *gitCredential) capability(name string) bool {
	for _, v := range c.multi["capability"] {
		if v == name {
			return true
		}
	}
	return false
}

// maxGitCredentialInput bounds what oat reads from git.
const maxGitCredentialInput = 1 << 20

// readGitCredential reads key=value lines until a blank line or EOF. Unknown
// keys are kept and ignored; a line without '=' is skipped with a warning
// (never quoted: it may hold a secret).
func readGitCredential(in io.Reader, errOut io.Writer) (*gitCredential, error) {
	c := &gitCredential{attrs: map[string]string{}, multi: map[string][]string{}}
	if in == nil {
		return c, nil
	}
	br := bufio.NewReader(io.LimitReader(in, maxGitCredentialInput))
	warned := false
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("reading git's request: %w", err)
			}
			return c, nil
		}
		key, value, ok := strings.Cut(line, "=")
		switch {
		case !ok || key == "":
			if !warned {
				fmt.Fprintln(errOut, "oat: ignoring git-credential input lines that are not key=value")
				warned = true
			}
		case strings.HasSuffix(key, "[]"):
			k := strings.TrimSuffix(key, "[]")
			if value == "" {
				delete(c.multi, k) // an empty value resets the list
			} else {
				c.multi[k] = append(c.multi[k], value)
			}
		default:
			c.attrs[key] = value
		}
		if err != nil {
			return c, nil
		}
	}
}

// gitTokenAllowed: a token goes only to https, or to http on a loopback host.
func gitTokenAllowed(c *gitCredential) bool {
	switch c.attrs["protocol"] {
	case "https":
		return true
	case "http":
		u, err := url.Parse("http://" + c.attrs["host"])
		return err == nil && urlpolicy.IsLoopbackHost(u.Hostname())
	}
	return false
}

func runGitCredential(ctx context.Context, o *GitCredentialOptions) error {
	c, err := readGitCredential(o.F.IO.In, o.F.IO.ErrOut)
	if err != nil {
		return err
	}
	switch o.Action {
	case "get":
		return gitCredentialGet(ctx, o, c)
	case "erase":
		return gitCredentialErase(ctx, o, c)
	}
	// store, and operations git may add later: git asks helpers to ignore
	// what they do not support.
	return nil
}

func gitCredentialGet(ctx context.Context, o *GitCredentialOptions, c *gitCredential) error {
	if !gitTokenAllowed(c) {
		fmt.Fprintf(o.F.IO.ErrOut, "oat: no token for %s://%s: oat answers git only for https (or http to a loopback host)\n",
			termsafe.Escape(c.attrs["protocol"]), termsafe.Escape(c.attrs["host"]))
		return nil
	}
	_, e, err := o.F.ValidToken(ctx, o.Settings, o.MinTTL)
	if err != nil {
		return err
	}
	if !tokentext.IsTokenText(e.AccessToken) {
		return errBadTokenText
	}
	scheme, err := authScheme(e.TokenType, "oat git-credential")
	if err != nil {
		return err
	}
	o.F.maskTokens(e.AccessToken) // stderr, which git passes on: never git's stdout
	var b bytes.Buffer
	if c.capability("authtype") {
		// git-credential(1): authtype and credential make the Authorization
		// header; ephemeral keeps storing helpers from saving a short-lived
		// token. Valid only after the helper announces the capability.
		fmt.Fprintf(&b, "capability[]=authtype\nauthtype=%s\ncredential=%s\nephemeral=true\n", scheme, e.AccessToken)
	} else {
		fmt.Fprintf(&b, "username=%s\npassword=%s\n", o.Username, e.AccessToken)
	}
	if !e.Expiry.IsZero() {
		fmt.Fprintf(&b, "password_expiry_utc=%d\n", e.Expiry.Unix())
	}
	_, err = o.F.IO.Out.Write(b.Bytes())
	return err
}

func gitCredentialErase(ctx context.Context, o *GitCredentialOptions, c *gitCredential) error {
	if !gitTokenAllowed(c) {
		return nil // oat never answered for it
	}
	refused := c.attrs["password"]
	if c.has("credential") {
		refused = c.attrs["credential"]
	}
	m, err := o.F.Session(o.Settings)
	if err != nil {
		return err
	}
	dropped, err := m.ForgetAccessToken(ctx, refused)
	if err != nil {
		return err
	}
	if dropped {
		fmt.Fprintf(o.F.IO.ErrOut, "oat: git saw the access token of profile %q refused; it is dropped, and the next git command gets a new one\n", m.Profile.Name)
	}
	return nil
}
