package cli

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/dpop"
	"github.com/oatcli/oat/internal/session"
	"github.com/oatcli/oat/internal/tokencache"
	"github.com/oatcli/oat/internal/tokentext"
)

// CurlOptions drive `oat curl`.
type CurlOptions struct {
	F        *Factory
	Settings config.Overrides
	MinTTL   time.Duration
	Args     []string // curl's own arguments
}

func newCmdCurl(f *Factory) *cobra.Command {
	opts := &CurlOptions{F: f}
	cmd := &cobra.Command{
		Use:   "curl [flags] -- CURL_ARGS...",
		Short: "Run curl with the Authorization header added, the token on no command line",
		Long: `Run curl with "Authorization: Bearer <token>" added, where the token is a
valid access token of the profile (renewed first as oat token does). A
DPoP-bound token (profile key dpop) goes as "Authorization: DPoP <token>"
with a fresh "DPoP: <proof>" naming curl's method and URL: then curl's
arguments must name exactly one http(s) URL, and no -K/--config or --next.

The token never appears on a command line, neither oat's nor curl's (where ps
and /proc would show it to every user): curl reads the header from a config
on an inherited pipe (-K /dev/fd/N). curl's standard input, output and
error are yours, so -d @-, --data-binary @- and -T - read what you pipe in.
oat's flags come first; curl's arguments follow --. oat exits with curl's
exit code, and passes Ctrl-C and termination signals on to curl.`,
		Example: `  oat curl -- -fsS https://api.example.com/v1/me
  oat curl -p work -- -X POST -H 'Content-Type: application/json' -d @item.json https://api.example.com/v1/items
  jq -n '{name: "x"}' | oat curl -- --json @- https://api.example.com/v1/items`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := finishServerFlags(cmd, &opts.Settings); err != nil {
				return err
			}
			if len(args) == 0 {
				return usageErrorf("no arguments for curl: give them after --, as in oat curl -- -fsS https://api.example.com/")
			}
			if opts.MinTTL < 0 {
				return usageErrorf("--min-ttl must not be negative")
			}
			opts.Args = args
			return runCurl(cmd.Context(), opts)
		},
	}
	addServerFlags(cmd, &opts.Settings)
	cmd.Flags().DurationVar(&opts.MinTTL, "min-ttl", 60*time.Second, "renew when the access token expires within this duration")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &UsageError{Err: fmt.Errorf("%w (curl's own options go after --: oat curl [flags] -- CURL_ARGS)", err)}
	})
	return cmd
}

// noCurlMsg is the error when curl cannot be found (exit 1).
const noCurlMsg = "curl is not installed or not on PATH: install curl (apt install curl, brew install curl, winget install curl), or give another HTTP client the header of oat token -o header"

func runCurl(ctx context.Context, o *CurlOptions) error {
	// Before any token work: no renewal for a curl that cannot run.
	bin, err := exec.LookPath("curl")
	if err != nil {
		return errors.New(noCurlMsg)
	}
	m, e, err := o.F.ValidToken(ctx, o.Settings, o.MinTTL)
	if err != nil {
		return err
	}
	if !tokentext.IsTokenText(e.AccessToken) {
		return errBadTokenText
	}
	var config []byte
	if tokentext.NormalizeTokenType(e.TokenType) == dpop.TokenType {
		// A fresh proof for the one request curl makes (htm, htu, ath).
		method, rawURL, err := curlRequest(o.Args)
		if err != nil {
			return &UsageError{Err: err}
		}
		h, err := dpopHeaders(m, e, method, rawURL, o.F.Now())
		if err != nil {
			return err
		}
		for _, line := range h {
			config = append(config, curlConfigHeader(line)...)
		}
	} else {
		scheme, err := authScheme(e.TokenType, "oat curl")
		if err != nil {
			return err
		}
		config = curlConfigHeader("Authorization: " + scheme + " " + e.AccessToken)
	}
	// curl -v shows the Authorization header on stderr: in GitHub Actions
	// the runner masks the token first.
	o.F.maskTokens(e.AccessToken)
	cmd := exec.Command(bin)
	cmd.Env = o.F.childEnv(m.Profile.Profile) // curl needs the header, not the secret
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.F.IO.In, o.F.IO.Out, o.F.IO.ErrOut
	cfg, err := newCurlConfig(cmd, config)
	if err != nil {
		return fmt.Errorf("passing the header to curl: %w", err)
	}
	defer cfg.cleanup()
	cmd.Args = append([]string{bin}, curlArgs(o.Args, cfg.path)...)
	startErr, err := runChild(cmd, cfg.started)
	if startErr != nil {
		return fmt.Errorf("running %s: %w", bin, startErr)
	}
	var se *SilentExit
	if err != nil && !errors.As(err, &se) {
		return fmt.Errorf("running %s: %w", bin, err)
	}
	return err
}

