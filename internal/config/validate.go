package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oatcli/oat/internal/urlpolicy"
)

// keyInfo describes one profile key for `oat profile set` and validation.
type keyInfo struct {
	name string
	set  func(p *Profile, v string) error
}

var keys = []keyInfo{
	{"issuer", func(p *Profile, v string) error { p.Issuer = v; return nil }},
	{"authorization_url", func(p *Profile, v string) error { p.AuthorizationURL = v; return nil }},
	{"token_url", func(p *Profile, v string) error { p.TokenURL = v; return nil }},
	{"device_authorization_url", func(p *Profile, v string) error { p.DeviceAuthorizationURL = v; return nil }},
	{"revocation_url", func(p *Profile, v string) error { p.RevocationURL = v; return nil }},
	{"jwks_url", func(p *Profile, v string) error { p.JWKSURL = v; return nil }},
	{"client_id", func(p *Profile, v string) error { p.ClientID = v; return nil }},
	{"client_secret_env", func(p *Profile, v string) error { p.ClientSecretEnv = v; return nil }},
	{"client_auth", func(p *Profile, v string) error { p.ClientAuth = v; return nil }},
	{"client_assertion", func(p *Profile, v string) error { p.ClientAssertion = v; return nil }},
	{"client_assertion_audience", func(p *Profile, v string) error { p.ClientAssertionAudience = v; return nil }},
	{"client_key_file", func(p *Profile, v string) error { p.ClientKeyFile = v; return nil }},
	{"scopes", func(p *Profile, v string) error { p.Scopes = SplitScopes([]string{v}); return nil }},
	{"audience", func(p *Profile, v string) error { p.Audience = v; return nil }},
	{"resource", func(p *Profile, v string) error { p.Resource = v; return nil }},
	{"flow", func(p *Profile, v string) error { p.Flow = v; return nil }},
	{"subject_token_from", func(p *Profile, v string) error { p.SubjectTokenFrom = v; return nil }},
	{"subject_token_type", func(p *Profile, v string) error { p.SubjectTokenType = v; return nil }},
	{"requested_token_type", func(p *Profile, v string) error { p.RequestedTokenType = v; return nil }},
	{"par", func(p *Profile, v string) error {
		b, err := strconv.ParseBool(v)
		if v != "" && err != nil {
			return fmt.Errorf("par: %q is not true or false", v)
		}
		p.PAR = b
		return nil
	}},
	{"redirect_host", func(p *Profile, v string) error { p.RedirectHost = v; return nil }},
	{"redirect_port", func(p *Profile, v string) error {
		if v == "" {
			p.RedirectPort = 0
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("redirect_port: %q is not a number", v)
		}
		p.RedirectPort = n
		return nil
	}},
	{"redirect_path", func(p *Profile, v string) error { p.RedirectPath = v; return nil }},
	{"auth_params", func(p *Profile, v string) error {
		if v == "" {
			p.AuthParams = nil
			return nil
		}
		return fmt.Errorf("auth_params: set one parameter with the key auth_params.NAME")
	}},
	{"storage", func(p *Profile, v string) error { p.Storage = v; return nil }},
	{"ca_file", func(p *Profile, v string) error { p.CAFile = v; return nil }},
	{"assume_ttl", func(p *Profile, v string) error { p.AssumeTTL = v; return nil }},
	{"provider", func(p *Profile, v string) error { p.Provider = v; return nil }},
	{"dpop", func(p *Profile, v string) error {
		if v == "" {
			p.DPoP = false
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("dpop: %q is not true or false", v)
		}
		p.DPoP = b
		return nil
	}},
}

// Keys lists the profile keys in the order of the documentation.
func Keys() []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.name
	}
	return out
}

// isSecretKey reports keys that look like someone tried to store a secret.
func isSecretKey(k string) bool {
	k = strings.ToLower(strings.ReplaceAll(k, "-", "_"))
	return k == "client_secret" || k == "secret" || k == "password" || k == "refresh_token" || k == "access_token"
}

