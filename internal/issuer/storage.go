package issuer

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is the provider's in-memory op.Storage. One mutex guards it all;
// a local test issuer never has enough traffic for that to matter.
type storage struct {
	cfg Config
	key *signingKey

	mu       sync.Mutex
	clients  map[string]*client
	users    map[string]bool
	authReqs map[string]*authRequest // by ID
	codes    map[string]string       // code → auth request ID
	access   map[string]*accessToken // by ID (the JWT's jti)
	refresh  map[string]*refreshToken
	devices  map[string]*op.DeviceAuthorizationState // by device code
	userCode map[string]string                       // user code → device code
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.ClientCredentialsStorage       = (*storage)(nil)
	_ op.DeviceAuthorizationStorage     = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
)

type accessToken struct {
	id        string
	clientID  string
	subject   string
	audience  []string
	scopes    []string
	expires   time.Time
	refreshID string // the refresh token issued with it, if any
}

type refreshToken struct {
	token    string
	clientID string
	subject  string
	audience []string
	scopes   []string
	amr      []string
	authTime time.Time
	expires  time.Time
	accessID string
}

func newStorage(c Config, key *signingKey) *storage {
	s := &storage{
		cfg:      c,
		key:      key,
		clients:  map[string]*client{},
		users:    map[string]bool{},
		authReqs: map[string]*authRequest{},
		codes:    map[string]string{},
		access:   map[string]*accessToken{},
		refresh:  map[string]*refreshToken{},
		devices:  map[string]*op.DeviceAuthorizationState{},
		userCode: map[string]string{},
	}
	for _, c := range c.Clients {
		s.clients[c.ID] = newClient(c)
	}
	for _, u := range c.Users {
		s.users[u] = true
	}
	return s
}

func (s *storage) isUser(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[name]
}

// ---- auth requests (authorization code flow)

type authRequest struct {
	id          string
	created     time.Time
	clientID    string
	redirectURI string
	state       string
	nonce       string
	scopes      []string
	respType    oidc.ResponseType
	respMode    oidc.ResponseMode
	challenge   *oidc.CodeChallenge
	loginHint   string

	subject  string
	done     bool
	authTime time.Time
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return amr(a.done) }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.respType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.respMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// amr: users pick their name on the login page, no password.
func amr(done bool) []string {
	if done {
		return []string{"user"}
	}
	return nil
}

func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if slices.Contains(r.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired()
	}
	a := &authRequest{
		id:          randomString(16),
		created:     time.Now(),
		clientID:    r.ClientID,
		redirectURI: r.RedirectURI,
		state:       r.State,
		nonce:       r.Nonce,
		scopes:      r.Scopes,
		respType:    r.ResponseType,
		respMode:    r.ResponseMode,
		loginHint:   r.LoginHint,
	}
	if r.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authReqs[a.id] = a
	return a, nil
}

// pendingAuthRequest returns a copy of an auth request the login page shows.
func (s *storage) pendingAuthRequest(id string) (authRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authReqs[id]
	if !ok || a.done {
		return authRequest{}, false
	}
	return *a, true
}

// completeAuthRequest signs user in for the auth request.
func (s *storage) completeAuthRequest(id, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authReqs[id]
	if !ok {
		return errors.New("unknown or finished sign-in request; start again from the application")
	}
	if !s.users[user] {
		return errors.New("no such user")
	}
	a.subject, a.done, a.authTime = user, true, time.Now()
	return nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authReqs[id]
	if !ok {
		return nil, errors.New("auth request not found")
	}
	return a, nil
}

func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authReqs[s.codes[code]]
	if !ok {
		return nil, errors.New("code invalid or already used")
	}
	return a, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authReqs, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// ---- tokens

func (s *storage) newAccess(clientID, subject string, audience, scopes []string, refreshID string) *accessToken {
	t := &accessToken{
		id:        randomString(16),
		clientID:  clientID,
		subject:   subject,
		audience:  audience,
		scopes:    scopes,
		expires:   time.Now().Add(s.cfg.AccessTokenTTL),
		refreshID: refreshID,
	}
	s.access[t.id] = t
	return t
}

