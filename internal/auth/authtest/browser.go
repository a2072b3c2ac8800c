package authtest

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Browser is a scripted browser for the example OP: Open follows the
// authorization redirect with a cookie jar, posts the login form, follows the
// redirect to oat's loopback listener and checks that oat showed its success
// page. It implements cli.Browser (Open(url) error) and auth.BrowserFunc (as
// b.Open).
type Browser struct {
	Username, Password string // default Username / Password
	// ExpectFailure: a failed Open is expected, so it does not fail the test.
	ExpectFailure bool

	t      testing.TB
	wg     sync.WaitGroup
	mu     sync.Mutex
	opened []string
	errs   []error
	pages  []string
}

// NewBrowser returns a Browser; when the test ends it waits for Opens still
// running and fails the test if one failed (unless ExpectFailure).
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	b := &Browser{Username: Username, Password: Password, t: t}
	t.Cleanup(func() {
		b.wg.Wait()
		b.mu.Lock()
		defer b.mu.Unlock()
		if !b.ExpectFailure {
			for _, err := range b.errs {
				t.Errorf("authtest.Browser: %v", err)
			}
		}
	})
	return b
}

// Opened returns the URLs Open was called with.
func (b *Browser) Opened() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.opened...)
}

// LastPage returns the text of the last page the browser ended on.
func (b *Browser) LastPage() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pages) == 0 {
		return ""
	}
	return b.pages[len(b.pages)-1]
}

var formID = regexp.MustCompile(`name="id" value="([^"]*)"`)

// Open logs in at the provider and lands on the loopback listener.
func (b *Browser) Open(u string) error {
	b.wg.Add(1)
	defer b.wg.Done()
	b.mu.Lock()
	b.opened = append(b.opened, u)
	b.mu.Unlock()
	page, err := b.open(u)
	b.mu.Lock()
	b.pages = append(b.pages, page)
	if err != nil {
		b.errs = append(b.errs, err)
	}
	b.mu.Unlock()
	return err
}

func (b *Browser) open(u string) (string, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err := hc.Get(u)
	if err != nil {
		return "", fmt.Errorf("open authorization URL: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("authorization URL: status %d: %s", resp.StatusCode, body)
	}
	m := formID.FindSubmatch(body)
	if m == nil {
		return string(body), fmt.Errorf("authorization URL: no login form at %s", resp.Request.URL)
	}
	form := url.Values{"id": {html.UnescapeString(string(m[1]))}, "username": {b.Username}, "password": {b.Password}}
	action := resp.Request.URL.ResolveReference(&url.URL{Path: "/login/username"})
	resp, err = hc.PostForm(action.String(), form)
	if err != nil {
		return "", fmt.Errorf("post login form: %w", err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	final := resp.Request.URL
	if h := final.Hostname(); h != "127.0.0.1" && h != "::1" && h != "localhost" || final.Port() == "" {
		return page, errors.New("login form did not redirect to a loopback listener")
	}
	if final.Host == action.Host {
		return page, fmt.Errorf("login failed at the provider: %s", strings.TrimSpace(page))
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "You are logged in") {
		return page, fmt.Errorf("loopback listener answered %d without the success page: %s", resp.StatusCode, page)
	}
	return page, nil
}

// NoBrowser returns a browser func that fails the test if it is called.
func NoBrowser(t testing.TB) func(string) error {
	return func(u string) error {
		t.Errorf("a browser was opened (%s), but none should be", u)
		return errors.New("no browser in this test")
	}
}
