package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/dpop"
)

// dpopEnv is an opEnv whose profile "work" has dpop = true and gets its
// tokens from a DPoP-checking token endpoint in front of the OP's, with a
// DPoP-protected API that takes that endpoint's tokens.
type dpopEnv struct {
	*opEnv
	as  *authtest.DPoPServer
	api *authtest.DPoPAPI
}

func newDPoPEnv(t *testing.T, flow string) *dpopEnv {
	t.Helper()
	e := &dpopEnv{opEnv: newOPEnv(t, flow)}
	e.as = authtest.NewDPoPServer(t, e.op.Issuer+"/oauth/token")
	e.api = authtest.NewDPoPAPI(t, e.as)
	e.mustRun(0, "profile", "set", "work", "token_url", e.as.TokenURL)
	e.mustRun(0, "profile", "set", "work", "dpop", "true")
	return e
}

// storedKey is the DPoP key in the keychain store, as oat keeps it.
func (e *dpopEnv) storedKey() *dpop.Key {
	e.t.Helper()
	b, err := e.store.Get("work:dpop")
	if err != nil {
		e.t.Fatalf("no DPoP key stored: %v", err)
	}
	k, err := dpop.ParseKey([]byte(b))
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

// privatePart is the d of the stored key, which must never be shown.
func (e *dpopEnv) privatePart() string {
	e.t.Helper()
	b, _ := e.store.Get("work:dpop")
	var j struct{ D string }
	if json.Unmarshal([]byte(b), &j) != nil || j.D == "" {
		e.t.Fatalf("stored DPoP key has no private part")
	}
	return j.D
}

func (e *dpopEnv) lastProof(grant string) authtest.Proof {
	e.t.Helper()
	ps := e.as.Proofs()
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].Grant == grant {
			return ps[i]
		}
	}
	e.t.Fatalf("the token endpoint accepted no proof for %s (refused: %q)", grant, e.as.Refused())
	return authtest.Proof{}
}

