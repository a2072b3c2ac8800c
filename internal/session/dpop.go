package session

import (
	"errors"
	"fmt"

	"github.com/oatcli/oat/internal/dpop"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/tokencache"
)

// DPoP (RFC 9449, profile key dpop). The key is made at login, stored in
// the refresh-token store before the refresh token (whose binding record
// names its thumbprint), and replaced by every login; revoke deletes it with
// the refresh token. The cache entry names the thumbprint too, so a cache
// hit needs no key: the key is read only when a proof is made (a renewal,
// oat curl, --dpop-proof).

// ErrNoDPoPKey is the error of a proof asked for a token that is not
// DPoP-bound, or whose key is not stored.
var ErrNoDPoPKey = errors.New("no DPoP key for this token")

func (m *Manager) dpop() bool { return m.Profile.Profile.DPoP }

// errDPoPToggled says the stored refresh token and the profile disagree on
// DPoP: it was issued with a key and dpop is now off, or the other way round.
var errDPoPToggled = errors.New("dpop was turned on or off since the login, and the stored refresh token is bound (or not) accordingly")

// errDPoPKeyLost says the stored key is not the one the token is bound to.
var errDPoPKeyLost = errors.New("the stored DPoP key is missing or not the one the refresh token is bound to, so it was not sent")

// storedDPoPKey reads the DPoP key stored for the profile; nil, nil when
// none is stored.
func (m *Manager) storedDPoPKey(st *keychain.Bound) (*dpop.Key, error) {
	b, err := st.GetDPoPKey(m.key())
	if errors.Is(err, keychain.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	k, err := dpop.ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errDPoPKeyLost, err)
	}
	return k, nil
}

// refreshKey returns the key a refresh must prove: the stored one, when the
// refresh token's record names it; nil when the profile has no dpop and the
// token no key. Otherwise a *LoginRequiredError: nothing is sent.
func (m *Manager) refreshKey(st *keychain.Bound, rec *keychain.Record) (*dpop.Key, error) {
	if !m.dpop() && rec.DPoPJKT == "" {
		return nil, nil
	}
	if m.dpop() != (rec.DPoPJKT != "") {
		return nil, &LoginRequiredError{Profile: m.Profile, Reason: errDPoPToggled}
	}
	k, err := m.storedDPoPKey(st)
	if errors.Is(err, errDPoPKeyLost) || err == nil && (k == nil || k.JKT() != rec.DPoPJKT) {
		return nil, &LoginRequiredError{Profile: m.Profile, Reason: errDPoPKeyLost}
	}
	return k, err
}

// machineKey returns the key of a client-credentials grant: the stored one,
// else a new one, stored before it is used (the caller holds the lock).
func (m *Manager) machineKey(st *keychain.Bound) (*dpop.Key, error) {
	k, err := m.storedDPoPKey(st)
	if err != nil && !errors.Is(err, errDPoPKeyLost) {
		return nil, err
	}
	if k != nil {
		return k, nil
	}
	if k, err = dpop.NewKey(); err != nil {
		return nil, err
	}
	return k, m.saveDPoPKey(st, k)
}

func (m *Manager) saveDPoPKey(st *keychain.Bound, k *dpop.Key) error {
	b, err := k.Marshal()
	if err != nil {
		return err
	}
	if err := st.SetDPoPKey(m.key(), b); err != nil {
		return fmt.Errorf("storing the DPoP key: %w", err)
	}
	return nil
}

// DPoPKey returns the key the cached token e is bound to, for a proof: an
// error wrapping ErrNoDPoPKey when e was not requested with one or the
// store no longer holds it (a login since replaced it), so that the caller
// says to renew or log in.
func (m *Manager) DPoPKey(e *tokencache.Entry) (*dpop.Key, error) {
	if e == nil || e.DPoPJKT == "" {
		return nil, fmt.Errorf("%w: the access token is DPoP-bound, but oat did not request it with a key of its own (set dpop = true in the profile and log in again)", ErrNoDPoPKey)
	}
	st, err := m.store()
	if err != nil {
		return nil, err
	}
	k, err := m.storedDPoPKey(st)
	if errors.Is(err, errDPoPKeyLost) || err == nil && (k == nil || k.JKT() != e.DPoPJKT) {
		return nil, fmt.Errorf("%w: the stored key is missing or another one (run oat refresh, or oat login)", ErrNoDPoPKey)
	}
	return k, err
}
