package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/jwt/jwttest"
	"github.com/oatcli/oat/internal/tokencache"
)

// Item 12: with redirect_host "localhost" and a fixed port, another program
// on [::1]:PORT would get the code of a browser that resolves localhost to
// ::1. The login fails, clearly, before anything is opened.
func TestLoginFailsWhenIPv6LoopbackPortIsTaken(t *testing.T) {
	t.Parallel()
	squatter, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer squatter.Close()
	port := squatter.Addr().(*net.TCPAddr).Port
	if ln4, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err != nil {
		t.Skipf("127.0.0.1:%d is taken too: %v", port, err)
	} else {
		ln4.Close()
	}
	e := newOPEnv(t, config.FlowPKCE)
	p := e.op.Profile(config.FlowPKCE)
	p.RedirectHost, p.RedirectPort = "localhost", port
	cfg := &config.File{Path: e.configPath(), DefaultProfile: "work", Profiles: map[string]config.Profile{"work": p}}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	e.configure = chain(e.configure, func(f *Factory) { f.Browser = authtest.NoBrowser(t) })
	code := e.run("login", "--timeout", "10s")
	msg := e.errOut.String()
	if code != ExitFailure || !strings.HasPrefix(msg, fmt.Sprintf("oat: login: cannot listen on [::1]:%d for the redirect", port)) ||
		!strings.Contains(msg, "another redirect_port") || strings.Count(msg, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, msg)
	}
	if e.op.Grants("authorization_code") != 0 || len(e.store.Keys()) != 0 {
		t.Error("the login went on")
	}
	// The same port without the squatter logs in on both addresses.
	squatter.Close()
	e.configure = chain(e.configure, func(f *Factory) { f.Browser = e.browser.Open })

	if code := e.run("login"); code != 0 {
		t.Errorf("login without the squatter: exit %d, stderr %q", code, e.errOut)
	}
}

// Item 14: durations keep their last digit; one formatter (decode's).
func TestFormatExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{10 * time.Second, "expires in 10s"},
		{time.Minute + 10*time.Second, "expires in 1m10s"},
		{20 * time.Minute, "expires in 20m"},
		{time.Hour + 30*time.Minute, "expires in 1h30m"},
		{10 * time.Hour, "expires in 10h"},
		{50 * time.Hour, "expires in 2d2h"},
		{-40 * time.Second, "expired 40s ago"},
		{-(2*time.Minute + 30*time.Second), "expired 2m30s ago"},
		{0, "expired 0s ago"},
	} {
		exp := now.Add(tc.d)
		if got, want := formatExpiry(exp, now), tc.want+" ("+exp.Format(time.RFC3339)+")"; got != want {
			t.Errorf("formatExpiry(%s) = %q, want %q", tc.d, got, want)
		}
	}
	if got := formatExpiry(time.Time{}, now); got != "no expiry given" {
		t.Errorf("zero expiry: %q", got)
	}
}

func TestStatusShowsWholeTens(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e.writeConfig("[profiles.default]\nissuer = \"https://login.example.com\"\nclient_id = \"cli\"\nflow = \"client-credentials\"\n")
	f := e.factory()
	r, err := f.Resolve(config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := tokencache.Dir(f.Getenv)
	if err := tokencache.New(dir).Save(r.Key, &tokencache.Entry{AccessToken: "tok", TokenType: "Bearer", Expiry: e.now.Add(time.Minute + 10*time.Second), Fingerprint: r.Fingerprint, UpdatedAt: e.now}); err != nil {
		t.Fatal(err)
	}
	e.mustRun(0, "status")
	if !strings.Contains(e.out.String(), "expires in 1m10s (2026-01-01T00:01:10Z)") {
		t.Errorf("status = %q", e.out)
	}
}

// Item 15: the Signature line of decode's text output says what --verify
// found, as stderr does.
func TestDecodeVerifySignatureLineAgrees(t *testing.T) {
	t.Parallel()
	rsa := jwttest.RSA(t)
	keyFile := filepath.Join(t.TempDir(), "public.pem")
	if err := os.WriteFile(keyFile, jwttest.PublicPEM(t, rsa), 0o600); err != nil {
		t.Fatal(err)
	}
	good := jwttest.Sign(t, rsa, fmt.Sprintf(`{"sub":"alice","exp":%d}`, at(5*time.Minute)))
	expired := jwttest.Sign(t, rsa, fmt.Sprintf(`{"sub":"alice","exp":%d}`, at(-2*time.Hour)))
	other := jwttest.Sign(t, jwttest.OtherRSA(t), fmt.Sprintf(`{"sub":"alice","exp":%d}`, at(5*time.Minute)))
	for _, tc := range []struct {
		name, token string
		args        []string
		code        int
		sig, stderr string
	}{
		{"not asked", good, nil, 0, "Signature: 256 bytes, not verified here (--verify checks it)", ""},
		{"valid", good, []string{"--key", keyFile}, 0, "Signature: 256 bytes, valid (--verify)", "signature valid: "},
		{"wrong key", other, []string{"--key", keyFile}, 5, "Signature: 256 bytes, did not verify (--verify; the error is on stderr)", "oat: verification failed: signature: "},
		{"expired", expired, []string{"--key", keyFile, "--leeway", "0s"}, 5, "Signature: 256 bytes, valid, but the expiry check failed (--verify; the error is on stderr)", "oat: verification failed: expiry: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newDecodeEnv(t)
			code := e.runStdin(tc.token, append(append([]string{"decode"}, tc.args...), "-")...)
			if code != tc.code || !strings.HasSuffix(e.out.String(), "\n"+tc.sig+"\n") || !strings.HasPrefix(e.errOut.String(), tc.stderr) {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant the line %q", code, e.out, e.errOut, tc.sig)
			}
		})
	}
}
