package keychain

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	name, err := fileName(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, name+fileSuffix), nil
}

func (s *fileStore) unavailable(reason string, err error) error {
	return &unavailableError{what: "file storage", reason: reason + ": " + pathErr(err), cause: err}
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
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNotFound
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
	if err := writeFileAtomic(p, []byte(secret)); err != nil {
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

// mkdir makes the folder 0700 (tightening it if it exists: it is oat's own).
func (s *fileStore) mkdir() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return s.unavailable("cannot create the state folder", err)
	}
	if err := os.Chmod(s.dir, 0o700); err != nil {
		return s.unavailable("cannot restrict the state folder to its owner", err)
	}
	return nil
}

// writeFileAtomic writes data to a 0600 temp file in the same folder, syncs
// it and renames it over path: readers see the old or the new content, never
// a partial file.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	return nil
}
