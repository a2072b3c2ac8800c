// Package discovery finds an issuer's metadata: OpenID Connect discovery
// (issuer + /.well-known/openid-configuration), then RFC 8414 metadata
// (/.well-known/oauth-authorization-server between host and path) when the
// first answers 404, 405 or 403. It is the one place that decides where the
// metadata lives and whether it names the issuer asked for (MatchIssuer).
// The HTTP request itself is the caller's (Get), so each caller keeps its own
// client, timeout and error kinds.
package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Metadata is the part of OIDC discovery / RFC 8414 metadata oat reads.
type Metadata struct {
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
	// RFC 9126: the pushed authorization request endpoint, and whether
	// the server accepts authorization requests only through it.
	PAREndpoint string `json:"pushed_authorization_request_endpoint"`
	RequirePAR  bool   `json:"require_pushed_authorization_requests"`
}

// Get fetches u. It returns the status and, for 200, the body; it returns an
// error only for failures that should stop discovery (temporary answers,
// transport failures, oversized bodies). Any other status is returned with a
// nil error so that Discover can try the next location.
type Get func(ctx context.Context, u string) (status int, body []byte, err error)

// NoMetadataError says neither location served metadata.
type NoMetadataError struct {
	Issuer string
	Status int // of the last location tried
}

func (e *NoMetadataError) Error() string {
	return fmt.Sprintf("discovery: issuer %s publishes no OpenID or OAuth metadata (status %d): set the endpoint URLs in the profile", e.Issuer, e.Status)
}

// MismatchError says the metadata names another issuer.
type MismatchError struct {
	URL, Got, Want string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("discovery: metadata names issuer %q, not %q: check the issuer setting", e.Got, e.Want)
}

// BadJSONError says a location answered 200 with a body that is not JSON
// metadata.
type BadJSONError struct {
	URL string
	Err error
}

func (e *BadJSONError) Error() string {
	return fmt.Sprintf("discovery: metadata at %s is not valid JSON: %v", e.URL, e.Err)
}

// TenantTemplate is the placeholder Entra's multi-tenant discovery documents
// put in their issuer: https://login.microsoftonline.com/{tenantid}/v2.0
// (https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#validate-the-issuer).
const TenantTemplate = "{tenantid}"

// MatchIssuer is the one issuer comparison, for discovery and ID tokens alike. With tid empty it checks a
// discovery document's issuer (discovered) against the configured one: equal
// (ignoring a trailing slash), or Entra's template when the configured issuer
// is its common, organizations or consumers form. With tid set it checks an ID
// token's iss (discovered) against the configured issuer, which may be the
// template: the template with the token's tid must give iss exactly.
func MatchIssuer(configured, discovered, tid string) bool {
	if strings.TrimSuffix(discovered, "/") == strings.TrimSuffix(configured, "/") {
		return true
	}
	if tid != "" {
		if !strings.Contains(configured, TenantTemplate) || strings.ContainsAny(tid, "/?#{}") {
			return false
		}
		return discovered == strings.Replace(configured, TenantTemplate, tid, 1)
	}
	if entraDomainTenant(configured, discovered) {
		return true
	}
	if !strings.Contains(discovered, TenantTemplate) {
		return false
	}
	for _, t := range []string{"common", "organizations", "consumers"} {
		if strings.TrimSuffix(configured, "/") == strings.TrimSuffix(strings.Replace(discovered, TenantTemplate, t, 1), "/") {
			return true
		}
	}
	return false
}

// entraDomainTenant reports whether configured names an Entra tenant by its
// domain (https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0)
// and discovered is that server's issuer for a tenant ID (a GUID) on the
// same scheme and host: Entra's discovery for a domain names the tenant's
// ID (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri,
// "issuer": "https://login.microsoftonline.com/{tenant-id}/v2.0"), and its ID
// tokens carry that issuer.
func entraDomainTenant(configured, discovered string) bool {
	c, err1 := url.Parse(strings.TrimSuffix(configured, "/"))
	d, err2 := url.Parse(strings.TrimSuffix(discovered, "/"))
	if err1 != nil || err2 != nil || c.Scheme != d.Scheme || !strings.EqualFold(c.Host, d.Host) || c.RawQuery != "" || d.RawQuery != "" {
		return false
	}
	cs, ds := strings.Split(c.Path, "/"), strings.Split(d.Path, "/")
	if len(cs) != 3 || len(ds) != 3 || cs[0] != "" || ds[0] != "" || cs[2] != "v2.0" || ds[2] != "v2.0" {
		return false
	}
	return strings.Contains(cs[1], ".") && isGUID(ds[1])
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'):
			return false
		}
	}
	return true
}

// URLs returns the OIDC discovery URL and the RFC 8414 metadata URL for issuer.
func URLs(issuer string) (oidc, rfc8414 string, err error) {
	base := strings.TrimSuffix(issuer, "/")
	u, err := url.Parse(base)
	if err != nil {
		return "", "", fmt.Errorf("discovery: issuer %q is not a URL", issuer)
	}
	// RFC 8414 §3: the well-known segment goes between host and path.
	u.Path = "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return base + "/.well-known/openid-configuration", u.String(), nil
}

// Discover fetches issuer's metadata with get and returns it with the URL it
// came from. The metadata's issuer must name issuer (MatchIssuer).
func Discover(ctx context.Context, get Get, issuer string) (*Metadata, string, error) {
	oidc, rfc8414, err := URLs(issuer)
	if err != nil {
		return nil, "", err
	}
	docURL := oidc
	status, body, err := get(ctx, docURL)
	if err != nil {
		return nil, docURL, err
	}
	if status == http.StatusNotFound || status == http.StatusMethodNotAllowed || status == http.StatusForbidden {
		docURL = rfc8414
		status, body, err = get(ctx, docURL)
		if err != nil {
			return nil, docURL, err
		}
	}
	if status != http.StatusOK {
		return nil, docURL, &NoMetadataError{Issuer: issuer, Status: status}
	}
	var md Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, docURL, &BadJSONError{URL: docURL, Err: err}
	}
	if !MatchIssuer(issuer, md.Issuer, "") {
		return nil, docURL, &MismatchError{URL: docURL, Got: md.Issuer, Want: issuer}
	}
	return &md, docURL, nil
}
