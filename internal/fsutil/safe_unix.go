//go:build unix

package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
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