func send(t *testing.T, method, url string, header map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// The "done when": login with dpop = true binds the tokens to a new
// key (proofs at the token endpoint, token_type DPoP); oat curl works
// against a DPoP-protected API, while the same token as a Bearer token or
// without a proof is refused there; --dpop-proof prints headers another
// client can send (once: the proof's jti is single use); renewal after
// expiry proves the same key and honours the server's nonce; revoke deletes
// the key and the next login makes another one. The private key is never
// shown. (README: "With `dpop = true` the tokens are bound to a key only oat
// holds: `oat curl` adds a fresh proof to each request, and `oat token
// --dpop-proof METHOD URL` prints the headers for other clients.")
func TestDPoPLoginCurlRenewRevoke(t *testing.T) {
	t.Parallel()
	e := newDPoPEnv(t, config.FlowPKCE)

	e.mustRun(0, "login")
	k1 := e.storedKey()
	if p := e.lastProof("authorization_code"); p.JKT != k1.JKT() || p.Method != "POST" || p.URL != e.as.TokenURL {
		t.Fatalf("code exchange proof %+v, stored key %s", p, k1.JKT())
	}
	if q := e.browser.Opened()[0]; !strings.Contains(q, "dpop_jkt="+k1.JKT()) {
		t.Errorf("the authorization request does not name the key (dpop_jkt): %s", q)
	}
	secret := e.privatePart()
	var shown strings.Builder
	run := func(want int, args ...string) {
		t.Helper()
		e.mustRun(want, args...)
		shown.WriteString(e.out.String() + e.errOut.String())
	}

	run(0, "token", "-o", "json")
	var tj tokenJSON
	if err := json.Unmarshal(e.out.Bytes(), &tj); err != nil || tj.TokenType != "DPoP" {
		t.Fatalf("token -o json: %v %s", err, e.out)
	}
	at := tj.AccessToken
	run(0, "token", "-o", "header")
	if e.out.String() != "Authorization: DPoP "+at+"\n" {
		t.Errorf("token -o header = %q", e.out)
	}
	// A cache hit needs nothing but the cache file: the key is read only
	// when a proof is made.
	e.store.SetUnavailable("locked")
	run(0, "token", "-o", "json")
	if !strings.Contains(e.out.String(), `"token_type": "DPoP"`) {
		t.Errorf("cache hit with the keychain locked: %s", e.out)
	}
	e.store.SetUnavailable("")

	// oat curl: the API takes it, with a proof naming curl's method and URL.
	run(0, curlArgv(e.api.URL+"/v1/me?x=1")...)
	if !strings.HasPrefix(e.out.String(), `{"ok":true`) {
		t.Fatalf("oat curl: stdout %q, stderr %q, API refused %q", e.out, e.errOut, e.api.Refused())
	}
	run(0, curlArgv("-X", "PUT", "-d", "a=b", e.api.URL+"/v1/items/7")...)
	ps := e.api.Proofs()
	if len(ps) != 2 || ps[0].Method != "GET" || ps[0].URL != e.api.URL+"/v1/me" || ps[1].Method != "PUT" ||
		ps[1].URL != e.api.URL+"/v1/items/7" || ps[0].JKT != k1.JKT() || ps[0].ATH != dpop.ATH(at) {
		t.Errorf("API proofs %+v", ps)
	}
	// The same token without a proof, or as a Bearer token: refused.
	if s := send(t, "GET", e.api.URL+"/v1/me", map[string]string{"Authorization": "Bearer " + at}); s != http.StatusUnauthorized {
		t.Errorf("Bearer: status %d", s)
	}
	if s := send(t, "GET", e.api.URL+"/v1/me", map[string]string{"Authorization": "DPoP " + at}); s != http.StatusUnauthorized {
		t.Errorf("DPoP without a proof: status %d", s)
	}
	// oat curl refuses what its proof cannot name.
	if code := e.run(curlArgv(e.api.URL+"/a", e.api.URL+"/b")...); code != ExitUsage || !strings.Contains(e.errOut.String(), "exactly one URL") {
		t.Errorf("two URLs: exit %d, stderr %q", code, e.errOut)
	}

	// --dpop-proof: two headers another client sends as they are; a proof
	// is good for one request.
	run(0, "token", "--dpop-proof", "DELETE", e.api.URL+"/v1/items/7")
	lines := strings.Split(strings.TrimSuffix(e.out.String(), "\n"), "\n")
	if len(lines) != 2 || lines[0] != "Authorization: DPoP "+at || !strings.HasPrefix(lines[1], "DPoP: ") {
		t.Fatalf("--dpop-proof output %q", e.out)
	}
	h := map[string]string{"Authorization": "DPoP " + at, "DPoP": strings.TrimPrefix(lines[1], "DPoP: ")}
	if s := send(t, "DELETE", e.api.URL+"/v1/items/7", h); s != http.StatusOK {
		t.Errorf("--dpop-proof headers: status %d (refused %q)", s, e.api.Refused())
	}
	if s := send(t, "DELETE", e.api.URL+"/v1/items/7", h); s != http.StatusUnauthorized {
		t.Errorf("the same proof twice: status %d", s)
	}
	if s := send(t, "GET", e.api.URL+"/v1/items/7", h); s != http.StatusUnauthorized {
		t.Errorf("the proof for another method: status %d", s)
	}

	// Renewal after expiry: the same key, and the server's nonce honoured.
	e.expire("work")
	e.as.DemandNonce("as-nonce-1")
	run(0, "-v", "token")
	if p := e.lastProof(refreshGrant); p.JKT != k1.JKT() || p.Nonce != "as-nonce-1" {
		t.Errorf("refresh proof %+v, want key %s and the nonce", p, k1.JKT())
	}
	if r := e.as.Refused(); len(r) != 1 || r[0] != "nonce" {
		t.Errorf("the token endpoint refused %q, want one request without the nonce", r)
	}
	if at2 := strings.TrimSpace(e.out.String()); at2 == at || at2 == "" {
		t.Errorf("no new access token after renewal")
	}
	run(0, curlArgv(e.api.URL+"/v1/me")...)

	// oat's own resource request, userinfo, proves too, and honours the
	// resource server's nonce (401 use_dpop_nonce, then once more).
	e.api.DemandNonce("rs-nonce-1")
	run(0, "userinfo", "--userinfo-url", e.api.URL+"/userinfo")
	if ps := e.api.Proofs(); ps[len(ps)-1].Nonce != "rs-nonce-1" || ps[len(ps)-1].URL != e.api.URL+"/userinfo" {
		t.Errorf("userinfo proof %+v", ps[len(ps)-1])
	}
	if !strings.Contains(e.out.String(), `"sub": "`+authtest.Subject+`"`) {
		t.Errorf("userinfo printed %q", e.out)
	}
	e.api.DemandNonce("")

	// Revoke deletes the key; the next login makes another one.
	run(0, "revoke")
	if _, err := e.store.Get("work:dpop"); err == nil {
		t.Errorf("the DPoP key outlived revoke")
	}
	run(0, "login")
	if k2 := e.storedKey(); k2.JKT() == k1.JKT() || e.lastProof("authorization_code").JKT != k2.JKT() {
		t.Errorf("re-login kept the key %s", k1.JKT())
	}
	if strings.Contains(shown.String(), secret) || strings.Contains(shown.String(), e.privatePart()) {
		t.Errorf("the private key was shown")
	}
}

// A refresh token is sent only with a proof of the key it is bound to: a
// stored key that is not that one (or none) means login, with nothing sent;
// so does turning dpop off after a DPoP login.
func TestDPoPRefreshNeedsItsOwnKey(t *testing.T) {
	t.Parallel()
	e := newDPoPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	other, _ := dpop.NewKey()
	b, _ := other.Marshal()
	if err := e.store.Set("work:dpop", string(b)); err != nil {
		t.Fatal(err)
	}
	requests := func() int { return len(e.as.Proofs()) + len(e.as.Refused()) }
	before := requests()
	if code := e.run("refresh"); code != ExitLoginRequired || !strings.Contains(e.errOut.String(), "DPoP key") {
		t.Errorf("refresh with another key: exit %d, stderr %q", code, e.errOut)
	}
	if n := requests(); n != before {
		t.Errorf("the refresh token was sent (%d token requests)", n-before)
	}

	e.mustRun(0, "login")
	e.mustRun(0, "profile", "set", "work", "dpop", "false")
	if code := e.run("token"); code != ExitLoginRequired || !strings.Contains(e.errOut.String(), "dpop was turned on or off") {
		t.Errorf("dpop turned off: exit %d, stderr %q", code, e.errOut)
	}
}

// A machine profile (client credentials) with dpop: the key is made and
// stored at the first grant and proves every later one.
func TestDPoPClientCredentials(t *testing.T) {
	t.Parallel()
	e := newDPoPEnv(t, config.FlowClientCredentials)
	e.mustRun(0, "token", "-o", "json")
	if !strings.Contains(e.out.String(), `"token_type": "DPoP"`) {
		t.Fatalf("token -o json = %s", e.out)
	}
	k := e.storedKey()
	e.mustRun(0, "refresh")
	ps := e.as.Proofs()
	if len(ps) != 2 || ps[0].JKT != k.JKT() || ps[1].JKT != k.JKT() || ps[1].Grant != "client_credentials" {
		t.Errorf("client-credentials proofs %+v, key %s", ps, k.JKT())
	}
	e.mustRun(0, curlArgv(e.api.URL+"/x")...)

	// Ad hoc, from flags alone (CI): --dpop.
	e.mustRun(0, "token", "-p", "ci", "--flow", "client-credentials", "--token-url", e.as.TokenURL,
		"--client-id", e.op.ConfidentialClientID, "--client-secret-env", authtest.SecretEnv, "--dpop", "-o", "json")
	if !strings.Contains(e.out.String(), `"token_type": "DPoP"`) {
		t.Fatalf("ad hoc token -o json = %s", e.out)
	}
}

// The device flow's polls carry proofs too, from the first one, and a
// nonce the token endpoint demands from the start is honoured.
func TestDPoPDeviceLogin(t *testing.T) {
	t.Parallel()
	e := &dpopEnv{opEnv: newOPEnv(t, config.FlowDevice, authtest.WithDeviceInterval(1))}
	e.as = authtest.NewDPoPServer(t, e.op.Issuer+"/oauth/token")
	e.mustRun(0, "profile", "set", "work", "token_url", e.as.TokenURL)
	e.mustRun(0, "profile", "set", "work", "dpop", "true")
	e.configure = chain(e.configure, func(f *Factory) {
		f.Browser = func(u string) error {
			pu, err := url.Parse(u)
			if err != nil {
				return err
			}
			go e.op.ApproveDevice(t, pu.Query().Get("user_code"))
			return nil
		}
	})
	e.as.DemandNonce("device-nonce")
	e.mustRun(0, "login")
	p := e.lastProof("urn:ietf:params:oauth:grant-type:device_code")
	if p.JKT != e.storedKey().JKT() || p.Nonce != "device-nonce" {
		t.Errorf("device proof %+v", p)
	}
	e.mustRun(0, "token", "-o", "json")
	if !strings.Contains(e.out.String(), `"token_type": "DPoP"`) {
		t.Errorf("token -o json = %s", e.out)
	}
}

func TestDPoPProofFlagUsage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, args := range [][]string{
		{"token", "--dpop-proof", "GET"},
		{"token", "--dpop-proof", "GET", "https://a.example/", "https://b.example/"},
		{"token", "--dpop-proof", "GET", "https://a.example/", "-o", "json"},
		{"token", "--dpop-proof", "GET", "https://a.example/", "--id-token"},
		{"token", "--dpop-proof", "G T", "https://a.example/"},
		{"token", "--dpop-proof", "GET", "ftp://a.example/"},
		{"token", "--dpop-proof", "GET", "/relative"},
		{"token", "https://a.example/"},
	} {
		if code := e.run(args...); code != ExitUsage || e.out.Len() != 0 {
			t.Errorf("oat %q: exit %d, stdout %q, stderr %q", args, code, e.out, e.errOut)
		}
	}
	// A proof names an http(s) URL: another scheme that merely starts with
	// "http" is refused as such, and the scheme's case does not matter.
	for _, u := range []string{"httpx://a.example/", "http-evil://a.example/"} {
		if code := e.run("token", "--dpop-proof", "GET", u); code != ExitUsage || !strings.Contains(e.errOut.String(), "want an absolute http(s) URL") {
			t.Errorf("--dpop-proof GET %s: exit %d, stderr %q", u, code, e.errOut)
		}
	}
	if e.run("token", "--dpop-proof", "GET", "HTTPS://a.example/"); strings.Contains(e.errOut.String(), "want an absolute http(s) URL") {
		t.Errorf("--dpop-proof GET HTTPS://…: stderr %q", e.errOut)
	}
}

