// Package provtest emulates real providers for whole-CLI tests: each
// emulator is quirk middleware in front of a real OpenID Provider (oat's own
// internal/issuer, which does discovery, PKCE, the device flow, rotation,
// revocation and introspection itself). The middleware serves the
// provider's URL layout (its issuer path and endpoint paths), and adds the
// provider's documented behaviour where it differs from a spec-clean
// server; each quirk cites the provider's documentation page. Every server
// binds 127.0.0.1.
//
// This file is the shared base of the Auth0, Okta, Keycloak and Cognito
// emulators (auth0.go, okta.go, keycloak.go, cognito.go).
package provtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/issuer"
)

// Paths of the real OP behind every emulator (internal/issuer).
const (
	opDiscovery  = "/.well-known/openid-configuration"
	opAuthorize  = "/authorize"
	opToken      = "/oauth/token"
	opIntrospect = "/oauth/introspect"
	opUserinfo   = "/userinfo"
	opRevoke     = "/revoke"
	opDeviceAuth = "/device_authorization"
	opKeys       = "/keys"
	opLogin      = "/login"
	opDevice     = "/device"
)

// User is the user every emulator signs in (the OP's only user; it signs
// in without a page: the browser just follows redirects).
const User = "alice"

// machineClient is the OP's confidential client, beside the public one
// (the native app, its ID given to each emulator): the middleware uses it
// where a provider lets a public client do what the OP keeps for
// confidential ones, and M2M tests use it.
const machineClient = "emulator-machine"

// host is one HTTP server of an emulator (a provider may serve its issuer
// and its endpoints on different hosts, as Cognito does). routes maps a
// path on this host to the OP's path.
type host struct {
	srv    *httptest.Server
	routes map[string]string
}

// base is what every emulator shares: the OP, its hosts, the quirk hooks
// and what the middleware saw.
type base struct {
	t        testing.TB
	clientID string // the native app (public client)
	op       *issuer.Issuer
	backend  *url.URL
	secret   string // machineClient's secret

	// before runs first for each request: true means it answered.
	before func(w http.ResponseWriter, r *http.Request, form url.Values) bool
	// after may rewrite the OP's JSON answer to a request (token, device
	// authorization…); it gets the request's form as sent to the OP.
	after func(r *http.Request, form url.Values, status int, body map[string]any) map[string]any
	// discovery edits the OP's discovery document into the provider's.
	discovery func(doc map[string]any)

	hostsFor []*host

	mu       sync.Mutex
	requests []Request
}

// Request is what the middleware recorded of one request to an emulator.
type Request struct {
	Host   int    // index of the host (0: the first)
	Path   string // the provider's path
	Query  url.Values
	Form   url.Values
	Status int // the answer's status code
}

func newBase(t testing.TB, clientID string, issuerOf func(hostURLs []string) string, hosts int) *base {
	t.Helper()
	b := &base{t: t, clientID: clientID}
	hs := make([]*host, hosts)
	urls := make([]string, hosts)
	for i := range hs {
		idx := i
		hs[i] = &host{routes: map[string]string{}}
		hs[i].srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b.serve(idx, hs[idx], w, r)
		}))
		t.Cleanup(hs[i].srv.Close)
		urls[i] = hs[i].srv.URL
	}
	// The OP advertises the emulator's issuer but listens on its own port,
	// which the middleware must know: a free one is picked first (and
	// picked again should another program take it in between).
	var (
		op     *issuer.Issuer
		addr   string
		ctx    context.Context
		cancel context.CancelFunc
		err    error
	)
	for range 5 {
		addr = freeLoopbackAddr(t)
		ctx, cancel = context.WithCancel(context.Background())
		op, err = issuer.Start(ctx, issuer.Config{
			Addr:        addr,
			IssuerURL:   issuerOf(urls),
			AutoApprove: true,
			Users:       []string{User},
			Clients: []issuer.Client{
				{ID: clientID},
				{ID: machineClient, Confidential: true},
			},
			DeviceInterval: time.Second,
		})
		if err == nil {
			break
		}
		cancel()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-op.Done()
	})
	b.op = op
	b.backend = &url.URL{Scheme: "http", Host: addr}
	for _, c := range op.Clients() {
		if c.ID == machineClient {
			b.secret = c.Secret
		}
	}
	b.hostsFor = hs
	return b
}

// route serves the OP's path at path on host i.
func (b *base) route(i int, path, opPath string) { b.hostsFor[i].routes[path] = opPath }

// URL is the base URL of host i (http://127.0.0.1:PORT).
func (b *base) url(i int) string { return b.hostsFor[i].srv.URL }

