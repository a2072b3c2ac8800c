package issuer

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Endpoint paths (discovery lists them; clients should read them there).
const (
	discoveryPath     = "/.well-known/openid-configuration"
	asMetadataPath    = "/.well-known/oauth-authorization-server" // RFC 8414: the same document
	authorizePath     = "/authorize"
	tokenPath         = "/oauth/token"
	introspectPath    = "/oauth/introspect"
	userinfoPath      = "/userinfo"
	revokePath        = "/revoke"
	endSessionPath    = "/end_session"
	deviceAuthPath    = "/device_authorization"
	keysPath          = "/keys"
	loginPath         = "/login"
	devicePath        = "/device"
	deviceCodeGrant   = "urn:ietf:params:oauth:grant-type:device_code"
	maxFormBytes      = 64 << 10
	scopeOpenID       = "openid"
	scopeOfflineAcces = "offline_access"
)

// server answers the provider's endpoints and pages.
type server struct {
	url         string // the issuer URL, no trailing slash
	st          *storage
	key         *signingKey
	cfg         Config
	discovery   []byte
	autoApprove bool
}

// metadata is the discovery document (OpenID Connect Discovery 1.0 and RFC
// 8414), in the order it is served.
type metadata struct {
	Issuer                         string   `json:"issuer"`
	AuthorizationEndpoint          string   `json:"authorization_endpoint"`
	TokenEndpoint                  string   `json:"token_endpoint"`
	IntrospectionEndpoint          string   `json:"introspection_endpoint"`
	UserinfoEndpoint               string   `json:"userinfo_endpoint"`
	RevocationEndpoint             string   `json:"revocation_endpoint"`
	EndSessionEndpoint             string   `json:"end_session_endpoint"`
	DeviceAuthorizationEndpoint    string   `json:"device_authorization_endpoint"`
	JWKSURI                        string   `json:"jwks_uri"`
	ScopesSupported                []string `json:"scopes_supported"`
	ResponseTypesSupported         []string `json:"response_types_supported"`
	ResponseModesSupported         []string `json:"response_modes_supported"`
	GrantTypesSupported            []string `json:"grant_types_supported"`
	SubjectTypesSupported          []string `json:"subject_types_supported"`
	IDTokenSigningAlgs             []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethods       []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods  []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMeths []string `json:"introspection_endpoint_auth_methods_supported"`
	ClaimsSupported                []string `json:"claims_supported"`
	CodeChallengeMethodsSupported  []string `json:"code_challenge_methods_supported"`
	RequestParameterSupported      bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported   bool     `json:"request_uri_parameter_supported"`
}

func newServer(issuerURL string, st *storage, key *signingKey, c Config) (*server, error) {
	authMethods := []string{"none", "client_secret_basic", "client_secret_post"}
	doc, err := json.Marshal(metadata{
		Issuer:                         issuerURL,
		AuthorizationEndpoint:          issuerURL + authorizePath,
		TokenEndpoint:                  issuerURL + tokenPath,
		IntrospectionEndpoint:          issuerURL + introspectPath,
		UserinfoEndpoint:               issuerURL + userinfoPath,
		RevocationEndpoint:             issuerURL + revokePath,
		EndSessionEndpoint:             issuerURL + endSessionPath,
		DeviceAuthorizationEndpoint:    issuerURL + deviceAuthPath,
		JWKSURI:                        issuerURL + keysPath,
		ScopesSupported:                []string{scopeOpenID, "profile", "email", scopeOfflineAcces},
		ResponseTypesSupported:         []string{"code"},
		ResponseModesSupported:         []string{"query"},
		GrantTypesSupported:            []string{"authorization_code", "refresh_token", "client_credentials", deviceCodeGrant},
		SubjectTypesSupported:          []string{"public"},
		IDTokenSigningAlgs:             []string{string(key.alg)},
		TokenEndpointAuthMethods:       authMethods,
		RevocationEndpointAuthMethods:  authMethods,
		IntrospectionEndpointAuthMeths: []string{"client_secret_basic", "client_secret_post"},
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce", "amr", "azp",
			"at_hash", "c_hash", "client_id", "scope", "preferred_username", "name", "email", "email_verified"},
		CodeChallengeMethodsSupported: []string{"S256"},
	})
	if err != nil {
		return nil, err
	}
	return &server{url: issuerURL, st: st, key: key, cfg: c, discovery: doc, autoApprove: c.AutoApprove}, nil
}

