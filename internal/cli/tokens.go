package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/jwt"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/session"
	"github.com/oatcli/oat/internal/tokencache"
)

// Store returns the refresh-token store of the given kind ("keychain" or
// "file"). Tests replace it through StoreFor.
func (f *Factory) Store(kind string) (keychain.Store, error) {
	if f.StoreFor != nil {
		return f.StoreFor(kind)
	}
	if kind == config.StorageFile {
		dir, err := keychain.StateDir(f.Getenv)
		if err != nil {
			return nil, err
		}
		return keychain.NewFile(dir), nil
	}
	return keychain.NewOS(keychain.OSOptions{}), nil
}

// Cache returns the access/ID-token cache.
func (f *Factory) Cache() (*tokencache.Cache, error) {
	dir, err := tokencache.Dir(f.Getenv)
	if err != nil {
		return nil, err
	}
	return tokencache.New(dir), nil
}

// clientSecret finds the profile's secret: the variable named by
// client_secret_env, else $OAT_CLIENT_SECRET — the latter only for a profile
// that is a confidential client (ad hoc from flags, client credentials, or
// client_auth basic/post), so that a secret exported for one CI client is
// never sent along with a public client's requests.
func (f *Factory) clientSecret(r *config.Resolved) (string, error) {
	p := r.Profile
	if p.ClientSecretEnv != "" {
		v := f.Getenv(p.ClientSecretEnv)
		if v == "" {
			return "", &config.Error{Msg: fmt.Sprintf("client_secret_env names %s, but that environment variable is empty: export the client secret in it", p.ClientSecretEnv)}
		}
		return v, nil
	}
	confidential := r.AdHoc() || config.IsMachineFlow(p.Flow) ||
		p.ClientAuth == config.ClientAuthBasic || p.ClientAuth == config.ClientAuthPost
	secret := ""
	if confidential {
		secret = f.Getenv("OAT_CLIENT_SECRET")
	}
	if secret == "" && p.Flow == config.FlowClientCredentials && p.ClientAuth != config.ClientAuthPrivateKeyJWT && p.ClientAssertion == "" {
		return "", &config.Error{Msg: fmt.Sprintf("profile %q uses client credentials but has no secret: set client_secret_env (or --client-secret-env) to the name of a variable holding it, or export OAT_CLIENT_SECRET", r.Name)}
	}
	return secret, nil
}

// Session builds the session manager for the profile the flags select.
func (f *Factory) Session(o config.Overrides) (*session.Manager, error) {
	r, err := f.Resolve(o)
	if err != nil {
		return nil, err
	}
	return f.sessionFor(r)
}

// ValidToken returns the access token of the profile the flags select,
// renewed first when it expires within minTTL, and that profile's session:
// what oat exec, oat curl and oat git-credential hand on.
func (f *Factory) ValidToken(ctx context.Context, o config.Overrides, minTTL time.Duration) (*session.Manager, *tokencache.Entry, error) {
	m, err := f.Session(o)
	if err != nil {
		return nil, nil, err
	}
	e, err := m.Token(ctx, minTTL)
	if err != nil {
		return nil, nil, err
	}
	return m, e, nil
}

// BoundStore returns the refresh-token store of the given kind with the
// binding records beside its tokens (keychain.Bound).
func (f *Factory) BoundStore(kind string) (*keychain.Bound, error) {
	st, err := f.Store(kind)
	if err != nil {
		return nil, err
	}
	dir, err := keychain.StateDir(f.Getenv)
	if err != nil {
		return nil, err
	}
	return keychain.NewBound(st, dir), nil
}

func (f *Factory) sessionFor(r *config.Resolved) (*session.Manager, error) {
	cache, err := f.Cache()
	if err != nil {
		return nil, err
	}
	// The binding records' folder; an error shows only when the refresh
	// token is needed (a cache hit needs neither).
	bindings, bindErr := keychain.StateDir(f.Getenv)
	var hc *http.Client
	return &session.Manager{
		Profile:     r,
		Cache:       cache,
		Bindings:    bindings,
		LockTimeout: f.LockTimeout,
		Store: func() (keychain.Store, error) {
			if bindErr != nil {
				return nil, bindErr
			}
			return f.Store(r.Profile.Storage)
		},
		HTTP: func() (*http.Client, error) {
			if hc == nil {
				c, err := f.HTTPClient(r.Profile.CAFile)
				if err != nil {
					return nil, err
				}
				hc = c
			}
			return hc, nil
		},
		Secret:       func() (string, error) { return f.clientSecret(r) },
		Now:          f.Now,
		Getenv:       f.Getenv,
		ProfileToken: f.profileToken(r.Name),
	}, nil
}

