//go:build unix

package cli

import (
	"fmt"
	"os"
	"os/exec"
)

// newCurlConfig hands cmd the config on a pipe the child inherits (as
// /dev/fd/N): nothing is written to disk and nothing shows on a command line.
// The pipe's own buffer takes the config, so writing never waits for curl;
// a curl that never reads it (--help) only closes the pipe.
func newCurlConfig(cmd *exec.Cmd, config []byte) (*curlConfig, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	fd := 2 + len(cmd.ExtraFiles)
	go func() {
		// Blocks only for a config larger than the pipe buffer, until curl
		// reads it or exits (then the write fails and w is closed).
		_, _ = w.Write(config)
		w.Close()
	}()
	return &curlConfig{
		path:    fmt.Sprintf("/dev/fd/%d", fd),
		started: func() { r.Close() }, // the child holds its own copy
		cleanup: func() { r.Close() },
	}, nil
}