// Requests returns what the emulator received to path (all paths for "").
func (b *base) Requests(path string) []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Request
	for _, r := range b.requests {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (b *base) serve(i int, h *host, w http.ResponseWriter, r *http.Request) {
	var form url.Values
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body.Close()
		form, _ = url.ParseQuery(string(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		b.mu.Lock()
		b.requests = append(b.requests, Request{Host: i, Path: r.URL.Path, Query: r.URL.Query(), Form: form, Status: rec.status})
		b.mu.Unlock()
	}()
	if b.before != nil && b.before(rec, r, form) {
		return
	}
	opPath, ok := h.routes[r.URL.Path]
	if !ok {
		http.NotFound(rec, r)
		return
	}
	if opPath == opDiscovery {
		b.serveDiscovery(rec)
		return
	}
	b.proxy(rec, r, opPath, form)
}

// proxy hands the request to the OP at opPath, with form (possibly
// rewritten by a hook) as its body, and lets after rewrite a JSON answer.
func (b *base) proxy(w http.ResponseWriter, r *http.Request, opPath string, form url.Values) {
	if form != nil {
		enc := form.Encode()
		r.Body = io.NopCloser(strings.NewReader(enc))
		r.ContentLength = int64(len(enc))
		r.Header.Set("Content-Length", strconv.Itoa(len(enc)))
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(b.backend)
			pr.Out.URL.Path = opPath
			pr.Out.URL.RawPath = ""
		},
		ModifyResponse: func(resp *http.Response) error {
			if b.after == nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				return nil
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			var m map[string]any
			if json.Unmarshal(raw, &m) == nil {
				if m2 := b.after(r, form, resp.StatusCode, m); m2 != nil {
					raw, _ = json.Marshal(m2)
				}
			}
			resp.Body = io.NopCloser(bytes.NewReader(raw))
			resp.ContentLength = int64(len(raw))
			resp.Header.Set("Content-Length", strconv.Itoa(len(raw)))
			return nil
		},
	}
	rp.ServeHTTP(w, r)
}

func (b *base) serveDiscovery(w http.ResponseWriter) {
	resp, err := http.Get(b.backend.String() + opDiscovery)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if b.discovery != nil {
		b.discovery(doc)
	}
	writeJSON(w, http.StatusOK, doc)
}

// endpoints sets the discovery document's endpoints to the given URLs;
// an empty URL removes that endpoint.
func setEndpoints(doc map[string]any, eps map[string]string) {
	for k, v := range eps {
		if v == "" {
			delete(doc, k)
		} else {
			doc[k] = v
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// errorPage is what a provider shows in the browser for an authorization
// request it refuses before it trusts the redirect URI (RFC 6749 §4.1.2.1:
// never redirected).
func errorPage(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = io.WriteString(w, msg)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// s256 is the PKCE S256 challenge of verifier (RFC 7636 §4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Browser returns a scripted browser for these emulators: it opens the URL
// and follows every redirect (the OP signs User in without a page) up to
// oat's loopback listener, and fails when a page answers with an error,
// as a person would see the provider's error page.
func Browser(t testing.TB) func(string) error { return BrowserResolving(t, "") }

// BrowserResolving is Browser resolving "localhost" to the address
// localhost (e.g. "::1"), as a browser on a machine that prefers IPv6
// does; "" uses the system's resolver.
func BrowserResolving(t testing.TB, localhost string) func(string) error {
	return func(u string) error {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if localhost != "" {
			dial := tr.DialContext
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				if h, port, err := net.SplitHostPort(addr); err == nil && h == "localhost" {
					addr = net.JoinHostPort(localhost, port)
				}
				return dial(ctx, network, addr)
			}
		}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Timeout: 20 * time.Second, Transport: tr}
		resp, err := hc.Get(u)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Logf("browser: %s answered %d: %s", resp.Request.URL.Redacted(), resp.StatusCode, body)
			return &pageError{status: resp.StatusCode, body: string(body)}
		}
		return nil
	}
}

type pageError struct {
	status int
	body   string
}

func (e *pageError) Error() string {
	return "the page answered " + strconv.Itoa(e.status) + ": " + strings.TrimSpace(e.body)
}

// redirectRegistered reports whether redirect is one of registered exactly
// (scheme, host, port and path), as Auth0, Okta and Cognito compare.
func redirectRegistered(registered []string, redirect string) bool {
	return slices.Contains(registered, redirect)
}

// families tracks refresh tokens by grant (the login that began them), for
// providers that rotate refresh tokens and detect reuse.
type families struct {
	mu      sync.Mutex
	family  map[string]int  // refresh token → family
	spent   map[string]bool // refresh tokens already used (rotated away)
	revoked map[int]bool
	next    int
	reuses  int
}

func newFamilies() *families {
	return &families{family: map[string]int{}, spent: map[string]bool{}, revoked: map[int]bool{}}
}

// issued records rt, issued for a login (from == "") or by rotating from.
func (f *families) issued(rt, from string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if from == "" {
		f.next++
		f.family[rt] = f.next
		return
	}
	f.family[rt] = f.family[from]
	f.spent[from] = true
}

// use checks rt before a refresh: a token already rotated away is a reuse
// and revokes its whole family; a token of a revoked family is refused.
func (f *families) use(rt string) (ok bool, reuse bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fam, known := f.family[rt]
	if !known {
		return true, false // the OP decides
	}
	if f.spent[rt] {
		f.revoked[fam] = true
		f.reuses++
		return false, true
	}
	return !f.revoked[fam], false
}

func (f *families) revoke(rt string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fam, ok := f.family[rt]; ok {
		f.revoked[fam] = true
	}
}

// Reuses counts refresh requests with an already rotated refresh token.
func (f *families) Reuses() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reuses
}

func freeLoopbackAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
