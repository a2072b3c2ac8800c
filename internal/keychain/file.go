package keychain

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/oatcli/oat/internal/fsutil"
)

// fileSuffix ends the name of each refresh-token file in the state folder.
const fileSuffix = ".refresh_token"

// fileStore keeps each secret in its own 0600 file in a 0700 folder.
type fileStore struct{ dir string }

// NewFile returns the opt-in file storage in dir (see StateDir): one 0600
// file per key, <key>.refresh_token, in a 0700 folder, written atomically.
func NewFile(dir string) Store { return &fileStore{dir: dir} }

func (s *fileStore) Kind() string { return KindFile }

func (s *fileStore) path(key string) (string, error) {
	suffix := fileSuffix
	if k, ok := isDPoPEntry(key); ok {
		key, suffix = k, dpopFileSuffix
	}
	name, err := fsutil.FileName(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, name+suffix), nil
}

func (s *fileStore) unavailable(reason string, err error) error {
	return &UnavailableError{What: "file storage", Reason: reason + ": " + pathErr(err), Cause: err}
}

// pathErr describes a file-system error without its Go prefix noise.
func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// Get implements Store.
func (s *fileStore) Get(key string) (string, error) {
	p, err := s.path(key)
	if err != nil {
		return "", err
	}
	b, err := fsutil.ReadFile(p, fsutil.MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNotFound
	}
	if errors.Is(err, fsutil.ErrUnsafe) {
		return "", &UnavailableError{What: "file storage", Reason: err.Error(), Cause: err}
	}
	if err != nil {
		return "", s.unavailable("cannot read the refresh token", err)
	}
	return string(b), nil
}

// Set implements Store.
func (s *fileStore) Set(key, secret string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := s.mkdir(); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(p, []byte(secret)); err != nil {
		return s.unavailable("cannot write the refresh token", err)
	}
	return nil
}

// Delete implements Store.
func (s *fileStore) Delete(key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return s.unavailable("cannot delete the refresh token", err)
	}
	return nil
}

// Check implements Store: the folder exists (or can be made) and takes files.
func (s *fileStore) Check() error {
	if err := s.mkdir(); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, ".check*")
	if err != nil {
		return s.unavailable("cannot write to the state folder", err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// mkdir makes the folder 0700, or checks the one there (fsutil.PrivateDir).
func (s *fileStore) mkdir() error {
	if err := fsutil.PrivateDir(s.dir); err != nil {
		if errors.Is(err, fsutil.ErrUnsafe) {
			return &UnavailableError{What: "file storage", Reason: err.Error(), Cause: err}
		}
		return s.unavailable("cannot create the state folder", err)
	}
	return nil
}
