package config

import (
	"testing"
	"time"
)

// The documented defaults (docs/configuration.md), read through the one
// place that knows them.
func TestDefaults(t *testing.T) {
	var p Profile
	if p.FlowOrDefault() != "pkce" || p.StorageOrDefault() != "keychain" || p.RedirectHostOrDefault() != "127.0.0.1" ||
		p.RedirectPathOrDefault() != "/callback" || p.AssumedTTL() != time.Hour {
		t.Errorf("defaults of an empty profile: flow %q, storage %q, redirect %q %q, assume_ttl %s",
			p.FlowOrDefault(), p.StorageOrDefault(), p.RedirectHostOrDefault(), p.RedirectPathOrDefault(), p.AssumedTTL())
	}
	p = Profile{Flow: "device", Storage: "file", RedirectHost: "localhost", RedirectPath: "cb", AssumeTTL: "90m"}
	if p.FlowOrDefault() != "device" || p.StorageOrDefault() != "file" || p.RedirectHostOrDefault() != "localhost" ||
		p.RedirectPathOrDefault() != "/cb" || p.AssumedTTL() != 90*time.Minute {
		t.Errorf("set values: flow %q, storage %q, redirect %q %q, assume_ttl %s",
			p.FlowOrDefault(), p.StorageOrDefault(), p.RedirectHostOrDefault(), p.RedirectPathOrDefault(), p.AssumedTTL())
	}
	for _, tc := range []struct {
		set       string
		hasSecret bool
		server    []string
		want      string
	}{
		{"", false, []string{"client_secret_post"}, "none"},
		{"", true, nil, "basic"},
		{"", true, []string{"private_key_jwt", "client_secret_post", "client_secret_basic"}, "post"},
		{"", true, []string{"tls_client_auth"}, "basic"},
		{"post", false, nil, "post"},
		{"basic", true, []string{"client_secret_post"}, "basic"},
	} {
		if got := (Profile{ClientAuth: tc.set}).ClientAuthOrDefault(tc.hasSecret, tc.server); got != tc.want {
			t.Errorf("client_auth %q, secret %v, server %v: %q, want %q", tc.set, tc.hasSecret, tc.server, got, tc.want)
		}
	}
}
