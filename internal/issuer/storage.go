package issuer

import (
	"errors"
	"slices"
	"sync"
	"time"
)

// Lifetimes of the short-lived things the flows hand around.
const (
	authRequestTTL = 10 * time.Minute // from /authorize to the code exchange
	deviceCodeTTL  = 10 * time.Minute // RFC 8628 expires_in
	idTokenTTL     = time.Hour
)

// errGone is the answer for a code, token or request that is unknown,
// expired or already used: the protocol does not tell them apart.
var errGone = errors.New("unknown, expired or already used")

// storage is the issuer's in-memory state. One mutex guards it all; a local
// test issuer never has enough traffic for that to matter.
type storage struct {
	cfg Config

	mu       sync.Mutex
	clients  map[string]Client
	users    map[string]bool
	authReqs map[string]*authRequest // by ID
	codes    map[string]string       // code → auth request ID
	access   map[string]*accessToken // by ID (the JWT's jti)
	refresh  map[string]*refreshToken
	devices  map[string]*deviceAuth // by device code
	userCode map[string]string      // user code → device code
}

// grant is what a token response is made from: who, for which client, with
// which scopes, and how the user signed in.
type grant struct {
	clientID string
	subject  string
	scopes   []string
	authTime time.Time // zero for client credentials
	amr      []string
	nonce    string // code flow: echoed in the ID token
	code     string // code flow: for c_hash
}

type accessToken struct {
	id        string
	clientID  string
	subject   string
	scopes    []string
	expires   time.Time
	refreshID string // the refresh token issued with it, if any
}

type refreshToken struct {
	token    string
	g        grant
	expires  time.Time
	accessID string
}

// authRequest is an authorization request between /authorize and the code
// exchange.
type authRequest struct {
	id          string
	created     time.Time
	clientID    string
	redirectURI string
	state       string
	nonce       string
	scopes      []string
	challenge   string // PKCE S256 code_challenge; empty for a confidential client without PKCE
	loginHint   string

	// Set when the user signs in.
	subject  string
	done     bool
	authTime time.Time
	code     string
}

// deviceAuth is an RFC 8628 device authorization.
type deviceAuth struct {
	clientID string
	scopes   []string
	expires  time.Time

	subject  string
	authTime time.Time
	done     bool
	denied   bool
}

func newStorage(c Config) *storage {
	s := &storage{
		cfg:      c,
		clients:  map[string]Client{},
		users:    map[string]bool{},
		authReqs: map[string]*authRequest{},
		codes:    map[string]string{},
		access:   map[string]*accessToken{},
		refresh:  map[string]*refreshToken{},
		devices:  map[string]*deviceAuth{},
		userCode: map[string]string{},
	}
	for _, c := range c.Clients {
		s.clients[c.ID] = c
	}
	for _, u := range c.Users {
		s.users[u] = true
	}
	return s
}

// amr: users pick their name on the login page, no password.
var userAMR = []string{"user"}

func (s *storage) isUser(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[name]
}

func (s *storage) client(id string) (Client, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	return c, ok
}

// ---- authorization code flow

func (s *storage) addAuthRequest(a *authRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for id, old := range s.authReqs { // purge stale requests
		if now.Sub(old.created) > authRequestTTL {
			s.deleteAuthRequestLocked(id)
		}
	}
	a.id = randomString(16)
	a.created = now
	s.authReqs[a.id] = a
}

// pendingAuthRequest returns a copy of an auth request the login page shows.
func (s *storage) pendingAuthRequest(id string) (authRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authReqs[id]
	if !ok || a.done || time.Since(a.created) > authRequestTTL {
		return authRequest{}, false
	}
	return *a, true
}

// completeAuthRequest signs user in for the pending auth request and returns
// it with its new authorization code.
func (s *storage) completeAuthRequest(id, user string) (authRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authReqs[id]
	if !ok || a.done || time.Since(a.created) > authRequestTTL {
		return authRequest{}, errors.New("unknown or finished sign-in request; start again from the application")
	}
	if !s.users[user] {
		return authRequest{}, errors.New("no such user")
	}
	a.subject, a.done, a.authTime = user, true, time.Now()
	a.code = randomString(24)
	s.codes[a.code] = a.id
	return *a, nil
}

// denyAuthRequest ends a pending auth request and returns it.
func (s *storage) denyAuthRequest(id string) (authRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authReqs[id]
	if !ok || a.done {
		return authRequest{}, false
	}
	s.deleteAuthRequestLocked(id)
	return *a, true
}

// redeemCode spends an authorization code if check (called with the lock
// held) accepts the exchange. A code works once; a failed check leaves it
// for the right exchange (a PKCE verifier cannot be guessed).
func (s *storage) redeemCode(code string, check func(*authRequest) *oauthError) (authRequest, *oauthError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authReqs[s.codes[code]]
	if !ok || code == "" || time.Since(a.created) > authRequestTTL {
		return authRequest{}, errInvalidGrant("code invalid, expired or already used")
	}
	if e := check(a); e != nil {
		return authRequest{}, e
	}
	s.deleteAuthRequestLocked(a.id)
	return *a, nil
}

func (s *storage) deleteAuthRequestLocked(id string) {
	if a, ok := s.authReqs[id]; ok && a.code != "" {
		delete(s.codes, a.code)
	}
	delete(s.authReqs, id)
}

// ---- tokens

