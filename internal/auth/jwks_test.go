package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/httpx"
)

// A JWKS that cannot be fetched for a reason that may go away (network,
// timeout, 5xx, 429) is a *httpx.TemporaryError (exit 4), like every other
// exchange in auth; a 404 is not.
func TestFileKeySetFetchFailures(t *testing.T) {
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
		}, 5 * time.Second, true, 502, "JWKS endpoint returned HTML, not JSON"},
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
		}, 5 * time.Second, false, 0, "JWKS endpoint answered 404"},
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
			c := &Client{HTTP: hc}
			ks := &fileKeySet{path: filepath.Join(t.TempDir(), "jwks.json"), url: u, hc: c.checkedClient()}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			_, err := ks.VerifySignature(ctx, "a.b.c")
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("%v", err)
			if ks.fetchErr != err {
				t.Errorf("fetchErr = %v, want the error returned", ks.fetchErr)
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