func (s *storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	clientID := clientIDOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.newAccess(clientID, r.GetSubject(), r.GetAudience(), r.GetScopes(), "")
	return t.id, t.expires, nil
}

func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, r op.TokenRequest, current string) (string, string, time.Time, error) {
	clientID := clientIDOf(r)
	var (
		authTime time.Time
		methods  []string
	)
	switch r := r.(type) {
	case *authRequest:
		authTime, methods = r.authTime, r.GetAMR()
	case *op.DeviceAuthorizationState:
		authTime, methods = r.AuthTime, r.AMR
	case *refreshRequest:
		authTime, methods = r.t.authTime, r.t.amr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if current != "" {
		// Rotation: the presented refresh token is spent, with the access
		// token that came with it. A second use of it (or a race) loses.
		old, ok := s.refresh[current]
		if !ok || old.clientID != clientID || time.Now().After(old.expires) {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token invalid, expired or already used")
		}
		delete(s.refresh, current)
		delete(s.access, old.accessID)
	}
	rt := &refreshToken{
		token:    randomString(32),
		clientID: clientID,
		subject:  r.GetSubject(),
		audience: r.GetAudience(),
		scopes:   r.GetScopes(),
		amr:      methods,
		authTime: authTime,
		expires:  time.Now().Add(s.cfg.RefreshTokenTTL),
	}
	at := s.newAccess(clientID, rt.subject, rt.audience, rt.scopes, rt.token)
	rt.accessID = at.id
	s.refresh[rt.token] = rt
	return at.id, rt.token, at.expires, nil
}

func clientIDOf(r op.TokenRequest) string {
	switch r := r.(type) {
	case interface{ GetClientID() string }:
		return r.GetClientID()
	case *oidc.JWTTokenRequest: // client credentials: the subject is the client
		return r.Subject
	}
	return ""
}

// refreshRequest is a stored refresh token as op.RefreshTokenRequest.
type refreshRequest struct {
	t      refreshToken // a copy: SetCurrentScopes must not narrow the stored one
	scopes []string
}

func (r *refreshRequest) GetAMR() []string                 { return r.t.amr }
func (r *refreshRequest) GetAudience() []string            { return r.t.audience }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.t.authTime }
func (r *refreshRequest) GetClientID() string              { return r.t.clientID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.t.subject }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }

func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.refresh[token]
	if !ok || time.Now().After(t.expires) {
		return nil, errors.New("refresh token invalid, expired or already used")
	}
	return &refreshRequest{t: *t, scopes: t.scopes}, nil
}

func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.access {
		if t.subject == userID && t.clientID == clientID {
			delete(s.access, id)
		}
	}
	for tok, t := range s.refresh {
		if t.subject == userID && t.clientID == clientID {
			delete(s.refresh, tok)
		}
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(_ context.Context, _ string, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.refresh[token]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.subject, t.token, nil
}

// RevokeToken revokes an access token (by ID) or a refresh token (with the
// access token issued with it). An unknown token is not an error (RFC 7009).
func (s *storage) RevokeToken(_ context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.access[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.access, tokenOrID)
		return nil
	}
	if t, ok := s.refresh[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.refresh, tokenOrID)
		delete(s.access, t.accessID)
	}
	return nil
}

// ---- keys

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{s.key.alg}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

// ---- clients

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, errors.New("unknown client")
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[id]; ok && c.secret != "" && constantTimeEqual(c.secret, secret) {
		return nil
	}
	return errors.New("wrong client ID or secret")
}

func (s *storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		return nil, err
	}
	return s.GetClientByClientID(ctx, id)
}

func (s *storage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	return &oidc.JWTTokenRequest{Subject: id, Audience: []string{id}, Scopes: scopes}, nil
}

