package cli

import (
	"encoding/json"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/keychain"
)

// The helper protocol, in-process: get answers username/password (or
// authtype/credential where git announces the capability) and the expiry;
// unknown keys are ignored, lines without '=' skipped; tokens go only to
// https or loopback http; store and unknown actions do nothing; erase drops
// only the token git was refused.
func TestGitCredentialProtocol(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)

	// Not logged in: exit 3, nothing on stdout.
	if code := e.runStdin("protocol=https\nhost=git.example.com\n\n", "git-credential", "get"); code != ExitLoginRequired || e.out.Len() != 0 {
		t.Errorf("get before login: exit %d, stdout %q", code, e.out)
	}

	e.mustRun(0, "login")
	ent := e.cacheEntry("work")
	tok, exp := ent.AccessToken, strconv.FormatInt(ent.Expiry.Unix(), 10)

	get := func(stdin string, args ...string) string {
		t.Helper()
		if code := e.runStdin(stdin, append([]string{"git-credential"}, append(args, "get")...)...); code != 0 {
			t.Fatalf("get: exit %d, stderr %s", code, e.errOut)
		}
		return e.out.String()
	}
	// username/password, for every git; unknown and multi-valued keys and a
	// line without '=' (skipped, with a warning that does not quote it).
	out := get("protocol=https\nhost=git.example.com\npath=group/repo.git\nwwwauth[]=Basic realm=\"x\"\nfuture_key=1\nnot-a-pair-SECRETISH\n\nafter=blank\n")
	if want := "username=oauth2\npassword=" + tok + "\npassword_expiry_utc=" + exp + "\n"; out != want {
		t.Errorf("get = %q, want %q", out, want)
	}
	if s := e.errOut.String(); !strings.Contains(s, "not key=value") || strings.Contains(s, "SECRETISH") {
		t.Errorf("stderr after a line without '=' = %q", s)
	}
	if out := get("protocol=https\nhost=git.example.com\n", "--username", "x-access-token"); !strings.HasPrefix(out, "username=x-access-token\npassword="+tok+"\n") {
		t.Errorf("get --username = %q", out)
	}
	// authtype, as git-credential(1) describes it for helpers that see
	// capability[]=authtype; an empty capability[] resets the list.
	out = get("capability[]=authtype\nprotocol=https\nhost=git.example.com\n\n")
	if want := "capability[]=authtype\nauthtype=Bearer\ncredential=" + tok + "\nephemeral=true\npassword_expiry_utc=" + exp + "\n"; out != want {
		t.Errorf("get with capability[]=authtype = %q, want %q", out, want)
	}
	if out := get("capability[]=authtype\ncapability[]=\nprotocol=https\nhost=git.example.com\n\n"); !strings.HasPrefix(out, "username=oauth2\n") {
		t.Errorf("get after the capability list was reset = %q", out)
	}
	// Loopback http gets the token; other http, ssh or no protocol do not.
	if out := get("protocol=http\nhost=127.0.0.1:8080\n\n"); !strings.Contains(out, "password="+tok) {
		t.Errorf("get for http://127.0.0.1:8080 = %q", out)
	}
	for _, in := range []string{"protocol=http\nhost=git.example.com\n", "protocol=ssh\nhost=git.example.com\n", "host=git.example.com\n"} {
		if out := get(in); out != "" || !strings.Contains(e.errOut.String(), "only for https") {
			t.Errorf("get for %q: stdout %q, stderr %q", in, out, e.errOut)
		}
	}

	// store and actions git may add later: nothing.
	for _, action := range []string{"store", "frobnicate"} {
		if code := e.runStdin("protocol=https\nhost=git.example.com\nusername=oauth2\npassword="+tok+"\n\n", "git-credential", action); code != 0 || e.out.Len() != 0 || e.errOut.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", action, code, e.out, e.errOut)
		}
	}
	if e.cacheEntry("work").AccessToken != tok {
		t.Fatal("store changed the cached token")
	}

	// erase of a token that is not the cached one keeps the cached one.
	e.mustRun(0, "git-credential", "erase")
	if code := e.runStdin("protocol=https\nhost=git.example.com\nusername=oauth2\npassword=another-token\n\n", "git-credential", "erase"); code != 0 || e.out.Len() != 0 {
		t.Errorf("erase of another token: exit %d, stdout %q", code, e.out)
	}
	if e.cacheEntry("work").AccessToken != tok {
		t.Fatal("erase of another token dropped the cached one")
	}
	rt, _ := e.store.Get("work")
	grants := e.op.Grants(refreshGrant)
	if code := e.runStdin("protocol=https\nhost=git.example.com\nusername=oauth2\npassword="+tok+"\n\n", "git-credential", "erase"); code != 0 || e.out.Len() != 0 || !strings.Contains(e.errOut.String(), "refused") {
		t.Errorf("erase: exit %d, stdout %q, stderr %q", code, e.out, e.errOut)
	}
	if got := e.cacheEntry("work").AccessToken; got != "" {
		t.Error("erase kept the refused token in the cache")
	}
	if got, _ := e.store.Get("work"); got != rt {
		t.Error("erase touched the refresh token")
	}
	out = get("protocol=https\nhost=git.example.com\n\n")
	if strings.Contains(out, tok) || !strings.Contains(out, "password=") || e.op.Grants(refreshGrant) != grants+1 {
		t.Errorf("get after erase: renewed %d times, answer has the old token: %v", e.op.Grants(refreshGrant)-grants, strings.Contains(out, tok))
	}
}

