package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/jwt"
	"github.com/oatcli/oat/internal/output"
	"github.com/oatcli/oat/internal/session"
	"github.com/oatcli/oat/internal/termsafe"
	"github.com/oatcli/oat/internal/tokencache"
	"github.com/oatcli/oat/internal/urlpolicy"
)

// Token kinds for DecodeOptions.CurrentToken.
const (
	TokenKindAccess = "access"
	TokenKindID     = "id"
)

// maxTokenInput bounds what decode reads from stdin.
const maxTokenInput = 1 << 20

// DecodeOptions are the inputs of `oat decode`.
type DecodeOptions struct {
	IO       *output.IOStreams
	Now      func() time.Time
	Getenv   func(string) string
	Location *time.Location // for the "local" annotation; time.Local when nil

	// HTTPClient fetches discovery documents and JWKS.
	HTTPClient func() (*http.Client, error)
	// CurrentToken returns the profile's cached token of the kind
	// TokenKindAccess or TokenKindID (for --access-token / --id-token).
	CurrentToken func(ctx context.Context, kind string) (string, error)
	// ProfileKeys returns the profile's issuer and jwks_url ("" when unset),
	// the key source of --verify when no flag names one.
	ProfileKeys func(ctx context.Context) (issuer, jwksURL string, err error)

	Token       string // the argument; "-" or "" means stdin
	FromStdin   bool
	Kind        string // TokenKindAccess or TokenKindID with --access-token/--id-token
	Output      string // text|json
	Verify      bool
	JWKSURL     string
	KeyFile     string
	SecretEnv   string
	Leeway      time.Duration
	Issuer      string
	Audience    string
	verifyFlags []string // verification flags given, for messages
}

