// Package authtest runs a real OpenID Provider in-process for tests: the
// zitadel/oidc example OP (discovery, JWKS, PKCE S256, refresh-token
// rotation, revocation, device flow, login form) on an httptest server bound
// to 127.0.0.1, with per-test clients, a grant counter, fault injection, and
// a scripted browser that logs in through the provider's form.
//
// Facts about the example OP that tests rely on:
//   - access tokens live 5 minutes (WithAccessTokenTTL shortens what clients
//     are told), refresh tokens 5 hours;
//   - every refresh rotates the refresh token and deletes the old one, so the
//     old one is then rejected with invalid_grant;
//   - a refresh token is issued only when offline_access is requested;
//   - the login form is at /login/username (fields id, username, password);
//     the user is "test-user@127.0.0.1" with password "verysecure";
//   - the device user code form is at /device; the OP asks clients to poll
//     every 5 s (WithDeviceInterval rewrites that for fast tests);
//   - it does not send the RFC 9207 iss parameter.
package authtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/oatcli/oat/internal/config"
)

// Username and Password log in at the example OP's form (the user store
// names the user after the issuer's host, here 127.0.0.1).
const (
	Username = "test-user@127.0.0.1"
	Password = "verysecure"
	// Subject is the sub of that user in ID tokens.
	Subject = "id1"
)

// SecretEnv is the environment variable Profile("client-credentials") names
// for the confidential client's secret (the value is OP.ClientSecret).
const SecretEnv = "OAT_TEST_CLIENT_SECRET"

// OP is a running test provider.
type OP struct {
	Issuer               string
	PublicClientID       string // native (PKCE, auth none): code + refresh_token
	DeviceClientID       string // public device client: device_code + refresh_token
	ConfidentialClientID string // client_secret_basic/post: client_credentials, code, refresh_token
	ClientSecret         string
	// KeyClientID is a confidential client that authenticates with
	// private_key_jwt (RFC 7523 §2.2) only: client_credentials, code,
	// refresh_token. Its public keys are registered with AddClientKey.
	KeyClientID string
	Storage     *storage.Storage

	srv       *httptest.Server
	opts      options
	redirects []string

	mu     sync.Mutex
	grants map[string]int
	fault  func(w http.ResponseWriter, r *http.Request) bool
	// issuedRefresh counts refresh tokens issued at a login.
	issuedRefresh int
	// refreshSubject, when set, is the sub of every refreshed token.
	refreshSubject string
	// clientKeys are KeyClientID's public keys by kid; seenJTI the client
	// assertion IDs it accepted for client_credentials (replays refused).
	clientKeys map[string]crypto.PublicKey
	seenJTI    map[string]bool
	// subjectKey signs the external JWTs token exchange accepts
	// (SubjectToken); subjectTokens are the subject tokens received.
	subjectKey    *ecdsa.PrivateKey
	subjectTokens []string
	// pushedReqs are the PAR front's live request_uris; pushedLog every
	// accepted push.
	pushedReqs map[string]pushed
	pushedLog  []url.Values
}

// AddClientKey registers pub as a key of KeyClientID, found by the
// assertion header's kid ("" for an assertion with x5t#S256 and no kid).
func (o *OP) AddClientKey(kid string, pub crypto.PublicKey) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clientKeys[kid] = pub
}

// SetRefreshSubject makes every later refresh answer with tokens (and an ID
// token) for user sub instead of the session's user, as a broken or hostile
// server might; OIDC Core 12.2 forbids it. The rotated refresh token is still
// issued. "" restores the normal answer. Subject2 is the other user the
// example OP knows.
func (o *OP) SetRefreshSubject(sub string) {
	o.mu.Lock()
	o.refreshSubject = sub
	o.mu.Unlock()
}

// Subject2 is the example OP's second user.
const Subject2 = "id2"

type options struct {
	ttl            time.Duration
	deviceInterval int
	jwtAccess      bool
	redirectURIs   []string
	refreshOnce    bool
	idTokenClaims  bool
	legacyDevice   bool
	noExpiresIn    bool
	par            bool
	requirePAR     bool
}

// Option configures NewOP.
type Option func(*options)

