//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keychain

// preflight has nothing to check before the macOS or Windows keychain.
func preflight() string { return "" }

// describe says why a keychain call failed.
func describe(err error) string { return "the OS keychain failed: " + err.Error() }
