package config

import (
	"net/url"
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
func (p Profile) EffectiveProvider() string {
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
	case ProviderAuth0, ProviderOkta, ProviderKeycloak:
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
		scopes("openid", "profile", "email")
		// Cognito allows plain-http redirect URIs only for localhost:
		// https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-client-apps.html
		fill(&p.RedirectHost, "localhost")
	}
}

// ForProfileAdd completes p for `oat profile add --provider`: the server
// from --domain or --tenant (only where p names none), then the provider's
// defaults, so the file holds a complete, working profile.
func (p *Profile) ForProfileAdd(domain, tenant string) error {
	prov := p.EffectiveProvider()
	host := strings.TrimSuffix(strings.TrimPrefix(domain, "https://"), "/")
	if domain != "" {
		if _, err := domainBase(domain, ""); err != nil {
			return err
		}
		host = strings.TrimPrefix(host, "http://")
	}
	noServer := p.Issuer == "" && p.TokenURL == "" && p.AuthorizationURL == ""
	switch prov {
	case ProviderEntra:
		// --domain names a national cloud's login host
		// (https://learn.microsoft.com/en-us/entra/identity-platform/authentication-national-cloud),
		// or an emulator's loopback base URL.
		if noServer && (tenant != "" || host != "") {
			base, err := domainBase(domain, "login.microsoftonline.com")
			if err != nil {
				return err
			}
			if tenant == "" {
				tenant = "organizations"
			}
			p.Issuer = base + "/" + url.PathEscape(tenant) + "/v2.0"
		}
	case ProviderAuth0:
		if noServer && host != "" {
			p.Issuer = "https://" + host + "/"
		}
	case ProviderOkta:
		if noServer && host != "" {
			p.Issuer = "https://" + host + "/oauth2/default"
		}
	case ProviderGitHub:
		if noServer && host != "" && host != "github.com" {
			// GitHub Enterprise Server: the same paths on its own host.
			base, err := domainBase(domain, "")
			if err != nil {
				return err
			}
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
		if host != "" && p.RevocationURL == "" {
			p.RevocationURL = "https://" + host + "/oauth2/revoke"
		}
	}
	p.ApplyProvider()
	if p.Provider == "" && prov != ProviderGeneric {
		p.Provider = prov
	}
	return nil
}

// domainBase is the base URL for --domain: https://HOST, or, for a loopback
// host given as http://HOST[:PORT] (a local emulator), that URL as is. def is
// the host when domain is empty.
func domainBase(domain, def string) (string, error) {
	if domain == "" {
		return "https://" + def, nil
	}
	scheme := "https"
	host := strings.TrimSuffix(strings.TrimPrefix(domain, "https://"), "/")
	if rest, ok := strings.CutPrefix(host, "http://"); ok {
		u, err := url.Parse("http://" + rest)
		if err != nil || !urlpolicy.IsLoopbackHost(u.Hostname()) {
			return "", &Error{Msg: "--domain: plain http only for a loopback host (a local emulator); use the provider's host name"}
		}
		scheme, host = "http", rest
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return "", &Error{Msg: "--domain takes a host name (e.g. dev-abc.us.auth0.com), not a URL with a path"}
	}
	return scheme + "://" + host, nil
}