// WithAccessTokenTTL makes token responses say the access token expires after
// d (at least 1s) instead of 5 minutes.
func WithAccessTokenTTL(d time.Duration) Option {
	return func(o *options) { o.ttl = max(d, time.Second) }
}

// WithDeviceInterval rewrites the device authorization response's interval
// (seconds) so device tests poll quickly.
func WithDeviceInterval(seconds int) Option {
	return func(o *options) { o.deviceInterval = seconds }
}

// WithJWTAccessTokens makes every client get JWT access tokens (sub, exp…)
// instead of opaque ones.
func WithJWTAccessTokens() Option { return func(o *options) { o.jwtAccess = true } }

// WithRedirectURIs registers more loopback redirect URIs for the public and
// confidential clients (the port never matters for loopback URIs). The
// default is http://127.0.0.1/callback and http://localhost/callback.
func WithRedirectURIs(uris ...string) Option {
	return func(o *options) { o.redirectURIs = append(o.redirectURIs, uris...) }
}

// WithRefreshTokenOnce makes the OP issue a refresh token only at the first
// login (code or device grant); later logins get none, as Google does for a
// user who already consented unless the request says prompt=consent (see
// https://developers.google.com/identity/protocols/oauth2/native-app,
// "Refreshing an access token"), and as servers that issue one refresh
// token per grant do. Refreshes still rotate.
func WithRefreshTokenOnce() Option { return func(o *options) { o.refreshOnce = true } }

// WithUserinfoInIDToken puts the user's profile claims (preferred_username,
// email…, as the scopes allow) in the ID token, as most providers do.
func WithUserinfoInIDToken() Option { return func(o *options) { o.idTokenClaims = true } }

// WithLegacyDeviceResponse makes the device authorization response carry
// expires_in and interval as JSON strings ("900") and verification_url
// instead of verification_uri, as Entra ID's v1 endpoint (/oauth2/devicecode)
// answers (https://github.com/MicrosoftDocs/azure-docs/issues/48307; its v1
// responses quote numbers, as in "expires_in": "3599" at
// https://learn.microsoft.com/en-us/previous-versions/azure/active-directory/azuread-dev/v1-protocols-oauth-code)
// and Google's device endpoint names the URL
// (https://developers.google.com/identity/protocols/oauth2/limited-input-device#step-2:-handle-the-authorization-server-response).
func WithLegacyDeviceResponse() Option { return func(o *options) { o.legacyDevice = true } }

// WithoutExpiresIn drops expires_in from every token response, as Salesforce
// answers (an issued_at but no lifetime:
// https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm)
// and as GitHub OAuth apps do (tokens that never expire:
// https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps).
func WithoutExpiresIn() Option { return func(o *options) { o.noExpiresIn = true } }

var quietOnce sync.Once

// NewOP starts a provider on 127.0.0.1; it stops when the test ends.
func NewOP(t testing.TB, opts ...Option) *OP {
	t.Helper()
	quietOnce.Do(func() {
		// The example OP logs each request (Info) and each OAuth error it
		// answers (Warn) through slog's default logger; keep test output
		// readable. Errors still show. (A non-nil logger for SetupServer
		// would replace slog's default for the whole process.)
		slog.SetLogLoggerLevel(slog.LevelError)
	})
	o := &OP{grants: map[string]int{}, clientKeys: map[string]crypto.PublicKey{}, seenJTI: map[string]bool{}}
	for _, f := range opts {
		f(&o.opts)
	}
	id := randomHex(6)
	o.PublicClientID = "oat-public-" + id
	o.DeviceClientID = "oat-device-" + id
	o.ConfidentialClientID = "oat-confidential-" + id
	o.ClientSecret = "secret-" + randomHex(16)
	o.KeyClientID = "oat-key-" + id

	var handler http.Handler
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.serve(w, r, handler)
	}))
	t.Cleanup(o.srv.Close)
	o.Issuer = o.srv.URL

	o.redirects = append([]string{"http://127.0.0.1/callback", "http://localhost/callback"}, o.opts.redirectURIs...)
	// Our own client map (not storage.RegisterClients, which writes a
	// package-level map and races between parallel tests).
	clients := map[string]*storage.Client{
		o.PublicClientID:       storage.NativeClient(o.PublicClientID, o.redirects...),
		o.DeviceClientID:       storage.NativeClient(o.DeviceClientID, o.redirects...),
		o.ConfidentialClientID: storage.WebClient(o.ConfidentialClientID, o.ClientSecret, o.redirects...),
		o.KeyClientID:          storage.WebClient(o.KeyClientID, "", o.redirects...),
	}
	o.Storage = storage.NewStorageWithClients(storage.NewUserStore(o.Issuer), clients)
	handler = exampleop.SetupServer(o.Issuer, &opStorage{Storage: o.Storage, op: o}, nil, false)
	return o
}

