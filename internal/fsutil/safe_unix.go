//go:build unix

package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Flags for opening a file of oat's own: never through a symbolic link, and
// never blocking on a named pipe (CheckFile then refuses it).
const (
	openNoFollow = syscall.O_NOFOLLOW
	openNonBlock = syscall.O_NONBLOCK
	// OpenFlags are added to os.OpenFile's flags for a file in oat's own
	// folders that is opened elsewhere (the lock files).
	OpenFlags = openNoFollow | openNonBlock
)

// isLoop reports the error of O_NOFOLLOW on a symbolic link.
func isLoop(err error) bool { return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK) }

// openRead opens path for readFile with open(2) and fstat(2) themselves:
// never through a symbolic link unless follow, never blocking on a named
// pipe, close-on-exec. os.OpenFile would hand the descriptor to the
// runtime's network poller, whose set-up (epoll_create1, eventfd2, two
// epoll_ctl) was a quarter of the system calls of a cached `oat token`;
// a regular file never waits, and anything else is refused unread.
func openRead(path string, follow bool) (io.ReadCloser, fs.FileInfo, error) {
	flag := syscall.O_RDONLY | openNonBlock | syscall.O_CLOEXEC
	if !follow {
		flag |= openNoFollow
	}
	var fd int
	err := retryEINTR(func() (err error) { fd, err = syscall.Open(path, flag, 0); return err })
	if err != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	fi := &statInfo{name: filepath.Base(path)}
	if err := retryEINTR(func() error { return syscall.Fstat(fd, &fi.st) }); err != nil {
		syscall.Close(fd)
		return nil, nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	return &fdReader{fd: fd, path: path}, fi, nil
}

func retryEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}

// fdReader reads an open file descriptor to its end (io.EOF).
type fdReader struct {
	fd   int
	path string
}

func (r *fdReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	err := retryEINTR(func() (err error) { n, err = syscall.Read(r.fd, b); return err })
	switch {
	case err != nil:
		return 0, &fs.PathError{Op: "read", Path: r.path, Err: err}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (r *fdReader) Close() error { return syscall.Close(r.fd) }

// statInfo is what fstat(2) says of an open file, as os.File.Stat would
// (but for ModTime, which checkFile does not look at: zero).
type statInfo struct {
	name string
	st   syscall.Stat_t
}

func (fi *statInfo) Name() string       { return fi.name }
func (fi *statInfo) Size() int64        { return fi.st.Size }
func (fi *statInfo) IsDir() bool        { return fi.Mode().IsDir() }
func (fi *statInfo) ModTime() time.Time { return time.Time{} } // not needed by checkFile
func (fi *statInfo) Sys() any           { return &fi.st }

// Mode converts st_mode as the os package does.
func (fi *statInfo) Mode() fs.FileMode {
	m := fs.FileMode(fi.st.Mode & 0o777)
	switch fi.st.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if fi.st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if fi.st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if fi.st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

func checkOwner(path string, fi fs.FileInfo, user bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := os.Geteuid()
	if int(st.Uid) != uid && !(user && st.Uid == 0) {
		return &UnsafeError{Kind: "file", Path: path,
			Problem: fmt.Sprintf("is owned by uid %d, not by you (uid %d)", st.Uid, uid),
			Fix:     "remove it, or run oat as its owner"}
	}
	if !user && st.Nlink > 1 {
		return unsafeFile(path, fmt.Sprintf("has %d hard links: another name for it could be any file of yours", st.Nlink))
	}
	return nil
}

func checkDirOwner(dir string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return &UnsafeError{Kind: "folder", Path: dir,
			Problem: fmt.Sprintf("is owned by uid %d, not by you (uid %d)", st.Uid, uid),
			Fix:     "remove it, or run oat as its owner"}
	}
	switch perm := fi.Mode().Perm(); {
	case perm&0o002 != 0:
		return &UnsafeError{Kind: "folder", Path: dir, Problem: "is writable by others", Fix: "run chmod 700 " + dir}
	case perm&0o020 != 0:
		return &UnsafeError{Kind: "folder", Path: dir, Problem: "is writable by its group", Fix: "run chmod 700 " + dir}
	}
	return nil
}
