package config

import "time"

// The documented defaults of profile settings (docs/configuration.md), in
// one place. A setting left empty in the file and on the command line stays
// empty in Profile (so that `oat profile show` shows what the user set); the
// methods below are how every other package reads the value in effect.
const (
	DefaultFlow         = FlowPKCE
	DefaultRedirectHost = "127.0.0.1"
	DefaultRedirectPath = "/callback"
	DefaultStorage      = StorageKeychain
	// DefaultAssumeTTL is assume_ttl's default.
	DefaultAssumeTTL = time.Hour
)

// FlowOrDefault is the flow in effect: flow, else DefaultFlow. (oat login
// picks the device flow instead when flow is unset and no browser can open.)
func (p Profile) FlowOrDefault() string {
	if p.Flow == "" {
		return DefaultFlow
	}
	return p.Flow
}

// StorageOrDefault is where the refresh token lives: storage, else
// DefaultStorage.
func (p Profile) StorageOrDefault() string {
	if p.Storage == "" {
		return DefaultStorage
	}
	return p.Storage
}

// RedirectHostOrDefault is redirect_host, else DefaultRedirectHost.
func (p Profile) RedirectHostOrDefault() string {
	if p.RedirectHost == "" {
		return DefaultRedirectHost
	}
	return p.RedirectHost
}

// RedirectPathOrDefault is redirect_path, else DefaultRedirectPath; a path
// without a leading "/" gets one.
func (p Profile) RedirectPathOrDefault() string {
	switch {
	case p.RedirectPath == "":
		return DefaultRedirectPath
	case p.RedirectPath[0] != '/':
		return "/" + p.RedirectPath
	}
	return p.RedirectPath
}

// AssumedTTL is assume_ttl as a duration: DefaultAssumeTTL when unset or
// not a positive duration (Validate refuses those in the file).
func (p Profile) AssumedTTL() time.Duration {
	if d, err := time.ParseDuration(p.AssumeTTL); err == nil && d > 0 {
		return d
	}
	return DefaultAssumeTTL
}

// ClientAuthOrDefault is the client authentication in effect: client_auth
// when set; without it, none for a client without a secret, else the first
// of the server's token_endpoint_auth_methods_supported that oat supports,
// else basic (also when the server lists none).
func (p Profile) ClientAuthOrDefault(hasSecret bool, serverMethods []string) string {
	if p.ClientAuth != "" {
		return p.ClientAuth
	}
	if !hasSecret {
		return ClientAuthNone
	}
	for _, m := range serverMethods {
		switch m {
		case "client_secret_basic":
			return ClientAuthBasic
		case "client_secret_post":
			return ClientAuthPost
		}
	}
	return ClientAuthBasic
}
