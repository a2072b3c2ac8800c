// Package session ties one profile's tokens together: the access/ID-token
// cache, the refresh token in its Store, and the flows of internal/auth. It
// decides when to renew, holds the cross-process lock while renewing, stores a
// rotated refresh token before anything else, and never deletes data on a
// failure. It prints nothing.
package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/dpop"
	"github.com/oatcli/oat/internal/fsutil"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/tokencache"
)

// LockTimeout bounds the wait for another process's renewal.
const LockTimeout = 2 * time.Minute

// errSubjectChanged refuses a refresh whose ID token names another user.
var errSubjectChanged = errors.New("the server answered the refresh with an ID token for another user (its sub differs from the session's), which OpenID Connect forbids; the answer was not used")

// Manager works on one resolved profile.
type Manager struct {
	Profile *config.Resolved
	Cache   *tokencache.Cache
	// Store returns the refresh-token store; called only when needed, so a
	// cache hit never touches the keychain.
	Store func() (keychain.Store, error)
	// Bindings is the folder of the refresh tokens' binding records
	// (keychain.StateDir): which server and client each was issued to.
	Bindings string
	// LockTimeout bounds the wait for another process's renewal (default
	// LockTimeout).
	LockTimeout time.Duration
	// HTTP returns the HTTP client; called only when a request is needed.
	HTTP func() (*http.Client, error)
	// Secret returns the client secret ("" for public clients); called only
	// when a request is built, so a cache hit never needs it. nil means none.
	Secret func() (string, error)
	Now    func() time.Time
	// Getenv reads the environment for client_assertion env: and
	// github-actions sources; os.Getenv when nil.
	Getenv func(string) string
	// DiscoveryTTL is how long discovered endpoints are reused (default 1h).
	DiscoveryTTL time.Duration
	// ProfileToken returns a valid access token of another profile (for
	// subject_token_from profile:NAME), renewing it as oat token would.
	ProfileToken func(ctx context.Context, name string) (string, error)
}

// LoginRequiredError says the profile needs `oat login` (exit 3).
type LoginRequiredError struct {
	Profile *config.Resolved
	Reason  error // the server's invalid_grant, or nil when nothing is stored
}

func (e *LoginRequiredError) Error() string {
	hint := "run oat login -p " + e.Profile.Name
	if e.Profile.AdHoc() {
		hint = "run oat login with the same flags"
	}
	if e.Reason != nil {
		return fmt.Sprintf("profile %q needs login (%v): %s", e.Profile.Name, e.Reason, hint)
	}
	return fmt.Sprintf("profile %q needs login: %s", e.Profile.Name, hint)
}

func (e *LoginRequiredError) Is(target error) bool { return target == auth.ErrLoginRequired }

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Manager) key() string { return m.Profile.Key }

func (m *Manager) binding() config.Binding { return m.Profile.Profile.Binding() }

func (m *Manager) lockTimeout() time.Duration {
	if m.LockTimeout > 0 {
		return m.LockTimeout
	}
	return LockTimeout
}

// store returns the refresh-token store with its binding records.
func (m *Manager) store() (*keychain.Bound, error) {
	st, err := m.Store()
	if err != nil {
		return nil, err
	}
	if m.Bindings == "" {
		return nil, errors.New("no folder for the refresh tokens' binding records")
	}
	return keychain.NewBound(st, m.Bindings), nil
}

// storedRefreshToken returns the refresh token stored for the profile with
// its record, only when it was issued to the profile's server and client.
// Otherwise it returns a *LoginRequiredError and the token is not read out
// (nothing is sent anywhere). A token stored by an oat without binding
// records is adopted when the cache entry written with it was minted for
// these very settings (see adoptable); else it needs a login too.
func (m *Manager) storedRefreshToken(st *keychain.Bound) (string, *keychain.Record, error) {
	rt, rec, err := st.Get(m.key(), m.binding())
	if errors.Is(err, keychain.ErrUnbound) {
		if rec, ok := m.adoptable(); ok {
			if err := st.Adopt(m.key(), rec); err != nil {
				return "", nil, err
			}
			rt, rec, err := st.Get(m.key(), m.binding())
			return rt, rec, m.loginRequired(err)
		}
	}
	return rt, rec, m.loginRequired(err)
}

// loginRequired turns "no usable refresh token" errors into a
// *LoginRequiredError; others pass.
func (m *Manager) loginRequired(err error) error {
	var mm *keychain.MismatchError
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		return &LoginRequiredError{Profile: m.Profile}
	case errors.As(err, &mm), errors.Is(err, keychain.ErrUnbound):
		return &LoginRequiredError{Profile: m.Profile, Reason: fmt.Errorf("%w, so it was not sent", err)}
	}
	return err
}