// Set changes one key of p, validating the result. An empty value unsets the
// key. auth_params.NAME sets one extra authorization-request parameter.
func (p *Profile) Set(key, value string) error {
	if isSecretKey(key) {
		return fmt.Errorf("%s: secrets are not kept in the config file; put it in an environment variable and set client_secret_env to its name", key)
	}
	if name, ok := strings.CutPrefix(key, "auth_params."); ok && name != "" {
		if value == "" {
			delete(p.AuthParams, name)
			if len(p.AuthParams) == 0 {
				p.AuthParams = nil
			}
		} else {
			if p.AuthParams == nil {
				p.AuthParams = map[string]string{}
			}
			p.AuthParams[name] = value
		}
		return p.Validate()
	}
	for _, k := range keys {
		if k.name == key {
			if err := k.set(p, value); err != nil {
				return err
			}
			return p.Validate()
		}
	}
	return fmt.Errorf("unknown key %q (known keys: %s, auth_params.NAME)", key, strings.Join(Keys(), ", "))
}

// isEnvName reports whether s matches ^[A-Za-z_][A-Za-z0-9_]*$. A loop, not a
// package-level regexp: compiling one at init costs every oat command, `oat
// token` on a cache hit included.
func isEnvName(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// isProfileName reports whether s matches ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$.
func isProfileName(s string) bool {
	if s == "" || len(s) > 64 || !isLetter(s[0]) && !isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// ValidateName checks a profile name: letters, digits, '.', '_', '-', at most
// 64 characters, not starting with a punctuation mark.
func ValidateName(name string) error {
	if !isProfileName(name) || strings.HasPrefix(name, "adhoc-") {
		return fmt.Errorf("invalid profile name %q: use letters, digits, '.', '_' and '-' (at most 64, not starting with '.', '_', '-' or \"adhoc-\")", name)
	}
	return nil
}

// Validate checks every set value of p, and that the keys of one flow are
// not set on a profile of another (checkFlowKeys): a file, a profile as
// `oat profile add|set` leave it, and the settings a command runs with.
func (p *Profile) Validate() error {
	if err := p.validateValues(); err != nil {
		return err
	}
	return p.checkFlowKeys()
}

// Validate checks the values given as flags, each on its own: whether they
// fit the profile's flow is checked once they are merged with it (Resolve).
func (o *Overrides) Validate() error { return o.Profile.validateValues() }

// checkFlowKeys refuses keys that only one flow reads, set on a profile of
// another flow, where they would be silently ignored: the token-exchange
// keys (subject_token_from, subject_token_type, requested_token_type) on
// any other flow, and par on any flow but pkce.
func (p *Profile) checkFlowKeys() error {
	if p.Flow != FlowTokenExchange {
		for _, k := range []struct{ key, val string }{
			{"subject_token_from", p.SubjectTokenFrom},
			{"subject_token_type", p.SubjectTokenType},
			{"requested_token_type", p.RequestedTokenType},
		} {
			if k.val != "" {
				return fmt.Errorf("%s is read only by flow %q, and this profile's flow is %q: set flow = %q (first, with oat profile set), or remove %s", k.key, FlowTokenExchange, p.FlowOrDefault(), FlowTokenExchange, k.key)
			}
		}
	}
	if p.PAR && p.Flow != "" && p.Flow != FlowPKCE {
		return fmt.Errorf("par is read only by flow %q (RFC 9126 pushes the browser login's request), and this profile's flow is %q: remove par", FlowPKCE, p.Flow)
	}
	return nil
}

// validateValues checks every set value of p, each on its own.
func (p *Profile) validateValues() error {
	for _, u := range []struct{ key, val string }{
		{"issuer", p.Issuer},
		{"authorization_url", p.AuthorizationURL},
		{"token_url", p.TokenURL},
		{"device_authorization_url", p.DeviceAuthorizationURL},
		{"revocation_url", p.RevocationURL},
		{"jwks_url", p.JWKSURL},
	} {
		if err := urlpolicy.Check(u.key, u.val); err != nil {
			return err
		}
	}
	if p.ClientSecretEnv != "" && !isEnvName(p.ClientSecretEnv) {
		return fmt.Errorf("client_secret_env must name an environment variable (letters, digits, '_'), not hold the secret itself")
	}
	if err := oneOf("client_auth", p.ClientAuth, ClientAuthNone, ClientAuthBasic, ClientAuthPost, ClientAuthPrivateKeyJWT); err != nil {
		return err
	}
	if a := p.ClientAssertion; a != "" {
		if !isJWTSource(a) {
			return fmt.Errorf("client_assertion must be \"github-actions\", \"env:VARIABLE\" or \"file:PATH\" (it names where the assertion comes from, never holds it)")
		}
		if p.ClientAuth == ClientAuthBasic || p.ClientAuth == ClientAuthPost || p.ClientAuth == ClientAuthPrivateKeyJWT {
			return fmt.Errorf("client_assertion authenticates the client by itself: remove client_auth %q", p.ClientAuth)
		}
	}
	if p.ClientAuth == ClientAuthPrivateKeyJWT && p.ClientKeyFile == "" {
		return fmt.Errorf("client_auth private_key_jwt needs client_key_file (a PEM or JWK private key)")
	}
	if err := oneOf("flow", p.Flow, FlowPKCE, FlowDevice, FlowClientCredentials, FlowTokenExchange); err != nil {
		return err
	}
	if a := p.SubjectTokenFrom; a != "" && !isJWTSource(a) {
		if name, ok := strings.CutPrefix(a, "profile:"); !ok || !isProfileName(name) {
			return fmt.Errorf("subject_token_from must be \"github-actions\", \"env:VARIABLE\", \"file:PATH\" or \"profile:NAME\" (it names where the subject token comes from, never holds it)")
		}
	}
	for _, t := range []struct{ key, val string }{{"subject_token_type", p.SubjectTokenType}, {"requested_token_type", p.RequestedTokenType}} {
		if t.val != "" && (!strings.Contains(TokenTypeURI(t.val), ":") || strings.ContainsAny(t.val, " \t\r\n")) {
			return fmt.Errorf("%s %q is not a token type: use a URI (urn:ietf:params:oauth:token-type:jwt…) or access_token, refresh_token, id_token, jwt, saml1, saml2", t.key, t.val)
		}
	}
	if TokenTypeURI(p.RequestedTokenType) == TokenTypePrefix+"refresh_token" {
		// The exchange's answer is cached as an access token would be, and
		// the cache never holds a refresh token (a machine flow keeps none).
		return fmt.Errorf("requested_token_type refresh_token: oat keeps no refresh token from a token exchange (its token cache never holds one): ask for access_token, or leave requested_token_type unset")
	}
	if err := oneOf("storage", p.Storage, StorageKeychain, StorageFile); err != nil {
		return err
	}
	if err := oneOf("redirect_host", p.RedirectHost, "127.0.0.1", "localhost", "::1"); err != nil {
		return err
	}
	if err := oneOf("provider", p.Provider, ProviderNames()...); err != nil {
		return err
	}
	if p.AssumeTTL != "" {
		if d, err := time.ParseDuration(p.AssumeTTL); err != nil || d <= 0 {
			return fmt.Errorf("assume_ttl %q is not a positive duration (e.g. 1h, 30m)", p.AssumeTTL)
		}
	}
	if p.RedirectPort < 0 || p.RedirectPort > 65535 {
		return fmt.Errorf("redirect_port %d is out of range (0-65535; 0 picks a free port)", p.RedirectPort)
	}
	if p.RedirectPath != "" && !strings.HasPrefix(p.RedirectPath, "/") {
		return fmt.Errorf("redirect_path %q must start with /", p.RedirectPath)
	}
	for _, s := range p.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\n\"\\") {
			return fmt.Errorf("scope %q is not a valid scope token", s)
		}
	}
	return nil
}

// isJWTSource reports the sources a client assertion or a subject token is
// read from: github-actions, env:VARIABLE, file:PATH.
func isJWTSource(a string) bool {
	return a == "github-actions" || (strings.HasPrefix(a, "env:") && isEnvName(a[4:])) || (strings.HasPrefix(a, "file:") && len(a) > 5)
}

func oneOf(key, v string, allowed ...string) error {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%s %q is not one of %s", key, v, strings.Join(allowed, ", "))
}

// SplitScopes flattens repeated and space- or comma-separated scope values,
// dropping duplicates and keeping first-seen order.
func SplitScopes(vals []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vals {
		for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}
