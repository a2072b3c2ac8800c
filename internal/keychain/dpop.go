package keychain

import (
	"errors"
	"strings"
)

// DPoP keys. A profile with dpop = true keeps the private key its tokens are
// bound to (RFC 9449) beside its refresh token, in the same Store: entry
// KEY:dpop (a storage key never holds ':'), in the keychain as user
// "PROFILE:dpop", in file storage as <key>.dpop_key. The refresh token's
// binding record names the key's thumbprint (Record.DPoPJKT), so a token is
// never sent with a proof of another key.
const dpopSuffix = ":dpop"

// dpopFileSuffix ends the name of a DPoP key file in the state folder.
const dpopFileSuffix = ".dpop_key"

func dpopEntry(key string) string { return key + dpopSuffix }

// GetDPoPKey returns the DPoP key stored for key (a JWK), or an error
// wrapping ErrNotFound or ErrUnavailable.
func (b *Bound) GetDPoPKey(key string) ([]byte, error) {
	s, err := b.Store.Get(dpopEntry(key))
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// SetDPoPKey stores the DPoP key for key, replacing the one there.
func (b *Bound) SetDPoPKey(key string, jwk []byte) error {
	if len(jwk) == 0 {
		return errors.New("empty DPoP key")
	}
	return b.Store.Set(dpopEntry(key), string(jwk))
}

// DeleteDPoPKey removes the DPoP key of key; an absent one is no error.
func (b *Bound) DeleteDPoPKey(key string) error {
	return b.Store.Delete(dpopEntry(key))
}

// isDPoPEntry splits a DPoP key entry into its storage key.
func isDPoPEntry(entry string) (string, bool) {
	return strings.CutSuffix(entry, dpopSuffix)
}
