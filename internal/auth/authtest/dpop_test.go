package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oatcli/oat/internal/dpop"
)

// proofSpec describes a proof to craft, good unless a field says otherwise.
type proofSpec struct {
	alg      jose.SignatureAlgorithm // ES256 when ""; "none" unsigned
	typ      string                  // dpop+jwt when ""; "-" for none
	jwk      any                     // the signing key's public JWK when nil; "-" for none
	claims   map[string]any          // merged over the good claims; nil values delete
	signWith any                     // the signing key when nil
	noAccess bool                    // no ath
	hmacKey  []byte
}

// TestDPoPAPIMakesEveryRFC9449Check proves the test servers' checks: a
// good proof passes, and each way RFC 9449 §4.3 lists of being wrong is
// refused (so that oat's tests against them mean something).
func TestDPoPAPIMakesEveryRFC9449Check(t *testing.T) {
	as := NewDPoPServer(t, "http://127.0.0.1:1/unused")
	api := NewDPoPAPI(t, as)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jkt, _ := dpop.Thumbprint(&jose.JSONWebKey{Key: key.Public()})
	otherJKT, _ := dpop.Thumbprint(&jose.JSONWebKey{Key: other.Public()})
	at, _ := as.mint(jkt, time.Minute, "")
	atOther, _ := as.mint(otherJKT, time.Minute, "")
	expired, _ := as.mint(jkt, -2*time.Minute, "")
	url := api.URL + "/res"

	craft := func(s proofSpec) string {
		t.Helper()
		claims := map[string]any{"jti": rand.Text(), "htm": "GET", "htu": url, "iat": time.Now().Unix(), "ath": dpop.ATH(at)}
		if s.noAccess {
			delete(claims, "ath")
		}
		for k, v := range s.claims {
			if v == nil {
				delete(claims, k)
			} else {
				claims[k] = v
			}
		}
		hdr := map[string]any{"alg": string(s.alg), "typ": s.typ, "jwk": s.jwk}
		if s.alg == "" {
			hdr["alg"] = "ES256"
		}
		if s.typ == "" {
			hdr["typ"] = dpop.ProofType
		}
		if s.jwk == nil {
			hdr["jwk"] = jose.JSONWebKey{Key: key.Public()}
		}
		for k, v := range hdr {
			if v == "-" {
				delete(hdr, k)
			}
		}
		payload, _ := json.Marshal(claims)
		if s.alg == "none" {
			h, _ := json.Marshal(hdr)
			return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
		}
		opts := &jose.SignerOptions{}
		for k, v := range hdr {
			if k != "alg" {
				opts = opts.WithHeader(jose.HeaderKey(k), v)
			}
		}
		var sk any = key
		if s.signWith != nil {
			sk = s.signWith
		}
		alg := jose.SignatureAlgorithm(hdr["alg"].(string))
		if s.hmacKey != nil {
			sk = s.hmacKey
		}
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: sk}, opts)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := sig.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := obj.CompactSerialize()
		return out
	}
	call := func(method, token string, proofs ...string) int {
		t.Helper()
		req, _ := http.NewRequest(method, url+"?q=1", nil)
		req.Header.Set("Authorization", "DPoP "+token)
		for _, p := range proofs {
			req.Header.Add("DPoP", p)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "DPoP ") {
			t.Errorf("401 without a DPoP challenge")
		}
		return resp.StatusCode
	}

	if got := call("GET", at, craft(proofSpec{})); got != 200 {
		t.Fatalf("a good proof: status %d (refused %q)", got, api.Refused())
	}
	replayed := craft(proofSpec{})
	call("GET", at, replayed)
	privJWK := jose.JSONWebKey{Key: key}
	for name, tc := range map[string]struct {
		token  string
		proofs []string
		method string
	}{
		"no proof":                   {at, nil, "GET"},
		"two proofs":                 {at, []string{craft(proofSpec{}), craft(proofSpec{})}, "GET"},
		"not a JWS":                  {at, []string{"a.b.c"}, "GET"},
		"typ JWT":                    {at, []string{craft(proofSpec{typ: "JWT"})}, "GET"},
		"no typ":                     {at, []string{craft(proofSpec{typ: "-"})}, "GET"},
		"alg none":                   {at, []string{craft(proofSpec{alg: "none"})}, "GET"},
		"alg HS256":                  {at, []string{craft(proofSpec{alg: jose.HS256, hmacKey: []byte("0123456789abcdef0123456789abcdef")})}, "GET"},
		"no jwk":                     {at, []string{craft(proofSpec{jwk: "-"})}, "GET"},
		"private key in jwk":         {at, []string{craft(proofSpec{jwk: privJWK})}, "GET"},
		"signed by another key":      {at, []string{craft(proofSpec{signWith: other})}, "GET"},
		"no jti":                     {at, []string{craft(proofSpec{claims: map[string]any{"jti": nil}})}, "GET"},
		"htm of another method":      {at, []string{craft(proofSpec{})}, "POST"},
		"htu of another URL":         {at, []string{craft(proofSpec{claims: map[string]any{"htu": api.URL + "/other"}})}, "GET"},
		"htu with the query":         {at, []string{craft(proofSpec{claims: map[string]any{"htu": url + "?q=1"}})}, "GET"},
		"iat too old":                {at, []string{craft(proofSpec{claims: map[string]any{"iat": time.Now().Add(-5 * time.Minute).Unix()}})}, "GET"},
		"iat in the future":          {at, []string{craft(proofSpec{claims: map[string]any{"iat": time.Now().Add(5 * time.Minute).Unix()}})}, "GET"},
		"jti replayed":               {at, []string{replayed}, "GET"},
		"no ath":                     {at, []string{craft(proofSpec{noAccess: true})}, "GET"},
		"ath of another token":       {at, []string{craft(proofSpec{claims: map[string]any{"ath": dpop.ATH("other")}})}, "GET"},
		"token bound to another key": {atOther, []string{craft(proofSpec{claims: map[string]any{"ath": dpop.ATH(atOther)}})}, "GET"},
		"expired token":              {expired, []string{craft(proofSpec{claims: map[string]any{"ath": dpop.ATH(expired)}})}, "GET"},
	} {
		if got := call(tc.method, tc.token, tc.proofs...); got != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, got)
		}
	}
	// A Bearer token is refused, even with a good proof.
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+at)
	req.Header.Set("DPoP", craft(proofSpec{}))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("Bearer: %v %v", resp.StatusCode, err)
	}

	// A demanded nonce: missing → use_dpop_nonce with the nonce; given → 200.
	api.DemandNonce("rs-n")
	req, _ = http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "DPoP "+at)
	req.Header.Set("DPoP", craft(proofSpec{}))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 401 || resp.Header.Get("DPoP-Nonce") != "rs-n" ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`) {
		t.Errorf("no nonce: %v %v %v", resp.StatusCode, resp.Header, err)
	}
	if got := call("GET", at, craft(proofSpec{claims: map[string]any{"nonce": "rs-n"}})); got != 200 {
		t.Errorf("with the nonce: %d", got)
	}
}
