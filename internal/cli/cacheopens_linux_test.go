package cli

import (
	"bytes"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/oatcli/oat/internal/config"
)

// A cache hit opens the profile's cache file once; a renewal three times:
// once before the profile's lock, then under it to use another process's
// renewal and to keep the ID token a refresh response leaves out. Counted
// with inotify, no strace: before Lookup/Renew a renewal read the file
// twice before the lock (four in all).
func TestCacheFileOpens(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowPKCE)
	e.mustRun(0, "login")
	opens := watchOpens(t, filepath.Join(e.dir, "cache", "oat"))

	opens("work.json")
	e.mustRun(0, "token")
	if n := opens("work.json"); n != 1 {
		t.Errorf("a cache hit opened the cache file %d times, want 1", n)
	}
	e.expire("work")
	opens("work.json")
	e.mustRun(0, "token")
	if n := opens("work.json"); n != 3 {
		t.Errorf("a renewal opened the cache file %d times, want 3 (one before the lock, two under it)", n)
	}
}

// watchOpens watches dir and returns a function that counts the opens of
// the file name since its last call. Closes are watched too, so that
// inotify does not merge two opens in a row into one event.
func watchOpens(t *testing.T, dir string) func(name string) int {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Skipf("inotify: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_OPEN|syscall.IN_CLOSE_NOWRITE|syscall.IN_CLOSE_WRITE); err != nil {
		t.Fatalf("inotify watch %s: %v", dir, err)
	}
	return func(name string) int {
		n := 0
		buf := make([]byte, 64<<10)
		for {
			m, err := syscall.Read(fd, buf)
			if err == syscall.EAGAIN {
				return n
			}
			if err != nil {
				t.Fatalf("reading inotify events: %v", err)
			}
			for off := 0; off+syscall.SizeofInotifyEvent <= m; {
				ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
				raw := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+int(ev.Len)]
				if ev.Mask&syscall.IN_OPEN != 0 && string(bytes.TrimRight(raw, "\x00")) == name {
					n++
				}
				off += syscall.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}
}
