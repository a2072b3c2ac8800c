package httpx

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// A token endpoint that answers 307 must not make oat re-send the form (a
// refresh token, code, verifier or secret) to wherever the Location points.
func TestRedirectOfPOSTRefused(t *testing.T) {
	t.Parallel()
	var got atomic.Int32
	var gotBody atomic.Value
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		b, _ := io.ReadAll(r.Body)
		gotBody.Store(string(b))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at","token_type":"Bearer"}`)
	}))
	t.Cleanup(target.Close)
	for _, code := range []int{301, 302, 303, 307, 308} {
		src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/token", code)
		}))
		t.Cleanup(src.Close)
		hc, err := NewClient(Options{})
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-secret"}}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, src.URL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		if err == nil {
			t.Fatalf("%d: POST redirect followed, no error", code)
		}
		host := strings.TrimPrefix(src.URL, "http://")
		want := host + " answered with a redirect; oat does not follow redirects of token requests: check the endpoint URL"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%d: err = %v, want it to contain %q", code, err, want)
		}
		if strings.Contains(err.Error(), "rt-secret") {
			t.Errorf("%d: message holds the refresh token: %v", code, err)
		}
		if IsTemporaryTransport(err) {
			t.Errorf("%d: a refused redirect is not temporary", code)
		}
	}
	if n := got.Load(); n != 0 {
		t.Fatalf("redirect target got %d requests (last body %q), want none", n, gotBody.Load())
	}
}

func TestRedirectOfGETFollowedToLoopback(t *testing.T) {
	t.Parallel()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	t.Cleanup(target.Close)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/jwks", http.StatusFound)
	}))
	t.Cleanup(src.Close)
	hc, err := NewClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(src.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("GET redirect to loopback http: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("body %q, want the target's", b)
	}
}

func TestRedirectHopsLimited(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	hc, err := NewClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(srv.URL)
	if resp != nil {
		resp.Body.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "more than 5 redirects") {
		t.Fatalf("err = %v, want a hop limit", err)
	}
	if got := n.Load(); got != 6 {
		t.Errorf("requests = %d, want 6 (the first and 5 redirects)", got)
	}
}

func TestCheckRedirectTargets(t *testing.T) {
	t.Parallel()
	get := func(u string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	via := []*http.Request{get("https://login.example.com/.well-known/openid-configuration")}
	for _, tt := range []struct {
		target string
		ok     bool
	}{
		{"https://keys.example.com/jwks", true},
		{"http://127.0.0.1:8080/jwks", true},
		{"http://localhost/jwks", true},
		{"http://[::1]:9/jwks", true},
		{"http://keys.example.com/jwks", false},
		{"http://10.0.0.1/jwks", false},
		{"ftp://keys.example.com/jwks", false},
	} {
		err := checkRedirect(get(tt.target), via)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.target, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "login.example.com redirected: ") {
			t.Errorf("%s: message %q does not say who redirected", tt.target, err)
		}
	}
	post, _ := http.NewRequest(http.MethodPost, "https://login.example.com/token", nil)
	if err := checkRedirect(get("https://login.example.com/token2"), []*http.Request{post}); err == nil {
		t.Error("a redirect of a POST (turned into a GET by 302/303) must be refused")
	}
	head, _ := http.NewRequest(http.MethodHead, "https://login.example.com/", nil)
	if err := checkRedirect(get("https://login.example.com/x"), []*http.Request{head}); err != nil {
		t.Errorf("HEAD redirect to https: %v", err)
	}
}
