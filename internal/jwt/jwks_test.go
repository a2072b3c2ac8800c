package jwt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/httpx"
	"github.com/oatcli/oat/internal/jwt/jwttest"
)

// A JWKS that cannot be fetched for a reason that may go away (network,
// timeout, 5xx, 429) is a *httpx.TemporaryError (exit 4), for login's and
// renewal's ID-token checks (VerifySignature) as for decode --verify (Keys);
// a 404 is not.
func TestKeySetFetchFailures(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/keys"
	ln.Close()
	tests := []struct {
		name      string
		h         http.HandlerFunc // nil: the closed port
		timeout   time.Duration
		temporary bool
		status    int
		msg       string
	}{
		{"503", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(503)
			fmt.Fprint(w, `{}`)
		}, 5 * time.Second, true, 503, "server answered 503"},
		{"502 html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			fmt.Fprint(w, "<html>Bad Gateway</html>")
		}, 5 * time.Second, true, 502, "server answered 502 Bad Gateway"},
		{"429", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			fmt.Fprint(w, `{}`)
		}, 5 * time.Second, true, 429, "server answered 429"},
		{"hang", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, 300 * time.Millisecond, true, 0, "timed out"},
		{"unreachable", nil, 5 * time.Second, true, 0, "connection refused"},
		{"404", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			fmt.Fprint(w, `{}`)
		}, 5 * time.Second, false, 0, "server answered 404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := closed
			hc := &http.Client{}
			if tt.h != nil {
				srv := httptest.NewServer(tt.h)
				t.Cleanup(srv.Close)
				u, hc = srv.URL+"/keys", srv.Client()
			}
			ks := &KeySet{URL: u, HTTP: hc, CacheFile: filepath.Join(t.TempDir(), "jwks.json")}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			_, err := ks.VerifySignature(ctx, jwttest.Sign(t, jwttest.RSA(t), `{"sub":"a"}`))
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("%v", err)
			if ks.FetchErr != err {
				t.Errorf("FetchErr = %v, want the error returned", ks.FetchErr)
			}
			if _, kerr := (&KeySet{URL: u, HTTP: hc}).Keys(ctx); kerr == nil || kerr.Error() != err.Error() {
				t.Errorf("Keys: %v, want the same error as VerifySignature", kerr)
			}
			var te *httpx.TemporaryError
			if errors.As(err, &te) != tt.temporary {
				t.Fatalf("temporary = %v, want %v: %v", !tt.temporary, tt.temporary, err)
			}
			if tt.temporary && te.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", te.StatusCode, tt.status)
			}
			if tt.status == 429 && te.RetryAfter != 7*time.Second {
				t.Errorf("RetryAfter = %v, want 7s", te.RetryAfter)
			}
			if !strings.Contains(err.Error(), tt.msg) || strings.ContainsAny(err.Error(), "\n<") {
				t.Errorf("message %q: want one line containing %q", err, tt.msg)
			}
		})
	}
}

// The cache file spares a request while its keys verify and it is younger
// than JWKSMaxAge; an older one, or keys that no longer verify (rotation),
// are fetched again.
func TestKeySetCache(t *testing.T) {
	t.Parallel()
	key := jwttest.RSA(t)
	var fetches int
	jwks := jwttest.JWKS(t, key)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches++
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "cache", "jwks.json")
	ks := func() *KeySet { return &KeySet{URL: srv.URL, HTTP: srv.Client(), CacheFile: path} }
	tok := jwttest.Sign(t, key, `{"sub":"alice"}`)
	verify := func(want int) {
		t.Helper()
		payload, err := ks().VerifySignature(t.Context(), tok)
		if err != nil || string(payload) != `{"sub":"alice"}` {
			t.Fatalf("VerifySignature = %q, %v", payload, err)
		}
		if fetches != want {
			t.Fatalf("%d fetches, want %d", fetches, want)
		}
	}
	verify(1)
	verify(1) // from the file
	old := time.Now().Add(-JWKSMaxAge - time.Minute)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	verify(2) // too old
	if err := os.WriteFile(path, jwttest.JWKS(t, jwttest.OtherRSA(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	verify(3) // rotated: the cached key does not verify
	verify(3)

	// A token no key of the JWKS verifies: an error, and nothing cached.
	other := jwttest.Sign(t, jwttest.OtherRSA(t), `{"sub":"mallory"}`)
	if _, err := ks().VerifySignature(t.Context(), other); err == nil {
		t.Fatal("a token signed by another key verified")
	}
}