// ---- user info, introspection, claims

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does it.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	s.userinfo(info, r.GetSubject(), scopes)
	return nil
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, _, _ string) error {
	s.mu.Lock()
	t, ok := s.access[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return errors.New("access token invalid, expired or revoked")
	}
	s.userinfo(info, t.subject, t.scopes)
	return nil
}

// userinfo fills the claims of the scopes. A subject that is not a user (a
// client-credentials token) gets only sub.
func (s *storage) userinfo(info *oidc.UserInfo, subject string, scopes []string) {
	info.Subject = subject
	if !s.isUser(subject) {
		return
	}
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.PreferredUsername = subject
			info.Name = subject
		case oidc.ScopeEmail:
			info.Email = subject + "@example.com"
			info.EmailVerified = true
		}
	}
}

// SetIntrospectionFromToken answers for any token this issuer holds: any
// authenticated (confidential) client may introspect, as a resource server
// would with its own credentials.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, _, _ string) error {
	s.mu.Lock()
	t, ok := s.access[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return errors.New("access token invalid, expired or revoked")
	}
	info := new(oidc.UserInfo)
	s.userinfo(info, t.subject, t.scopes)
	resp.SetUserInfo(info)
	resp.Subject = t.subject
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Audience = t.audience
	resp.Expiration = oidc.FromTime(t.expires)
	resp.TokenType = oidc.BearerToken
	resp.JWTID = t.id
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest puts the granted scopes in JWT access tokens
// (the "scope" claim of RFC 9068), so an API can check them offline.
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, r op.TokenRequest, _ []string) (map[string]any, error) {
	if sc := r.GetScopes(); len(sc) > 0 {
		return map[string]any{"scope": strings.Join(sc, " ")}, nil
	}
	return nil, nil
}

// GetKeyByIDAndClientID: no client registers keys (no private_key_jwt).
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("no client keys are registered")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grant is not supported")
}

func (s *storage) Health(context.Context) error { return nil }

// ---- device authorization

func (s *storage) StoreDeviceAuthorization(_ context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[clientID]; !ok {
		return errors.New("unknown client")
	}
	now := time.Now()
	for uc, dc := range s.userCode { // purge expired codes
		if d := s.devices[dc]; d == nil || now.After(d.Expires) {
			delete(s.userCode, uc)
			delete(s.devices, dc)
		}
	}
	if _, ok := s.userCode[userCode]; ok {
		return op.ErrDuplicateUserCode
	}
	s.devices[deviceCode] = &op.DeviceAuthorizationState{ClientID: clientID, Scopes: scopes, Expires: expires}
	s.userCode[userCode] = deviceCode
	return nil
}

func (s *storage) GetDeviceAuthorizatonState(ctx context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[deviceCode]
	if !ok || d.ClientID != clientID {
		return nil, errors.New("device code not found for this client")
	}
	c := *d
	if c.Done || c.Denied {
		// A device code gives tokens once.
		for uc, dc := range s.userCode {
			if dc == deviceCode {
				delete(s.userCode, uc)
			}
		}
		delete(s.devices, deviceCode)
	}
	return &c, nil
}

// deviceByUserCode returns a copy of the pending device authorization.
func (s *storage) deviceByUserCode(userCode string) (op.DeviceAuthorizationState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[s.userCode[userCode]]
	if !ok || d.Done || d.Denied || time.Now().After(d.Expires) {
		return op.DeviceAuthorizationState{}, false
	}
	return *d, true
}

// decideDevice approves (as user) or denies a pending device authorization.
func (s *storage) decideDevice(userCode, user string, approve bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[s.userCode[userCode]]
	if !ok || d.Done || d.Denied || time.Now().After(d.Expires) {
		return errors.New("unknown, expired or already used code")
	}
	if !approve {
		d.Denied = true
		return nil
	}
	if !s.users[user] {
		return errors.New("no such user")
	}
	d.Subject, d.Done, d.AuthTime, d.AMR = user, true, time.Now(), amr(true)
	return nil
}