// serve counts token requests, applies the fault, then hands over to the OP.
func (o *OP) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if v, err := url.ParseQuery(string(body)); err == nil {
			if gt := v.Get("grant_type"); gt != "" {
				o.mu.Lock()
				o.grants[gt]++
				if gt == string(oidc.GrantTypeTokenExchange) {
					o.subjectTokens = append(o.subjectTokens, v.Get("subject_token"))
				}
				o.mu.Unlock()
			}
			r = r.WithContext(context.WithValue(r.Context(), formKey{}, v))
		}
	}
	o.mu.Lock()
	f := o.fault
	o.mu.Unlock()
	if f != nil && f(w, r) {
		return
	}
	if o.opts.par && o.servePAR(w, r, next) {
		return
	}
	if (o.opts.deviceInterval > 0 || o.opts.legacyDevice) && r.URL.Path == "/device_authorization" {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		b := rec.Body.Bytes()
		if o.opts.deviceInterval > 0 {
			b = intervalRE.ReplaceAll(b, []byte(`"interval":`+strconv.Itoa(o.opts.deviceInterval)))
		}
		if o.opts.legacyDevice && rec.Code == http.StatusOK {
			b = legacyDeviceResponse(b)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(b)
		return
	}
	if o.opts.noExpiresIn && r.URL.Path == "/oauth/token" {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		b := rec.Body.Bytes()
		var m map[string]json.RawMessage
		if rec.Code == http.StatusOK && json.Unmarshal(b, &m) == nil {
			delete(m, "expires_in")
			b, _ = json.Marshal(m)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(b)
		return
	}
	next.ServeHTTP(w, r)
}

var intervalRE = regexp.MustCompile(`"interval":\s*\d+`)

// legacyDeviceResponse quotes expires_in and interval and renames
// verification_uri to verification_url (see WithLegacyDeviceResponse).
func legacyDeviceResponse(b []byte) []byte {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	for _, k := range []string{"expires_in", "interval"} {
		if n, ok := m[k].(float64); ok {
			m[k] = strconv.FormatFloat(n, 'f', -1, 64)
		}
	}
	if u, ok := m["verification_uri"]; ok {
		m["verification_url"] = u
		delete(m, "verification_uri")
	}
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}

type formKey struct{}

// Form returns the form of a POST the OP received (its body stays readable
// for the OP); for faults and recorders. Nil for other requests.
func Form(r *http.Request) url.Values {
	v, _ := r.Context().Value(formKey{}).(url.Values)
	return v
}

// GrantType returns the grant_type of a token request ("" for others).
func GrantType(r *http.Request) string { return Form(r).Get("grant_type") }

// Grants counts the token requests with that grant_type the OP received
// (including those a fault answered). Device polls count under
// "urn:ietf:params:oauth:grant-type:device_code".
func (o *OP) Grants(grantType string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.grants[grantType]
}

// SetFault puts f in front of the OP: when it returns true it has answered the
// request and the OP never sees it. nil removes it.
func (o *OP) SetFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	o.mu.Lock()
	o.fault = f
	o.mu.Unlock()
}

// Profile returns a profile for the flow ("pkce", "device",
// "client-credentials") with this OP's issuer and matching client. The
// client-credentials profile names SecretEnv; its value is o.ClientSecret.
func (o *OP) Profile(flow string) config.Profile {
	p := config.Profile{Issuer: o.Issuer, Flow: flow}
	switch flow {
	case config.FlowDevice:
		p.ClientID = o.DeviceClientID
		p.Scopes = []string{"openid", "profile", "offline_access"}
	case config.FlowClientCredentials:
		p.ClientID = o.ConfidentialClientID
		p.ClientSecretEnv = SecretEnv
		p.ClientAuth = config.ClientAuthBasic
	default:
		p.Flow = config.FlowPKCE
		p.ClientID = o.PublicClientID
		p.Scopes = []string{"openid", "profile", "offline_access"}
	}
	return p
}

