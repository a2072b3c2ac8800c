// Package issuer is a real, local OpenID Provider inside oat (`oat issuer
// serve`, `oat demo`): discovery, JWKS, authorization code with PKCE and a
// minimal login page, the device flow with a verification page, refresh-token
// rotation, client credentials, revocation, introspection and userinfo, on
// net/http and go-jose alone (oat links nothing else for it, so every
// command stays fast to start), with in-memory state and a loopback-only
// listener.
//
// It is a test issuer: users sign in by picking a name, with no password,
// and all state lives in memory.
package issuer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for Config's zero values.
const (
	DefaultAddr            = "127.0.0.1:0"
	DefaultAccessTokenTTL  = 5 * time.Minute
	DefaultRefreshTokenTTL = 24 * time.Hour
	DefaultPublicClient    = "oat"
	DefaultMachineClient   = "oat-machine"
	DefaultUser            = "alice"
	// DefaultScopes is what ProfileAddCommand asks for.
	DefaultScopes = "openid profile offline_access"
)

// Config configures Start. The zero value is a working issuer on a free
// loopback port with the default clients and the user "alice".
type Config struct {
	// Addr is host:port to listen on; default "127.0.0.1:0" (a free port).
	// "localhost" binds 127.0.0.1. A host that is not loopback (or an empty
	// host, which means every interface) is refused unless AllowNonLoopback.
	Addr string
	// AllowNonLoopback permits a non-loopback Addr (--allow-non-loopback).
	AllowNonLoopback bool
	// IssuerURL is the issuer advertised in discovery and in tokens; default
	// http://<the address listened on> (127.0.0.1 for an unspecified host).
	// Set it when clients reach the issuer under another name.
	IssuerURL string
	// AccessTokenTTL is the life of access tokens; default 5m.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the life of each refresh token; default 24h.
	RefreshTokenTTL time.Duration
	// Clients are the registered clients; default: the public client "oat"
	// and the confidential client "oat-machine" with a generated secret.
	Clients []Client
	// Users are the names one can sign in as; default ["alice"]. The name
	// is also the subject (sub) of that user's tokens.
	Users []string
	// KeyFile is a PEM private key (RSA, or ECDSA P-256/P-384/P-521; PKCS#1,
	// PKCS#8 or SEC 1) to sign with; when empty an ECDSA P-256 key is
	// generated at start (ES256).
	KeyFile string
	// AutoApprove skips the login page (the first user is signed in) and
	// approves a device code as soon as its verification page is opened
	// with the code (verification_uri_complete). For `oat demo` and tests.
	AutoApprove bool
	// DeviceInterval is the polling interval the device flow asks clients
	// for; default 5s (at least 1s).
	DeviceInterval time.Duration
	// Log, when set, gets one line per HTTP request (method, path, status).
	Log io.Writer
}

// Client is a registered client. One with a Secret (or Confidential set) is
// confidential: it authenticates with client_secret_basic or
// client_secret_post and may use every grant, client credentials included.
// One without is public (auth method none): authorization code with PKCE,
// device code and refresh token. Both accept loopback redirect URIs
// (127.0.0.1, [::1], localhost) on any port and path, as RFC 8252 asks.
type Client struct {
	ID     string
	Secret string
	// Confidential with an empty Secret makes Start generate a secret
	// (read it back from Issuer.Clients).
	Confidential bool
	// RedirectURIs are further exact redirect URIs to allow.
	RedirectURIs []string
}

// Issuer is a running provider.
type Issuer struct {
	// URL is the issuer URL, e.g. http://127.0.0.1:40123 (no trailing slash).
	URL string

	cfg     Config
	key     *signingKey
	srv     *http.Server
	ln      net.Listener
	done    chan struct{}
	serveMu sync.Mutex
	err     error
	once    sync.Once
}

// ErrNonLoopback is returned (wrapped) by Start for a non-loopback Addr
// without AllowNonLoopback.
var ErrNonLoopback = errors.New("refusing to listen on a non-loopback address")

// ConfigError is a Config that Start cannot use (bad address, refused
// non-loopback address, bad user or client list, unusable key file), as
// opposed to a failure to listen.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Start starts the issuer; it is listening when Start returns. It stops when
// ctx ends or Close is called.
func Start(ctx context.Context, c Config) (*Issuer, error) {
	if err := c.fill(); err != nil {
		return nil, &ConfigError{err}
	}
	host, bindAddr, err := checkAddr(c.Addr, c.AllowNonLoopback)
	if err != nil {
		return nil, &ConfigError{err}
	}
	key, err := loadOrGenerateKey(c.KeyFile)
	if err != nil {
		if c.KeyFile != "" {
			err = &ConfigError{err}
		}
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", bindAddr)
	if err != nil {
		return nil, fmt.Errorf("issuer: listen on %s: %w", c.Addr, err)
	}
	issuerURL := c.IssuerURL
	if issuerURL == "" {
		port := ln.Addr().(*net.TCPAddr).Port
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1"
		}
		issuerURL = "http://" + net.JoinHostPort(host, strconv.Itoa(port))
	}
	issuerURL = strings.TrimSuffix(issuerURL, "/")

	srv, err := newServer(issuerURL, newStorage(c), key, c)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("issuer: %w", err)
	}
	handler := srv.handler()
	if c.Log != nil {
		handler = logRequests(c.Log, handler)
	}
	i := &Issuer{
		URL:  issuerURL,
		cfg:  c,
		key:  key,
		ln:   ln,
		done: make(chan struct{}),
		srv: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 10 * time.Second,
			BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		},
	}
	go func() {
		defer close(i.done)
		err := i.srv.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			i.serveMu.Lock()
			i.err = err
			i.serveMu.Unlock()
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = i.Close()
		case <-i.done:
		}
	}()
	return i, nil
}

