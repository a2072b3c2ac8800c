package keychain_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/keychain/keychaintest"
)

// A DPoP key lives beside the refresh token with the same guarantees: in
// file storage its own 0600 file, <key>.dpop_key, next to
// <key>.refresh_token (never mistaken for a refresh token of a profile
// with a similar name), and Delete removes both.
func TestDPoPKeyBesideTheRefreshToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := keychain.NewBound(keychain.NewFile(dir), dir)
	rec := keychain.Record{Binding: config.Binding{Issuer: "https://a.example", ClientID: "c"}, DPoPJKT: "jkt-1"}
	if err := b.Set("work", "rt", rec); err != nil {
		t.Fatal(err)
	}
	if err := b.SetDPoPKey("work", []byte(`{"kty":"EC","d":"secret"}`)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "work.dpop_key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if got, err := b.GetDPoPKey("work"); err != nil || string(got) != `{"kty":"EC","d":"secret"}` {
		t.Errorf("GetDPoPKey = %s, %v", got, err)
	}
	if _, err := b.GetDPoPKey("work.dpop"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("profile work.dpop sees work's key: %v", err)
	}
	if _, r, err := b.Get("work", rec.Binding); err != nil || r.DPoPJKT != "jkt-1" {
		t.Errorf("record %+v, %v", r, err)
	}
	if err := b.Delete("work"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetDPoPKey("work"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("the key outlived Delete: %v", err)
	}
	if err := b.DeleteDPoPKey("work"); err != nil {
		t.Errorf("deleting an absent key: %v", err)
	}

	m := keychain.NewBound(keychaintest.NewMemory(), t.TempDir())
	if err := m.SetDPoPKey("adhoc-0123", []byte("k")); err != nil {
		t.Fatal(err)
	}
	if got := m.Store.(*keychaintest.Memory).Keys(); len(got) != 1 || got[0] != "adhoc-0123:dpop" {
		t.Errorf("keychain entries %q, want the user adhoc-0123:dpop", got)
	}
}
