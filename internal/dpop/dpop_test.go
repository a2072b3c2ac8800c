package dpop

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func parseProof(t *testing.T, proof string) (jose.Header, Claims) {
	t.Helper()
	tok, err := jwt.ParseSigned(proof, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("proof: %v", err)
	}
	h := tok.Headers[0]
	if h.JSONWebKey == nil {
		t.Fatal("proof without jwk")
	}
	var c Claims
	if err := tok.Claims(h.JSONWebKey.Key, &c); err != nil {
		t.Fatalf("proof signature: %v", err)
	}
	return h, c
}

func TestProofHasWhatRFC9449Asks(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	p, err := k.Proof("POST", "HTTPS://API.Example.com:443/v1/items?q=1#frag", "n-1", "tok", now)
	if err != nil {
		t.Fatal(err)
	}
	h, c := parseProof(t, p)
	if h.Algorithm != "ES256" || h.ExtraHeaders["typ"] != "dpop+jwt" || !h.JSONWebKey.IsPublic() {
		t.Errorf("header: alg %s typ %v public %v", h.Algorithm, h.ExtraHeaders["typ"], h.JSONWebKey.IsPublic())
	}
	if jkt, _ := Thumbprint(h.JSONWebKey); jkt != k.JKT() {
		t.Errorf("jwk thumbprint %s, key %s", jkt, k.JKT())
	}
	if c.Method != "POST" || c.URL != "https://api.example.com/v1/items" || c.Nonce != "n-1" ||
		c.ATH != ATH("tok") || c.IssuedAt.Time() != now || len(c.ID) < 20 {
		t.Errorf("claims %+v", c)
	}
	// RFC 9449 §7.1's example: ath of "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".
	if got := ATH("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"); got != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" {
		t.Errorf("ATH = %s", got)
	}
	p2, _ := k.Proof("POST", "https://api.example.com/v1/items", "", "", now)
	if _, c2 := parseProof(t, p2); c2.ID == c.ID || c2.Nonce != "" || c2.ATH != "" {
		t.Errorf("second proof: jti reused or nonce/ath set: %+v", c2)
	}
	if _, err := k.Proof("GET /x", "https://a/", "", "", now); err == nil {
		t.Error("a method with a space was accepted")
	}
	if _, err := k.Proof("GET", "/relative", "", "", now); err == nil {
		t.Error("a relative URL was accepted")
	}
}

func TestKeyRoundTripsAndNeverPrintsItsSecret(t *testing.T) {
	k, _ := NewKey()
	b, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParseKey(b)
	if err != nil || k2.JKT() != k.JKT() {
		t.Fatalf("ParseKey: %v, %v", k2, err)
	}
	var j struct{ D string }
	_ = jsonUnmarshal(b, &j)
	if j.D == "" {
		t.Fatal("Marshal lost the private part")
	}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
		if strings.Contains(s, j.D) {
			t.Errorf("printing the key shows its private part: %s", s)
		}
	}
	pub, _ := (&jose.JSONWebKey{Key: k.priv.Public()}).MarshalJSON()
	if _, err := ParseKey(pub); err == nil {
		t.Error("a public key was taken as a DPoP key")
	}
	if _, err := ParseKey([]byte("{")); err == nil {
		t.Error("garbage was taken as a DPoP key")
	}
}

func TestChallengeError(t *testing.T) {
	for in, want := range map[string]string{
		`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`: "use_dpop_nonce",
		`Bearer error="invalid_token", DPoP algs="ES256", error="use_dpop_nonce"`:                       "use_dpop_nonce",
		`Bearer error="use_dpop_nonce"`:        "",
		`DPoP algs="ES256 PS256"`:              "",
		`dpop error=use_dpop_nonce`:            "use_dpop_nonce",
		`Basic realm="a, error=\"x\"", DPoP x`: "",
	} {
		if got := challengeError(in); got != want {
			t.Errorf("challengeError(%s) = %q, want %q", in, got, want)
		}
	}
}

// A server that demands a nonce: the token endpoint's way (400
// use_dpop_nonce) and the resource server's (401 with a DPoP challenge).
// The request is sent again once, with the nonce and a new proof, and with
// its body; a later request starts with the nonce.
func TestTransportRetriesOnceWithTheNonce(t *testing.T) {
	for _, resource := range []bool{false, true} {
		t.Run(fmt.Sprint("resource=", resource), func(t *testing.T) {
			k, _ := NewKey()
			var (
				mu     sync.Mutex
				seen   []Claims
				bodies []string
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, c := parseProof(t, r.Header.Get(Header))
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				seen, bodies = append(seen, c), append(bodies, string(b))
				mu.Unlock()
				w.Header().Set(NonceHeader, "srv-nonce")
				if c.Nonce == "srv-nonce" {
					io.WriteString(w, `{"ok":true}`)
					return
				}
				if resource {
					w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="nonce please"`)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"use_dpop_nonce"}`)
			}))
			defer srv.Close()
			tr := &Transport{Key: k}
			if resource {
				tr.AccessToken = "at"
			}
			hc := &http.Client{Transport: tr}
			resp, err := hc.Post(srv.URL+"/token?x=1", "application/x-www-form-urlencoded", strings.NewReader("grant_type=x"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || len(seen) != 2 || seen[0].ID == seen[1].ID || bodies[1] != "grant_type=x" {
				t.Fatalf("status %d after %d requests (%+v, bodies %q)", resp.StatusCode, len(seen), seen, bodies)
			}
			if seen[1].URL != srv.URL+"/token" || (seen[1].ATH != "") != resource {
				t.Errorf("retry proof %+v", seen[1])
			}
			resp, err = hc.Post(srv.URL+"/token", "text/plain", strings.NewReader("again"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(seen) != 3 || seen[2].Nonce != "srv-nonce" {
				t.Errorf("the next request did not start with the nonce: %d requests, %+v", len(seen), seen[len(seen)-1])
			}
		})
	}
}

// A server that keeps refusing gets exactly one retry.
func TestTransportRetriesOnlyOnce(t *testing.T) {
	k, _ := NewKey()
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set(NonceHeader, fmt.Sprint("n", n))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"use_dpop_nonce"}`)
	}))
	defer srv.Close()
	resp, err := (&http.Client{Transport: &Transport{Key: k}}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if n != 2 || resp.StatusCode != 400 || !strings.Contains(string(b), "use_dpop_nonce") {
		t.Errorf("%d requests, status %d, body %q", n, resp.StatusCode, b)
	}
}

func TestValidNonce(t *testing.T) {
	for s, want := range map[string]bool{"abc-._~!": true, "": false, "a b": false, `a"b`: false, "a\\b": false, "é": false, "a\nb": false} {
		if ValidNonce(s) != want {
			t.Errorf("ValidNonce(%q) = %v", s, !want)
		}
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// BenchmarkProof: what a proof costs oat curl and each token request.
func BenchmarkProof(b *testing.B) {
	k, _ := NewKey()
	now := time.Now()
	for b.Loop() {
		if _, err := k.Proof("GET", "https://api.example.com/v1/me", "n", "at", now); err != nil {
			b.Fatal(err)
		}
	}
}
