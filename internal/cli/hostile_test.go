package cli

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/termsafe"
)

// The hostile inputs of issue #11 (items 3, 4, 5): what a hostile or broken
// server sends, what oat must answer (exit code), and what must not happen
// (a raw control or bidi character on the terminal, a hostile URL handed to
// the browser launcher, a token printed, cached or stored).

// rawUnsafe reports whether s holds anything the terminal would act on or
// hide: controls other than the line feed, C1, bidi and other format
// characters, bytes that are not UTF-8.
func rawUnsafe(s string) bool {
	return !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return r != '\n' && termsafe.Unsafe(r) }) >= 0
}

// jsonAnswer answers status with v as JSON (encoding/json escapes controls
// in the body; the client decodes them back into raw bytes).
func jsonAnswer(status int, v any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
}

// rawStatusLine answers with a hand-written status line: Go's server never
// sends a reason phrase of its own choosing, a hostile server can.
func rawStatusLine(line string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 " + line + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
		_ = buf.Flush()
	}
}

// unsignedJWT is a JWT-shaped access token whose claims oat reads for
// display only (sub, exp).
func unsignedJWT(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
}

// deviceAnswer is a device authorization response with the given
// verification URIs and user code.
func deviceAnswer(uri, complete, userCode string) http.HandlerFunc {
	return jsonAnswer(http.StatusOK, map[string]any{
		"device_code": "dev-code", "user_code": userCode, "verification_uri": uri,
		"verification_uri_complete": complete, "expires_in": 60, "interval": 1,
	})
}

// both applies a, else b.
func both(a, b authtest.Fault) authtest.Fault {
	return func(w http.ResponseWriter, r *http.Request) bool { return a(w, r) || b(w, r) }
}

// hostileDevice is a device authorization server that sends the given URIs
// and code, then answers the poll with access_denied.
func hostileDevice(uri, complete, userCode string) func(*opEnv) authtest.Fault {
	return func(*opEnv) authtest.Fault {
		return both(authtest.OnPath("/device_authorization", 0, deviceAnswer(uri, complete, userCode)),
			authtest.OnGrant(deviceGrant, 0, authtest.OAuthError(http.StatusBadRequest, "access_denied", "the user said no")))
	}
}

// tokenAnswer answers a token request of grantType with the given fields.
func tokenAnswer(grantType string, fields map[string]any) func(*opEnv) authtest.Fault {
	return func(*opEnv) authtest.Fault {
		return authtest.OnGrant(grantType, 0, jsonAnswer(http.StatusOK, fields))
	}
}

