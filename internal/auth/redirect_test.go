package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/httpx"
)

// A token endpoint that answers 307 gets a clear, non-temporary error, and
// the form (refresh token, secret) is never re-sent to the Location.
func TestTokenEndpointRedirectRefused(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	t.Cleanup(elsewhere.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A JSON body, so that nothing but the redirect policy stops Go
		// from following the 307 with the same form.
		w.Header().Set("Location", elsewhere.URL+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTemporaryRedirect)
		w.Write([]byte("{}"))
	}))
	t.Cleanup(srv.Close)
	hc, err := httpx.NewClient(httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &auth.Client{
		HTTP:      hc,
		Profile:   config.Profile{ClientID: "bot", Flow: config.FlowClientCredentials, ClientAuth: "post"},
		Secret:    "s3cret-value",
		Endpoints: &auth.Endpoints{TokenURL: srv.URL + "/token", RevocationURL: srv.URL + "/revoke"},
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	want := host + " answered with a redirect; oat does not follow redirects of token requests: check the endpoint URL"
	for name, call := range map[string]func() error{
		"refresh": func() error { _, err := c.Refresh(context.Background(), "rt-value"); return err },
		"client credentials": func() error {
			_, err := c.ClientCredentials(context.Background())
			return err
		},
		"revoke": func() error { return c.Revoke(context.Background(), "rt-value", "refresh_token") },
	} {
		err := call()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", name, err, want)
			continue
		}
		var te *httpx.TemporaryError
		if errors.As(err, &te) {
			t.Errorf("%s: a refused redirect is not temporary: %v", name, err)
		}
		if strings.Contains(err.Error(), "rt-value") || strings.Contains(err.Error(), "s3cret-value") {
			t.Errorf("%s: message holds a secret: %v", name, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want none", n)
	}
}
