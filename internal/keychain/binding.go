package keychain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"unicode"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/fsutil"
)

// Binding records. The secret of a keychain entry (and of a refresh-token
// file) is the refresh token itself, so what a token is bound to lives beside
// it: a small 0600 JSON file per storage key and store kind in the state
// folder, <key>.<kind>.binding, saying which server and client the token was
// issued to and the subject of the session. Bound never hands out a token
// whose record is missing, pending or names other settings.

// ErrUnbound is wrapped by Bound.Get for a token stored with no binding
// record at all (by a version of oat before records existed).
var ErrUnbound = errors.New("the stored refresh token has no record of the server it came from")

// MismatchError is Bound.Get's error for a token bound to another server or
// client, or whose storing was interrupted (Pending).
type MismatchError struct {
	Stored  config.Binding // zero when Pending
	Pending bool
}

func (e *MismatchError) Error() string {
	if e.Pending {
		return "the stored refresh token was being replaced when oat was interrupted, so where it came from is unknown"
	}
	return fmt.Sprintf("the stored refresh token was issued to another server or client (%s, client %q)", shown(e.Stored.Server()), e.Stored.ClientID)
}

// shown is s as is when it is all printable, else quoted: a record is a
// file anyone with the user's rights may have edited.
func shown(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) || r == ' ' {
			return strconv.Quote(s)
		}
	}
	return s
}

// Record is what a binding file holds.
type Record struct {
	config.Binding
	// Subject is the ID token's sub at login ("" when there was none): a
	// renewal that names another subject is refused.
	Subject string `json:"subject,omitempty"`
	// DPoPJKT is the thumbprint of the DPoP key the token is bound to
	// (RFC 9449 §5), "" for a token without one.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// Pending marks a token being replaced by one for other settings: the
	// record is written before the token, so that an interruption leaves a
	// token nobody uses rather than one bound to the wrong server.
	Pending bool `json:"pending,omitempty"`
}

// Bound keeps refresh tokens in a Store together with their binding records.
type Bound struct {
	Store
	dir string
}

// NewBound returns st with binding records in dir (see StateDir).
func NewBound(st Store, dir string) *Bound { return &Bound{Store: st, dir: dir} }

const bindingSuffix = ".binding"

// maxRecord bounds what is read of a record file.
const maxRecord = 64 << 10

func (b *Bound) path(key string) (string, error) {
	name, err := fsutil.FileName(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(b.dir, name+"."+b.Kind()+bindingSuffix), nil
}

func (b *Bound) unavailable(reason string, err error) error {
	return &UnavailableError{What: "refresh-token storage", Reason: reason + ": " + pathErr(err), Cause: err}
}

// Record returns the binding record of key, or nil when there is none.
func (b *Bound) Record(key string) (*Record, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, err
	}
	// fsutil.ReadFile refuses links, other file types, other owners and
	// sizes over maxRecord: such a file is not a record oat wrote, so the
	// token counts as bound to something unknown.
	data, err := fsutil.ReadFile(p, maxRecord)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.Is(err, fsutil.ErrUnsafe):
		return &Record{Pending: true}, nil
	case err != nil:
		return nil, b.unavailable("cannot read the refresh token's binding record", err)
	}
	r := new(Record)
	if json.Unmarshal(data, r) != nil {
		return &Record{Pending: true}, nil
	}
	return r, nil
}

func (b *Bound) writeRecord(key string, r *Record) error {
	p, err := b.path(key)
	if err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := fsutil.PrivateDir(b.dir); err != nil {
		return b.unavailable("cannot create the state folder (or restrict it to its owner)", err)
	}
	if err := fsutil.WriteFileAtomic(p, append(data, '\n')); err != nil {
		return b.unavailable("cannot write the refresh token's binding record", err)
	}
	return nil
}

// Get returns the refresh token stored under key with its record when the
// record names want. Otherwise: ErrNotFound when nothing is stored, an error
// wrapping ErrUnbound when a token has no record, a *MismatchError when its
// record names other settings or is pending. The token is only returned in
// the first case.
func (b *Bound) Get(key string, want config.Binding) (string, *Record, error) {
	rec, err := b.Record(key)
	if err != nil {
		return "", nil, err
	}
	if rec != nil && (rec.Pending || rec.Binding != want) {
		// Say there is no token when there is none; read it only for that.
		if _, err := b.Store.Get(key); err != nil {
			return "", nil, err
		}
		return "", nil, &MismatchError{Stored: rec.Binding, Pending: rec.Pending}
	}
	secret, err := b.Store.Get(key)
	if err != nil {
		return "", nil, err
	}
	if rec == nil {
		return "", nil, ErrUnbound
	}
	return secret, rec, nil
}

// Adopt writes rec for a token stored without a record (ErrUnbound), once
// the caller has decided where it came from.
func (b *Bound) Adopt(key string, rec Record) error {
	rec.Pending = false
	return b.writeRecord(key, &rec)
}

// Set stores secret under key bound to rec. When the record in place names
// other settings (or none), a pending record is written first, then the
// token, then rec: an interruption anywhere leaves either the old token with
// its own record or a token whose record says it cannot be used.
func (b *Bound) Set(key, secret string, rec Record) error {
	rec.Pending = false
	old, err := b.Record(key)
	if err != nil {
		return err
	}
	if old == nil || *old != rec {
		if old == nil || old.Pending || old.Binding != rec.Binding {
			if err := b.writeRecord(key, &Record{Pending: true}); err != nil {
				return err
			}
		}
		if err := b.Store.Set(key, secret); err != nil {
			return err
		}
		return b.writeRecord(key, &rec)
	}
	return b.Store.Set(key, secret)
}

// Delete removes the token under key, then its DPoP key, then its record.
func (b *Bound) Delete(key string) error {
	if err := b.Store.Delete(key); err != nil {
		return err
	}
	if err := b.DeleteDPoPKey(key); err != nil {
		return err
	}
	p, err := b.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return b.unavailable("cannot delete the refresh token's binding record", err)
	}
	return nil
}

// Check implements Store: the store can take a secret and the state folder a
// record.
func (b *Bound) Check() error {
	if err := b.Store.Check(); err != nil {
		return err
	}
	if err := fsutil.PrivateDir(b.dir); err != nil {
		return b.unavailable("cannot create the state folder (or restrict it to its owner)", err)
	}
	f, err := os.CreateTemp(b.dir, ".check*")
	if err != nil {
		return b.unavailable("cannot write to the state folder", err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
