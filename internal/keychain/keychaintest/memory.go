package keychaintest

import (
	"slices"
	"sync"

	"github.com/oatcli/oat/internal/keychain"
)

// Memory is a keychain.Store in memory, for tests. It can be made unavailable on
// demand, to test what oat does when the keychain cannot be reached.
type Memory struct {
	mu      sync.Mutex
	secrets map[string]string
	down    string // reason; "" = available
	kind    string
}

// NewMemory returns an empty, available Memory of kind "keychain".
func NewMemory() *Memory {
	return &Memory{secrets: map[string]string{}, kind: keychain.KindKeychain}
}

// SetUnavailable makes every call fail with an error wrapping ErrUnavailable
// that gives reason; an empty reason makes the store available again.
func (m *Memory) SetUnavailable(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = reason
}

// SetKind changes what Kind reports ("keychain" or "file").
func (m *Memory) SetKind(kind string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kind = kind
}

// Keys lists the stored keys, sorted. It works even when unavailable.
func (m *Memory) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.secrets))
	for k := range m.secrets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (m *Memory) hint() string {
	if m.kind == keychain.KindKeychain {
		return keychain.OptInHint
	}
	return ""
}

func (m *Memory) err() error {
	if m.down == "" {
		return nil
	}
	return &keychain.UnavailableError{What: m.kind, Reason: m.down, Hint: m.hint()}
}

// Get implements keychain.Store.
func (m *Memory) Get(key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.err(); err != nil {
		return "", err
	}
	s, ok := m.secrets[key]
	if !ok {
		return "", keychain.ErrNotFound
	}
	return s, nil
}

// Set implements keychain.Store.
func (m *Memory) Set(key, secret string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.err(); err != nil {
		return err
	}
	m.secrets[key] = secret
	return nil
}

// Delete implements keychain.Store.
func (m *Memory) Delete(key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.err(); err != nil {
		return err
	}
	delete(m.secrets, key)
	return nil
}

// Check implements keychain.Store.
func (m *Memory) Check() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err()
}

// Kind implements keychain.Store.
func (m *Memory) Kind() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.kind
}