// handler routes every endpoint. The JSON endpoints answer cross-origin
// requests (a single-page app under test calls them from a browser); the
// pages do not.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	api := func(path string, methods string, h http.HandlerFunc) {
		mux.Handle(path, cors(methods, onlyMethods(methods, h)))
	}
	api(discoveryPath, "GET", s.serveDiscovery)
	api(asMetadataPath, "GET", s.serveDiscovery)
	api(keysPath, "GET", s.serveKeys)
	api(tokenPath, "POST", withClient(s.st, s.token))
	api(deviceAuthPath, "POST", withClient(s.st, s.deviceAuthorization))
	api(introspectPath, "POST", withClient(s.st, s.introspect))
	api(userinfoPath, "GET, POST", s.userinfo)
	api(revokePath, "POST", withClient(s.st, s.revoke))
	api("/healthz", "GET", serveOK)
	api("/ready", "GET", serveOK)
	mux.Handle(authorizePath, onlyMethods("GET, POST", s.authorize))
	mux.Handle(endSessionPath, onlyMethods("GET, POST", s.endSession))
	mux.Handle(loginPath, onlyMethods("GET, POST", s.login))
	mux.Handle(devicePath, onlyMethods("GET, POST", s.device))
	mux.Handle("/", http.NotFoundHandler())
	return mux
}

// onlyMethods answers 405 to methods not in methods (HEAD goes with GET).
func onlyMethods(methods string, h http.HandlerFunc) http.HandlerFunc {
	allowed := strings.Split(methods, ", ")
	if slices.Contains(allowed, "GET") {
		allowed = append(allowed, "HEAD")
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(allowed, r.Method) {
			w.Header().Set("Allow", methods)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

// cors lets browsers call the JSON endpoints from any origin; no cookies are
// involved, so any origin is as good as another.
func cors(methods string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		if r.Header.Get("Origin") == "" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.Header().Set("Access-Control-Allow-Methods", methods)
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func serveOK(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *server) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.discovery)
}

func (s *server) serveKeys(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.key.jwks)
}

// ---- errors

// oauthError is an RFC 6749 §5.2 error answer.
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func newError(status int, code, desc string) *oauthError {
	return &oauthError{status: status, Code: code, Description: desc}
}
func errInvalidRequest(desc string) *oauthError {
	return newError(http.StatusBadRequest, "invalid_request", desc)
}
func errInvalidClient(desc string) *oauthError {
	return newError(http.StatusUnauthorized, "invalid_client", desc)
}
func errInvalidGrant(desc string) *oauthError {
	return newError(http.StatusBadRequest, "invalid_grant", desc)
}

func (e *oauthError) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="oat issuer"`)
	}
	writeJSON(w, e.status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// withClient reads a form POST and authenticates its client before h.
func withClient(st *storage, h func(http.ResponseWriter, *http.Request, Client)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if e := parsePost(w, r); e != nil {
			e.write(w)
			return
		}
		c, e := st.authenticate(r)
		if e != nil {
			e.write(w)
			return
		}
		h(w, r, c)
	}
}

// parsePost reads a form POST body (bounded).
func parsePost(w http.ResponseWriter, r *http.Request) *oauthError {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errInvalidRequest("the body is not a valid form (application/x-www-form-urlencoded)")
	}
	return nil
}

// ---- authorization endpoint

// authorize starts the code flow (RFC 6749 §4.1, PKCE RFC 7636): it checks
// the request and sends the browser to the login page.
func (s *server) authorize(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusBadRequest, page{Title: "Sign in", Error: "The authorization request is not a valid form."})
		return
	}
	q := r.Form
	// Until the client and its redirect URI are known good, errors are
	// shown here and never redirected (RFC 6749 §4.1.2.1).
	c, ok := s.st.client(q.Get("client_id"))
	if !ok {
		s.render(w, http.StatusBadRequest, page{Title: "Sign in", Error: "Unknown client_id: the application is not registered with this issuer."})
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" || !c.redirectAllowed(redirect) {
		s.render(w, http.StatusBadRequest, page{Title: "Sign in",
			Error: "The redirect_uri is missing or not allowed for this client (any http loopback URI is: 127.0.0.1, [::1] or localhost)."})
		return
	}
	state := q.Get("state")
	fail := func(code, desc string) {
		redirectTo(w, r, redirect, url.Values{"error": {code}, "error_description": {desc}, "state": {state}})
	}
	challenge := q.Get("code_challenge")
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only response_type=code is supported")
	case q.Get("response_mode") != "" && q.Get("response_mode") != "query":
		fail("invalid_request", "only response_mode=query is supported")
	case q.Get("request") != "" || q.Get("request_uri") != "":
		fail("request_not_supported", "request objects are not supported")
	case challenge == "" && c.Secret == "":
		fail("invalid_request", "a public client must use PKCE: send code_challenge and code_challenge_method=S256")
	case challenge != "" && q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
	case challenge != "" && !validChallenge(challenge):
		fail("invalid_request", "code_challenge is not a base64url SHA-256")
	case slices.Contains(strings.Fields(q.Get("prompt")), "none"):
		fail("login_required", "the user must sign in on the login page")
	default:
		a := &authRequest{
			clientID:    c.ID,
			redirectURI: redirect,
			state:       state,
			nonce:       q.Get("nonce"),
			scopes:      strings.Fields(q.Get("scope")),
			challenge:   challenge,
			loginHint:   q.Get("login_hint"),
		}
		s.st.addAuthRequest(a)
		http.Redirect(w, r, loginPath+"?"+url.Values{"authRequestID": {a.id}}.Encode(), http.StatusFound)
	}
}

// validChallenge: an S256 challenge is 32 bytes, base64url without padding.
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// redirectTo sends the browser to the client's redirect URI with params
// added to its query.
func redirectTo(w http.ResponseWriter, r *http.Request, redirect string, params url.Values) {
	u, err := url.Parse(redirect)
	if err != nil { // checked by redirectAllowed before
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// ---- token endpoint

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// accessClaims are an access token's claims (RFC 9068).
type accessClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  []string `json:"aud"`
	ClientID  string   `json:"client_id"`
	Expiry    int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	JTI       string   `json:"jti"`
	Scope     string   `json:"scope,omitempty"`
}

// idClaims are an ID token's claims (OIDC Core §2).
type idClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience []string `json:"aud"`
	Expiry   int64    `json:"exp"`
	IssuedAt int64    `json:"iat"`
	AuthTime int64    `json:"auth_time,omitempty"`
	Nonce    string   `json:"nonce,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	AZP      string   `json:"azp,omitempty"`
	AtHash   string   `json:"at_hash,omitempty"`
	CHash    string   `json:"c_hash,omitempty"`
}

