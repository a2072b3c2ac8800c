//go:build !unix

package cli

import (
	"os"
	"os/exec"
)

// newCurlConfig writes the config to a new temporary file that only the user
// can read (the default ACL of the user's temp folder), removed once curl
// has exited: Windows has no /dev/fd for an inherited pipe.
func newCurlConfig(_ *exec.Cmd, config []byte) (*curlConfig, error) {
	f, err := os.CreateTemp("", "oat-curl-*.conf")
	if err != nil {
		return nil, err
	}
	name := f.Name()
	if _, err := f.Write(config); err != nil {
		f.Close()
		os.Remove(name)
		return nil, err
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return nil, err
	}
	return &curlConfig{path: name, cleanup: func() { os.Remove(name) }}, nil
}
