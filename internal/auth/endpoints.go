package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/discovery"
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
	// PARURL is the RFC 9126 pushed authorization request endpoint;
	// RequirePAR says the server takes authorization requests only there.
	PARURL     string `json:",omitempty"`
	RequirePAR bool   `json:",omitempty"`
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
		e.PARURL, e.RequirePAR = md.PAREndpoint, md.RequirePAR
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
		{"jwks_url", e.JWKSURL}, {"pushed_authorization_request_endpoint", e.PARURL},
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
	if p.TokenURL == "" || p.PAR {
		return false // par: the PAR endpoint comes from discovery
	}
	switch p.Flow {
	case config.FlowClientCredentials, config.FlowTokenExchange:
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

// discover finds issuer's metadata through the one discovery function.
func discover(ctx context.Context, hc *http.Client, issuer string) (*discovery.Metadata, error) {
	md, _, err := discovery.Discover(ctx, func(ctx context.Context, u string) (int, []byte, error) {
		return fetchMetadata(ctx, hc, u)
	}, issuer)
	return md, err
}

// fetchMetadata returns (status, nil, nil) for a non-temporary non-200
// answer, so that discovery can try the next location.
func fetchMetadata(ctx context.Context, hc *http.Client, u string) (int, []byte, error) {
	const op = "discovery"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, mapError(ctx, op, "metadata endpoint", err)
	}
	defer resp.Body.Close()
	body, err := httpx.ReadBody(resp.Body)
	if err != nil {
		be := &bodyError{What: "response too large or cut short", StatusCode: resp.StatusCode}
		return resp.StatusCode, nil, mapError(ctx, op, "metadata endpoint", be)
	}
	if te := httpx.StatusError(op, resp.StatusCode, resp.Header); te != nil {
		return resp.StatusCode, nil, te
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, nil
	}
	if looksHTML(body) {
		return 0, nil, fmt.Errorf("%s: metadata endpoint returned HTML, not JSON (status %d)", op, resp.StatusCode)
	}
	if !json.Valid(body) {
		return 0, nil, fmt.Errorf("%s: metadata endpoint returned a body that is not valid JSON (status %d)", op, resp.StatusCode)
	}
	return resp.StatusCode, body, nil
}

// matchIssuer is discovery.MatchIssuer, the one issuer comparison.
func matchIssuer(configured, discovered, tid string) bool {
	return discovery.MatchIssuer(configured, discovered, tid)
}
