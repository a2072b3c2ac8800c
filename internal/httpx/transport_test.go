package httpx

import (
	"context"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, hc *http.Client, u string) error {
	t.Helper()
	resp, err := hc.Get(u)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

func newClient(t *testing.T, o Options) *http.Client {
	t.Helper()
	hc, err := NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

// caFile writes the test server's certificate as a PEM file.
func caFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func wantPermanent(t *testing.T, err error, hint string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if IsTemporaryTransport(err) {
		t.Errorf("temporary: %v", err)
	}
	te := AsTLSError(err)
	if te == nil {
		t.Fatalf("AsTLSError(%v) = nil", err)
	}
	if !strings.Contains(te.Error(), hint) {
		t.Errorf("message %q does not contain %q", te.Error(), hint)
	}
}

func TestUntrustedCertificateIsNotTemporary(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	err := get(t, newClient(t, Options{}), srv.URL)
	wantPermanent(t, err, "TLS certificate not trusted: pass --ca-file (or set ca_file) with the issuing CA")

	// With the CA given, the same server works.
	if err := get(t, newClient(t, Options{CAFile: caFile(t, srv)}), srv.URL); err != nil {
		t.Fatalf("with --ca-file: %v", err)
	}
}

func TestCertificateForAnotherHostIsNotTemporary(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	// The test certificate names 127.0.0.1, ::1 and example.com, not localhost.
	u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	err := get(t, newClient(t, Options{CAFile: caFile(t, srv)}), u)
	wantPermanent(t, err, "TLS certificate not valid for this host")
}

func TestPlainHTTPServerOnHTTPSURLIsNotTemporary(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	u := "https://" + strings.TrimPrefix(srv.URL, "http://")
	err := get(t, newClient(t, Options{}), u)
	wantPermanent(t, err, "the server does not speak TLS on that port: check the URL's scheme")
}

func TestNotTLSAtAllIsNotTemporary(t *testing.T) {
	t.Parallel()
	// A server that answers something other than HTTP or TLS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			c.Close()
		}
	}()
	err = get(t, newClient(t, Options{}), "https://"+ln.Addr().String()+"/")
	wantPermanent(t, err, "the server does not speak TLS on that port")
}

func TestClosedPortIsTemporary(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, scheme := range []string{"http", "https"} {
		err := get(t, newClient(t, Options{}), scheme+"://"+addr+"/")
		if !IsTemporaryTransport(err) {
			t.Errorf("%s: connection refused not temporary: %v", scheme, err)
		}
		if AsTLSError(err) != nil {
			t.Errorf("%s: connection refused read as a TLS problem: %v", scheme, err)
		}
	}
}

func TestTimeoutIsTemporary(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	err := get(t, newClient(t, Options{Timeout: 100 * time.Millisecond}), srv.URL)
	if !IsTemporaryTransport(err) {
		t.Errorf("timeout not temporary: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err = newClient(t, Options{}).Do(req)
	if !IsTemporaryTransport(err) {
		t.Errorf("deadline not temporary: %v", err)
	}
}

func TestIsTemporaryTransportKinds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"dns no such host", &net.DNSError{Err: "no such host", Name: "logn.example.com", IsNotFound: true}, false},
		{"dns temporary", &net.DNSError{Err: "server misbehaving", Name: "login.example.com", IsTemporary: true}, true},
		{"dns timeout", &net.DNSError{Err: "i/o timeout", Name: "login.example.com", IsTimeout: true}, true},
		{"read reset", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, true},
		{"refused redirect", &RedirectError{msg: "x answered with a redirect"}, false},
		{"plain", errors.New("unsupported protocol scheme"), false},
	} {
		if got := IsTemporaryTransport(tt.err); got != tt.want {
			t.Errorf("%s: IsTemporaryTransport = %v, want %v", tt.name, got, tt.want)
		}
	}
}