func TestHostileInputs(t *testing.T) {
	t.Parallel()
	const esc = "\x1b]8;;https://evil.example/\x1b\\https://login.example.com/\x1b]8;;\x1b\\\x1b[2J\u009b31m\u202egnp.exe\u2066"
	refreshed := func(e *opEnv) { e.mustRun(0, "login"); e.expire("work") }
	cases := []struct {
		name    string
		flow    string
		before  func(e *opEnv) // runs before the fault is set (a login)
		fault   func(e *opEnv) authtest.Fault
		browser func(e *opEnv) func(string) error // nil: the launcher must not be called
		args    []string
		code    int
		stderr  []string // each must appear on stderr
		stdout  string   // exact stdout
		// kept: the refresh token and cache file are as before the command;
		// otherwise nothing may be stored or cached at all.
		kept bool
	}{
		// Item 3: URLs the device flow must not open, whatever the launcher.
		{name: "device uri complete is an option", flow: config.FlowDevice, fault: hostileDevice("https://login.example.com/device", "--gpu-launcher=/tmp/x", "ABCD"),
			args: []string{"login"}, code: ExitFailure, stderr: []string{"Not opening the server's verification_uri_complete", "starts with '-'", "access_denied"}},
		{name: "device uri complete is file:", flow: config.FlowDevice, fault: hostileDevice("https://login.example.com/device", "file:///etc/passwd", "ABCD"),
			args: []string{"login"}, code: ExitFailure, stderr: []string{"Not opening", `scheme is "file"`}},
		{name: "device uri complete is javascript:", flow: config.FlowDevice, fault: hostileDevice("https://login.example.com/device", "javascript:alert(1)", "ABCD"),
			args: []string{"login"}, code: ExitFailure, stderr: []string{"Not opening", `scheme is "javascript"`}},
		{name: "device uri complete is ms-msdt:", flow: config.FlowDevice, fault: hostileDevice("https://login.example.com/device", "ms-msdt:/id PCWDiagnostic /skip force", "ABCD"),
			args: []string{"login"}, code: ExitFailure, stderr: []string{"Not opening", "space"}},
		{name: "device uri complete is plain http", flow: config.FlowDevice, fault: hostileDevice("https://login.example.com/device", "http://evil.example/device?user_code=ABCD", "ABCD"),
			args: []string{"login"}, code: ExitFailure, stderr: []string{"Not opening", "not loopback"}},
		{name: "device uri complete holds ESC", flow: config.FlowDevice, fault: hostileDevice("https://login.example.com/device", "https://login.example.com/device?x=\x1b[2J", "ABCD"),
			args: []string{"login"}, code: ExitFailure, stderr: []string{"Not opening", "control character"}},
		{name: "device uri complete holds a newline", flow: config.FlowDevice, fault: hostileDevice("https://login.example.com/device", "https://login.example.com/device\n--gpu-launcher=x", "ABCD"),
			args: []string{"login"}, code: ExitFailure, stderr: []string{"Not opening", "control character"}},
		// Control: a verification page on another host than the issuer's
		// (Google, Entra) is opened.
		{name: "device uri complete on another https host is opened", flow: config.FlowDevice,
			fault:   hostileDevice("https://microsoft.example/devicelogin", "https://microsoft.example/devicelogin?otc=ABCD", "ABCD"),
			browser: func(*opEnv) func(string) error { return func(string) error { return nil } },
			args:    []string{"login"}, code: ExitFailure, stderr: []string{"Opened a browser at the server's verification page (https://microsoft.example/devicelogin?otc=ABCD)", "access_denied"}},

		// Item 4: server text on the terminal.
		{name: "device uri and user code with escapes", flow: config.FlowDevice, fault: hostileDevice("https://login.example.com/device"+esc, "", "AB\x1b[8mCD"+esc),
			args: []string{"login"}, code: ExitFailure, stderr: []string{`https://login.example.com/device\u001b]8;;https://evil.example/\u001b\`, `enter the code: AB\u001b[8mCD`, `\u202egnp.exe\u2066`}},
		{name: "callback error_description with escapes", flow: config.FlowPKCE,
			browser: func(e *opEnv) func(string) error {
				return func(u string) error {
					au, err := url.Parse(u)
					if err != nil {
						return err
					}
					q := au.Query()
					cb := q.Get("redirect_uri") + "?" + url.Values{"state": {q.Get("state")}, "error": {"access_denied" + esc}, "error_description": {"denied" + esc}}.Encode()
					resp, err := http.Get(cb)
					if err == nil {
						resp.Body.Close()
					}
					return err
				}
			},
			args: []string{"login"}, code: ExitFailure, stderr: []string{`oat: login: server answered access_denied\u001b]8;;`, `denied\u001b]8;;https://evil.example/`}},
		{name: "token endpoint 400 with escapes", flow: config.FlowPKCE, before: refreshed,
			fault: func(*opEnv) authtest.Fault {
				return authtest.OnGrant(refreshGrant, 0, jsonAnswer(http.StatusBadRequest, map[string]string{"error": "invalid_request" + esc, "error_description": "bad" + esc}))
			},
			args: []string{"token"}, code: ExitFailure, kept: true, stderr: []string{`server answered invalid_request\u001b]8;;`, `bad\u001b]8;;`}},
		{name: "token endpoint 503 with escapes", flow: config.FlowPKCE, before: refreshed,
			fault: func(*opEnv) authtest.Fault {
				return authtest.OnGrant(refreshGrant, 0, jsonAnswer(http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": "later" + esc}))
			},
			args: []string{"token"}, code: ExitTemporary, kept: true, stderr: []string{`later\u001b]8;;`}},
		{name: "reason phrase with escapes in -v", flow: config.FlowPKCE, before: refreshed,
			fault: func(*opEnv) authtest.Fault {
				return authtest.OnGrant(refreshGrant, 0, rawStatusLine("502 Bad\x1b]0;owned\aGateway\u009b2J"))
			},
			args: []string{"-v", "token"}, code: ExitTemporary, kept: true, stderr: []string{`-> 502 Bad\u001b]0;owned\u0007Gateway\u009b2J`}},

		// Item 5: tokens that would inject a header or drive the terminal.
		{name: "access token with CRLF", flow: config.FlowClientCredentials,
			fault: tokenAnswer("client_credentials", map[string]any{"access_token": "abc\r\nX-Injected: 1", "token_type": "Bearer", "expires_in": 300}),
			args:  []string{"token", "-o", "header"}, code: ExitFailure, stderr: []string{"sent an access token with a control character", "stored nothing"}},
		{name: "access token with ESC", flow: config.FlowClientCredentials,
			fault: tokenAnswer("client_credentials", map[string]any{"access_token": "abc\x1b]0;x\a", "token_type": "Bearer"}),
			args:  []string{"token"}, code: ExitFailure, stderr: []string{"sent an access token"}},
		{name: "access token with a space", flow: config.FlowClientCredentials,
			fault: tokenAnswer("client_credentials", map[string]any{"access_token": "abc def", "token_type": "Bearer"}),
			args:  []string{"token"}, code: ExitFailure, stderr: []string{"sent an access token"}},
		{name: "access token not ASCII", flow: config.FlowClientCredentials,
			fault: tokenAnswer("client_credentials", map[string]any{"access_token": "abcé", "token_type": "Bearer"}),
			args:  []string{"token"}, code: ExitFailure, stderr: []string{"sent an access token"}},
		{name: "token_type with CRLF", flow: config.FlowClientCredentials,
			fault: tokenAnswer("client_credentials", map[string]any{"access_token": "abc", "token_type": "Bearer\r\nX-Injected: 1"}),
			args:  []string{"token", "-o", "header"}, code: ExitFailure, stderr: []string{"sent a token_type"}},
		{name: "rotated refresh token with LF", flow: config.FlowPKCE, before: refreshed,
			fault: tokenAnswer(refreshGrant, map[string]any{"access_token": "abc", "token_type": "Bearer", "refresh_token": "rt\nX", "expires_in": 300}),
			args:  []string{"token"}, code: ExitFailure, kept: true, stderr: []string{"sent a refresh token with a control character"}},
		// Controls: "!" is a token character (Salesforce); -o header follows
		// token_type, normalised.
		{name: "token with ! and token_type dpop", flow: config.FlowClientCredentials,
			fault: tokenAnswer("client_credentials", map[string]any{"access_token": "00D!AQ.x", "token_type": "dpop", "expires_in": 300}),
			args:  []string{"token", "-o", "header"}, code: ExitOK, stdout: "Authorization: DPoP 00D!AQ.x\n"},
		{name: "token_type bearer in lower case", flow: config.FlowClientCredentials,
			fault: tokenAnswer("client_credentials", map[string]any{"access_token": "tok", "token_type": "bearer", "expires_in": 300}),
			args:  []string{"token", "-o", "header"}, code: ExitOK, stdout: "Authorization: Bearer tok\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newOPEnv(t, tc.flow)
			if tc.before != nil {
				tc.before(e)
			}
			rtBefore, _ := e.store.Get("work")
			cacheFile := filepath.Join(e.dir, "cache", "oat", "work.json")
			cacheBefore, _ := os.ReadFile(cacheFile)
			if tc.fault != nil {
				e.op.SetFault(tc.fault(e))
			}
			var mu sync.Mutex
			var opened []string
			launch := func(string) error { return nil }
			if tc.browser != nil {
				launch = tc.browser(e)
			}
			e.configure = chain(e.configure, func(f *Factory) {
				f.Browser = func(u string) error {
					mu.Lock()
					opened = append(opened, u)
					mu.Unlock()
					return launch(u)
				}
			})
			code := e.run(tc.args...)
			stdout, stderr := e.out.String(), e.errOut.String()
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout %q\nstderr %q", code, tc.code, stdout, stderr)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if rawUnsafe(stdout) || rawUnsafe(stderr) {
				t.Errorf("a raw control, C1 or bidi character reached the terminal:\nstdout %q\nstderr %q", stdout, stderr)
			}
			if stdout != tc.stdout {
				t.Errorf("stdout = %q, want %q", stdout, tc.stdout)
			}
			mu.Lock()
			n := len(opened)
			mu.Unlock()
			if tc.browser == nil && n != 0 {
				t.Errorf("the browser launcher got %q", opened)
			}
			if tc.code == ExitOK {
				return
			}
			rtAfter, _ := e.store.Get("work")
			cacheAfter, _ := os.ReadFile(cacheFile)
			if tc.kept {
				if rtAfter != rtBefore || string(cacheAfter) != string(cacheBefore) {
					t.Error("the stored refresh token or the cache changed")
				}
			} else if len(e.store.Keys()) != 0 || cacheAfter != nil {
				t.Errorf("something was stored (%v) or cached (%d bytes)", e.store.Keys(), len(cacheAfter))
			}
		})
	}
}

// A subject with escape sequences and bidi controls (the JWT access token's
// sub, when no ID token came) is shown escaped in "Logged in as", in the
// status table and in status -o json.
func TestHostileSubjectShownEscaped(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowClientCredentials)
	sub := "bob\x1b]0;owned\a\u202etxt.exe\u009b"
	e.op.SetFault(tokenAnswer("client_credentials", map[string]any{"access_token": unsignedJWT(map[string]any{"sub": sub}), "token_type": "Bearer", "expires_in": 300})(e))
	e.mustRun(0, "login")
	if got := e.errOut.String(); !strings.Contains(got, `Logged in as bob\u001b]0;owned\u0007\u202etxt.exe\u009b (profile "work")`) || rawUnsafe(got) {
		t.Errorf("login: %q", got)
	}
	e.mustRun(0, "status")
	if got := e.out.String(); !strings.Contains(got, `bob\u001b]0;owned\u0007\u202etxt.exe\u009b`) || rawUnsafe(got) {
		t.Errorf("status: %q", got)
	}
	e.mustRun(0, "status", "-o", "json")
	got := e.out.String()
	if !strings.Contains(got, `"subject": "bob\u001b]0;owned\u0007\u202etxt.exe\u009b"`) || rawUnsafe(got) {
		t.Errorf("status -o json: %s", got)
	}
	var rows []statusRow
	if err := json.Unmarshal(e.out.Bytes(), &rows); err != nil || deref(rows[0].Subject, "") != sub {
		t.Errorf("status -o json does not decode to the subject: %v %+v", err, rows)
	}
}

