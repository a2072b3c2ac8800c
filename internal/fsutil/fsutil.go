// Package fsutil holds the file-system conventions every oat store shares:
// atomic 0600 writes, 0700 folders of oat's own, XDG base directories, and
// file names made from storage keys.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WriteFileAtomic writes data to a 0600 temp file in path's folder, syncs it
// and renames it over path: readers see the old or the new content, never a
// partial file. The folder must exist. A symbolic link at path is replaced,
// its target untouched.
func WriteFileAtomic(path string, data []byte) error {
	return WriteFileAtomicMode(path, data, 0o600)
}

// WriteFileAtomicMode is WriteFileAtomic with the file's permissions.
func WriteFileAtomicMode(path string, data []byte, perm fs.FileMode) error {
	return writeAtomic(path, data, perm, true)
}

// WriteCacheFile is WriteFileAtomic without the sync: readers still see the
// old or the new content, never a partial file, but after a power loss the
// file may be empty or hold the old content. Only for files oat can rebuild
// (token cache, discovery and JWKS caches), whose readers treat a damaged
// file as a miss: the sync cost a renewal ~1-3 ms for nothing.
func WriteCacheFile(path string, data []byte) error {
	return writeAtomic(path, data, 0o600, false)
}

func writeAtomic(path string, data []byte, perm fs.FileMode, sync bool) (err error) {
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
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if sync {
		if err = tmp.Sync(); err != nil {
			return err
		}
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	return nil
}

// LinkTarget follows path while it is a symbolic link and returns where
// the chain ends (a file that need not exist yet): saving there keeps a
// dotfile manager's link to the user's file. A path that is no link is
// returned as is.
func LinkTarget(path string) (string, error) {
	orig := path
	for range 40 { // as Linux's limit on links in a chain
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		t, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(path), t)
		}
		path = t
	}
	return "", fmt.Errorf("%s: too many symbolic links in a chain", orig)
}

// XDGDir returns $xdgVar/oat, else $HOME/<fallback...>/oat — the same on
// every OS. A relative $xdgVar is ignored, as the XDG spec says. what names
// the folder in the error when neither variable helps.
func XDGDir(env func(string) string, xdgVar, what string, fallback ...string) (string, error) {
	if x := env(xdgVar); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "oat"), nil
	}
	home := env("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil || home == "" {
			return "", fmt.Errorf("cannot find the %s: set %s or HOME", what, xdgVar)
		}
	}
	return filepath.Join(append(append([]string{home}, fallback...), "oat")...), nil
}

// FileName turns a storage key into a safe file name: letters, digits, '-',
// '_' and '.' stay, anything else (and a leading '.') becomes %XX. The mapping
// is one to one, so two keys never share a file, and no key can name a path
// outside the folder.
func FileName(key string) (string, error) {
	if key == "" {
		return "", errors.New("empty storage key")
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || (c == '.' && i > 0) {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String(), nil
}