func (s *server) token(w http.ResponseWriter, r *http.Request, c Client) {
	f := r.PostForm
	switch gt := f.Get("grant_type"); gt {
	case "authorization_code":
		s.codeGrant(w, c, f)
	case "refresh_token":
		s.refreshGrant(w, c, f)
	case "client_credentials":
		if c.Secret == "" {
			newError(http.StatusBadRequest, "unauthorized_client", "client credentials need a confidential client (with a secret)").write(w)
			return
		}
		s.issue(w, grant{clientID: c.ID, subject: c.ID, scopes: strings.Fields(f.Get("scope"))}, "")
	case deviceCodeGrant:
		s.deviceGrant(w, c, f)
	case "":
		errInvalidRequest("grant_type is missing").write(w)
	default:
		newError(http.StatusBadRequest, "unsupported_grant_type", "grant_type "+gt+" is not supported").write(w)
	}
}

func (s *server) codeGrant(w http.ResponseWriter, c Client, f url.Values) {
	code, verifier, redirect := f.Get("code"), f.Get("code_verifier"), f.Get("redirect_uri")
	a, e := s.st.redeemCode(code, func(a *authRequest) *oauthError {
		switch {
		case a.clientID != c.ID:
			return errInvalidGrant("the code was issued to another client")
		case redirect != a.redirectURI:
			return errInvalidGrant("redirect_uri differs from the authorization request's")
		case a.challenge != "" && verifier == "":
			return errInvalidGrant("code_verifier is missing (PKCE)")
		case a.challenge != "" && s256(verifier) != a.challenge:
			return errInvalidGrant("code_verifier does not match the code_challenge (PKCE)")
		case a.challenge == "" && verifier != "":
			// RFC 9700 §2.1.1: no PKCE downgrade.
			return errInvalidGrant("code_verifier sent, but the authorization request had no code_challenge")
		}
		return nil
	})
	if e != nil {
		e.write(w)
		return
	}
	s.issue(w, grant{clientID: c.ID, subject: a.subject, scopes: a.scopes, authTime: a.authTime, amr: userAMR,
		nonce: a.nonce, code: code}, "")
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *server) refreshGrant(w http.ResponseWriter, c Client, f url.Values) {
	token := f.Get("refresh_token")
	g, ok := s.st.refreshGrant(token, c.ID)
	if !ok {
		errInvalidGrant("refresh token invalid, expired or already used").write(w)
		return
	}
	if sc := strings.Fields(f.Get("scope")); len(sc) > 0 {
		for _, x := range sc {
			if !slices.Contains(g.scopes, x) {
				newError(http.StatusBadRequest, "invalid_scope", "scope "+x+" was not granted to this refresh token").write(w)
				return
			}
		}
		g.scopes = sc
	}
	s.issue(w, g, token)
}