func newCmdDecode(f *Factory, runF func(*DecodeOptions) error) *cobra.Command {
	var caFile string
	opts := &DecodeOptions{
		IO:         f.IO,
		Now:        f.Now,
		Getenv:     f.Getenv,
		HTTPClient: func() (*http.Client, error) { return f.HTTPClient(decodeCAFile(f, caFile)) },
	}
	opts.ProfileKeys = func(context.Context) (string, string, error) { return profileKeys(f) }
	opts.CurrentToken = func(_ context.Context, kind string) (string, error) { return currentToken(f, kind) }
	var accessToken, idToken bool
	cmd := &cobra.Command{
		Use:   "decode [TOKEN|-]",
		Short: "Show a JWT's header and claims; --verify checks its signature and times",
		Long: `Decode a JWT (JWS) and show its header and claims, with exp, iat, nbf and
auth_time also as RFC 3339 time and relative to now. The token comes from the
argument, from stdin ("-", or no argument with piped input), or from the
profile's cached token (--access-token, --id-token). A leading "Bearer " or a
whole "Authorization: Bearer …" line is accepted. Prefer stdin: a token on the
command line shows up in ps and in shell history.

A JWE (encrypted token) shows its protected header only.

--verify checks the signature and the exp/nbf claims (with --leeway). Keys come
from --key FILE (PEM public key or certificate, JWK or JWKS), --jwks-url URL,
or --secret-env VAR (HMAC); else from --issuer's discovery; else from the
profile's jwks_url or issuer; else from the issuer the token names (https or
loopback only, and oat says so: a token can name any issuer). --issuer and
--audience add those checks. Giving any of these flags implies --verify.

Exit codes: 0 decoded (and verified), 2 not a JWT or bad flags, 4 keys could
not be fetched (network, 5xx), 5 verification failed.`,
		Example: `  pbpaste | oat decode
  oat decode < token.txt
  oat decode --id-token
  oat decode -o json - < token.txt | jq .payload.sub
  oat decode --verify --issuer https://login.example.com --audience cli-app - < token.txt
  oat decode --key public.pem - < token.txt`,
		Args: maxArgs(1, "TOKEN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := output.CheckFormat(opts.Output, "text", "json"); err != nil {
				return &UsageError{Err: err}
			}
			if accessToken && idToken {
				return usageErrorf("--access-token and --id-token cannot be used together")
			}
			if accessToken {
				opts.Kind = TokenKindAccess
			} else if idToken {
				opts.Kind = TokenKindID
			}
			if len(args) == 1 {
				opts.Token = args[0]
			}
			switch {
			case opts.Kind != "" && len(args) == 1:
				return usageErrorf("give a token or --%s-token, not both", opts.Kind)
			case opts.Kind != "":
			case opts.Token == "-":
				opts.FromStdin, opts.Token = true, ""
			case opts.Token != "":
			case opts.IO.IsStdinTTY():
				return usageErrorf("no token given: pipe one on stdin (pbpaste | oat decode), pass it as an argument or \"-\", or use --access-token or --id-token")
			default:
				opts.FromStdin = true
			}
			for _, name := range []string{"jwks-url", "key", "secret-env", "issuer", "audience", "leeway"} {
				if cmd.Flags().Changed(name) {
					opts.verifyFlags = append(opts.verifyFlags, "--"+name)
				}
			}
			if len(opts.verifyFlags) > 0 {
				opts.Verify = true
			}
			var sources []string
			for _, s := range []struct{ flag, v string }{{"--key", opts.KeyFile}, {"--jwks-url", opts.JWKSURL}, {"--secret-env", opts.SecretEnv}} {
				if s.v != "" {
					sources = append(sources, s.flag)
				}
			}
			if len(sources) > 1 {
				return usageErrorf("choose one key source: %s", strings.Join(sources, " or "))
			}
			if opts.Leeway < 0 {
				return usageErrorf("--leeway must not be negative")
			}
			for _, u := range []struct{ flag, v string }{{"--jwks-url", opts.JWKSURL}, {"--issuer", opts.Issuer}} {
				if err := checkURLFlag(u.flag, u.v); err != nil {
					return err
				}
			}
			if opts.SecretEnv != "" && opts.Getenv(opts.SecretEnv) == "" {
				return usageErrorf("--secret-env %s: that environment variable is not set or empty", opts.SecretEnv)
			}
			if opts.Verify {
				// Fetching keys waits on the network: Ctrl-C must cancel it.
				// Decoding alone never blocks but on stdin, which Ctrl-C
				// ends without a handler.
				f.interruptible()
			}
			if runF != nil {
				return runF(opts)
			}
			return runDecode(cmd.Context(), opts)
		},
		Annotations: map[string]string{lazyInterruptAnnotation: "1"},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Output, "output", "o", "text", "output format: text|json")
	fl.BoolVar(&opts.Verify, "verify", false, "verify the signature and the exp/nbf claims")
	fl.StringVar(&opts.JWKSURL, "jwks-url", "", "verify with the keys of this JWKS URL")
	fl.StringVar(&opts.KeyFile, "key", "", "verify with this key file: PEM public key or certificate, JWK or JWKS")
	fl.StringVar(&opts.SecretEnv, "secret-env", "", "verify an HMAC token with the secret in this environment variable")
	fl.DurationVar(&opts.Leeway, "leeway", 60*time.Second, "clock skew allowed on exp and nbf")
	fl.StringVar(&caFile, "ca-file", "", "PEM file of extra CA certificates to trust when fetching keys (default: the profile's ca_file)")
	fl.StringVar(&opts.Issuer, "issuer", "", "require this iss (and fetch keys from its discovery when no other source is given)")
	fl.StringVar(&opts.Audience, "audience", "", "require this value in aud")
	fl.BoolVar(&accessToken, "access-token", false, "decode the profile's cached access token")
	fl.BoolVar(&idToken, "id-token", false, "decode the profile's cached ID token")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// profileKeys reads the chosen profile's issuer and jwks_url from the config
// file ($OAT_ISSUER over the file). No config file, or no such profile when
// none was named, means no profile keys.
func profileKeys(f *Factory) (string, string, error) {
	cfg, err := f.Config()
	if err != nil {
		return "", "", err
	}
	name, explicit := cfg.ProfileName(f.ProfileFlag, f.Getenv)
	p, ok := cfg.Profiles[name]
	if !ok && explicit && f.Getenv("OAT_ISSUER") == "" {
		return "", "", profileNotFound(cfg, name)
	}
	if v := f.Getenv("OAT_ISSUER"); v != "" {
		p.Issuer = v
	}
	return p.Issuer, p.JWKSURL, nil
}

