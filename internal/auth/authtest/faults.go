package authtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is what OP.SetFault takes: it answers a request itself (true) or lets
// the OP handle it (false).
type Fault = func(w http.ResponseWriter, r *http.Request) bool

// OnGrant applies h to the first n token requests with that grant_type
// (n <= 0: all of them); other requests reach the OP.
func OnGrant(grantType string, n int, h http.HandlerFunc) Fault {
	return firstN(func(r *http.Request) bool { return GrantType(r) == grantType }, n, h)
}

// OnPath applies h to the first n requests to path (n <= 0: all).
func OnPath(path string, n int, h http.HandlerFunc) Fault {
	return firstN(func(r *http.Request) bool { return r.URL.Path == path }, n, h)
}

// firstN applies h to the first n requests that match (n <= 0: all).
func firstN(match func(*http.Request) bool, n int, h http.HandlerFunc) Fault {
	var mu sync.Mutex
	seen := 0
	return func(w http.ResponseWriter, r *http.Request) bool {
		if !match(r) {
			return false
		}
		mu.Lock()
		seen++
		hit := n <= 0 || seen <= n
		mu.Unlock()
		if hit {
			h(w, r)
		}
		return hit
	}
}

// HTMLError answers with an HTML error page, as a proxy or load balancer does.
func HTMLError(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!DOCTYPE html><html><body><h1>%d %s</h1></body></html>", status, http.StatusText(status))
	}
}

// RetryAfter answers status with a Retry-After header and an OAuth error body.
func RetryAfter(status int, after time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", strconv.Itoa(int(after/time.Second)))
		w.WriteHeader(status)
		fmt.Fprint(w, `{"error":"temporarily_unavailable","error_description":"try again later"}`)
	}
}

// OAuthError answers with an OAuth error.
func OAuthError(status int, code, description string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q,"error_description":%q}`, code, description)
	}
}

// TruncatedJSON answers 200 with JSON cut off half-way.
func TruncatedJSON() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"abc","token_type":"Bearer","expi`)
	}
}

// HugeBody answers 200 with a JSON body of more than 2 MiB.
func HugeBody() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"abc","token_type":"Bearer","pad":"%s"}`, strings.Repeat("x", 2<<20))
	}
}

// Hang never answers: it waits until the client gives up (or 30s).
func Hang() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}
}