// ApproveDevice approves the pending device authorization with userCode as
// the test user, as a person would on the provider's form.
func (o *OP) ApproveDevice(t testing.TB, userCode string) {
	t.Helper()
	if err := o.Storage.CompleteDeviceAuthorization(context.Background(), userCode, Subject); err != nil {
		t.Errorf("approve device code: %v", err)
	}
}

// DenyDevice denies the pending device authorization.
func (o *OP) DenyDevice(t testing.TB, userCode string) {
	t.Helper()
	if err := o.Storage.DenyDeviceAuthorization(context.Background(), userCode); err != nil {
		t.Errorf("deny device code: %v", err)
	}
}

// opStorage adapts the example storage: short access-token lifetimes, public
// device clients with refresh tokens, a per-test client-credentials client
// and optional JWT access tokens.
type opStorage struct {
	*storage.Storage
	op *OP
}

type client struct {
	op.Client
	grants        []oidc.GrantType
	tokenType     op.AccessTokenType
	idTokenClaims bool
	authMethod    oidc.AuthMethod
}

func (c client) IDTokenUserinfoClaimsAssertion() bool { return c.idTokenClaims }

func (c client) GrantTypes() []oidc.GrantType        { return c.grants }
func (c client) AccessTokenType() op.AccessTokenType { return c.tokenType }
func (c client) AuthMethod() oidc.AuthMethod         { return c.authMethod }

func (s *opStorage) wrap(c op.Client) op.Client {
	w := client{Client: c, grants: c.GrantTypes(), tokenType: c.AccessTokenType(), idTokenClaims: s.op.opts.idTokenClaims, authMethod: c.AuthMethod()}
	if s.op.opts.jwtAccess {
		w.tokenType = op.AccessTokenTypeJWT
	}
	switch c.GetID() {
	case s.op.DeviceClientID:
		w.grants = []oidc.GrantType{oidc.GrantTypeDeviceCode, oidc.GrantTypeRefreshToken}
	case s.op.ConfidentialClientID, s.op.KeyClientID:
		if c.GetID() == s.op.KeyClientID {
			w.authMethod = oidc.AuthMethodPrivateKeyJWT
		}
		w.grants = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials, oidc.GrantTypeTokenExchange}
		// A web client's redirect URIs match exactly, port included; let
		// loopback redirects on any port through, as for native clients.
		var globs []string
		for _, u := range s.op.redirects {
			if p, err := url.Parse(u); err == nil {
				globs = append(globs, p.Scheme+"://"+p.Hostname()+":*"+p.Path)
			}
		}
		return globClient{client: w, globs: globs}
	}
	return w
}

type globClient struct {
	client
	globs []string
}

func (c globClient) RedirectURIGlobs() []string           { return c.globs }
func (c globClient) PostLogoutRedirectURIGlobs() []string { return nil }

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.wrap(c), nil
}

// GetKeyByIDAndClientID finds KeyClientID's public keys for the OP's
// private_key_jwt checks (code, refresh, revocation, introspection).
func (s *opStorage) GetKeyByIDAndClientID(ctx context.Context, kid, clientID string) (*jose.JSONWebKey, error) {
	if clientID != s.op.KeyClientID {
		return s.Storage.GetKeyByIDAndClientID(ctx, kid, clientID)
	}
	s.op.mu.Lock()
	defer s.op.mu.Unlock()
	pub, ok := s.op.clientKeys[kid]
	if !ok {
		return nil, stringError("no such client key")
	}
	return &jose.JSONWebKey{KeyID: kid, Use: "sig", Key: pub}, nil
}

