package keychaintest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/keychain"
)

func TestMemoryStore(t *testing.T) {
	m := NewMemory()
	var s keychain.Store = m
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	mustSet(t, s, "work", "rt-1")
	mustGet(t, s, "work", "rt-1")
	if !slices.Equal(m.Keys(), []string{"work"}) {
		t.Errorf("Keys = %v", m.Keys())
	}

	m.SetUnavailable("the keyring is locked")
	for name, err := range map[string]error{
		"Check":  s.Check(),
		"Set":    s.Set("work", "rt-2"),
		"Delete": s.Delete("work"),
	} {
		if !errors.Is(err, keychain.ErrUnavailable) || !strings.Contains(err.Error(), "the keyring is locked") || !strings.Contains(err.Error(), "OAT_STORAGE=file") {
			t.Errorf("%s while unavailable: %v", name, err)
		}
	}
	if _, err := s.Get("work"); !errors.Is(err, keychain.ErrUnavailable) {
		t.Errorf("Get while unavailable: %v", err)
	}

	m.SetUnavailable("")
	mustGet(t, s, "work", "rt-1") // nothing changed while unavailable
	if err := s.Delete("work"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("work"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	m.SetKind(keychain.KindFile)
	if s.Kind() != "file" {
		t.Errorf("Kind after SetKind = %q", s.Kind())
	}
}

func mustSet(t *testing.T, s keychain.Store, key, secret string) {
	t.Helper()
	if err := s.Set(key, secret); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, s keychain.Store, key, want string) {
	t.Helper()
	got, err := s.Get(key)
	if err != nil || got != want {
		t.Fatalf("Get(%q) = %d bytes, %v; want %d bytes", key, len(got), err, len(want))
	}
}