// A refresh answer whose access token is unusable but whose rotated refresh
// token is fine: the spec stores a rotated refresh token before anything else
// is done with the response (the old one is spent at the server), so it is
// kept; nothing is cached and the command fails (exit 1).
func TestUnusableAccessTokenKeepsTheRotatedRefreshToken(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	e.expire("work")
	cacheFile := filepath.Join(e.dir, "cache", "oat", "work.json")
	cacheBefore, _ := os.ReadFile(cacheFile)
	e.op.SetFault(tokenAnswer(refreshGrant, map[string]any{"access_token": "abc\r\nX-Injected: 1", "token_type": "Bearer", "refresh_token": "rotated-rt", "expires_in": 300})(e))
	if code := e.run("token"); code != ExitFailure {
		t.Fatalf("exit %d, want %d; stderr %q", code, ExitFailure, e.errOut.String())
	}
	if got := e.errOut.String(); !strings.Contains(got, "sent an access token with a control character") || !strings.Contains(got, "a rotated refresh token is kept") || e.out.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", e.out.String(), got)
	}
	if rt, _ := e.store.Get("work"); rt != "rotated-rt" {
		t.Errorf("stored refresh token %q, want the rotated one", rt)
	}
	if cacheAfter, _ := os.ReadFile(cacheFile); string(cacheAfter) != string(cacheBefore) {
		t.Error("the cache changed")
	}
}
