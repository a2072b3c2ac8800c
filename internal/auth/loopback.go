package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/oauth2"

	"github.com/oatcli/oat/internal/termsafe"
)

// BrowserFunc opens url in a browser. It should return once the browser has
// been asked to open it; an error makes the flow print the URL instead.
type BrowserFunc func(url string) error

// LoginOptions control the interactive flows.
type LoginOptions struct {
	Browser   BrowserFunc      // nil: print the URL
	NoBrowser bool             // print the URL instead of opening it
	Prompt    io.Writer        // where URLs, codes and hints go (stderr); nil discards
	Ready     func(url string) // optional: called with the URL before the browser opens
}

// reserved authorization-request parameters auth_params may not set.
var reservedAuthParams = map[string]bool{
	"response_type": true, "client_id": true, "redirect_uri": true, "scope": true, "state": true,
	"nonce": true, "code_challenge": true, "code_challenge_method": true, "request_uri": true,
}

// LoginPKCE runs the authorization-code flow with PKCE S256 and a loopback
// redirect (RFC 8252). It waits for one valid callback until ctx ends
// (--timeout). A callback with a wrong or missing state gets an error page and
// the wait goes on; an error= callback ends the login with the server's error.
func (c *Client) LoginPKCE(ctx context.Context, o LoginOptions) (*Result, error) {
	if c.Endpoints == nil || c.Endpoints.AuthURL == "" {
		return nil, errors.New("login: the server has no authorization endpoint: set authorization_url, or use --flow device")
	}
	for k := range c.Profile.AuthParams {
		if reservedAuthParams[k] {
			return nil, fmt.Errorf("auth_params may not set %q: oat sets it itself", k)
		}
	}
	par, err := c.usePAR()
	if err != nil {
		return nil, err
	}
	lb, err := listenLoopback(c.Profile.RedirectHostOrDefault(), c.Profile.RedirectPort, c.Profile.RedirectPathOrDefault())
	if err != nil {
		return nil, err
	}
	defer lb.close()

	conf, err := c.oauthConfig(lb.redirectURL)
	if err != nil {
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	state := randomString()
	lb.state = state
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	var nonce string
	if c.wantsOpenID() {
		nonce = randomString()
		opts = append(opts, oauth2.SetAuthURLParam("nonce", nonce))
	}
	opts = append(opts, c.extraParams()...)
	if c.DPoP != nil {
		// RFC 9449 §10: the code is bound to the key whose proof must
		// come with its exchange.
		opts = append(opts, oauth2.SetAuthURLParam("dpop_jkt", c.DPoP.JKT()))
	}
	for k, v := range c.Profile.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	authURL := conf.AuthCodeURL(state, opts...)
	openIt := "Open this URL in a browser to log in"
	if par {
		// RFC 9126: the parameters go to the server directly; the browser
		// gets only client_id and the request_uri standing for them, which
		// the server keeps for expires_in: a user who opens it by hand is
		// told so.
		var lifetime time.Duration
		if authURL, lifetime, err = c.pushAuthorization(ctx, authURL); err != nil {
			return nil, err
		}
		if lifetime > 0 {
			openIt = fmt.Sprintf("Open this URL in a browser within %s to log in (the server keeps the pushed request no longer)", lifetime)
		}
	}

	go lb.serve()

	prompt := newPromptWriter(o.Prompt)
	defer prompt.close()
	if o.Ready != nil {
		o.Ready(authURL)
	}
	// authURL starts with the server's authorization_endpoint: printed
	// escaped, opened only when it passes CheckOpenURL.
	shown := termsafe.Line(authURL)
	urlErr := CheckOpenURL(authURL)
	browserDone := make(chan struct{})
	go func() {
		defer close(browserDone)
		switch {
		case o.NoBrowser || o.Browser == nil:
			fmt.Fprintf(prompt, "%s:\n\n  %s\n\nWaiting for the login to finish…\n", openIt, shown)
		case urlErr != nil:
			fmt.Fprintf(prompt, "Not opening the authorization URL in a browser: %s.\nCheck authorization_url (or the server's discovery document); to go on, open it yourself only if you trust it:\n\n  %s\n\nWaiting for the login to finish…\n", urlErr, shown)
		default:
			if err := o.Browser(authURL); err != nil {
				fmt.Fprintf(prompt, "Could not open a browser (%s).\n%s:\n\n  %s\n\nWaiting for the login to finish…\n", termsafe.Line(err.Error()), openIt, shown)
				return
			}
			fmt.Fprintf(prompt, "Opened a browser to log in. If it did not open, visit:\n\n  %s\n\n", shown)
		}
	}()
	defer func() {
		// Let a browser helper finish (it may still be reading the success
		// page), but never wait long for it.
		select {
		case <-browserDone:
		case <-time.After(3 * time.Second):
		}
	}()

	var cb callback
	select {
	case <-ctx.Done():
		return nil, loginCtxErr(ctx, "no login response arrived")
	case cb = <-lb.callbacks:
	}
	res, err := c.finishPKCE(ctx, conf, cb.query, verifier, nonce)
	cb.reply <- err
	<-cb.written
	return res, err
}

func (c *Client) finishPKCE(ctx context.Context, conf *oauth2.Config, q url.Values, verifier, nonce string) (*Result, error) {
	if code := q.Get("error"); code != "" {
		return nil, &ServerError{Op: "login", Code: code, Description: q.Get("error_description")}
	}
	if c.Endpoints.IssParameterSupported {
		// RFC 9207: a response without the right iss may come from another server.
		if iss := q.Get("iss"); iss != c.Endpoints.Issuer {
			if iss == "" {
				return nil, errors.New("login: the authorization response has no iss parameter although the server advertises it (RFC 9207)")
			}
			return nil, fmt.Errorf("login: the authorization response came from issuer %q, not %q (RFC 9207)", iss, c.Endpoints.Issuer)
		}
	}
	code := q.Get("code")
	if code == "" {
		return nil, errors.New("login: the authorization response has neither code nor error")
	}
	opts := append([]oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}, c.extraParams()...)
	ao, err := c.assertionOpts(conf.Endpoint.TokenURL)
	if err != nil {
		return nil, err
	}
	opts = append(opts, ao...)
	tok, err := conf.Exchange(c.ctx(ctx), code, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, loginCtxErr(ctx, "the code exchange did not finish")
		}
		return nil, c.clientErr(mapError(ctx, "login", "token endpoint", err))
	}
	return c.result(ctx, tok, nonce)
}