func (s *server) deviceGrant(w http.ResponseWriter, c Client, f url.Values) {
	st, d := s.st.pollDevice(f.Get("device_code"), c.ID)
	switch st {
	case devicePending:
		newError(http.StatusBadRequest, "authorization_pending", "the user has not answered yet").write(w)
	case deviceDenied:
		newError(http.StatusBadRequest, "access_denied", "the user denied the request").write(w)
	case deviceExpired:
		newError(http.StatusBadRequest, "expired_token", "the device code expired; start again").write(w)
	case deviceApproved:
		s.issue(w, grant{clientID: c.ID, subject: d.subject, scopes: d.scopes, authTime: d.authTime, amr: userAMR}, "")
	default:
		errInvalidGrant("device code invalid, expired or already used").write(w)
	}
}

// issue answers a token request for g: an access token (JWT), a refresh
// token for a user with offline_access (always when rotating spent), and
// an ID token for a user with openid.
func (s *server) issue(w http.ResponseWriter, g grant, spent string) {
	user := !g.authTime.IsZero()
	withRefresh := spent != "" || (user && slices.Contains(g.scopes, scopeOfflineAcces))
	at, rt, err := s.st.newTokens(g, withRefresh, spent)
	if err != nil {
		errInvalidGrant("refresh token invalid, expired or already used").write(w)
		return
	}
	now := time.Now()
	scope := strings.Join(g.scopes, " ")
	access, err := s.key.sign(accessClaims{
		Issuer: s.url, Subject: g.subject, Audience: []string{g.clientID}, ClientID: g.clientID,
		Expiry: at.expires.Unix(), IssuedAt: now.Unix(), NotBefore: now.Unix(), JTI: at.id, Scope: scope,
	})
	if err != nil {
		newError(http.StatusInternalServerError, "server_error", "signing the token failed").write(w)
		return
	}
	resp := tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(s.cfg.AccessTokenTTL.Round(time.Second) / time.Second), Scope: scope}
	if rt != nil {
		resp.RefreshToken = rt.token
	}
	if user && slices.Contains(g.scopes, scopeOpenID) {
		idc := idClaims{
			Issuer: s.url, Subject: g.subject, Audience: []string{g.clientID}, AZP: g.clientID,
			Expiry: now.Add(idTokenTTL).Unix(), IssuedAt: now.Unix(), AuthTime: g.authTime.Unix(),
			Nonce: g.nonce, AMR: g.amr, AtHash: s.key.halfHash(access),
		}
		if g.code != "" {
			idc.CHash = s.key.halfHash(g.code)
		}
		if resp.IDToken, err = s.key.sign(idc); err != nil {
			newError(http.StatusInternalServerError, "server_error", "signing the ID token failed").write(w)
			return
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// ---- device authorization endpoint (RFC 8628)

func (s *server) deviceAuthorization(w http.ResponseWriter, r *http.Request, c Client) {
	deviceCode, userCode := s.st.addDevice(c.ID, strings.Fields(r.PostForm.Get("scope")))
	verify := s.url + devicePath
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               deviceCode,
		"user_code":                 userCode,
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?" + url.Values{"user_code": {userCode}}.Encode(),
		"expires_in":                int64(deviceCodeTTL / time.Second),
		"interval":                  int64(s.cfg.DeviceInterval.Round(time.Second) / time.Second),
	})
}

// ---- access token lookup, introspection, userinfo

// liveAccess returns the live access token raw is (a JWT signed here whose
// jti is neither expired, revoked nor spent by a refresh).
func (s *server) liveAccess(raw string) (accessToken, bool) {
	if raw == "" {
		return accessToken{}, false
	}
	id := s.accessID(raw)
	if id == "" {
		return accessToken{}, false
	}
	return s.st.liveAccess(id)
}

