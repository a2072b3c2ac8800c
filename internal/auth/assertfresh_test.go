package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oatcli/oat/internal/config"
)

// x/oauth2 sends one call's form more than once: the retry after a 429/5xx
// and every device-flow poll. Each send must carry a new assertion (new jti,
// fresh exp), or a server that refuses replays (RFC 7523 §3 item 7) — and
// any server once a device login outlasts the assertion's 2 minutes —
// refuses the client.
func TestPrivateKeyJWTFreshAssertionPerSend(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, flow := range []string{"retry", "device"} {
		t.Run(flow, func(t *testing.T) {
			var mu sync.Mutex
			var jtis []string
			mux := http.NewServeMux()
			mux.HandleFunc("/device", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"device_code": "dc", "user_code": "UC", "verification_uri": "http://127.0.0.1/verify", "interval": 1, "expires_in": 600})
			})
			mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				tok, err := jwt.ParseSigned(r.PostForm.Get("client_assertion"), []jose.SignatureAlgorithm{jose.ES256})
				var cl jwt.Claims
				if err == nil {
					err = tok.Claims(&key.PublicKey, &cl)
				}
				if err != nil {
					t.Errorf("token request %d: bad assertion: %v", len(jtis)+1, err)
				}
				mu.Lock()
				jtis = append(jtis, cl.ID)
				n := len(jtis)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if n == 1 {
					if flow == "retry" {
						w.Header().Set("Retry-After", "1")
						w.WriteHeader(http.StatusServiceUnavailable)
						json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable"})
					} else {
						w.WriteHeader(http.StatusBadRequest)
						json.NewEncoder(w).Encode(map[string]string{"error": "authorization_pending"})
					}
					return
				}
				json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300})
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			c := &Client{
				HTTP:      srv.Client(),
				Profile:   config.Profile{ClientID: "machine", ClientAuth: config.ClientAuthPrivateKeyJWT, ClientKeyFile: keyFile},
				Endpoints: &Endpoints{TokenURL: srv.URL + "/token", DeviceAuthURL: srv.URL + "/device"},
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var err error
			if flow == "retry" {
				_, err = c.ClientCredentials(ctx)
			} else {
				_, err = c.LoginDevice(ctx, LoginOptions{NoBrowser: true})
			}
			if err != nil {
				t.Fatalf("%s: %v", flow, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(jtis) != 2 || jtis[0] == "" || jtis[0] == jtis[1] {
				t.Errorf("jti of each send: %q, want two different ones", jtis)
			}
		})
	}
}
