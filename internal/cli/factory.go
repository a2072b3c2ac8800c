package cli

import (
	"io"
	"net/http"
	"os"
	"time"

	"github.com/oatcli/oat/internal/build"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/output"
)

// Factory carries the dependencies commands use. Everything a command touches
// outside its own memory (streams, environment, clock, browser, storage, HTTP)
// comes from here, so tests build a Factory of fakes and run in parallel.
type Factory struct {
	IO     *output.IOStreams
	Getenv func(string) string
	Now    func() time.Time
	// Browser opens a URL for the user; nil means $OAT_BROWSER, $BROWSER or
	// the system opener.
	Browser func(url string) error
	// Environ, when set, replaces os.Environ as the environment a browser
	// launcher, oat exec's CMD and oat curl's curl start from (tests).
	Environ func() []string
	// HTTPTransport, when set, is the base transport of every HTTP client
	// (tests use it to count or break requests).
	HTTPTransport http.RoundTripper
	// StoreFor, when set, replaces the refresh-token stores (tests).
	StoreFor func(kind string) (keychain.Store, error)
	// LockTimeout, when set, bounds the wait for another process's renewal
	// instead of session.LockTimeout (tests).
	LockTimeout time.Duration

	// Set from the global flags.
	ProfileFlag string
	ConfigFlag  string
	Verbose     bool

	cfg    *config.File
	cfgErr error
	// fastEnviron, set by Main (os.Environ), is the environment an `oat
	// token`'s resolution is remembered under (fastpath); tests that remember
	// one set it to match Getenv. fastArgs is the command line Run runs.
	fastEnviron func() []string
	fastArgs    []string
	// watchInterrupt, set by Main, starts turning Ctrl-C into the
	// cancellation of the command's context.
	watchInterrupt func()
}

// interruptible is called before a command may block (network, lock, a
// browser, a server): from then on Ctrl-C cancels its context.
func (f *Factory) interruptible() {
	if f.watchInterrupt != nil {
		f.watchInterrupt()
	}
}

// NewFactory returns a Factory over real streams and the given environment.
func NewFactory(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *Factory {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &Factory{
		IO:     output.New(stdin, stdout, stderr, getenv),
		Getenv: getenv,
		Now:    time.Now,
	}
}

// ConfigPath is --config, else the spec's search order.
func (f *Factory) ConfigPath() (string, error) {
	if f.ConfigFlag != "" {
		return f.ConfigFlag, nil
	}
	return config.Path(f.Getenv)
}

// Config loads the config file once.
func (f *Factory) Config() (*config.File, error) {
	if f.cfg == nil && f.cfgErr == nil {
		path, err := f.ConfigPath()
		if err != nil {
			f.cfgErr = err
		} else {
			f.cfg, f.cfgErr = config.Load(path)
		}
	}
	return f.cfg, f.cfgErr
}

// Resolve picks and merges the profile for a command that talks to a server.
func (f *Factory) Resolve(o config.Overrides) (*config.Resolved, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	return cfg.Resolve(f.ProfileFlag, o, f.Getenv)
}

// HTTPClient returns the client for one profile's requests.
func (f *Factory) HTTPClient(caFile string) (*http.Client, error) {
	version, _, _ := build.Info()
	o := httpx.Options{CAFile: caFile, UserAgent: "oat/" + version, Base: f.HTTPTransport}
	if f.Verbose {
		o.Verbose = f.IO.ErrOut
	}
	c, err := httpx.NewClient(o)
	if err != nil {
		return nil, &config.Error{Msg: err.Error()}
	}
	return c, nil
}
