package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/dpop"
)

// Every token request of a DPoP client carries a proof, however the token
// endpoint's URL is spelled: the request Go sends names it in its own
// normal form (a lower-case scheme, say, or percent-encoded non-ASCII), and
// a proof-less request would send a refresh token bound to the key with no
// proof of it.
func TestDPoPProofOnEveryTokenRequestSpelling(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get(dpop.Header) == "" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_dpop_proof","error_description":"no proof"}`))
			return
		}
		w.Write([]byte(`{"access_token":"at","token_type":"DPoP","expires_in":60}`))
	}))
	defer srv.Close()
	key, err := dpop.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tokenURL := range []string{
		srv.URL + "/token",
		"HTTP://" + host + "/token",
		srv.URL + "/t\u00f6ken",
	} {
		c := &auth.Client{
			Profile:   config.Profile{ClientID: "c", Flow: config.FlowClientCredentials},
			Secret:    "s",
			Endpoints: &auth.Endpoints{TokenURL: tokenURL},
			HTTP:      srv.Client(),
			DPoP:      key,
		}
		res, err := c.ClientCredentials(context.Background())
		if err != nil || res.Token.TokenType != dpop.TokenType {
			t.Errorf("token_url %q: %v (a token request without a proof)", tokenURL, err)
		}
	}
}