func (s *opStorage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if id == s.op.KeyClientID {
		// The example OP's client_credentials grant checks only secrets:
		// check the client assertion here as its other grants do (and as
		// RFC 7523 §3 asks: signature by a registered key, iss = sub = the
		// client, aud holds the issuer, not expired), for every algorithm
		// oat signs with (the OP's own check takes RS256, ES256 and PS256
		// only), and refuse a replayed jti.
		form, _ := ctx.Value(formKey{}).(url.Values)
		if secret != "" || form.Get("client_secret") != "" ||
			form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return nil, errWrongSecret
		}
		jws, err := jose.ParseSignedCompact(form.Get("client_assertion"), []jose.SignatureAlgorithm{
			jose.RS256, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA})
		if err != nil || len(jws.Signatures) != 1 {
			return nil, errWrongSecret
		}
		key, err := s.GetKeyByIDAndClientID(ctx, jws.Signatures[0].Header.KeyID, id)
		if err != nil {
			return nil, errWrongSecret
		}
		payload, err := jws.Verify(key.Key)
		if err != nil {
			return nil, errWrongSecret
		}
		var claims struct {
			Iss string        `json:"iss"`
			Sub string        `json:"sub"`
			Aud oidc.Audience `json:"aud"`
			Exp oidc.Time     `json:"exp"`
			JTI string        `json:"jti"`
		}
		if json.Unmarshal(payload, &claims) != nil || claims.Iss != id || claims.Sub != id ||
			!slices.Contains(claims.Aud, s.op.Issuer) || !time.Now().Before(claims.Exp.AsTime()) || claims.JTI == "" {
			return nil, errWrongSecret
		}
		s.op.mu.Lock()
		replay := s.op.seenJTI[claims.JTI]
		s.op.seenJTI[claims.JTI] = true
		s.op.mu.Unlock()
		if replay {
			return nil, stringError("client assertion replayed")
		}
		return s.GetClientByClientID(ctx, id)
	}
	if id == s.op.ConfidentialClientID {
		if secret != s.op.ClientSecret {
			return nil, errWrongSecret
		}
		return s.GetClientByClientID(ctx, id)
	}
	return s.Storage.ClientCredentials(ctx, id, secret)
}

func (s *opStorage) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (op.TokenRequest, error) {
	if id == s.op.ConfidentialClientID || id == s.op.KeyClientID {
		return &oidc.JWTTokenRequest{Subject: id, Audience: []string{id}, Scopes: scopes}, nil
	}
	return s.Storage.ClientCredentialsTokenRequest(ctx, id, scopes)
}

func (s *opStorage) CreateAccessToken(ctx context.Context, r op.TokenRequest) (string, time.Time, error) {
	id, exp, err := s.Storage.CreateAccessToken(ctx, r)
	return id, s.cap(exp), err
}

func (s *opStorage) CreateAccessAndRefreshTokens(ctx context.Context, r op.TokenRequest, current string) (string, string, time.Time, error) {
	if d, ok := r.(*op.DeviceAuthorizationState); ok {
		// The example storage files device tokens under no client, so their
		// refresh tokens could never be used; give them the client's name.
		r = &storage.AuthRequest{ApplicationID: d.ClientID, UserID: d.Subject, Scopes: d.Scopes}
	}
	if current == "" && s.op.opts.refreshOnce {
		s.op.mu.Lock()
		s.op.issuedRefresh++
		again := s.op.issuedRefresh > 1
		s.op.mu.Unlock()
		if again {
			id, exp, err := s.Storage.CreateAccessToken(ctx, r)
			return id, "", s.cap(exp), err
		}
	}
	id, rt, exp, err := s.Storage.CreateAccessAndRefreshTokens(ctx, r, current)
	return id, rt, s.cap(exp), err
}

func (s *opStorage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	r, err := s.Storage.TokenRequestByRefreshToken(ctx, token)
	if err != nil {
		return nil, err
	}
	s.op.mu.Lock()
	sub := s.op.refreshSubject
	s.op.mu.Unlock()
	if br, ok := r.(*storage.RefreshTokenRequest); ok && sub != "" {
		t := *br.RefreshToken // a copy: the stored token keeps its user
		t.UserID = sub
		return &storage.RefreshTokenRequest{RefreshToken: &t}, nil
	}
	return r, nil
}

func (s *opStorage) cap(exp time.Time) time.Time {
	if s.op.opts.ttl > 0 {
		if e := time.Now().Add(s.op.opts.ttl); e.Before(exp) {
			return e
		}
	}
	return exp
}

type stringError string

func (e stringError) Error() string { return string(e) }

const errWrongSecret = stringError("wrong client id or secret")

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
