package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/tokencache"
)

// curlTestArgs come first in every curl the tests run: no ~/.curlrc (-q must
// be curl's first argument) and no proxy from the environment, since curl
// runs with the test process's environment.
var curlTestArgs = []string{"--", "-q", "--noproxy", "*", "-sS"}

func curlArgv(args ...string) []string {
	return append(append([]string{"curl"}, curlTestArgs...), args...)
}

// apiServer is a loopback API that records the Authorization headers it
// gets. /echo answers the request body; /401 refuses; /hold tells the test
// the request has arrived, then waits until the test releases it.
type apiServer struct {
	*httptest.Server
	mu      sync.Mutex
	auth    [][]string
	arrived chan struct{} // closed when a /hold request has arrived
	release chan struct{} // close to answer it
	gone    chan struct{} // closed when the client of a /hold request went away
	once    sync.Once
}

func newAPIServer(t *testing.T) *apiServer {
	t.Helper()
	s := &apiServer{arrived: make(chan struct{}), release: make(chan struct{}), gone: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Values("Authorization"))
		s.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/401":
			http.Error(w, "no", http.StatusUnauthorized)
			return
		case "/hold":
			s.once.Do(func() { close(s.arrived) })
			select {
			case <-s.release:
			case <-r.Context().Done():
				close(s.gone)
				return
			}
		}
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) authorizations() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.auth...)
}

func TestCurlAddsTheHeaderAndKeepsStdin(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	tok := e.cacheEntry("work").AccessToken
	api := newAPIServer(t)

	// The header arrives, once; the body piped into oat is curl's -d @-.
	if code := e.runStdin("hello from stdin", curlArgv("--data-binary", "@-", api.URL+"/echo")...); code != 0 {
		t.Fatalf("oat curl: exit %d, stderr %s", code, e.errOut)
	}
	if got := e.out.String(); got != "hello from stdin" {
		t.Errorf("curl's output = %q, want the body it read from stdin", got)
	}
	if got := api.authorizations(); len(got) != 1 || len(got[0]) != 1 || got[0][0] != "Bearer "+tok {
		t.Errorf("Authorization headers = %q, want one Bearer with the profile's token", got)
	}

	// curl's exit code passes through, and oat adds nothing to its message.
	if code := e.run(curlArgv("--fail", api.URL+"/401")...); code != 22 {
		t.Errorf("oat curl --fail on a 401: exit %d, want curl's 22; stderr %s", code, e.errOut)
	}
	if strings.Contains(e.errOut.String(), "oat:") {
		t.Errorf("oat wrote its own error over curl's: %q", e.errOut)
	}

	// Flags after the curl arguments, or no curl arguments: usage errors.
	if code := e.run("curl", "-fsS", api.URL); code != ExitUsage || !strings.Contains(e.errOut.String(), "curl's own options go after --") {
		t.Errorf("oat curl -fsS URL: exit %d, stderr %q", code, e.errOut)
	}
	if code := e.run("curl"); code != ExitUsage || !strings.Contains(e.errOut.String(), "no arguments for curl") {
		t.Errorf("oat curl: exit %d, stderr %q", code, e.errOut)
	}
}

// A token holding the characters of curl's config syntax reaches the server
// as it is, not as config; a token that cannot go into a header at all, or
// a DPoP-bound one oat holds no key for, is never handed to curl.
func TestCurlQuotesTheTokenAndRefusesUnsendableOnes(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	api := newAPIServer(t)
	setToken := func(tok, typ string) {
		t.Helper()
		dir, _ := tokencache.Dir(func(k string) string { return e.env[k] })
		c := tokencache.New(dir)
		ent, err := c.Load("work")
		if err != nil {
			t.Fatal(err)
		}
		ent.AccessToken, ent.TokenType = tok, typ
		if err := c.Save("work", ent); err != nil {
			t.Fatal(err)
		}
	}

	hostile := `x"\"\\ --url=http://127.0.0.2/ "` + `header="X-Injected:1`
	hostile = strings.ReplaceAll(hostile, " ", "") // spaces are refused below
	setToken(hostile, "bearer")
	if code := e.run(curlArgv(api.URL + "/echo")...); code != 0 {
		t.Fatalf("oat curl with a quote-laden token: exit %d, stderr %s", code, e.errOut)
	}
	if got := api.authorizations(); len(got) != 1 || len(got[0]) != 1 || got[0][0] != "Bearer "+hostile {
		t.Errorf("Authorization headers = %q, want exactly [Bearer %s]", got, hostile)
	}

	for _, tc := range []struct{ tok, typ, want string }{
		{"a b", "Bearer", "cannot go into an HTTP header"},
		{"a\nheader = \"X-Injected: 1\"", "Bearer", "cannot go into an HTTP header"},
		{"dpop-bound-xyz", "DPoP", "DPoP-bound"},
	} {
		setToken(tc.tok, tc.typ)
		if code := e.run(curlArgv(api.URL + "/echo")...); code != ExitFailure || !strings.Contains(e.errOut.String(), tc.want) {
			t.Errorf("token %q type %s: exit %d, stderr %q", tc.tok, tc.typ, code, e.errOut)
		}
		if strings.Contains(e.errOut.String(), tc.tok) {
			t.Errorf("the error shows the token: %q", e.errOut)
		}
	}
	if n := len(api.authorizations()); n != 1 {
		t.Errorf("curl ran for a token it must not send: %d requests", n)
	}
}