// accessID is the jti of a JWT signed here, or "".
func (s *server) accessID(raw string) string {
	payload, err := s.key.verify(raw)
	if err != nil {
		return ""
	}
	var c struct {
		JTI string `json:"jti"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	return c.JTI
}

// userClaims are the userinfo claims of subject for scopes. A subject that
// is not a user (a client-credentials token) gets only sub.
func (s *server) userClaims(subject string, scopes []string) map[string]any {
	m := map[string]any{"sub": subject}
	if !s.st.isUser(subject) {
		return m
	}
	for _, sc := range scopes {
		switch sc {
		case "profile":
			m["preferred_username"] = subject
			m["name"] = subject
		case "email":
			m["email"] = subject + "@example.com"
			m["email_verified"] = true
		}
	}
	return m
}

// introspect answers RFC 7662 for any access token this issuer holds: any
// confidential client may introspect, as a resource server would with its
// own credentials.
func (s *server) introspect(w http.ResponseWriter, r *http.Request, c Client) {
	if c.Secret == "" {
		errInvalidClient("introspection needs a confidential client (with a secret)").write(w)
		return
	}
	t, ok := s.liveAccess(r.PostForm.Get("token"))
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	m := s.userClaims(t.subject, t.scopes)
	m["active"] = true
	m["iss"] = s.url
	m["client_id"] = t.clientID
	m["scope"] = strings.Join(t.scopes, " ")
	m["aud"] = []string{t.clientID}
	m["exp"] = t.expires.Unix()
	m["jti"] = t.id
	m["token_type"] = "Bearer"
	writeJSON(w, http.StatusOK, m)
}

// userinfo answers OIDC userinfo for a bearer access token (header, or
// access_token in a POST form: RFC 6750 §2).
func (s *server) userinfo(w http.ResponseWriter, r *http.Request) {
	var raw string
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		raw = strings.TrimSpace(h[7:])
	} else if r.Method == http.MethodPost {
		if e := parsePost(w, r); e != nil {
			e.write(w)
			return
		}
		raw = r.PostForm.Get("access_token")
	}
	t, ok := s.liveAccess(raw)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, newError(0, "invalid_token", "access token invalid, expired or revoked"))
		return
	}
	writeJSON(w, http.StatusOK, s.userClaims(t.subject, t.scopes))
}

// ---- revocation (RFC 7009)

func (s *server) revoke(w http.ResponseWriter, r *http.Request, c Client) {
	token := r.PostForm.Get("token")
	if token == "" {
		errInvalidRequest("token is missing").write(w)
		return
	}
	// The hint is only a hint (RFC 7009 §2.1): look the token up as both.
	if err := s.st.revoke(s.accessID(token), token, c.ID); err != nil {
		newError(http.StatusBadRequest, "unauthorized_client", err.Error()).write(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// ---- RP-initiated logout

// endSession ends the tokens of the ID token's user for its client, then
// goes to post_logout_redirect_uri (a loopback URI of the client) or shows
// a page.
func (s *server) endSession(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusBadRequest, page{Title: "Sign out", Error: "The logout request is not a valid form."})
		return
	}
	clientID := r.Form.Get("client_id")
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		var idc idClaims
		payload, err := s.key.verify(hint) // an expired ID token still names the session
		if err != nil || json.Unmarshal(payload, &idc) != nil || len(idc.Audience) == 0 ||
			(clientID != "" && !slices.Contains(idc.Audience, clientID)) {
			s.render(w, http.StatusBadRequest, page{Title: "Sign out", Error: "The id_token_hint is not an ID token of this issuer for this client."})
			return
		}
		clientID = idc.Audience[0]
		s.st.endSession(idc.Subject, clientID)
	}
	if redirect := r.Form.Get("post_logout_redirect_uri"); redirect != "" {
		c, ok := s.st.client(clientID)
		if !ok || !c.redirectAllowed(redirect) {
			s.render(w, http.StatusBadRequest, page{Title: "Sign out", Error: "The post_logout_redirect_uri is not allowed (give the client_id or id_token_hint, and a loopback URI)."})
			return
		}
		redirectTo(w, r, redirect, url.Values{"state": {r.Form.Get("state")}})
		return
	}
	s.render(w, http.StatusOK, page{Title: "Sign out", Done: "Signed out. You can close this page."})
}
