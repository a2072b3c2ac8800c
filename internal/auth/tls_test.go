package auth_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
)

// TLS failures are not temporary (exit 1, not 4) and say what to do;
// a closed port is temporary.
func TestTransportFailures(t *testing.T) {
	t.Parallel()
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake errors are the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String()
	ln.Close()
	hc, err := httpx.NewClient(httpx.Options{}) // trusts only the system roots
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		base      string
		temporary bool
		msg       string
	}{
		{"untrusted certificate", tlsSrv.URL, false, "TLS certificate not trusted: pass --ca-file (or set ca_file) with the issuing CA"},
		{"http server on an https URL", "https://" + strings.TrimPrefix(plain.URL, "http://"), false,
			"the server does not speak TLS on that port: check the URL's scheme"},
		{"closed port", closed, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &auth.Client{
				HTTP:      hc,
				Profile:   config.Profile{ClientID: "bot", Flow: config.FlowClientCredentials},
				Secret:    "s3cret-value",
				Endpoints: &auth.Endpoints{TokenURL: tt.base + "/token", RevocationURL: tt.base + "/revoke"},
			}
			calls := map[string]func() error{
				"discovery": func() error {
					_, err := auth.ResolveEndpoints(context.Background(), hc, config.Profile{Issuer: tt.base, ClientID: "bot"})
					return err
				},
				"refresh": func() error { _, err := c.Refresh(context.Background(), "rt-value"); return err },
				"client credentials": func() error {
					_, err := c.ClientCredentials(context.Background())
					return err
				},
				"revoke": func() error { return c.Revoke(context.Background(), "rt-value", "refresh_token") },
			}
			for name, call := range calls {
				err := call()
				if err == nil {
					t.Errorf("%s: no error", name)
					continue
				}
				t.Logf("%s: oat: %v", name, err)
				var te *httpx.TemporaryError
				if errors.As(err, &te) != tt.temporary {
					t.Errorf("%s: temporary = %v, want %v: %v", name, !tt.temporary, tt.temporary, err)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("%s: message %q does not contain %q", name, err, tt.msg)
				}
				if strings.Contains(err.Error(), "rt-value") || strings.Contains(err.Error(), "s3cret-value") {
					t.Errorf("%s: message holds a secret: %v", name, err)
				}
			}
		})
	}
}
