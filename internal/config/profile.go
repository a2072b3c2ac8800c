// Package config reads and writes oat's TOML configuration file and resolves the
// settings of one profile from flags, environment and file (in that order).
package config

// Profile holds the settings of one client at one authorization server. Field
// tags are the TOML keys of the config file (see docs/configuration.md).
type Profile struct {
	Issuer                  string            `toml:"issuer,omitempty" json:"issuer,omitempty"`
	AuthorizationURL        string            `toml:"authorization_url,omitempty" json:"authorization_url,omitempty"`
	TokenURL                string            `toml:"token_url,omitempty" json:"token_url,omitempty"`
	DeviceAuthorizationURL  string            `toml:"device_authorization_url,omitempty" json:"device_authorization_url,omitempty"`
	RevocationURL           string            `toml:"revocation_url,omitempty" json:"revocation_url,omitempty"`
	JWKSURL                 string            `toml:"jwks_url,omitempty" json:"jwks_url,omitempty"`
	ClientID                string            `toml:"client_id,omitempty" json:"client_id,omitempty"`
	ClientSecretEnv         string            `toml:"client_secret_env,omitempty" json:"client_secret_env,omitempty"`
	ClientAuth              string            `toml:"client_auth,omitempty" json:"client_auth,omitempty"`                             // none | basic | post | private_key_jwt
	ClientAssertion         string            `toml:"client_assertion,omitempty" json:"client_assertion,omitempty"`                   // github-actions | env:VAR | file:PATH
	ClientAssertionAudience string            `toml:"client_assertion_audience,omitempty" json:"client_assertion_audience,omitempty"` // aud of the github-actions token
	ClientKeyFile           string            `toml:"client_key_file,omitempty" json:"client_key_file,omitempty"`                     // private_key_jwt: PEM or JWK private key
	Scopes                  []string          `toml:"scopes,omitempty" json:"scopes,omitempty"`
	Audience                string            `toml:"audience,omitempty" json:"audience,omitempty"`
	Resource                string            `toml:"resource,omitempty" json:"resource,omitempty"`
	Flow                    string            `toml:"flow,omitempty" json:"flow,omitempty"` // pkce | device | client-credentials | token-exchange
	RedirectHost            string            `toml:"redirect_host,omitempty" json:"redirect_host,omitempty"`
	RedirectPort            int               `toml:"redirect_port,omitempty" json:"redirect_port,omitempty"`
	RedirectPath            string            `toml:"redirect_path,omitempty" json:"redirect_path,omitempty"`
	AuthParams              map[string]string `toml:"auth_params,omitempty" json:"auth_params,omitempty"`
	Storage                 string            `toml:"storage,omitempty" json:"storage,omitempty"` // keychain | file
	CAFile                  string            `toml:"ca_file,omitempty" json:"ca_file,omitempty"`
	// AssumeTTL is the lifetime assumed for an access token that came with a
	// refresh token but without expires_in (a Go duration; 1h when empty).
	AssumeTTL string `toml:"assume_ttl,omitempty" json:"assume_ttl,omitempty"`
	// DPoP binds the tokens to a key pair made at login (RFC 9449): proofs
	// on token requests, token_type DPoP, a proof per oat curl request.
	DPoP bool `toml:"dpop,omitempty" json:"dpop,omitempty"`
	// Provider turns on a provider's defaults and quirks (providers.go);
	// detected from well-known hosts when empty.
	Provider string `toml:"provider,omitempty" json:"provider,omitempty"`

	// SubjectTokenFrom names where --flow token-exchange gets its subject
	// token (RFC 8693): github-actions | env:VAR | file:PATH | profile:NAME.
	SubjectTokenFrom string `toml:"subject_token_from,omitempty" json:"subject_token_from,omitempty"`
	// SubjectTokenType is the subject token's type (a URI or its last
	// part); jwt by default, access_token for profile:NAME.
	SubjectTokenType string `toml:"subject_token_type,omitempty" json:"subject_token_type,omitempty"`
	// RequestedTokenType is the type of token asked for; the server's
	// choice when unset.
	RequestedTokenType string `toml:"requested_token_type,omitempty" json:"requested_token_type,omitempty"`

	// PAR makes the PKCE login push its authorization request (RFC 9126)
	// even where the server does not require it.
	PAR bool `toml:"par,omitempty" json:"par,omitempty"`
}

// Flows oat knows.
const (
	FlowPKCE              = "pkce"
	FlowDevice            = "device"
	FlowClientCredentials = "client-credentials"
	// FlowTokenExchange is RFC 8693 token exchange: like client credentials
	// a machine flow, renewed by a new grant (no refresh token kept).
	FlowTokenExchange = "token-exchange"
)

// IsMachineFlow reports flows renewed by running the grant again, with no
// refresh token stored: client-credentials and token-exchange.
func IsMachineFlow(flow string) bool {
	return flow == FlowClientCredentials || flow == FlowTokenExchange
}

// RFC 8693 §3 token type identifiers; subject_token_type and
// requested_token_type also take the last part alone ("jwt", "access_token").
const (
	TokenTypePrefix      = "urn:ietf:params:oauth:token-type:"
	TokenTypeJWT         = TokenTypePrefix + "jwt"
	TokenTypeAccessToken = TokenTypePrefix + "access_token"
)

// TokenTypeURI expands a short token type name (access_token,
// refresh_token, id_token, jwt, saml1, saml2) to its RFC 8693 URI; anything
// else is returned as it is.
func TokenTypeURI(t string) string {
	switch t {
	case "access_token", "refresh_token", "id_token", "jwt", "saml1", "saml2":
		return TokenTypePrefix + t
	}
	return t
}

// Client authentication methods at the token endpoint.
const (
	ClientAuthNone  = "none"
	ClientAuthBasic = "basic"
	ClientAuthPost  = "post"
	// ClientAuthPrivateKeyJWT signs a client assertion (RFC 7523 §2.2) with client_key_file.
	ClientAuthPrivateKeyJWT = "private_key_jwt"
)

// Storage kinds for the refresh token.
const (
	StorageKeychain = "keychain"
	StorageFile     = "file"
)
