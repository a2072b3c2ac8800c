package session

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/oatcli/oat/internal/tokencache"
)

// ForgetAccessToken drops the cached access token, so that the next Token
// renews it, when it is accessToken ("" means whichever is cached): a
// consumer saw the server refuse it. The refresh token, the ID token and the
// subject stay. A cached token other than accessToken (already renewed by
// another process) is kept. It reports whether a token was dropped, and works
// under the profile's lock so that it never undoes a renewal.
func (m *Manager) ForgetAccessToken(ctx context.Context, accessToken string) (bool, error) {
	lctx, cancel := context.WithTimeout(ctx, LockTimeout)
	unlock, err := m.Cache.Lock(lctx, m.key())
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("waiting for another oat process renewing profile %q: %w", m.Profile.Name, err)
	}
	defer unlock()
	e, err := m.Cache.Load(m.key())
	if errors.Is(err, tokencache.ErrNotFound) || errors.Is(err, tokencache.ErrCorrupt) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if e.AccessToken == "" {
		return false, nil
	}
	if accessToken != "" && subtle.ConstantTimeCompare([]byte(e.AccessToken), []byte(accessToken)) != 1 {
		return false, nil
	}
	e.AccessToken = ""
	e.Expiry = time.Time{}
	e.UpdatedAt = m.now()
	if err := m.Cache.Save(m.key(), e); err != nil {
		return false, err
	}
	return true, nil
}
