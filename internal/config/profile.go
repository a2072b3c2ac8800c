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
	Flow                    string            `toml:"flow,omitempty" json:"flow,omitempty"` // pkce | device | client-credentials
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
}

// Flows oat knows.
const (
	FlowPKCE              = "pkce"
	FlowDevice            = "device"
	FlowClientCredentials = "client-credentials"
)

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