func TestCurlRequestFromArgs(t *testing.T) {
	t.Parallel()
	const u = "https://api.example.com/v1/x"
	for _, tc := range []struct {
		args         []string
		method, url  string
		errSubstring string
	}{
		{args: []string{"-fsS", u}, method: "GET", url: u},
		{args: []string{"-sSXPOST", u}, method: "POST", url: u},
		{args: []string{"--request", "PATCH", "--url", u}, method: "PATCH", url: u},
		{args: []string{"-d", "a=b", u}, method: "POST", url: u},
		{args: []string{"--json", "{}", u}, method: "POST", url: u},
		{args: []string{"-G", "-d", "q=1", u}, method: "GET", url: u},
		{args: []string{"-I", u}, method: "HEAD", url: u},
		{args: []string{"-T", "f.txt", u}, method: "PUT", url: u},
		{args: []string{"-H", "X-Y: https://other.example/", "-e", "https://ref.example/", "-x", "http://proxy:3128", u}, method: "GET", url: u},
		{args: []string{"-o", "out", u, "-H", "A: b"}, method: "GET", url: u},
		{args: []string{"-g", "https://api.example.com/a[1]"}, method: "GET", url: "https://api.example.com/a[1]"},
		{args: []string{u, u + "2"}, errSubstring: "exactly one URL"},
		{args: []string{"-fsS"}, errSubstring: "exactly one URL"},
		{args: []string{u, "--next", u}, errSubstring: "--next"},
		{args: []string{"-K", "cfg", u}, errSubstring: "--config"},
		{args: []string{"api.example.com/x"}, errSubstring: "scheme"},
		{args: []string{"https://api.example.com/{a,b}"}, errSubstring: "globbing"},
		{args: []string{"--request-target", "*", u}, errSubstring: "request-target"},
		{args: []string{u, "-X"}, errSubstring: "needs a value"},
	} {
		m, got, err := curlRequest(tc.args)
		if tc.errSubstring != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errSubstring) {
				t.Errorf("%q: err %v, want %q", tc.args, err, tc.errSubstring)
			}
			continue
		}
		if err != nil || m != tc.method || got != tc.url {
			t.Errorf("%q: %s %s %v, want %s %s", tc.args, m, got, err, tc.method, tc.url)
		}
	}
}