// profileToken returns the hook that gives profile from's session the
// access token of another profile (subject_token_from profile:NAME): that
// profile as `oat token -p NAME` resolves it, renewed the same way when it
// expires within a minute. A chain that comes back to a profile already on
// it (a → b → a) is a configuration error.
func (f *Factory) profileToken(from string) func(context.Context, string) (string, error) {
	return func(ctx context.Context, name string) (string, error) {
		chain, _ := ctx.Value(profileChainKey{}).([]string)
		chain = append(slices.Clone(chain), from)
		if slices.Contains(chain, name) {
			return "", &config.Error{Msg: fmt.Sprintf("subject_token_from: profiles %s form a loop", strings.Join(append(chain, name), " → "))}
		}
		cfg, err := f.Config()
		if err != nil {
			return "", err
		}
		r, err := cfg.Resolve(name, config.Overrides{}, f.Getenv)
		if err != nil {
			return "", err
		}
		m, err := f.sessionFor(r)
		if err != nil {
			return "", err
		}
		e, err := m.Token(context.WithValue(ctx, profileChainKey{}, chain), time.Minute)
		if err != nil {
			return "", err
		}
		return e.AccessToken, nil
	}
}

type profileChainKey struct{}

// childEnv is the environment of a program oat starts for profile p (a
// browser launcher, oat exec's CMD, curl): oat's own (f.Environ, else
// os.Environ) without the client secret's variables, OAT_CLIENT_SECRET and
// the one client_secret_env names, nor the variable a client assertion or a
// subject token is read from (client_assertion, subject_token_from
// env:VAR). A child gets a token at most, never what mints more.
func (f *Factory) childEnv(p config.Profile) []string {
	drop := map[string]bool{"OAT_CLIENT_SECRET": true}
	if p.ClientSecretEnv != "" {
		drop[p.ClientSecretEnv] = true
	}
	for _, src := range []string{p.ClientAssertion, p.SubjectTokenFrom} {
		if name, ok := strings.CutPrefix(src, "env:"); ok && name != "" {
			drop[name] = true
		}
	}
	environ := os.Environ
	if f.Environ != nil {
		environ = f.Environ
	}
	env := []string{}
	for _, kv := range environ() {
		if name, _, _ := strings.Cut(kv, "="); !drop[name] {
			env = append(env, kv)
		}
	}
	return env
}

// browserFor returns the browser launcher of a login for profile p: it opens
// a URL with $OAT_BROWSER, else $BROWSER (a program run with the URL as its
// one argument), else the system opener. The launcher gets oat's environment
// without the client secret's variables (OAT_CLIENT_SECRET and the one
// client_secret_env names): a browser has no business with them. Its output
// goes to stderr so stdout stays clean. A URL that fails auth.CheckOpenURL
// is never handed to it.
func (f *Factory) browserFor(p config.Profile) func(string) error {
	return func(url string) error {
		if err := auth.CheckOpenURL(url); err != nil {
			return err
		}
		if f.Browser != nil {
			return f.Browser(url)
		}
		env := f.childEnv(p)
		command := func(name string, args ...string) *exec.Cmd {
			cmd := exec.Command(name, args...)
			cmd.Env = env
			cmd.Stdout = f.IO.ErrOut
			cmd.Stderr = f.IO.ErrOut
			return cmd
		}
		prog := f.Getenv("OAT_BROWSER")
		if prog == "" {
			prog = f.Getenv("BROWSER")
		}
		if prog != "" {
			cmd := command(prog, url)
			if err := cmd.Start(); err != nil {
				return err
			}
			go func() { _ = cmd.Wait() }()
			return nil
		}
		if !f.canOpenBrowser() {
			return fmt.Errorf("no browser can be opened here")
		}
		// The system openers github.com/pkg/browser used, run here so that
		// they get the filtered environment and oat's streams.
		switch runtime.GOOS {
		case "darwin":
			return runSystemOpener(command("open", url))
		case "windows":
			return runSystemOpener(command("rundll32", "url.dll,FileProtocolHandler", url))
		}
		var err error
		for _, opener := range []string{"xdg-open", "x-www-browser", "www-browser"} {
			if _, err = exec.LookPath(opener); err == nil {
				return runSystemOpener(command(opener, url))
			}
		}
		return fmt.Errorf("no browser opener found (xdg-open): set OAT_BROWSER, or pass --no-browser")
	}
}

// runSystemOpener runs open, rundll32 or xdg-open; a variable so that tests
// can refuse it (no test may open a real browser).
var runSystemOpener = (*exec.Cmd).Run

// canOpenBrowser guesses whether a browser can open: not in an SSH session,
// and on Linux and BSDs only with a display.
func (f *Factory) canOpenBrowser() bool {
	if f.Browser != nil || f.Getenv("OAT_BROWSER") != "" || f.Getenv("BROWSER") != "" {
		return true
	}
	if f.Getenv("SSH_CONNECTION") != "" || f.Getenv("SSH_TTY") != "" {
		return false
	}
	switch runtime.GOOS {
	case "windows", "darwin":
		return true
	}
	return f.Getenv("DISPLAY") != "" || f.Getenv("WAYLAND_DISPLAY") != ""
}

// formatExpiry says when an access token expires, for humans.
func formatExpiry(exp, now time.Time) string {
	if exp.IsZero() {
		return "no expiry given"
	}
	// The same words and duration format as decode's (jwt.Relative).
	return fmt.Sprintf("%s (%s)", jwt.Relative("exp", exp, now), exp.UTC().Format(time.RFC3339))
}