// adoptable decides where a refresh token stored without a binding record
// (by an oat before records existed) came from: from the profile's current
// settings when the cache entry that oat wrote beside it holds an access
// token minted for exactly these settings. Then it returns the record to
// write. A missing, failed or differing cache entry proves nothing.
func (m *Manager) adoptable() (keychain.Record, bool) {
	prev, err := m.Cache.Load(m.key())
	if err != nil || prev.AccessToken == "" || prev.NeedsLogin || prev.Fingerprint != m.Profile.Fingerprint {
		return keychain.Record{}, false
	}
	rec := keychain.Record{Binding: m.binding()}
	if prev.IDToken != "" {
		rec.Subject = prev.Subject
	}
	return rec, true
}

// StoredRefreshToken says where the profile's refresh token is stored
// (keychain.KindKeychain or KindFile, "" when none) and whether it may be
// used with the profile's settings. It reads and writes nothing else.
func (m *Manager) StoredRefreshToken() (kind string, usable bool, err error) {
	st, err := m.store()
	if err != nil {
		return "", false, err
	}
	_, _, err = st.Get(m.key(), m.binding())
	var mm *keychain.MismatchError
	switch {
	case err == nil:
		return st.Kind(), true, nil
	case errors.Is(err, keychain.ErrUnbound):
		_, ok := m.adoptable()
		return st.Kind(), ok, nil
	case errors.As(err, &mm):
		return st.Kind(), false, nil
	case errors.Is(err, keychain.ErrNotFound):
		return "", false, nil
	}
	return "", false, err
}

// isMachine reports a profile renewed by running its grant again
// (client credentials, token exchange): it keeps no refresh token.
func (m *Manager) isMachine() bool {
	return config.IsMachineFlow(m.Profile.Profile.Flow)
}

// Cached returns the cached entry when it holds an access token minted for the
// current settings that is valid for at least minTTL; otherwise nil. It reads
// one file and nothing else.
func (m *Manager) Cached(minTTL time.Duration) *tokencache.Entry {
	e, _ := m.Lookup(minTTL)
	return e
}

// Lookup is Cached, but a cache file or folder that is not safely oat's own
// is an error: oat stops there rather than renew over it.
func (m *Manager) Lookup(minTTL time.Duration) (*tokencache.Entry, error) {
	e, err := m.Cache.Load(m.key())
	if errors.Is(err, fsutil.ErrUnsafe) {
		return nil, err
	}
	if err != nil || !m.usable(e, minTTL) {
		return nil, nil
	}
	return e, nil
}

func (m *Manager) usable(e *tokencache.Entry, minTTL time.Duration) bool {
	return e.Usable(m.Profile.Fingerprint, m.dpop(), minTTL, m.now())
}

// Token returns an access token valid for at least minTTL, renewing it when
// needed. Renewal happens under the profile's lock; a process that waited for
// the lock uses the token the holder got.
func (m *Manager) Token(ctx context.Context, minTTL time.Duration) (*tokencache.Entry, error) {
	if e, err := m.Lookup(minTTL); e != nil || err != nil {
		return e, err
	}
	return m.Renew(ctx, minTTL)
}

// Renew is Token for a caller whose Lookup just found no usable token: it
// goes to the profile's lock without reading the cache again (under the
// lock it does, for another process's renewal).
func (m *Manager) Renew(ctx context.Context, minTTL time.Duration) (*tokencache.Entry, error) {
	start := m.now()
	return m.renewLocked(ctx, func(e *tokencache.Entry) bool {
		// Renewed by another process while this one waited: use it, even if
		// the server's tokens live shorter than minTTL, as long as it has not
		// expired.
		return m.usable(e, minTTL) || (e.UpdatedAt.After(start) && m.usable(e, 0))
	})
}

// Refresh renews now, whatever the cache holds. Processes that were waiting on
// the lock while this one renewed will reuse its result via Token.
func (m *Manager) Refresh(ctx context.Context) (*tokencache.Entry, error) {
	return m.renewLocked(ctx, nil)
}

func (m *Manager) renewLocked(ctx context.Context, fresh func(*tokencache.Entry) bool) (*tokencache.Entry, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if fresh != nil {
		if e, err := m.Cache.Load(m.key()); err == nil && fresh(e) {
			return e, nil
		}
	}
	if m.isMachine() {
		return m.machineGrant(ctx)
	}
	return m.refresh(ctx)
}

