package fsutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// openRead says what os.Lstat says of every kind of file (mode bits
// included), so checkFile judges a file opened with open(2) exactly as one
// opened with os.OpenFile.
func TestOpenReadModeLikeOS(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg")
	must(t, os.WriteFile(reg, []byte("x"), 0o600))
	special := filepath.Join(dir, "special")
	must(t, os.WriteFile(special, nil, 0o600))
	must(t, os.Chmod(special, 0o640|os.ModeSetuid|os.ModeSetgid|os.ModeSticky))
	fifo := filepath.Join(dir, "fifo")
	must(t, syscall.Mkfifo(fifo, 0o600))
	for _, p := range []string{reg, special, fifo, dir, "/dev/null"} {
		f, fi, err := openRead(p, false)
		if err != nil {
			t.Fatalf("openRead(%s): %v", p, err)
		}
		f.Close()
		want, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want.Mode() || fi.Size() != want.Size() || fi.IsDir() != want.IsDir() || fi.Name() != want.Name() {
			t.Errorf("%s: openRead says %v %d %q, os.Lstat %v %d %q", p, fi.Mode(), fi.Size(), fi.Name(), want.Mode(), want.Size(), want.Name())
		}
	}
}

// ReadFile leaves the runtime's network poller alone: a cached `oat token`
// reads two files, and os.OpenFile would set up epoll for them (four
// system calls and the poller's pages). The check runs in a fresh process
// of this test binary, where nothing else has set the poller up.
func TestReadFileSetsUpNoPoller(t *testing.T) {
	if p := os.Getenv("OAT_FSUTIL_POLLER_CHILD"); p != "" {
		if pollerFDs(t) != 0 {
			t.Skip("the poller was set up before the test ran")
		}
		if _, err := ReadFile(p, MaxFileSize); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadUserFile(p, MaxFileSize); err != nil {
			t.Fatal(err)
		}
		if n := pollerFDs(t); n != 0 {
			t.Fatalf("ReadFile set up the network poller (%d epoll descriptors)", n)
		}
		return
	}
	dir := filepath.Join(t.TempDir(), "oat")
	must(t, os.Mkdir(dir, 0o700))
	p := filepath.Join(dir, "work.json")
	must(t, os.WriteFile(p, []byte("{}"), 0o600))
	cmd := exec.Command(os.Args[0], "-test.run=^TestReadFileSetsUpNoPoller$", "-test.v")
	cmd.Env = append(os.Environ(), "OAT_FSUTIL_POLLER_CHILD="+p)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// pollerFDs counts this process's epoll descriptors.
func pollerFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.Contains(l, "eventpoll") {
			n++
		}
	}
	return n
}
