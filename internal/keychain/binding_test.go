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

// failingSet is a Memory whose Set fails while fail is true.
type failingSet struct {
	*keychaintest.Memory
	fail bool
}

func (s *failingSet) Set(key, secret string) error {
	if s.fail {
		return errors.New("keychain said no")
	}
	return s.Memory.Set(key, secret)
}

func TestBoundHandsOutTokensOnlyForTheirBinding(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mem := &failingSet{Memory: keychaintest.NewMemory()}
	b := keychain.NewBound(mem, dir)
	a := config.Binding{Issuer: "https://a.example", ClientID: "c"}
	other := config.Binding{Issuer: "https://b.example", ClientID: "c"}

	if _, _, err := b.Get("work", a); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("empty store: %v", err)
	}
	if err := b.Set("work", "rt-a", keychain.Record{Binding: a, Subject: "alice"}); err != nil {
		t.Fatal(err)
	}
	rt, rec, err := b.Get("work", a)
	if err != nil || rt != "rt-a" || rec.Subject != "alice" {
		t.Fatalf("Get = %q, %+v, %v", rt, rec, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "work.keychain.binding"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("record file: %v, %v", fi, err)
	}
	var mm *keychain.MismatchError
	if rt, _, err := b.Get("work", other); !errors.As(err, &mm) || rt != "" || mm.Stored != a {
		t.Fatalf("Get for another server = %q, %v", rt, err)
	}
	if _, _, err := b.Get("work", config.Binding{Issuer: a.Issuer, ClientID: "d"}); !errors.As(err, &mm) {
		t.Fatalf("Get for another client: %v", err)
	}

	// Storing for other settings fails half-way: the old token is then
	// marked pending, never handed out for either binding.
	mem.fail = true
	if err := b.Set("work", "rt-b", keychain.Record{Binding: other}); err == nil {
		t.Fatal("Set succeeded")
	}
	for _, want := range []config.Binding{a, other} {
		if _, _, err := b.Get("work", want); !errors.As(err, &mm) || !mm.Pending {
			t.Errorf("after an interrupted Set, Get(%v) = %v", want, err)
		}
	}
	mem.fail = false
	if err := b.Set("work", "rt-b", keychain.Record{Binding: other}); err != nil {
		t.Fatal(err)
	}
	if rt, _, err := b.Get("work", other); err != nil || rt != "rt-b" {
		t.Fatalf("Get after Set for other = %q, %v", rt, err)
	}

	// A token with no record (an older oat) is not handed out until adopted.
	if err := mem.Set("legacy", "rt-old"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Get("legacy", a); !errors.Is(err, keychain.ErrUnbound) {
		t.Fatalf("token without a record: %v", err)
	}
	if err := b.Adopt("legacy", keychain.Record{Binding: a}); err != nil {
		t.Fatal(err)
	}
	if rt, _, err := b.Get("legacy", a); err != nil || rt != "rt-old" {
		t.Fatalf("adopted: %q, %v", rt, err)
	}

	// A record that is a link or not JSON binds to nothing.
	p := filepath.Join(dir, "legacy.keychain.binding")
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Get("legacy", a); !errors.As(err, &mm) || !mm.Pending {
		t.Errorf("garbled record: %v", err)
	}
	os.Remove(p)
	if err := os.Symlink(filepath.Join(dir, "work.keychain.binding"), p); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Get("legacy", other); !errors.As(err, &mm) {
		t.Errorf("symlinked record: %v", err)
	}

	// Delete removes token and record.
	if err := b.Delete("work"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "work.keychain.binding")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("record left after Delete: %v", err)
	}
	if _, _, err := b.Get("work", other); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("after Delete: %v", err)
	}
}