// lock takes the profile's renewal lock, waiting at most m.LockTimeout for
// another process: then it fails with an error wrapping tokencache.ErrBusy
// (exit 4) that names the holder's PID where known.
func (m *Manager) lock(ctx context.Context) (func(), error) {
	lctx, cancel := context.WithTimeout(ctx, m.lockTimeout())
	defer cancel()
	unlock, err := m.Cache.Lock(lctx, m.key())
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return unlock, err
}

// machineGrant renews a machine profile: a new client-credentials grant,
// or a new token exchange (which reads its subject token afresh).
func (m *Manager) machineGrant(ctx context.Context) (*tokencache.Entry, error) {
	c, err := m.client(ctx, false)
	if err != nil {
		return nil, err
	}
	if m.dpop() {
		st, err := m.store()
		if err != nil {
			return nil, err
		}
		if c.DPoP, err = m.machineKey(st); err != nil {
			return nil, err
		}
	}
	var res *auth.Result
	if m.Profile.Profile.Flow == config.FlowTokenExchange {
		res, err = c.TokenExchange(ctx)
	} else {
		res, err = c.ClientCredentials(ctx)
	}
	if err != nil {
		return nil, err
	}
	return m.save(res, "", nil, c.DPoP)
}

func (m *Manager) refresh(ctx context.Context) (*tokencache.Entry, error) {
	st, err := m.store()
	if err != nil {
		return nil, err
	}
	rt, rec, err := m.storedRefreshToken(st)
	if err != nil {
		return nil, err
	}
	key, err := m.refreshKey(st, rec)
	if err != nil {
		return nil, err
	}
	c, err := m.client(ctx, false)
	if err != nil {
		return nil, err
	}
	c.DPoP = key
	tok, err := c.RefreshGrant(ctx, rt)
	if errors.Is(err, auth.ErrLoginRequired) {
		// Another process or machine sharing this keychain may have rotated
		// the refresh token since we read it: try the stored one once more,
		// but only when it is bound to the key this refresh proves (a new
		// login elsewhere made another one): never with another key's proof.
		if again, rec2, gerr := st.Get(m.key(), m.binding()); gerr == nil && again != rt && rec2.DPoPJKT == rec.DPoPJKT {
			rt = again
			tok, err = c.RefreshGrant(ctx, rt)
		}
	}
	if errors.Is(err, auth.ErrLoginRequired) {
		m.markNeedsLogin()
		return nil, &LoginRequiredError{Profile: m.Profile, Reason: err}
	}
	var unusable *auth.UnusableTokenError
	if errors.As(err, &unusable) {
		// The access token cannot be used, but a rotated refresh token that
		// came with it is stored all the same: the old one is spent.
		if nrt := unusable.RefreshToken; nrt != "" && nrt != rt {
			if serr := st.Set(m.key(), nrt, *rec); serr != nil {
				return nil, fmt.Errorf("storing the rotated refresh token: %w", serr)
			}
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	// A rotated refresh token is stored before anything else is done with
	// the response, even before its ID token is checked: the old one is dead.
	if nrt := tok.RefreshToken; nrt != "" && nrt != rt {
		if err := st.Set(m.key(), nrt, *rec); err != nil {
			return nil, fmt.Errorf("storing the rotated refresh token: %w", err)
		}
	}
	res, err := c.Complete(ctx, tok)
	if err != nil {
		return nil, err
	}
	prev, _ := m.Cache.Load(m.key())
	if res.IDToken != "" {
		// OIDC Core 12.2: the sub of a refreshed ID token is the session's.
		// Refused before anything is cached; the rotated refresh token stays
		// stored (the old one is dead), and every renewal checks again, so
		// the session never silently becomes another user's.
		want := rec.Subject
		if want == "" && prev != nil && prev.IDToken != "" && prev.Fingerprint == m.Profile.Fingerprint {
			want = prev.Subject
		}
		if want != "" && res.Subject != want {
			return nil, &LoginRequiredError{Profile: m.Profile, Reason: errSubjectChanged}
		}
		if rec.Subject == "" {
			r := *rec
			r.Subject = res.Subject
			_ = st.Adopt(m.key(), r) // only a record of who it is; the check above already held
		}
	}
	return m.save(res, st.Kind(), prev, key)
}

// markNeedsLogin records invalid_grant in the cache so that status shows it;
// it deletes nothing.
func (m *Manager) markNeedsLogin() {
	e, err := m.Cache.Load(m.key())
	if err != nil {
		e = &tokencache.Entry{Fingerprint: m.Profile.Fingerprint}
	}
	e.NeedsLogin = true
	e.UpdatedAt = m.now()
	_ = m.Cache.Save(m.key(), e)
}

// save writes the grant's tokens to the cache. prev keeps an ID token and
// subject a refresh response did not repeat.
// key is the DPoP key the tokens were requested with (nil: none).
func (m *Manager) save(res *auth.Result, storage string, prev *tokencache.Entry, key *dpop.Key) (*tokencache.Entry, error) {
	e := &tokencache.Entry{
		AccessToken: res.Token.AccessToken,
		TokenType:   res.Token.TokenType,
		IDToken:     res.IDToken,
		Scope:       res.Scope,
		Expiry:      res.Token.Expiry,
		Subject:     res.Subject,
		Fingerprint: m.Profile.Fingerprint,
		Storage:     storage,
		UpdatedAt:   m.now(),
	}
	if e.TokenType == "" {
		e.TokenType = "Bearer"
	}
	if key != nil {
		e.DPoPJKT = key.JKT()
	}
	if prev != nil && prev.Fingerprint == e.Fingerprint {
		if e.IDToken == "" {
			e.IDToken = prev.IDToken
		}
		if e.Subject == "" {
			e.Subject = prev.Subject
		}
	}
	if err := m.Cache.Save(m.key(), e); err != nil {
		return nil, fmt.Errorf("writing the token cache: %w", err)
	}
	return e, nil
}

// LoginOptions are passed to the interactive flows.
type LoginOptions = auth.LoginOptions

// CheckStorage fails (exit 6) when the result of a login could not be stored;
// it runs before any flow starts so that nobody signs in for nothing.
func (m *Manager) CheckStorage(flow string) error {
	if err := m.Cache.Check(); err != nil {
		return fmt.Errorf("%w: the token cache cannot be written: %v", keychain.ErrUnavailable, err)
	}
	if config.IsMachineFlow(flow) && !m.dpop() {
		return nil
	}
	st, err := m.store()
	if err != nil {
		return err
	}
	return st.Check()
}

// Login runs flow and stores the result: the refresh token in the Store, the
// access and ID tokens in the cache. It replaces whatever was stored before.
func (m *Manager) Login(ctx context.Context, flow string, o LoginOptions) (*tokencache.Entry, error) {
	if err := m.CheckStorage(flow); err != nil {
		return nil, err
	}
	c, err := m.client(ctx, true)
	if err != nil {
		return nil, err
	}
	if m.dpop() {
		// Every login makes a new key: the old session's dies with it.
		if c.DPoP, err = dpop.NewKey(); err != nil {
			return nil, err
		}
	}
	var res *auth.Result
	switch flow {
	case config.FlowPKCE:
		res, err = c.LoginPKCE(ctx, o)
	case config.FlowDevice:
		res, err = c.LoginDevice(ctx, o)
	case config.FlowClientCredentials:
		res, err = c.ClientCredentials(ctx)
	case config.FlowTokenExchange:
		res, err = c.TokenExchange(ctx)
	default:
		return nil, &config.Error{Msg: fmt.Sprintf("unknown flow %q (want pkce, device, client-credentials or token-exchange)", flow)}
	}
	if err != nil {
		return nil, err
	}
	if res.IDToken == "" && m.Profile.Profile.EffectiveProvider() == config.ProviderGitHub {
		// No ID token: the login name from GitHub's user API names the
		// person for the login line and status. Not fatal when it fails.
		if login, err := c.GitHubLogin(ctx, res.Token.AccessToken); err == nil {
			res.Subject = login
		}
	}
	// Store under the profile's lock, so that a renewal running meanwhile
	// cannot write the old session's rotated token over the new one.
	unlock, err := m.Cache.Lock(ctx, m.key())
	if err != nil {
		return nil, err
	}
	defer unlock()
	storage := ""
	if config.IsMachineFlow(flow) && c.DPoP != nil {
		st, err := m.store()
		if err != nil {
			return nil, err
		}
		if err := m.saveDPoPKey(st, c.DPoP); err != nil {
			return nil, err
		}
	}
	if !config.IsMachineFlow(flow) {
		st, err := m.store()
		if err != nil {
			return nil, err
		}
		rec := keychain.Record{Binding: m.binding()}
		if res.IDToken != "" {
			rec.Subject = res.Subject
		}
		if c.DPoP != nil {
			rec.DPoPJKT = c.DPoP.JKT()
		}
		if rt := res.Token.RefreshToken; rt != "" {
			// The key first: its thumbprint is in the record written with
			// the token, so an interruption between the two leaves a token
			// whose key does not match (refused unsent), never a wrong pair.
			if c.DPoP != nil {
				if err := m.saveDPoPKey(st, c.DPoP); err != nil {
					return nil, err
				}
			}
			if err := st.Set(m.key(), rt, rec); err != nil {
				return nil, fmt.Errorf("storing the refresh token: %w", err)
			}
			if c.DPoP == nil {
				// A key of an earlier dpop session, whose token this one
				// just replaced: it must not outlive it.
				if err := st.DeleteDPoPKey(m.key()); err != nil {
					return nil, fmt.Errorf("removing the previous DPoP key: %w", err)
				}
			}
			storage = st.Kind()
		} else if m.keepRefreshToken(st, rec) {
			storage = st.Kind()
		} else if err := st.Delete(m.key()); err != nil {
			// The old session's refresh token (and DPoP key) must not
			// outlive this login.
			return nil, fmt.Errorf("removing the previous refresh token: %w", err)
		} else if c.DPoP != nil {
			// No refresh token: the key still proves the access token.
			if err := m.saveDPoPKey(st, c.DPoP); err != nil {
				return nil, err
			}
		}
	}
	return m.save(res, storage, nil, c.DPoP)
}

// keepRefreshToken decides, for a login that returned no refresh token
// (servers that issue one only at first consent, like Google), whether the
// stored one lives on: yes when it is bound to the same server and client,
// was not refused by the server (invalid_grant), and belongs to the same
// user where both ID tokens say who.
func (m *Manager) keepRefreshToken(st *keychain.Bound, rec keychain.Record) bool {
	if prev, err := m.Cache.Load(m.key()); err == nil && prev.NeedsLogin {
		return false
	}
	_, old, err := m.storedRefreshToken(st)
	if err != nil {
		return false
	}
	if old.Subject != "" && rec.Subject != "" && old.Subject != rec.Subject {
		return false
	}
	if old.DPoPJKT != "" || rec.DPoPJKT != "" {
		// Bound to the old session's key (or to none), which this login
		// replaced: the server would refuse it with the new one.
		return false
	}
	if old.Subject == "" && rec.Subject != "" {
		return st.Adopt(m.key(), rec) == nil
	}
	return true
}

// RevokeOptions control Revoke.
type RevokeOptions struct {
	Force     bool // delete locally even when the server could not revoke
	LocalOnly bool // do not contact the server
}

// RevokeReport says what Revoke did, for the command to tell the user.
type RevokeReport struct {
	RefreshRevoked    bool
	AccessRevoked     bool
	NoEndpoint        bool  // the server has no revocation endpoint
	AccessErr         error // revoking the access token failed (not fatal)
	RefreshErr        error // revoking the refresh token failed (fatal unless Force)
	HadRefresh        bool
	HadAccess         bool
	AccessExpiry      time.Time // when the held access token expires; zero when it has no expiry
	DeletedLocally    bool
	StoreUnavailable  error // with Force/LocalOnly: the store could not be reached
	UnsupportedAccess bool  // the server said unsupported_token_type for the access token
	// RefreshNotRevocable: the server cannot revoke a refresh token on its
	// own (GitHub); it stays valid there.
	RefreshNotRevocable bool
	// AccessNeedsSecret: the server revokes only for a client with its
	// secret and the profile has none (GitHub); the access token stays valid.
	AccessNeedsSecret bool
	// Manual says where the user can end the session by hand, when oat could
	// not at the server ("" when there is nothing to say).
	Manual string
	// AccessNotRevocable names the provider whose access tokens cannot be
	// revoked (Auth0), so the access token was not sent.
	AccessNotRevocable string
}

// Revoke revokes the refresh token (and the access token) at the server, then
// deletes them locally. If the refresh token could not be revoked, nothing is
// deleted unless o.Force.
func (m *Manager) Revoke(ctx context.Context, o RevokeOptions) (*RevokeReport, error) {
	r := &RevokeReport{}
	unlock, err := m.lock(ctx)
	if err != nil {
		return r, err
	}
	defer unlock()
	var (
		rt       string
		st       *keychain.Bound
		mismatch error // a stored refresh token bound elsewhere: never sent
	)
	err = keychain.ErrNotFound // machine profiles keep no refresh token
	if !m.isMachine() {
		if st, err = m.store(); err == nil {
			rt, _, err = m.storedRefreshToken(st)
		}
	}
	var lre *LoginRequiredError
	switch {
	case err == nil:
		r.HadRefresh = true
	case errors.As(err, &lre) && lre.Reason != nil:
		r.HadRefresh = true
		mismatch = lre.Reason
	case errors.As(err, &lre), errors.Is(err, keychain.ErrNotFound):
	default:
		if !o.Force && !o.LocalOnly {
			return r, err
		}
		r.StoreUnavailable = err
	}
	cached, _ := m.Cache.Load(m.key())
	// The last grant was proved with a stored key, even if dpop is off now.
	hadKey := cached != nil && cached.DPoPJKT != ""
	if cached != nil && cached.AccessToken != "" {
		r.HadAccess = true
		r.AccessExpiry = cached.Expiry
		if b, ok := config.BindingOf(cached.Fingerprint); !ok || b != m.binding() {
			// Minted for another server or client: not sent here either.
			cached = nil
		}
	}
	if !o.LocalOnly && mismatch != nil {
		r.RefreshErr = mismatch
		if !o.Force {
			return r, fmt.Errorf("%w; the local tokens are kept: revoke them with the settings they came from, or pass --force to delete them here", mismatch)
		}
	} else if !o.LocalOnly && (r.HadRefresh || cached != nil) {
		m.revokeAtServer(ctx, r, rt, cached)
		if r.RefreshErr != nil && !o.Force {
			return r, fmt.Errorf("revoking the refresh token: %w; the local tokens are kept (retry, or pass --force to delete them anyway)", r.RefreshErr)
		}
	}
	if st != nil && r.StoreUnavailable == nil {
		if err := st.Delete(m.key()); err != nil {
			return r, fmt.Errorf("deleting the stored refresh token: %w", err)
		}
	}
	if m.isMachine() && (m.dpop() || hadKey) {
		// A machine profile's only stored secret: its DPoP key.
		if dst, err := m.store(); err == nil {
			err = dst.DeleteDPoPKey(m.key())
			if err != nil && !o.Force && !o.LocalOnly {
				return r, fmt.Errorf("deleting the DPoP key: %w", err)
			}
		}
	}
	if err := m.Cache.Delete(m.key()); err != nil {
		return r, fmt.Errorf("deleting the token cache: %w", err)
	}
	r.DeletedLocally = true
	if r.StoreUnavailable != nil {
		return r, r.StoreUnavailable
	}
	return r, nil
}

func (m *Manager) revokeAtServer(ctx context.Context, r *RevokeReport, rt string, cached *tokencache.Entry) {
	c, err := m.client(ctx, false)
	if err != nil {
		r.RefreshErr = err
		return
	}
	defer func() {
		if r.NoEndpoint || r.RefreshNotRevocable || r.AccessNeedsSecret {
			r.Manual = c.ManualRevocation()
		}
	}()
	if r.HadRefresh {
		err := c.Revoke(ctx, rt, "refresh_token")
		switch {
		case errors.Is(err, auth.ErrNoRevocationEndpoint):
			r.NoEndpoint = true
			return
		case errors.Is(err, auth.ErrRefreshNotRevocable):
			r.RefreshNotRevocable = true
		case err != nil:
			r.RefreshErr = err
			return
		}
		if !r.RefreshNotRevocable {
			r.RefreshRevoked = true
		}
	}
	if cached != nil && m.Profile.Profile.EffectiveProvider() == config.ProviderAuth0 {
		// Auth0's /oauth/revoke revokes refresh tokens only; its access
		// tokens stay valid until they expire:
		// https://auth0.com/docs/secure/tokens/refresh-tokens/revoke-refresh-tokens
		r.AccessNotRevocable = "Auth0"
		return
	}
	if cached != nil {
		err := c.Revoke(ctx, cached.AccessToken, "access_token")
		var se *auth.ServerError
		switch {
		case errors.Is(err, auth.ErrNoRevocationEndpoint):
			r.NoEndpoint = true
		case errors.Is(err, auth.ErrRevokeNeedsSecret):
			r.AccessNeedsSecret = true
		case errors.As(err, &se) && se.Code == "unsupported_token_type":
			r.UnsupportedAccess = true
		case err != nil:
			r.AccessErr = err
			if !r.HadRefresh {
				// Only an access token was held: its revocation is the one that counts.
				r.RefreshErr = err
			}
		default:
			r.AccessRevoked = true
		}
	}
}