func loginCtxErr(ctx context.Context, what string) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("login: %w", context.Canceled)
	}
	return fmt.Errorf("%w: %s within the time allowed (--timeout)", ErrTimeout, what)
}

type callback struct {
	query   url.Values
	reply   chan error    // the outcome, for the page
	written chan struct{} // closed once the page is written
}

type loopback struct {
	listeners   []net.Listener
	servers     []*http.Server
	path        string
	redirectURL string
	state       string
	claimed     atomic.Bool
	callbacks   chan callback
}

// listenLoopback binds 127.0.0.1 (and ::1 for host "localhost") on port
// (0 = any free port). For "localhost" both addresses must be oat's: a
// browser may resolve localhost to either, and one that reached another
// program on the other address would hand it the code and state. So the
// port of ::1 being taken fails the login (a random port is picked again);
// only a machine without IPv6 loopback gets by with 127.0.0.1 alone.
func listenLoopback(host string, port int, path string) (*loopback, error) {
	for tries := 0; ; tries++ {
		lb, err := listenLoopbackOnce(host, port, path)
		if port != 0 || tries == 4 || !errors.Is(err, errV6Taken) {
			return lb, err
		}
	}
}

var errV6Taken = errors.New("the port is taken on ::1")

func listenLoopbackOnce(host string, port int, path string) (*loopback, error) {
	switch host {
	case "127.0.0.1", "localhost", "::1", "[::1]":
	default:
		return nil, fmt.Errorf("redirect_host %q: use 127.0.0.1 or localhost", host)
	}
	lb := &loopback{path: path, callbacks: make(chan callback, 1)}
	first := "127.0.0.1"
	if host == "::1" || host == "[::1]" {
		first = "::1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(first, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("login: cannot listen on %s port %d for the redirect: %w", first, port, err)
	}
	lb.listeners = append(lb.listeners, ln)
	port = ln.Addr().(*net.TCPAddr).Port
	if host == "localhost" {
		// A browser may resolve localhost to either address.
		ln6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port)))
		switch {
		case err == nil:
			lb.listeners = append(lb.listeners, ln6)
		case noIPv6Loopback(err):
			// Nothing can reach ::1 here: 127.0.0.1 is all there is.
		default:
			ln.Close()
			return nil, fmt.Errorf("login: cannot listen on [::1]:%d for the redirect (%w: %v): a browser resolving localhost to ::1 would hand the login response to whatever holds it; stop that program, or set another redirect_port", port, errV6Taken, err)
		}
	}
	urlHost := host
	if first == "::1" {
		urlHost = "[::1]"
	}
	for range lb.listeners {
		lb.servers = append(lb.servers, &http.Server{Handler: lb, ReadHeaderTimeout: 10 * time.Second})
	}
	lb.redirectURL = "http://" + net.JoinHostPort(trimBrackets(urlHost), strconv.Itoa(port)) + path
	return lb, nil
}

// noIPv6Loopback reports whether a listen error means the machine has no
// IPv6 loopback at all (as opposed to the port being taken).
func noIPv6Loopback(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EPROTONOSUPPORT)
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}

func (lb *loopback) serve() {
	var wg sync.WaitGroup
	for i, ln := range lb.listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = lb.servers[i].Serve(ln)
		}()
	}
	wg.Wait()
}

func (lb *loopback) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, ln := range lb.listeners {
		ln.Close()
	}
	for _, s := range lb.servers {
		if s.Shutdown(ctx) != nil {
			s.Close()
		}
	}
}

func (lb *loopback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != lb.path {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(lb.state)) != 1 {
		writePage(w, http.StatusBadRequest, "Login failed",
			"This response does not belong to the login oat is waiting for (state mismatch). oat is still waiting; return to the terminal.")
		return
	}
	if !lb.claimed.CompareAndSwap(false, true) {
		writePage(w, http.StatusConflict, "Already handled", "oat has already received the login response. Return to the terminal.")
		return
	}
	cb := callback{query: q, reply: make(chan error, 1), written: make(chan struct{})}
	defer close(cb.written)
	lb.callbacks <- cb
	select {
	case err := <-cb.reply:
		if err != nil {
			writePage(w, http.StatusOK, "Login failed", "oat could not finish the login: "+err.Error()+". Return to the terminal.")
			return
		}
		writePage(w, http.StatusOK, "Logged in", "You are logged in. You can close this tab and return to the terminal.")
	case <-r.Context().Done():
	}
}

func writePage(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>oat: %s</title></head>"+
		"<body><h1>%s</h1><p>%s</p></body></html>\n", html.EscapeString(title), html.EscapeString(title), html.EscapeString(msg))
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// promptWriter serialises writes from the browser goroutine and drops them
// once the flow has returned.
type promptWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func newPromptWriter(w io.Writer) *promptWriter {
	if w == nil {
		w = io.Discard
	}
	return &promptWriter{w: w}
}

func (p *promptWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return len(b), nil
	}
	return p.w.Write(b)
}

func (p *promptWriter) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}
