package provtest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
)

// Entra emulates Microsoft Entra ID's v2 endpoints
// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc)
// at URL in place of https://login.microsoftonline.com:
//
//	/{tenant}/v2.0/.well-known/openid-configuration
//	/{tenant}/oauth2/v2.0/authorize, /token, /devicecode
//	/{tenant}/discovery/v2.0/keys
//
// where tenant is common, organizations, consumers, the tenant's ID or its
// domain. The user belongs to TenantID (Domain is its domain name).
type Entra struct {
	*front
	TenantID string
	Domain   string
}

// Entra's tenant of the test user, and its domain.
const (
	EntraTenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	EntraDomain   = "contoso.onmicrosoft.com"
	// EntraUsername is the preferred_username of the user's ID tokens.
	EntraUsername = "adele@contoso.onmicrosoft.com"
)

// NewEntra starts an Entra emulator for the app registration clientID.
func NewEntra(t testing.TB, clientID string) *Entra {
	t.Helper()
	e := &Entra{front: newFront(t, clientID, authtest.WithDeviceInterval(1)), TenantID: EntraTenantID, Domain: EntraDomain}
	e.Mux.HandleFunc("/", e.serve)
	return e
}

// multiTenant are the tenant names whose discovery names the issuer
// template (https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#validate-the-issuer).
var multiTenant = map[string]bool{"common": true, "organizations": true, "consumers": true}

func (e *Entra) serve(w http.ResponseWriter, r *http.Request) {
	tenant, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !multiTenant[tenant] && tenant != e.TenantID && !strings.EqualFold(tenant, e.Domain) {
		// https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes (AADSTS90002)
		oauthError(w, http.StatusBadRequest, "invalid_tenant", "AADSTS90002: Tenant '"+tenant+"' not found.")
		return
	}
	switch rest {
	case "v2.0/.well-known/openid-configuration":
		e.discovery(w, tenant)
	case "oauth2/v2.0/authorize":
		e.toOPAuthorize(w, r, r.URL.Query())
	case "oauth2/v2.0/token":
		e.token(w, r)
	case "oauth2/v2.0/devicecode":
		e.devicecode(w, r)
	case "discovery/v2.0/keys":
		e.jwks(w, r)
	default:
		http.NotFound(w, r)
	}
}

// discovery: for common, organizations and consumers the issuer is the
// template https://login.microsoftonline.com/{tenantid}/v2.0; for a tenant
// named by ID or domain it is the tenant's ID
// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc#sample-response).
// The v2 document has a device endpoint and no revocation_endpoint: Entra
// has no RFC 7009 revocation
// (https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens#token-revocation).
func (e *Entra) discovery(w http.ResponseWriter, tenant string) {
	issuer := e.URL + "/{tenantid}/v2.0"
	base := e.URL + "/" + tenant
	if !multiTenant[tenant] {
		issuer = e.URL + "/" + e.TenantID + "/v2.0"
		base = e.URL + "/" + e.TenantID
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"subject_types_supported":               []string{"pairwise"},
		"tenant_region_scope":                   "EU",
	})
}

func (e *Entra) token(w http.ResponseWriter, r *http.Request) {
	form := formOf(r)
	e.record(form)
	if form.Get("client_id") != e.ClientID {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+form.Get("client_id")+"' was not found in the directory.")
		return
	}
	// The v2 refresh request requires scope
	// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#refresh-the-access-token:
	// "scope | required").
	if form.Get("grant_type") == "refresh_token" && strings.TrimSpace(form.Get("scope")) == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "AADSTS90014: The required field 'scope' is missing from the credential.")
		return
	}
	status, m := e.forward("/oauth/token", e.opClientFor(form), form)
	if status == http.StatusOK {
		// ID tokens name the user's own tenant in iss and tid, whatever
		// tenant name the request used
		// (https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference).
		e.reissueIDToken(m, func(c map[string]any) {
			c["iss"] = e.URL + "/" + e.TenantID + "/v2.0"
			c["tid"] = e.TenantID
			c["preferred_username"] = EntraUsername
			c["ver"] = "2.0"
		})
		// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#successful-response-2
		if _, ok := m["expires_in"]; ok {
			m["ext_expires_in"] = m["expires_in"]
		}
	}
	writeJSON(w, status, m)
}

// devicecode answers as Entra's v2 device endpoint does: verification_uri
// and a message, no verification_uri_complete
// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code#device-authorization-response).
func (e *Entra) devicecode(w http.ResponseWriter, r *http.Request) {
	form := formOf(r)
	if form.Get("client_id") != e.ClientID {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application not found.")
		return
	}
	status, m := e.forward("/device_authorization", e.OP.DeviceClientID, form)
	if status == http.StatusOK {
		delete(m, "verification_uri_complete")
		m["message"] = "To sign in, use a web browser to open the page " + toString(m["verification_uri"]) + " and enter the code " + toString(m["user_code"]) + " to authenticate."
	}
	writeJSON(w, status, m)
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}