// curlConfig is a config curl reads with -K path (newCurlConfig: an
// inherited pipe on unix, a private temporary file elsewhere).
type curlConfig struct {
	path    string
	started func() // call once the child has started (nil: nothing to do)
	cleanup func()
}

// curlArgs puts -K PATH before the user's arguments, but after a leading
// -q/--disable, which curl honours only as its first argument.
func curlArgs(user []string, configPath string) []string {
	if len(user) > 0 && (user[0] == "--disable" || strings.HasPrefix(user[0], "-q")) {
		return append([]string{user[0], "-K", configPath}, user[1:]...)
	}
	return append([]string{"-K", configPath}, user...)
}

// curlConfigHeader is one line of curl's config-file syntax giving a header.
// The value is double-quoted with \ and " escaped, so that no value can end
// the string and start another option (errBadTokenText has already refused
// control characters, which curl's quoting cannot carry).
func curlConfigHeader(value string) []byte {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return []byte(`header = "` + r.Replace(value) + "\"\n")
}

// dpopHeaders are the two header lines that send the DPoP-bound token e on a
// request with method to rawURL: "Authorization: DPoP <token>" and
// "DPoP: <proof>", the proof new (own jti), made with the key e is bound to
// and naming method, the URL (without query and fragment) and the token's
// hash (RFC 9449 §7).
func dpopHeaders(m *session.Manager, e *tokencache.Entry, method, rawURL string, now time.Time) ([]string, error) {
	key, err := m.DPoPKey(e)
	if err != nil {
		return nil, err
	}
	proof, err := key.Proof(method, rawURL, "", e.AccessToken, now)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	return []string{
		"Authorization: " + dpop.TokenType + " " + e.AccessToken,
		dpop.Header + ": " + proof,
	}, nil
}

// authScheme is the Authorization scheme for a token of tokenType: Bearer
// (the default, whatever its case). A DPoP-bound token needs a proof per
// request, which what (the command) cannot add (oat curl adds them itself).
func authScheme(tokenType, what string) (string, error) {
	switch scheme := tokentext.NormalizeTokenType(tokenType); scheme {
	case "Bearer":
		return scheme, nil
	case "DPoP":
		return "", fmt.Errorf("the access token is DPoP-bound and %s cannot add a DPoP proof to each request: use oat curl, or give another client the headers of oat token --dpop-proof METHOD URL", what)
	}
	if auth.IsNotAccessToken(tokenType) {
		return "", fmt.Errorf("%s: %w", what, errNotAccessToken)
	}
	return "", fmt.Errorf("the server issued an access token of type %q, which %s cannot send (it sends Bearer tokens)", tokenType, what)
}

// errNotAccessToken refuses to send, as an Authorization header, a token
// the server says is not an access token: token_type N_A (RFC 8693 §2.2.1),
// the answer of a token exchange for, say, requested_token_type id_token.
var errNotAccessToken = errors.New("the server issued this token with token_type N_A: it is not an access token (RFC 8693 §2.2.1; requested_token_type asked for another kind), so it goes into no Authorization header: print it with oat token (-o raw or -o json) and pass it on as its consumer expects")

// errBadTokenText refuses a token with bytes outside %x21-7E (auth.IsTokenText):
// such a token cannot go into an HTTP header as it is (a space, CR or LF there
// could smuggle in other headers) nor into a git credential answer (a newline
// there would add attributes). Tokens are checked as they arrive; this is the
// check for one cached by an older oat.
var errBadTokenText = errors.New("the access token holds characters that cannot go into an HTTP header (spaces, control or non-ASCII bytes), so it is not sent: check the server")
