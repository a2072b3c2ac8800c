//go:build !unix

package fsutil

import (
	"io"
	"io/fs"
	"os"
)

// Windows has no O_NOFOLLOW or Unix owners and modes: oat checks what
// Lstat and Stat say there (links, regular files, sizes) and leaves access
// to the ACLs of the user's profile folder.
//
// OpenFlags are added to os.OpenFile's flags for a file in oat's own
// folders that is opened elsewhere (the lock files).
const OpenFlags = 0

func isLoop(error) bool { return false }

// openRead opens path for readFile, looking first when a link must not be
// followed (there is no O_NOFOLLOW), and says what the open file is.
func openRead(path string, follow bool) (io.ReadCloser, fs.FileInfo, error) {
	if !follow {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, nil, unsafeFile(path, "is a symbolic link, which oat does not follow in its own folders")
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

func checkOwner(string, fs.FileInfo, bool) error { return nil }

func checkDirOwner(string, fs.FileInfo) error { return nil }
