package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/urlpolicy"
)

// Endpoints are the server URLs a profile uses.
type Endpoints struct {
	Issuer                string
	AuthURL               string
	TokenURL              string
	DeviceAuthURL         string
	RevocationURL         string
	JWKSURL               string
	IntrospectionURL      string   `json:",omitempty"` // RFC 7662, from discovery or --introspection-url
	UserinfoURL           string   `json:",omitempty"` // OIDC UserInfo, from discovery or --userinfo-url
	IssParameterSupported bool     // RFC 9207 authorization_response_iss_parameter_supported
	SigningAlgs           []string // id_token_signing_alg_values_supported; RS256 when empty
	// TokenAuthMethods is token_endpoint_auth_methods_supported, in the
	// server's order: the default client_auth with a secret follows it.
	TokenAuthMethods []string `json:",omitempty"`
}

// metadata is the part of OIDC discovery / RFC 8414 metadata oat reads.
type metadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	DeviceEndpoint        string   `json:"device_authorization_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	IntrospectionEndpoint string   `json:"introspection_endpoint"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	IssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	SigningAlgs           []string `json:"id_token_signing_alg_values_supported"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
}

// ResolveEndpoints finds the profile's endpoints: explicit URLs win over OIDC
// discovery (issuer + /.well-known/openid-configuration), which wins over RFC
// 8414 metadata (/.well-known/oauth-authorization-server). No request is made
// when there is no issuer, or when the explicit URLs cover what the profile's
// flow needs. Only https URLs are accepted, except http on loopback hosts.
func ResolveEndpoints(ctx context.Context, hc *http.Client, p config.Profile) (*Endpoints, error) {
	e := &Endpoints{
		Issuer:        p.Issuer,
		AuthURL:       p.AuthorizationURL,
		TokenURL:      p.TokenURL,
		DeviceAuthURL: p.DeviceAuthorizationURL,
		RevocationURL: p.RevocationURL,
		JWKSURL:       p.JWKSURL,
	}
	if p.Issuer != "" {
		if err := urlpolicy.Check("issuer", p.Issuer); err != nil {
			return nil, err
		}
	}
	if p.Issuer != "" && !explicitSuffices(p) {
		md, err := discover(ctx, hc, p.Issuer)
		if err != nil {
			return nil, err
		}
		e.Issuer = md.Issuer // exactly as the server spells it (ID tokens carry it)
		e.IssParameterSupported = md.IssParameterSupported
		e.SigningAlgs = md.SigningAlgs
		e.TokenAuthMethods = md.TokenAuthMethods
		fill := func(dst *string, v string) {
			if *dst == "" {
				*dst = v
			}
		}
		fill(&e.AuthURL, md.AuthorizationEndpoint)
		fill(&e.TokenURL, md.TokenEndpoint)
		fill(&e.DeviceAuthURL, md.DeviceEndpoint)
		fill(&e.RevocationURL, md.RevocationEndpoint)
		fill(&e.JWKSURL, md.JWKSURI)
		fill(&e.IntrospectionURL, md.IntrospectionEndpoint)
		fill(&e.UserinfoURL, md.UserinfoEndpoint)
	}
	if e.TokenURL == "" {
		if p.Issuer == "" {
			return nil, errors.New("no issuer and no token_url: set --issuer (or --token-url)")
		}
		return nil, fmt.Errorf("issuer %s names no token endpoint: set token_url", p.Issuer)
	}
	for _, u := range []struct{ name, v string }{
		{"authorization_url", e.AuthURL}, {"token_url", e.TokenURL},
		{"device_authorization_url", e.DeviceAuthURL}, {"revocation_url", e.RevocationURL},
		{"jwks_url", e.JWKSURL},
	} {
		if u.v == "" {
			continue
		}
		if err := urlpolicy.Check(u.name, u.v); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// explicitSuffices reports whether the profile's explicit URLs cover its flow.
func explicitSuffices(p config.Profile) bool {
	if p.TokenURL == "" {
		return false
	}
	switch p.Flow {
	case config.FlowClientCredentials:
		return true
	case config.FlowDevice:
		if p.DeviceAuthorizationURL == "" {
			return false
		}
	default:
		if p.AuthorizationURL == "" {
			return false
		}
	}
	// ID tokens must be verified: that needs the keys.
	return !slices.Contains(p.Scopes, "openid") || p.JWKSURL != ""
}

func discover(ctx context.Context, hc *http.Client, issuer string) (*metadata, error) {
	base := strings.TrimSuffix(issuer, "/")
	md, status, err := fetchMetadata(ctx, hc, base+"/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	if md == nil && (status == http.StatusNotFound || status == http.StatusMethodNotAllowed || status == http.StatusForbidden) {
		// RFC 8414 §3: the well-known segment goes between host and path.
		u, _ := url.Parse(base)
		path := strings.TrimSuffix(u.Path, "/")
		u.Path = "/.well-known/oauth-authorization-server" + path
		md, status, err = fetchMetadata(ctx, hc, u.String())
		if err != nil {
			return nil, err
		}
	}
	if md == nil {
		return nil, fmt.Errorf("discovery: issuer %s publishes no OpenID or OAuth metadata (status %d): set the endpoint URLs in the profile", issuer, status)
	}
	if !matchIssuer(issuer, md.Issuer, "") {
		return nil, fmt.Errorf("discovery: metadata names issuer %q, not %q: check the issuer setting", md.Issuer, issuer)
	}
	return md, nil
}

// fetchMetadata returns (nil, status, nil) for a 4xx answer, so the caller can
// try the next location.
func fetchMetadata(ctx context.Context, hc *http.Client, u string) (*metadata, int, error) {
	const op = "discovery"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, mapError(ctx, op, "metadata endpoint", err)
	}
	defer resp.Body.Close()
	body, err := httpx.ReadBody(resp.Body)
	if err != nil {
		be := &bodyError{What: "response too large or cut short", StatusCode: resp.StatusCode}
		return nil, resp.StatusCode, mapError(ctx, op, "metadata endpoint", be)
	}
	if httpx.TemporaryStatus(resp.StatusCode) {
		return nil, resp.StatusCode, &httpx.TemporaryError{Op: op, StatusCode: resp.StatusCode,
			RetryAfter: httpx.RetryAfter(resp.Header, timeNow())}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, nil
	}
	var md metadata
	if looksHTML(body) {
		return nil, 0, fmt.Errorf("%s: metadata endpoint returned HTML, not JSON (status %d)", op, resp.StatusCode)
	}
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, 0, fmt.Errorf("%s: metadata endpoint returned a body that is not valid JSON (status %d)", op, resp.StatusCode)
	}
	return &md, resp.StatusCode, nil
}

// tenantTemplate is the placeholder Entra's multi-tenant discovery documents
// put in their issuer: https://login.microsoftonline.com/{tenantid}/v2.0
// (https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#validate-the-issuer).
const tenantTemplate = "{tenantid}"

// matchIssuer is the one issuer comparison. With tid empty it checks a
// discovery document's issuer (discovered) against the configured one: equal
// (ignoring a trailing slash), or Entra's template when the configured issuer
// is its common, organizations or consumers form. With tid set it checks an ID
// token's iss (discovered) against the configured issuer, which may be the
// template: the template with the token's tid must give iss exactly.
func matchIssuer(configured, discovered, tid string) bool {
	if strings.TrimSuffix(discovered, "/") == strings.TrimSuffix(configured, "/") {
		return true
	}
	if tid != "" {
		if !strings.Contains(configured, tenantTemplate) || strings.ContainsAny(tid, "/?#{}") {
			return false
		}
		return discovered == strings.Replace(configured, tenantTemplate, tid, 1)
	}
	if !strings.Contains(discovered, tenantTemplate) {
		return false
	}
	for _, t := range []string{"common", "organizations", "consumers"} {
		if strings.TrimSuffix(configured, "/") == strings.TrimSuffix(strings.Replace(discovered, tenantTemplate, t, 1), "/") {
			return true
		}
	}
	return false
}
