package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// MaxFileSize caps every file oat reads from its own folders and the config
// file: far more than any token, cache entry, JWKS or config needs, far less
// than /dev/zero.
const MaxFileSize = 1 << 20

// ErrUnsafe is wrapped by every refusal of a file or folder that is not
// safely oat's own; cli maps it to exit 6 (storage unavailable).
var ErrUnsafe = errors.New("unsafe file or folder")

// UnsafeError says which file or folder oat refuses, what is wrong with it
// and what to do, in one line:
// "folder /x is writable by others; run chmod 700 /x".
type UnsafeError struct {
	Kind    string // "file" or "folder"
	Path    string
	Problem string // "is writable by others"
	Fix     string // "run chmod 700 /x"
}

func (e *UnsafeError) Error() string { return e.Kind + " " + e.Path + " " + e.Problem + "; " + e.Fix }
func (e *UnsafeError) Unwrap() error { return ErrUnsafe }

func unsafeFile(path, problem string) error {
	return &UnsafeError{Kind: "file", Path: path, Problem: problem, Fix: "remove it (rm " + path + ") and run oat again"}
}

// ReadFile reads path, a file in one of oat's own folders (cache, state),
// as the one safe way to do so. The folder must pass CheckDir (one lstat).
// The file is opened without following a symbolic link and without
// blocking on a named pipe, and must be a regular file owned by the current
// user, with no other hard link, of at most max bytes; else an *UnsafeError.
// A missing file is an error wrapping fs.ErrNotExist.
func ReadFile(path string, max int64) ([]byte, error) {
	if err := CheckDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return readFile(path, max, false)
}

// ReadUserFile reads a file the user keeps for oat, the config file: it
// may be a symbolic link (dotfile managers make them), which is followed,
// and its folder is the user's business; but it must be a regular file
// owned by the current user (or root), of at most max bytes.
func ReadUserFile(path string, max int64) ([]byte, error) {
	return readFile(path, max, true)
}

func readFile(path string, max int64, follow bool) ([]byte, error) {
	f, fi, err := openRead(path, follow)
	if err != nil {
		if !follow && isLoop(err) {
			return nil, unsafeFile(path, "is a symbolic link, which oat does not follow in its own folders")
		}
		return nil, err
	}
	defer f.Close()
	if err := checkFile(path, fi, max, follow); err != nil {
		return nil, err
	}
	// Sized from fstat like os.ReadFile (one allocation for the cache hit),
	// but never past max even if the file grows meanwhile.
	b := make([]byte, 0, min(max, fi.Size())+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):min(int64(cap(b)), max+1)])
		b = b[:len(b)+n]
		if int64(len(b)) > max {
			return nil, unsafeFile(path, fmt.Sprintf("is larger than %s", size(max)))
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// CheckFile checks fi, what Lstat or an open file's Stat says of path, by
// the rules of ReadFile (max < 0: any size). Lock files are checked with it
// once open.
func CheckFile(path string, fi fs.FileInfo, max int64) error {
	return checkFile(path, fi, max, false)
}

func checkFile(path string, fi fs.FileInfo, max int64, user bool) error {
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		return unsafeFile(path, "is a symbolic link, which oat does not follow in its own folders")
	case !m.IsRegular():
		return unsafeFile(path, "is "+typeName(m)+", not a regular file")
	}
	if max >= 0 && fi.Size() > max {
		return unsafeFile(path, fmt.Sprintf("is larger than %s", size(max)))
	}
	return checkOwner(path, fi, user)
}

// CheckDir checks dir, one of oat's own folders, with one lstat: it must be
// a real folder (not a symbolic link), owned by the current user and not
// writable by group or others — as ssh demands of ~/.ssh. oat never changes
// an existing folder's mode or follows a link to one: it refuses, and says
// what to run. A missing folder is an error wrapping fs.ErrNotExist.
func CheckDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	return checkDir(dir, fi)
}

func checkDir(dir string, fi fs.FileInfo) error {
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		return &UnsafeError{Kind: "folder", Path: dir, Problem: "is a symbolic link, which oat does not follow for its own folders",
			Fix: "remove the link (rm " + dir + ") and oat makes a private folder there"}
	case !m.IsDir():
		return &UnsafeError{Kind: "folder", Path: dir, Problem: "is " + typeName(m) + ", not a folder",
			Fix: "remove it (rm " + dir + ") and oat makes a private folder there"}
	}
	return checkDirOwner(dir, fi)
}

// PrivateDir makes dir, one of oat's own folders, 0700 (with any missing
// parents) when it does not exist, then checks it with CheckDir. Use it only
// for oat's own folders (cache, state), never for a user-chosen one.
func PrivateDir(dir string) error {
	err := CheckDir(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return CheckDir(dir)
}

func typeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsRegular():
		return "a regular file"
	}
	return "a special file"
}

func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
