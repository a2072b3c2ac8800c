package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/oatcli/oat/internal/fsutil"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
)

// client builds the auth.Client, resolving endpoints. Discovered endpoints are
// kept in the cache folder for DiscoveryTTL so that a renewal costs one round
// trip; fresh forces a new discovery (login does, to notice server changes).
func (m *Manager) client(ctx context.Context, fresh bool) (*auth.Client, error) {
	hc, err := m.HTTP()
	if err != nil {
		return nil, err
	}
	ep, err := m.endpoints(ctx, hc, fresh)
	if err != nil {
		return nil, err
	}
	secret := ""
	if m.Secret != nil {
		if secret, err = m.Secret(); err != nil {
			return nil, err
		}
	}
	return &auth.Client{HTTP: hc, Profile: m.Profile.Profile, Secret: secret, Endpoints: ep, Now: m.Now, Getenv: m.Getenv,
		JWKSCache: m.jwksPath(ep.JWKSURL), ProfileToken: m.ProfileToken}, nil
}

// jwksPath names the file that keeps the JWKS at url beside the discovery
// cache, so that a renewal verifies its ID token without fetching the keys:
// one round trip. "" when there is no cache folder or no JWKS URL.
func (m *Manager) jwksPath(url string) string {
	if url == "" || m.Cache == nil {
		return ""
	}
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(m.Cache.Dir(), "discovery", "jwks-"+hex.EncodeToString(sum[:12])+".json")
}

type discoveryEntry struct {
	Endpoints *auth.Endpoints `json:"endpoints"`
	Fetched   time.Time       `json:"fetched"`
}

func (m *Manager) endpoints(ctx context.Context, hc *http.Client, fresh bool) (*auth.Endpoints, error) {
	p := m.Profile.Profile
	path := m.discoveryPath(p)
	ttl := m.DiscoveryTTL
	if ttl == 0 {
		ttl = time.Hour
	}
	if !fresh && path != "" {
		b, err := fsutil.ReadFile(path, fsutil.MaxFileSize)
		if errors.Is(err, fsutil.ErrUnsafe) {
			return nil, err
		}
		if err == nil {
			var d discoveryEntry
			if json.Unmarshal(b, &d) == nil && d.Endpoints != nil && m.now().Sub(d.Fetched) < ttl && d.Fetched.Before(m.now().Add(time.Minute)) {
				return d.Endpoints, nil
			}
		}
	}
	ep, err := auth.ResolveEndpoints(ctx, hc, p)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if b, err := json.Marshal(discoveryEntry{Endpoints: ep, Fetched: m.now()}); err == nil {
			// A cache: failing to write it only costs a request later.
			if fsutil.PrivateDir(filepath.Dir(path)) == nil {
				_ = fsutil.WriteCacheFile(path, b)
			}
		}
	}
	return ep, nil
}

// discoveryPath names the discovery cache file for the endpoint settings of p,
// or "" when p has no issuer (nothing to discover).
func (m *Manager) discoveryPath(p config.Profile) string {
	if p.Issuer == "" || m.Cache == nil {
		return ""
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{p.Issuer, p.AuthorizationURL, p.TokenURL,
		p.DeviceAuthorizationURL, p.RevocationURL, p.JWKSURL, p.Flow}, "\n")))
	return filepath.Join(m.Cache.Dir(), "discovery", hex.EncodeToString(sum[:12])+".json")
}

// HasDeviceEndpoint reports whether the profile's server offers the device
// flow (false when discovery fails: the caller then keeps its default).
func (m *Manager) HasDeviceEndpoint(ctx context.Context) bool {
	if m.Profile.Profile.DeviceAuthorizationURL != "" {
		return true
	}
	hc, err := m.HTTP()
	if err != nil {
		return false
	}
	ep, err := m.endpoints(ctx, hc, false)
	return err == nil && ep.DeviceAuthURL != ""
}