// Close stops the issuer: it stops listening, lets requests in flight finish
// for up to 5 seconds, then drops the rest. Safe to call more than once.
func (i *Issuer) Close() error {
	var err error
	i.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if e := i.srv.Shutdown(ctx); e != nil {
			err = i.srv.Close()
		}
		<-i.done
		i.serveMu.Lock()
		if i.err != nil {
			err = i.err
		}
		i.serveMu.Unlock()
	})
	return err
}

// Done is closed once the issuer has stopped serving.
func (i *Issuer) Done() <-chan struct{} { return i.done }

// Clients returns the registered clients, with generated secrets filled in.
func (i *Issuer) Clients() []Client {
	out := make([]Client, len(i.cfg.Clients))
	for n, c := range i.cfg.Clients {
		c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
		out[n] = c
	}
	return out
}

// Users returns the names one can sign in as.
func (i *Issuer) Users() []string { return append([]string(nil), i.cfg.Users...) }

// ProfileAddCommand returns the `oat profile add` line that points a profile
// at this issuer with clientID. For a confidential client it is a
// client-credentials profile that reads the secret from an environment
// variable (the line names the variable, never the secret).
func (i *Issuer) ProfileAddCommand(clientID string) string {
	if c, ok := i.client(clientID); ok && c.Secret != "" {
		return fmt.Sprintf("oat profile add local-machine --issuer %s --client-id %s --client-secret-env %s --flow client-credentials",
			i.URL, shellQuote(clientID), SecretEnv(clientID))
	}
	return fmt.Sprintf("oat profile add local --issuer %s --client-id %s --scope %q",
		i.URL, shellQuote(clientID), DefaultScopes)
}

// SecretEnv is the environment variable ProfileAddCommand names for a
// confidential client's secret: OAT_<ID>_SECRET with the ID upper-cased
// and anything but letters and digits turned into "_".
func SecretEnv(clientID string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(clientID) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return "OAT_" + b.String() + "_SECRET"
}

func (i *Issuer) client(id string) (Client, bool) {
	for _, c := range i.cfg.Clients {
		if c.ID == id {
			return c, true
		}
	}
	return Client{}, false
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (c *Config) fill() error {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if c.AccessTokenTTL < time.Second {
		return fmt.Errorf("issuer: access token TTL %s is below one second", c.AccessTokenTTL)
	}
	if c.RefreshTokenTTL == 0 {
		c.RefreshTokenTTL = DefaultRefreshTokenTTL
	}
	if c.DeviceInterval == 0 {
		c.DeviceInterval = 5 * time.Second
	}
	c.DeviceInterval = max(c.DeviceInterval, time.Second)
	if len(c.Users) == 0 {
		c.Users = []string{DefaultUser}
	}
	seen := map[string]bool{}
	for _, u := range c.Users {
		if u == "" || strings.TrimSpace(u) != u {
			return fmt.Errorf("issuer: user name %q is empty or has surrounding spaces", u)
		}
		if seen[u] {
			return fmt.Errorf("issuer: user %q given twice", u)
		}
		seen[u] = true
	}
	c.Users = append([]string(nil), c.Users...)
	if len(c.Clients) == 0 {
		c.Clients = DefaultClients()
	}
	clients := make([]Client, len(c.Clients))
	seen = map[string]bool{}
	for n, cl := range c.Clients {
		if cl.ID == "" {
			return errors.New("issuer: a client has an empty ID")
		}
		if seen[cl.ID] {
			return fmt.Errorf("issuer: client %q given twice", cl.ID)
		}
		seen[cl.ID] = true
		if cl.Confidential && cl.Secret == "" {
			cl.Secret = randomString(24)
		}
		cl.Confidential = cl.Secret != ""
		cl.RedirectURIs = append([]string(nil), cl.RedirectURIs...)
		clients[n] = cl
	}
	c.Clients = clients
	if c.IssuerURL != "" {
		u, err := url.Parse(c.IssuerURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("issuer: issuer URL %q is not an http(s) URL without query or fragment", c.IssuerURL)
		}
	}
	return nil
}

// DefaultClients returns the clients an issuer gets when Config.Clients is
// empty: the public client "oat" (PKCE, device, refresh) and the
// confidential client "oat-machine" (a secret is generated at Start).
func DefaultClients() []Client {
	return []Client{
		{ID: DefaultPublicClient},
		{ID: DefaultMachineClient, Confidential: true},
	}
}

// checkAddr validates addr and returns the host to advertise and the address
// to bind.
func checkAddr(addr string, allowNonLoopback bool) (host, bind string, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("issuer: address %q: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", fmt.Errorf("issuer: address %q: bad port %q", addr, port)
	}
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	loopback := ip != nil && ip.IsLoopback()
	if !loopback && !allowNonLoopback {
		what := "host " + strconv.Quote(host)
		if host == "" {
			what = "every interface"
		}
		return "", "", fmt.Errorf("issuer: %w (%s in %q): a test issuer signs tokens for anyone who can reach it; "+
			"pass --allow-non-loopback to do it anyway", ErrNonLoopback, what, addr)
	}
	return host, net.JoinHostPort(host, port), nil
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