// decodeCAFile is --ca-file, else the chosen profile's ca_file.
func decodeCAFile(f *Factory, flag string) string {
	if flag != "" {
		return flag
	}
	if cfg, err := f.Config(); err == nil {
		name, _ := cfg.ProfileName(f.ProfileFlag, f.Getenv)
		return cfg.Profiles[name].CAFile
	}
	return ""
}

// currentToken reads the profile's cached access or ID token, as it is: an
// expired token is shown (and said to be expired), never renewed here.
func currentToken(f *Factory, kind string) (string, error) {
	r, err := f.Resolve(config.Overrides{})
	if err != nil {
		return "", err
	}
	cache, err := f.Cache()
	if err != nil {
		return "", err
	}
	e, err := cache.Load(r.Key)
	if errors.Is(err, tokencache.ErrNotFound) || (err == nil && e.AccessToken == "" && e.IDToken == "") {
		return "", &session.LoginRequiredError{Profile: r}
	}
	if err != nil {
		return "", err
	}
	if kind == TokenKindID {
		if e.IDToken == "" {
			return "", fmt.Errorf("profile %q has no ID token: the server sent none (log in with the openid scope to get one)", r.Name)
		}
		return e.IDToken, nil
	}
	if e.AccessToken == "" {
		return "", &session.LoginRequiredError{Profile: r}
	}
	return e.AccessToken, nil
}

func runDecode(ctx context.Context, o *DecodeOptions) error {
	raw, err := decodeInput(ctx, o)
	if err != nil {
		return err
	}
	tok, err := jwt.Parse(raw)
	if err != nil {
		return err
	}
	now := o.Now()
	loc := o.Location
	if loc == nil {
		loc = localZone(o.Getenv)
	}
	// With --verify the verdict comes first, so that the Signature line
	// says what stderr says.
	var (
		verdict *jwt.Verdict
		source  string
		verr    error
	)
	if o.Verify {
		verdict, source, verr = verifyDecoded(ctx, o, tok, now)
	}
	if o.Output == "json" {
		err = writeDecodeJSON(o.IO.Out, tok, now)
	} else {
		err = writeDecodeText(o.IO.Out, tok, now, loc, o.IO.ColorEnabled(), signatureNote(o.Verify, verr))
	}
	if err != nil {
		return err
	}
	if !o.Verify {
		return nil
	}
	if verr != nil {
		return verr
	}
	writeVerdict(o, verdict, source)
	return nil
}

// signatureNote ends the text output's Signature line: what --verify found,
// in agreement with the verdict on stderr.
func signatureNote(verify bool, err error) string {
	var ve *jwt.VerifyError
	switch {
	case !verify:
		return "not verified here (--verify checks it)"
	case err == nil:
		return "valid (--verify)"
	case errors.As(err, &ve) && ve.Check == jwt.CheckSignature:
		return "did not verify (--verify; the error is on stderr)"
	case errors.As(err, &ve):
		return "valid, but the " + ve.Check + " check failed (--verify; the error is on stderr)"
	}
	return "not verified: the check could not run (--verify; the error is on stderr)"
}

func decodeInput(ctx context.Context, o *DecodeOptions) (string, error) {
	switch {
	case o.Kind != "":
		if o.CurrentToken == nil {
			return "", fmt.Errorf("--%s-token: reading the profile's cached token is not available in this build", o.Kind)
		}
		return o.CurrentToken(ctx, o.Kind)
	case o.FromStdin:
		b, err := io.ReadAll(io.LimitReader(o.IO.In, maxTokenInput+1))
		if err != nil {
			return "", fmt.Errorf("reading the token from stdin: %w", err)
		}
		if len(b) > maxTokenInput {
			return "", &jwt.MalformedError{Part: "token", Msg: fmt.Sprintf("input larger than %d bytes", maxTokenInput)}
		}
		return string(b), nil
	}
	return o.Token, nil
}

