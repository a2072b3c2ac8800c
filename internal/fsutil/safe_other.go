//go:build !unix

package fsutil

import "io/fs"

// Windows has no O_NOFOLLOW or Unix owners and modes: oat checks what
// Lstat and Stat say there (links, regular files, sizes) and leaves access
// to the ACLs of the user's profile folder.
const (
	openNoFollow = 0
	openNonBlock = 0
	// OpenFlags are added to os.OpenFile's flags for a file in oat's own
	// folders that is opened elsewhere (the lock files).
	OpenFlags = 0
)

func isLoop(error) bool { return false }

func checkOwner(string, fs.FileInfo, bool) error { return nil }

func checkDirOwner(string, fs.FileInfo) error { return nil }
