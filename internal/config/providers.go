package config

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/oatcli/oat/internal/urlpolicy"
)

// Providers oat knows (the provider key / --provider flag).
const (
	ProviderGeneric  = "generic"
	ProviderGitHub   = "github"
	ProviderGoogle   = "google"
	ProviderEntra    = "entra"
	ProviderAuth0    = "auth0"
	ProviderOkta     = "okta"
	ProviderKeycloak = "keycloak"
	ProviderGitLab   = "gitlab"
	ProviderCognito  = "cognito"
)

// ProviderNames lists the provider values, for validation and completion.
func ProviderNames() []string {
	return []string{ProviderGitHub, ProviderGoogle, ProviderEntra, ProviderAuth0, ProviderOkta,
		ProviderKeycloak, ProviderGitLab, ProviderCognito, ProviderGeneric}
}

// EffectiveProvider is the profile's provider: the provider key when set
// (explicit always wins, so a provider can be pointed at an emulator), else
// the one the issuer's or an endpoint's host names, else generic.
func (p *Profile) EffectiveProvider() string {
	if p.Provider != "" {
		return p.Provider
	}
	for _, u := range []string{p.Issuer, p.TokenURL, p.AuthorizationURL, p.DeviceAuthorizationURL} {
		if u == "" {
			continue
		}
		if v := providerForHost(u); v != "" {
			return v
		}
	}
	return ProviderGeneric
}

func providerForHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" {
		return ""
	}
	h := strings.ToLower(u.Hostname())
	switch {
	case h == "github.com":
		return ProviderGitHub
	case h == "accounts.google.com":
		return ProviderGoogle
	case h == "login.microsoftonline.com":
		return ProviderEntra
	case strings.HasSuffix(h, ".auth0.com"):
		return ProviderAuth0
	case strings.HasSuffix(h, ".okta.com"):
		return ProviderOkta
	case h == "gitlab.com":
		return ProviderGitLab
	case strings.HasPrefix(h, "cognito-idp.") && strings.HasSuffix(h, ".amazonaws.com"):
		return ProviderCognito
	}
	return ""
}

// FixedRedirectPort is the loopback redirect port of the providers that
// match redirect URIs exactly, port included (Auth0, Okta, Cognito), so
// that one URI can be registered there: http://127.0.0.1:6280/callback
// (http://localhost:6280/callback for Cognito). 6280 ("oat" on a phone
// keypad) is below every OS's ephemeral range (Linux 32768+, Windows and
// macOS 49152+), so the OS never hands it to another program's connection,
// and no common development server defaults to it.
const FixedRedirectPort = 6280

// ApplyProvider fills the provider's defaults into every key p leaves
// empty; a key set in the file, the environment or a flag is never
// changed. This is the one place the providers' defaults live.
func (p *Profile) ApplyProvider() {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	scopes := func(s ...string) {
		if len(p.Scopes) == 0 {
			p.Scopes = s
		}
	}
	param := func(k, v string) {
		if _, ok := p.AuthParams[k]; ok {
			return
		}
		if p.AuthParams == nil {
			p.AuthParams = map[string]string{}
		}
		p.AuthParams[k] = v
	}
	noServer := p.Issuer == "" && p.TokenURL == "" && p.AuthorizationURL == "" && p.DeviceAuthorizationURL == ""
	switch p.EffectiveProvider() {
	case ProviderGitHub:
		// No discovery: https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
		if noServer {
			p.AuthorizationURL = "https://github.com/login/oauth/authorize"
			p.TokenURL = "https://github.com/login/oauth/access_token"
			p.DeviceAuthorizationURL = "https://github.com/login/device/code"
		}
		fill(&p.ClientAuth, ClientAuthPost)
	case ProviderGoogle:
		// https://developers.google.com/identity/protocols/oauth2/native-app
		if noServer {
			p.Issuer = "https://accounts.google.com"
		}
		scopes("openid", "email", "profile")
		param("access_type", "offline")
		param("prompt", "consent")
		fill(&p.ClientAuth, ClientAuthPost)
	case ProviderEntra:
		if noServer {
			p.Issuer = "https://login.microsoftonline.com/organizations/v2.0"
		}
		scopes("openid", "profile", "offline_access")
	case ProviderAuth0, ProviderOkta:
		// Refresh tokens only with offline_access:
		// https://auth0.com/docs/secure/tokens/refresh-tokens/get-refresh-tokens,
		// https://developer.okta.com/docs/guides/refresh-tokens/main/
		scopes("openid", "profile", "offline_access")
		// Callback URLs match exactly, port included, so the port is fixed:
		// https://support.auth0.com/center/s/article/Callback-URL-Mismatch-Error-Is-Not-in-the-List-of-Allowed-Callback-URLs,
		// https://support.okta.com/help/s/article/openid-connect-oidc-redirect-uri
		if p.RedirectPort == 0 {
			p.RedirectPort = FixedRedirectPort
		}
	case ProviderKeycloak:
		// Keycloak takes a loopback redirect URI on any port:
		// https://www.keycloak.org/docs/latest/server_admin/#_installed-applications-url
		scopes("openid", "profile", "offline_access")
	case ProviderGitLab:
		if noServer {
			p.Issuer = "https://gitlab.com"
		}
		scopes("openid", "profile")
		// GitLab's discovery document names no device endpoint; it is
		// /oauth/authorize_device on the instance
		// (https://docs.gitlab.com/api/oauth2/#device-authorization-grant-flow).
		if p.Issuer != "" && p.DeviceAuthorizationURL == "" && p.TokenURL == "" {
			p.DeviceAuthorizationURL = strings.TrimSuffix(p.Issuer, "/") + "/oauth/authorize_device"
		}
	case ProviderCognito:
		// No offline_access: Cognito issues a refresh token with every
		// code grant and refuses scopes the app client does not allow:
		// https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html
		scopes("openid", "profile", "email")
		// Cognito allows plain-http redirect URIs only for localhost, and
		// takes only callback URLs registered exactly (port included):
		// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolClient.html#CognitoUserPools-CreateUserPoolClient-request-CallbackURLs
		fill(&p.RedirectHost, "localhost")
		if p.RedirectPort == 0 {
			p.RedirectPort = FixedRedirectPort
		}
	}
}