// localZone is $TZ when it names a zone, else the system's local zone.
func localZone(getenv func(string) string) *time.Location {
	if getenv != nil {
		if tz := getenv("TZ"); tz != "" {
			if loc, err := time.LoadLocation(strings.TrimPrefix(tz, ":")); err == nil {
				return loc
			}
		}
	}
	return time.Local
}

// verifyDecoded runs --verify and returns the verdict and, when the keys came
// from the profile, which of its settings named them.
func verifyDecoded(ctx context.Context, o *DecodeOptions, tok *jwt.Token, now time.Time) (*jwt.Verdict, string, error) {
	vo := jwt.VerifyOptions{
		KeyFile:  o.KeyFile,
		JWKSURL:  o.JWKSURL,
		Issuer:   o.Issuer,
		Audience: o.Audience,
		Leeway:   o.Leeway,
		Now:      now,
	}
	if o.SecretEnv != "" {
		vo.Secret = []byte(o.Getenv(o.SecretEnv))
		vo.SecretName = "$" + o.SecretEnv
	}
	profileSource := ""
	// Flags before the profile: --issuer names the keys' issuer itself.
	if vo.KeyFile == "" && vo.JWKSURL == "" && vo.Secret == nil && vo.Issuer == "" && o.ProfileKeys != nil {
		iss, jwksURL, err := o.ProfileKeys(ctx)
		if err != nil {
			return nil, "", err
		}
		switch {
		case jwksURL != "":
			if err := urlpolicy.Check("jwks_url", jwksURL); err != nil {
				return nil, "", &config.Error{Msg: "profile " + err.Error()}
			}
			vo.JWKSURL, profileSource = jwksURL, "the profile's jwks_url"
		case iss != "":
			vo.KeysIssuer, profileSource = iss, "the profile's issuer"
		}
	}
	if o.HTTPClient != nil {
		hc, err := o.HTTPClient()
		if err != nil {
			return nil, "", err
		}
		vo.HTTPClient = hc
	}
	v, err := jwt.Verify(ctx, tok, vo)
	return v, profileSource, err
}

// writeVerdict says on stderr what --verify checked and where the keys came
// from.
func writeVerdict(o *DecodeOptions, v *jwt.Verdict, profileSource string) {
	w, color := o.IO.ErrOut, o.IO.ColorEnabledErr()
	line := v.Alg
	if v.KeyID != "" {
		line += ", kid " + plain(v.KeyID)
	}
	line += ", keys from " + v.KeysFrom
	if v.Issuer != "" && v.Issuer != v.KeysFrom {
		line += " (issuer " + v.Issuer + ")"
	}
	if profileSource != "" {
		line += " via " + profileSource
	}
	fmt.Fprintf(w, "%s %s\n", output.Colorize(color, output.Green, "signature valid:"), line)
	if v.FromTokenIssuer {
		fmt.Fprintf(w, "%s %s\n", output.Colorize(color, output.Yellow, "note:"), jwt.TokenIssuerNote)
	}
	var claims []string
	for _, c := range v.Checked {
		if c != jwt.CheckSignature {
			claims = append(claims, c)
		}
	}
	if len(claims) == 0 {
		fmt.Fprintln(w, "claims checked: none (the token has no exp or nbf; --issuer and --audience add checks)")
	} else {
		fmt.Fprintf(w, "claims checked: %s (leeway %s)\n", strings.Join(claims, ", "), o.Leeway)
	}
}

// ---- JSON output

// writeDecodeJSON streams {"header", "payload", "signature", "encrypted",
// "expires_in"} indented by two spaces, as output.WriteJSON would, but
// without building it in memory and compact below output.PrettyDepth.
func writeDecodeJSON(w io.Writer, tok *jwt.Token, now time.Time) error {
	p := output.NewJSONPrinter(w, false, 1)
	p.WriteString("{\n  \"header\": ")
	p.Value(tok.Header, 0, nil)
	if tok.Encrypted {
		p.WriteString(",\n  \"encrypted\": true")
	} else {
		p.WriteString(",\n  \"payload\": ")
		p.Value(tok.Payload, 0, nil)
		p.WriteString(",\n  \"signature\": ")
		p.String(tok.Signature)
		if n, ok := tok.ExpiresIn(now); ok {
			p.WriteString(",\n  \"expires_in\": " + string(n))
		}
	}
	p.WriteString("\n}\n")
	return p.Flush()
}