// dpop = true at a server that does not support DPoP (zitadel's OP, with
// no DPoP front, ignores the proof): the login works and says that the
// token it got is a plain Bearer token, unbound; a DPoP-bound login says
// nothing of the kind.
func TestDPoPLoginAtServerWithoutDPoPSaysSo(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	p := e.op.Profile(config.FlowPKCE)
	p.DPoP = true
	cfg := &config.File{Path: e.configPath(), DefaultProfile: "work", Profiles: map[string]config.Profile{"work": p}}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	e.mustRun(0, "login")
	if !strings.Contains(e.errOut.String(), "Note: dpop is set, but the server issued a Bearer token, not a DPoP-bound one") {
		t.Errorf("stderr %q: want the note", e.errOut)
	}
	d := newDPoPEnv(t, config.FlowPKCE)
	d.mustRun(0, "login")
	if strings.Contains(d.errOut.String(), "Note: dpop") {
		t.Errorf("a DPoP-bound login: stderr %q", d.errOut)
	}
}

// A login without dpop replaces a dpop session: the old session's private
// key goes with its refresh token, instead of lingering in the keychain.
func TestDPoPKeyDeletedByLoginWithoutDPoP(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "profile", "set", "work", "dpop", "true")
	e.mustRun(0, "login")
	if _, err := e.store.Get("work:dpop"); err != nil {
		t.Fatalf("no DPoP key after the dpop login: %v", err)
	}
	e.mustRun(0, "profile", "set", "work", "dpop", "false")
	e.mustRun(0, "login")
	if _, err := e.store.Get("work:dpop"); err == nil {
		t.Error("the DPoP key of the replaced session is still stored")
	}
	if rt, err := e.store.Get("work"); err != nil || rt == "" {
		t.Errorf("the new session's refresh token: %q, %v", rt, err)
	}
	e.mustRun(0, "refresh")
}

// A machine profile's DPoP key goes at revoke even when dpop was turned off
// since the grant it proved: the cache entry says a key was used.
func TestDPoPMachineKeyDeletedAtRevokeAfterDPoPOff(t *testing.T) {
	t.Parallel()
	e := newDPoPEnv(t, config.FlowClientCredentials)
	e.mustRun(0, "token")
	e.storedKey()
	e.mustRun(0, "profile", "set", "work", "dpop", "false")
	e.mustRun(0, "revoke")
	if _, err := e.store.Get("work:dpop"); err == nil {
		t.Error("the DPoP key is still stored after revoke")
	}
}