// ForProfileAdd completes p for `oat profile add --provider`: the server
// from --domain or --tenant (only where p names none), then the provider's
// defaults, so the file holds a complete, working profile.
//
// authServer is Okta's authorization server (--authorization-server): a
// custom one's ID (default "default"), or "org" for the org authorization
// server, whose issuer is https://DOMAIN itself.
func (p *Profile) ForProfileAdd(domain, tenant, authServer string) error {
	prov := p.EffectiveProvider()
	base, err := domainBase(domain)
	if err != nil {
		return err
	}
	if authServer != "" && prov != ProviderOkta {
		return &Error{Msg: "--authorization-server is for --provider okta"}
	}
	if authServer != "" && (base == "" || p.Issuer != "" || p.TokenURL != "" || p.AuthorizationURL != "") {
		return &Error{Msg: "--authorization-server goes with --domain (and no --issuer or endpoint flags)"}
	}
	if strings.ContainsAny(authServer, "/?#@ %") {
		return &Error{Msg: "--authorization-server takes the authorization server's ID (e.g. default, aus1a2b3c4d5e6f7g8h9), or org"}
	}
	host := strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
	noServer := p.Issuer == "" && p.TokenURL == "" && p.AuthorizationURL == ""
	switch prov {
	case ProviderEntra:
		// --domain names a national cloud's login host
		// (https://learn.microsoft.com/en-us/entra/identity-platform/authentication-national-cloud),
		// or an emulator's loopback base URL.
		if noServer && (tenant != "" || base != "") {
			b := base
			if b == "" {
				b = "https://login.microsoftonline.com"
			}
			if tenant == "" {
				tenant = "organizations"
			}
			p.Issuer = b + "/" + url.PathEscape(tenant) + "/v2.0"
		}
	case ProviderAuth0:
		if noServer && base != "" {
			p.Issuer = base + "/"
		}
	case ProviderOkta:
		// https://developer.okta.com/docs/concepts/auth-servers/
		if noServer && base != "" {
			switch authServer {
			case "org":
				p.Issuer = base
			case "":
				p.Issuer = base + "/oauth2/default"
			default:
				p.Issuer = base + "/oauth2/" + authServer
			}
		}
	case ProviderGitHub:
		if noServer && host != "" && host != "github.com" {
			// GitHub Enterprise Server: the same paths on its own host.
			p.AuthorizationURL = base + "/login/oauth/authorize"
			p.TokenURL = base + "/login/oauth/access_token"
			p.DeviceAuthorizationURL = base + "/login/device/code"
		}
		// GitHub's web flow needs the client secret even with PKCE; its
		// device flow needs only the client ID
		// (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#device-flow):
		// a profile without a secret logs in with the device flow.
		if p.ClientSecretEnv == "" && p.Flow == "" {
			p.Flow = FlowDevice
		}
	case ProviderCognito:
		// Discovery names no revocation_endpoint; the hosted-UI domain has
		// /oauth2/revoke: https://docs.aws.amazon.com/cognito/latest/developerguide/revocation-endpoint.html
		if base != "" && p.RevocationURL == "" {
			p.RevocationURL = base + "/oauth2/revoke"
		}
	}
	p.ApplyProvider()
	if p.Provider == "" && prov != ProviderGeneric {
		p.Provider = prov
	}
	return nil
}

// domainBase turns --domain into the provider's base URL: a host name
// (dev-abc.us.auth0.com, with https:// or not) gives https://HOST; an
// http:// URL is taken for a loopback host only (a local server or an
// emulator), as everywhere else in oat.
func domainBase(domain string) (string, error) {
	if domain == "" {
		return "", nil
	}
	d := strings.TrimSuffix(domain, "/")
	scheme := "https://"
	if rest, ok := strings.CutPrefix(d, "http://"); ok {
		if u, err := url.Parse(d); err != nil || !urlpolicy.IsLoopbackHost(u.Hostname()) {
			return "", &Error{Msg: "--domain " + strconv.Quote(domain) + " uses http: only https is allowed, except for loopback hosts (127.0.0.1, ::1, localhost)"}
		}
		scheme, d = "http://", rest
	} else {
		d = strings.TrimPrefix(d, "https://")
	}
	if d == "" || strings.ContainsAny(d, "/?#@ \\") {
		return "", &Error{Msg: "--domain takes a host name (e.g. dev-abc.us.auth0.com), not a URL with a path"}
	}
	return scheme + d, nil
}
