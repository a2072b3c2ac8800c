package provtest

import (
	"net/url"
	"sync"
)

// tokenLog records the token requests an emulator received, for tests to
// ask what came: how many of a grant type, and the last one's form.
type tokenLog struct {
	mu     sync.Mutex
	grants []string // each request's grant type, as the emulator counts it
	forms  []url.Values
}

func (l *tokenLog) record(grantType string, form url.Values) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.grants = append(l.grants, grantType)
	l.forms = append(l.forms, form)
}

// Grants counts the token requests the emulator received with that grant
// type.
func (l *tokenLog) Grants(grantType string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, g := range l.grants {
		if g == grantType {
			n++
		}
	}
	return n
}

// LastForm is the form of the last token request with that grant type (nil
// when none came).
func (l *tokenLog) LastForm(grantType string) url.Values {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.forms) - 1; i >= 0; i-- {
		if l.grants[i] == grantType {
			return l.forms[i]
		}
	}
	return nil
}
