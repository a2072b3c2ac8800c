package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/tokencache"
)

// benchEnv is a config file with one profile and, in the cache, a valid
// access token for it: `oat token` is a cache hit.
func benchEnv(b testing.TB) func(string) string {
	b.Helper()
	dir := b.TempDir()
	env := map[string]string{
		"HOME":            dir,
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"XDG_CACHE_HOME":  filepath.Join(dir, "cache"),
		"XDG_STATE_HOME":  filepath.Join(dir, "state"),
	}
	cfg := filepath.Join(dir, "config", "oat", "config.toml")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(`default_profile = "work"

[profiles.work]
issuer = "https://login.example.com"
client_id = "cli-app"
scopes = ["openid", "profile", "offline_access"]
`), 0o600); err != nil {
		b.Fatal(err)
	}
	p := config.Profile{Issuer: "https://login.example.com", ClientID: "cli-app", Scopes: []string{"openid", "profile", "offline_access"}}
	tok, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample.jwt"))
	if err != nil {
		b.Fatal(err)
	}
	e := &tokencache.Entry{AccessToken: strings.TrimSpace(string(tok)), TokenType: "Bearer",
		Expiry: time.Now().Add(time.Hour), Fingerprint: config.Fingerprint(p), Storage: "keychain"}
	if err := tokencache.New(filepath.Join(dir, "cache", "oat")).Save("work", e); err != nil {
		b.Fatal(err)
	}
	return func(k string) string { return env[k] }
}

// BenchmarkTokenCached is the whole in-process `oat token` on a cache hit:
// command tree, config file, cache read, output. Process start-up and
// package init are not in it (bench/run measures those).
func BenchmarkTokenCached(b *testing.B) {
	getenv := benchEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		f := NewFactory(strings.NewReader(""), io.Discard, io.Discard, getenv)
		f.StoreFor = isolatedStores(b, getenv) // keychain storage: a cache hit must not touch it
		if code := Run(context.Background(), f, []string{"token"}); code != 0 {
			b.Fatalf("oat token: exit %d", code)
		}
	}
}

// BenchmarkDecode is the whole in-process `oat decode TOKEN` of the 800-byte
// sample token.
func BenchmarkDecode(b *testing.B) {
	getenv := benchEnv(b)
	tok, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample.jwt"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		f := NewFactory(strings.NewReader(""), io.Discard, io.Discard, getenv)
		f.StoreFor = isolatedStores(b, getenv)
		if code := Run(context.Background(), f, []string{"decode", strings.TrimSpace(string(tok))}); code != 0 {
			b.Fatalf("oat decode: exit %d", code)
		}
	}
}