// gitServer serves bare repositories through git http-backend (CGI) on
// 127.0.0.1, to clients whose Basic-auth password is an access token the
// OpenID Provider accepts (its UserInfo endpoint answers for it) and the
// test has not refused.
type gitServer struct {
	*httptest.Server
	mu       sync.Mutex
	refused  map[string]bool
	accepted []string
}

func newGitServer(t *testing.T, root, userinfoURL string) *gitServer {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1",
			"HOME=" + root, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"},
	}
	s := &gitServer{refused: map[string]bool{}}
	valid := func(tok string) bool {
		req, _ := http.NewRequest(http.MethodGet, userinfoURL, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		s.mu.Lock()
		refused := s.refused[pass]
		s.mu.Unlock()
		if !ok || user != "oauth2" || refused || !valid(pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="oat-test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		if n := len(s.accepted); n == 0 || s.accepted[n-1] != pass {
			s.accepted = append(s.accepted, pass)
		}
		s.mu.Unlock()
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *gitServer) refuse(tok string) {
	s.mu.Lock()
	s.refused[tok] = true
	s.mu.Unlock()
}

// tokens lists the distinct tokens accepted, in order.
func (s *gitServer) tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.accepted...)
}

// TestGitCredentialWithRealGit: a real git, with the built oat as its only
// credential helper and no way to prompt, clones from a loopback server that
// checks the token; an expired token is renewed by get; a token the server
// refuses makes git erase it, and the next git command gets a new one.
func TestGitCredentialWithRealGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	bin := oatBinary(t)
	e := newOPEnv(t, config.FlowPKCE)
	e.forBinary()
	e.mustRun(0, "login")
	tok1 := e.cacheEntry("work").AccessToken
	stateDir, _ := keychain.StateDir(func(k string) string { return e.env[k] })

	// git's whole world: an empty HOME, one global config naming oat as the
	// credential helper, no system config, no prompt, no askpass.
	gitHome := t.TempDir()
	global := filepath.Join(gitHome, "gitconfig")
	if err := os.WriteFile(global, []byte("[credential]\n\thelper = "+bin+" git-credential -p work\n[user]\n\tname = T\n\temail = t@example.com\n[init]\n\tdefaultBranch = main\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + gitHome, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + global, "GIT_TERMINAL_PROMPT=0", "LC_ALL=C"}
	for _, k := range []string{"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "OAT_STORAGE"} {
		env = append(env, k+"="+e.env[k])
	}
	git := func(dir string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	mustGit := func(dir string, args ...string) {
		t.Helper()
		if out, err := git(dir, args...); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	// A bare repository with one commit.
	src, root := t.TempDir(), t.TempDir()
	mustGit(src, "init", "-q", ".")
	if err := os.WriteFile(filepath.Join(src, "README"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustGit(src, "add", "README")
	mustGit(src, "commit", "-qm", "first")
	mustGit(root, "clone", "-q", "--bare", src, "repo.git")

	var disc struct {
		UserinfoEndpoint string `json:"userinfo_endpoint"`
	}
	res, err := http.Get(e.op.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(res.Body).Decode(&disc)
	res.Body.Close()
	if err != nil || disc.UserinfoEndpoint == "" {
		t.Fatalf("discovery: %v %+v", err, disc)
	}
	srv := newGitServer(t, root, disc.UserinfoEndpoint)
	remote := srv.URL + "/repo.git"

	// Without the helper, git cannot get in (the server really checks).
	if out, err := git(gitHome, "-c", "credential.helper=", "ls-remote", remote); err == nil {
		t.Fatalf("git without a credential helper got in:\n%s", out)
	}

	// 1. clone with the cached token: no prompt, no renewal.
	dst := t.TempDir()
	mustGit(dst, "clone", "-q", remote, "clone")
	if b, err := os.ReadFile(filepath.Join(dst, "clone", "README")); err != nil || string(b) != "hello\n" {
		t.Fatalf("the clone lacks README: %v %q", err, b)
	}
	if got := srv.tokens(); len(got) != 1 || got[0] != tok1 {
		t.Errorf("server accepted %d tokens, want the cached one", len(got))
	}
	if n := e.op.Grants(refreshGrant); n != 0 {
		t.Errorf("clone with a fresh cached token made %d refresh grants", n)
	}

	// 2. The cached token expired: get renews it.
	e.expire("work")
	mustGit(dst, "-C", "clone", "fetch", "-q")
	tok2 := e.cacheEntry("work").AccessToken
	if got := srv.tokens(); len(got) != 2 || got[1] != tok2 || tok2 == tok1 {
		t.Errorf("after expiry the server accepted %d tokens, want a renewed one", len(got))
	}
	if n := e.op.Grants(refreshGrant); n != 1 {
		t.Errorf("renewal after expiry made %d refresh grants, want 1", n)
	}

	// 3. The server refuses the (unexpired) token: git fails and erases it…
	rt, err := keychain.NewFile(stateDir).Get("work")
	if err != nil {
		t.Fatal(err)
	}
	srv.refuse(tok2)
	out, err := git(dst, "-C", "clone", "fetch", "-q")
	if err == nil || !strings.Contains(out, "Authentication failed") {
		t.Fatalf("fetch with a refused token: %v\n%s", err, out)
	}
	if !strings.Contains(out, "refused; it is dropped") {
		t.Errorf("git's output lacks oat's erase note:\n%s", out)
	}
	if got := e.cacheEntry("work").AccessToken; got != "" {
		t.Error("git erase left the refused token in the cache")
	}
	if got, _ := keychain.NewFile(stateDir).Get("work"); got != rt {
		t.Error("git erase changed or deleted the refresh token")
	}
	if n := e.op.Grants(refreshGrant); n != 1 {
		t.Errorf("the refused fetch made %d refresh grants in all, want still 1", n)
	}
	// …and the next git command gets a new one.
	mustGit(dst, "-C", "clone", "fetch", "-q")
	tok3 := e.cacheEntry("work").AccessToken
	if got := srv.tokens(); len(got) != 3 || got[2] != tok3 || tok3 == tok2 {
		t.Errorf("after erase the server accepted %d tokens, want a new one", len(got))
	}
	if n := e.op.Grants(refreshGrant); n != 2 {
		t.Errorf("%d refresh grants in all, want 2", n)
	}
}

// git-credential prints a token (to git): in a GitHub Actions step the
// runner is told to mask it first, on stderr, which git passes to the log.
func TestGitCredentialMasksTheTokenInGitHubActions(t *testing.T) {
	t.Parallel()
	e := cachedTokenEnv(t, "secret%tok", "", time.Now().Add(time.Hour))
	e.env["GITHUB_ACTIONS"] = "true"
	if code := e.runStdin("protocol=https\nhost=git.example.com\n\n", "git-credential", "get"); code != 0 {
		t.Fatalf("get: exit %d, stderr %s", code, e.errOut)
	}
	if got := parseAddMasks(e.errOut.String()); len(got) != 1 || got[0] != "secret%tok" {
		t.Errorf("masks %q (stderr %q)", got, e.errOut)
	}
	if strings.Contains(e.out.String(), "add-mask") {
		t.Errorf("the mask reached git's stdout: %q", e.out)
	}
}