// ---- text output

func writeDecodeText(w io.Writer, tok *jwt.Token, now time.Time, loc *time.Location, color bool, sigNote string) error {
	p := output.NewJSONPrinter(w, color, 0)
	p.WriteString(output.Colorize(color, output.Bold, summary(tok, now)) + "\n\n")
	p.WriteString(output.Colorize(color, output.Bold, "Header") + "\n")
	p.Value(tok.Header, 0, nil)
	p.WriteString("\n")
	if tok.Encrypted {
		p.WriteString("\nThe payload is encrypted (JWE): only the holder of the recipient's key can read it.\n")
		return p.Flush()
	}
	p.WriteString("\n" + output.Colorize(color, output.Bold, "Payload") + "\n")
	annotate := func(key string, v any) string {
		if !jwt.IsTimeClaim(key) {
			return ""
		}
		return timeNote(key, v, now, loc)
	}
	p.Value(tok.Payload, 0, annotate)
	p.WriteString("\n\n")
	sig := "Signature: none"
	if tok.Signature != "" {
		sig = fmt.Sprintf("Signature: %d bytes, %s", len(tok.Signature)*6/8, sigNote)
	}
	p.WriteString(output.Colorize(color, output.Dim, sig) + "\n")
	return p.Flush()
}

// summary is the one line on top: alg, kid, iss, sub, aud and expiry state.
func summary(tok *jwt.Token, now time.Time) string {
	alg := plain(tok.Alg())
	if tok.Alg() == "" {
		alg = "no alg"
	}
	if tok.Encrypted {
		parts := []string{"JWE " + alg}
		if enc, ok := tok.Header.String("enc"); ok {
			parts[0] += " " + plain(enc)
		}
		if kid := tok.KeyID(); kid != "" {
			parts = append(parts, "kid "+plain(kid))
		}
		parts = append(parts, "payload encrypted")
		return strings.Join(parts, ", ")
	}
	parts := []string{alg}
	if kid := tok.KeyID(); kid != "" {
		parts = append(parts, "kid "+plain(kid))
	}
	for _, c := range []string{"iss", "sub"} {
		if s, ok := tok.StringClaim(c); ok {
			parts = append(parts, c+" "+plain(s))
		}
	}
	if aud := tok.Audience(); len(aud) == 1 {
		parts = append(parts, "aud "+plain(aud[0]))
	} else if len(aud) > 1 {
		for i := range aud {
			aud[i] = plain(aud[i])
		}
		parts = append(parts, "aud ["+strings.Join(aud, " ")+"]")
	}
	if _, ok := tok.Claim("exp"); !ok {
		parts = append(parts, "no exp")
	} else if exp, ok := tok.Time("exp"); ok {
		parts = append(parts, jwt.Relative("exp", exp, now))
	} else {
		parts = append(parts, "exp not a date")
	}
	if nbf, ok := tok.Time("nbf"); ok && nbf.After(now) {
		parts = append(parts, jwt.Relative("nbf", nbf, now))
	}
	return strings.Join(parts, ", ")
}

// timeNote annotates a time claim: UTC, local time when the zone differs,
// and relative to now.
func timeNote(claim string, v any, now time.Time, loc *time.Location) string {
	t, ok := jwt.NumericDate(v)
	if !ok {
		if _, isNum := v.(json.Number); isNum {
			return "out of range for a date"
		}
		return "not a number: a NumericDate is seconds since 1970"
	}
	s := t.UTC().Format(time.RFC3339)
	if lt := t.In(loc); lt.Format("-07:00 MST") != t.UTC().Format("-07:00 MST") {
		s += " = " + lt.Format("2006-01-02 15:04:05 MST") + " (local)"
	}
	return s + ", " + jwt.Relative(claim, t, now)
}

// plain shows a claim in the summary line: as is when it is printable text,
// else quoted with escapes.
func plain(s string) string {
	if termsafe.Safe(s) && s != "" {
		return s
	}
	return output.JSONString(s)
}
