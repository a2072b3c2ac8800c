//go:build !unix

package keychaintest

import "testing"

// hold: no Secret Service outside Unix, nothing to share.
func hold(testing.TB, bool) {}