func TestCurlArgsKeepALeadingDisableFirst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want []string }{
		{[]string{"-fsS", "u"}, []string{"-K", "/dev/fd/3", "-fsS", "u"}},
		{[]string{"-q", "u"}, []string{"-q", "-K", "/dev/fd/3", "u"}},
		{[]string{"-qs", "u"}, []string{"-qs", "-K", "/dev/fd/3", "u"}},
		{[]string{"--disable", "u"}, []string{"--disable", "-K", "/dev/fd/3", "u"}},
		{[]string{"u", "-q"}, []string{"-K", "/dev/fd/3", "u", "-q"}},
	} {
		if got := curlArgs(tc.in, "/dev/fd/3"); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("curlArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCurlTokenOnNoCommandLine runs the built oat: while curl's request is
// held at the server, neither oat's nor curl's command line (nor curl's
// environment) holds the token; no temporary file is left behind; a SIGTERM
// to oat reaches curl and oat exits as curl did (128+15).
func TestCurlTokenOnNoCommandLine(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc")
	}
	bin := oatBinary(t)
	e := newOPEnv(t, config.FlowPKCE)
	e.forBinary()
	e.mustRun(0, "login")
	tok := e.cacheEntry("work").AccessToken
	tmp := t.TempDir()

	outDir := t.TempDir()
	start := func(api *apiServer, stdin string) (cmd *exec.Cmd, stdout, stderr *os.File, done chan error) {
		t.Helper()
		cmd = exec.Command(bin, curlArgv("-d", "@-", api.URL+"/hold")...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + tmp}
		for k, v := range e.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdin = strings.NewReader(stdin)
		// Files, not pipes: Wait returns when oat ends, even if a curl
		// that outlived it still holds them.
		stdout, _ = os.CreateTemp(outDir, "stdout")
		stderr, _ = os.CreateTemp(outDir, "stderr")
		t.Cleanup(func() { stdout.Close(); stderr.Close() })
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done = make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-api.arrived:
		case err := <-done:
			t.Fatalf("oat curl ended before its request arrived: %v\n%s", err, readFile(t, stderr.Name()))
		}
		return cmd, stdout, stderr, done
	}

	api := newAPIServer(t)
	cmd, stdout, stderr, done := start(api, "body-from-stdin")
	kids := childPIDs(t, cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("oat has %d child processes, want 1 (curl)", len(kids))
	}
	curlArgs := readProc(t, kids[0], "cmdline")
	if !strings.Contains(curlArgs, "curl\x00") || !strings.Contains(curlArgs, "\x00-K\x00/dev/fd/") {
		t.Errorf("curl's command line = %q, want curl -K /dev/fd/N …", strings.ReplaceAll(curlArgs, tok, "<token>"))
	}
	for _, f := range []struct {
		pid  int
		file string
	}{{kids[0], "cmdline"}, {kids[0], "environ"}, {cmd.Process.Pid, "cmdline"}, {cmd.Process.Pid, "environ"}} {
		if strings.Contains(readProc(t, f.pid, f.file), tok) {
			t.Errorf("/proc/%d/%s holds the token", f.pid, f.file)
		}
	}
	close(api.release)
	if err := <-done; err != nil {
		t.Fatalf("oat curl: %v\n%s", err, readFile(t, stderr.Name()))
	}
	if got := readFile(t, stdout.Name()); got != "body-from-stdin" {
		t.Errorf("stdout = %q", got)
	}
	if got := api.authorizations(); len(got) != 1 || len(got[0]) != 1 || got[0][0] != "Bearer "+tok {
		t.Errorf("the held request's Authorization headers = %q", got)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("oat curl left %d files in TMPDIR", len(left))
	}

	// SIGTERM to oat reaches curl; oat exits with curl's 128+15.
	api = newAPIServer(t)
	cmd, _, stderr, done = start(api, "")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := <-done
	if code := exitCode(err); code != 128+int(syscall.SIGTERM) {
		close(api.release) // let a curl that outlived oat finish
		t.Fatalf("oat curl after SIGTERM: exit %d (%v), want %d; stderr %s", code, err, 128+int(syscall.SIGTERM), readFile(t, stderr.Name()))
	}
	<-api.gone // curl's connection closed: curl has ended too
}

// TestCurlNotInstalled: a clear error and exit 1, before any token work.
func TestCurlNotInstalled(t *testing.T) {
	bin := oatBinary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "curl", "--", "https://api.example.com/")
	cmd.Env = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "c"), "XDG_CACHE_HOME=" + filepath.Join(dir, "k"), "PATH=" + dir}
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != ExitFailure || string(out) != "oat: "+noCurlMsg+"\n" {
		t.Errorf("oat curl without curl: exit %d, output %q", code, out)
	}
}

// childPIDs lists the processes whose parent is ppid.
func childPIDs(t *testing.T, ppid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) {
			kids = append(kids, pid)
		}
	}
	return kids
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readProc(t *testing.T, pid int, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), file))
	if err != nil {
		t.Fatalf("reading /proc/%d/%s: %v", pid, file, err)
	}
	return string(b)
}

// curl -v prints the request headers, Authorization included, on stderr: in
// a GitHub Actions step oat curl has the runner mask the token first, as oat
// exec and oat token do.
func TestCurlMasksTheTokenInGitHubActions(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	tok := e.cacheEntry("work").AccessToken
	api := newAPIServer(t)
	e.env["GITHUB_ACTIONS"] = "true"
	if code := e.run(curlArgv(api.URL + "/echo")...); code != 0 {
		t.Fatalf("oat curl: exit %d, stderr %s", code, e.errOut)
	}
	if got := parseAddMasks(e.errOut.String()); len(got) != 1 || got[0] != tok {
		t.Errorf("masks %q, want the access token once (stderr %q)", got, e.errOut)
	}
}
