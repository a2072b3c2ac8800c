package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
)

const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// setFlowless rewrites the profile "work" with no flow, so that login picks
// one, for the given client of e.op.
func (e *opEnv) setFlowless(clientID string) {
	e.t.Helper()
	p := e.op.Profile(config.FlowPKCE)
	p.Flow = ""
	p.ClientID = clientID
	cfg := &config.File{Path: e.configPath(), DefaultProfile: "work", Profiles: map[string]config.Profile{"work": p}}
	if err := cfg.Save(); err != nil {
		e.t.Fatal(err)
	}
}

// withoutDiscoveryField serves op's discovery document without field, as a
// server without that endpoint does (RFC 8414 §2: such fields are OPTIONAL).
// Other requests go to next (nil: to the OP).
func withoutDiscoveryField(t *testing.T, op *authtest.OP, field string, next authtest.Fault) {
	t.Helper()
	resp, err := http.Get(op.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc[field] == nil {
		t.Fatalf("the test OP's discovery document has no %s to remove", field)
	}
	delete(doc, field)
	b, _ := json.Marshal(doc)
	op.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/.well-known/openid-configuration" {
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
			return true
		}
		return next != nil && next(w, r)
	})
}

// approvingTransport approves each device authorization as the user would,
// as soon as oat receives the server's answer (so no test reads a buffer oat
// is still writing to).
type approvingTransport struct {
	t  *testing.T
	op *authtest.OP
	// seen, when set, gets the device_code and user_code of each answer.
	seen func(deviceCode, userCode string)
}

func (a approvingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.URL.Path != "/device_authorization" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var da struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	if err != nil || json.Unmarshal(b, &da) != nil || da.UserCode == "" {
		a.t.Errorf("device authorization answer: %v %s", err, b)
		return resp, nil
	}
	if a.seen != nil {
		a.seen(da.DeviceCode, da.UserCode)
	}
	a.op.ApproveDevice(a.t, da.UserCode)
	return resp, nil
}

// "Default: … pkce, or device where no browser can open (SSH session, no
// display) and the server supports it." (oat login --help)
func TestLoginPicksDeviceFlowWhereNoBrowserCanOpen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
		skip bool
	}{
		// macOS and Windows always have a way to open a browser.
		{"no display", nil, runtime.GOOS == "darwin" || runtime.GOOS == "windows"},
		{"ssh session with a display", map[string]string{"SSH_CONNECTION": "10.0.0.1 50000 10.0.0.2 22", "DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, false},
		{"ssh tty", map[string]string{"SSH_TTY": "/dev/pts/3", "DISPLAY": ":0"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.skip {
				t.Skipf("no-display detection applies on Linux and the BSDs, not %s", runtime.GOOS)
			}
			e := newOPEnv(t, config.FlowPKCE, authtest.WithDeviceInterval(1))
			e.setFlowless(e.op.DeviceClientID)
			for k, v := range tc.env {
				e.env[k] = v
			}
			e.configure = chain(e.configure, func(f *Factory) {
				f.Browser = nil // the real choice: environment only
				f.HTTPTransport = approvingTransport{t: t, op: e.op}
			})
			e.mustRun(0, "login", "--timeout", "30s") // (the timeout only ends a broken run sooner)
			msg := e.errOut.String()
			if !strings.Contains(msg, "No browser can be opened here: using the device flow") || !strings.Contains(msg, "Logged in as "+authtest.Subject) {
				t.Errorf("stderr = %q", msg)
			}
			if e.op.Grants(deviceGrant) == 0 || e.op.Grants("authorization_code") != 0 {
				t.Errorf("grants: device %d, authorization_code %d", e.op.Grants(deviceGrant), e.op.Grants("authorization_code"))
			}
			if _, err := e.store.Get("work"); err != nil {
				t.Errorf("refresh token not stored: %v", err)
			}
		})
	}
}

// lineWatcher passes writes through to w, one at a time, and calls found,
// once, with the first URL printed on a line of its own (the prompt's
// "  http://…").
type lineWatcher struct {
	mu    sync.Mutex
	w     io.Writer
	text  strings.Builder
	found func(url string)
	done  bool
}

// String returns what was written so far.
func (l *lineWatcher) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

var promptURL = regexp.MustCompile(`(?m)^  (https?://\S+)$`)

func (l *lineWatcher) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.text.Write(p)
	if !l.done {
		if m := promptURL.FindStringSubmatch(l.text.String()); m != nil {
			l.done = true
			go l.found(m[1])
		}
	}
	return l.w.Write(p)
}

func TestLoginKeepsPKCEWithoutDeviceEndpoint(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skipf("no-display detection applies on Linux and the BSDs, not %s", runtime.GOOS)
	}
	e := newOPEnv(t, config.FlowPKCE)
	withoutDiscoveryField(t, e.op, "device_authorization_endpoint", nil)
	e.setFlowless(e.op.PublicClientID)
	f := e.factory()
	f.Browser = nil // no display, no OAT_BROWSER/BROWSER: nothing can open
	// The user copies the printed URL into a browser elsewhere.
	f.IO.ErrOut = &lineWatcher{w: f.IO.ErrOut, found: func(u string) { _ = e.browser.Open(u) }}
	if code := runWith(f, "login", "--timeout", "1m"); code != 0 {
		t.Fatalf("exit %d; stderr %q", code, e.errOut)
	}
	msg := e.errOut.String()
	if strings.Contains(msg, "device flow") || !strings.Contains(msg, "Open this URL in a browser to log in:") || !strings.Contains(msg, "Logged in as "+authtest.Subject) {
		t.Errorf("stderr = %q", msg)
	}
	if e.op.Grants("authorization_code") != 1 || e.op.Grants(deviceGrant) != 0 {
		t.Errorf("grants: authorization_code %d, device %d", e.op.Grants("authorization_code"), e.op.Grants(deviceGrant))
	}
}

// runWith runs oat in-process on a Factory the test has adjusted.
func runWith(f *Factory, args ...string) int {
	return Run(context.Background(), f, args)
}
