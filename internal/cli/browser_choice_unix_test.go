//go:build unix

package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
)

// fifoBrowsers writes one shell script per name that, run as a browser,
// writes "NAME URL" to a FIFO; the test reads it there (an event, not a
// poll) and logs in through e.browser as that browser would.
func fifoBrowsers(t *testing.T, e *opEnv, names ...string) (paths map[string]string, opened func() []string) {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "opened")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	paths = map[string]string{}
	for _, n := range names {
		p := filepath.Join(dir, n)
		script := "#!/bin/sh\nprintf '%s %s\\n' " + n + " \"$1\" > '" + fifo + "'\n"
		if err := os.WriteFile(p, []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
		paths[n] = p
	}
	// O_RDWR: opening does not wait for a writer, and the reader never sees
	// EOF between two browsers.
	r, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			name, u, _ := strings.Cut(sc.Text(), " ")
			mu.Lock()
			got = append(got, name)
			mu.Unlock()
			go e.browser.Open(u)
		}
	}()
	t.Cleanup(func() { r.Close(); <-done })
	return paths, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }
}

// "opens the authorization URL in your browser (OAT_BROWSER, else BROWSER,
// else the system opener)" (README)
func TestLoginBrowserFromEnvironment(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string // values name scripts
		want string
	}{
		{"OAT_BROWSER over BROWSER", map[string]string{"OAT_BROWSER": "oat-browser", "BROWSER": "browser"}, "oat-browser"},
		{"BROWSER alone", map[string]string{"BROWSER": "browser"}, "browser"},
		{"OAT_BROWSER alone", map[string]string{"OAT_BROWSER": "oat-browser"}, "oat-browser"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newOPEnv(t, config.FlowPKCE)
			paths, opened := fifoBrowsers(t, e, "oat-browser", "browser")
			for k, v := range tc.env {
				e.env[k] = paths[v]
			}
			f := e.factory()
			f.Browser = nil
			// oat copies the browser program's output to a stderr that is not
			// a file (this buffer) from another goroutine.
			stderr := &lineWatcher{w: f.IO.ErrOut, found: func(string) {}}
			f.IO.ErrOut = stderr
			// (--timeout only ends a broken run sooner.)
			if code := runWith(f, "login", "--timeout", "1m"); code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr.String())
			}
			if got := opened(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("browsers run: %v, want [%s]", got, tc.want)
			}
			if msg := stderr.String(); !strings.Contains(msg, "Logged in as "+authtest.Subject) {
				t.Errorf("stderr = %q", msg)
			}
		})
	}
}