// newTokens records the access token (and, when withRefresh, a refresh
// token) of g. spent, when not empty, is the refresh token being rotated: it
// is spent with the access token that came with it, and a second use of it
// (or a race) loses.
func (s *storage) newTokens(g grant, withRefresh bool, spent string) (*accessToken, *refreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for id, t := range s.access { // purge expired tokens: a dev stack may run for days
		if now.After(t.expires) {
			delete(s.access, id)
		}
	}
	for tok, t := range s.refresh {
		if now.After(t.expires) {
			delete(s.refresh, tok)
		}
	}
	if spent != "" {
		old, ok := s.refresh[spent]
		if !ok || old.g.clientID != g.clientID || now.After(old.expires) {
			return nil, nil, errGone
		}
		delete(s.refresh, spent)
		delete(s.access, old.accessID)
	}
	at := &accessToken{
		id:       randomString(16),
		clientID: g.clientID,
		subject:  g.subject,
		scopes:   g.scopes,
		expires:  now.Add(s.cfg.AccessTokenTTL),
	}
	var rt *refreshToken
	if withRefresh {
		g.nonce, g.code = "", ""
		rt = &refreshToken{token: randomString(32), g: g, expires: now.Add(s.cfg.RefreshTokenTTL), accessID: at.id}
		at.refreshID = rt.token
		s.refresh[rt.token] = rt
	}
	s.access[at.id] = at
	return at, rt, nil
}

// refreshGrant returns the grant of a live refresh token of clientID.
func (s *storage) refreshGrant(token, clientID string) (grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.refresh[token]
	if !ok || t.g.clientID != clientID || time.Now().After(t.expires) {
		return grant{}, false
	}
	return t.g, true
}

// liveAccess returns a copy of a live access token by ID.
func (s *storage) liveAccess(id string) (accessToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.access[id]
	if !ok || time.Now().After(t.expires) {
		return accessToken{}, false
	}
	return *t, true
}

// revoke revokes an access token (by ID) or a refresh token (with the
// access token issued with it) of clientID. An unknown token is not an
// error (RFC 7009); one issued to another client is.
func (s *storage) revoke(accessID, token, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.access[accessID]; ok && accessID != "" {
		if t.clientID != clientID {
			return errOtherClient
		}
		delete(s.access, accessID)
		return nil
	}
	if t, ok := s.refresh[token]; ok {
		if t.g.clientID != clientID {
			return errOtherClient
		}
		delete(s.refresh, token)
		delete(s.access, t.accessID)
	}
	return nil
}

var errOtherClient = errors.New("the token was not issued to this client")

// endSession deletes every token of subject for clientID (RP-initiated
// logout).
func (s *storage) endSession(subject, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.access {
		if t.subject == subject && t.clientID == clientID {
			delete(s.access, id)
		}
	}
	for tok, t := range s.refresh {
		if t.g.subject == subject && t.g.clientID == clientID {
			delete(s.refresh, tok)
		}
	}
}

// ---- device authorization

// addDevice stores a new device authorization and returns its device code
// and user code.
func (s *storage) addDevice(clientID string, scopes []string) (deviceCode, userCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for uc, dc := range s.userCode { // purge expired codes
		if d := s.devices[dc]; d == nil || now.After(d.expires) {
			delete(s.userCode, uc)
			delete(s.devices, dc)
		}
	}
	for {
		userCode = newUserCode()
		if _, taken := s.userCode[userCode]; !taken {
			break
		}
	}
	deviceCode = randomString(24)
	s.devices[deviceCode] = &deviceAuth{clientID: clientID, scopes: slices.Clone(scopes), expires: now.Add(deviceCodeTTL)}
	s.userCode[userCode] = deviceCode
	return deviceCode, userCode
}

// deviceState is where a device code stands when its client polls.
type deviceState int

const (
	devicePending deviceState = iota
	deviceApproved
	deviceDenied
	deviceExpired
	deviceUnknown
)

// pollDevice answers a poll of the token endpoint. An approved, denied or
// expired code answers once; then it is gone.
func (s *storage) pollDevice(deviceCode, clientID string) (deviceState, deviceAuth) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[deviceCode]
	if !ok || d.clientID != clientID {
		return deviceUnknown, deviceAuth{}
	}
	now := time.Now()
	var st deviceState
	switch {
	case d.done:
		st = deviceApproved
	case d.denied:
		st = deviceDenied
	case now.After(d.expires):
		st = deviceExpired
	default:
		st = devicePending
	}
	if st != devicePending {
		for uc, dc := range s.userCode {
			if dc == deviceCode {
				delete(s.userCode, uc)
			}
		}
		delete(s.devices, deviceCode)
	}
	return st, *d
}

// deviceByUserCode returns a copy of the pending device authorization.
func (s *storage) deviceByUserCode(userCode string) (deviceAuth, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[s.userCode[userCode]]
	if !ok || d.done || d.denied || time.Now().After(d.expires) {
		return deviceAuth{}, false
	}
	return *d, true
}

// decideDevice approves (as user) or denies a pending device authorization.
func (s *storage) decideDevice(userCode, user string, approve bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[s.userCode[userCode]]
	if !ok || d.done || d.denied || time.Now().After(d.expires) {
		return errors.New("unknown, expired or already used code")
	}
	if !approve {
		d.denied = true
		return nil
	}
	if !s.users[user] {
		return errors.New("no such user")
	}
	d.subject, d.done, d.authTime = user, true, time.Now()
	return nil
}
