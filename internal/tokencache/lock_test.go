package tokencache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHelperProcess is a second process for the lock tests, started from
// this test binary. OAT_TOKENCACHE_HELPER picks what it does:
//
//	hold: take the lock, print "held", then sleep until killed;
//	try:  wait up to OAT_TOKENCACHE_WAIT for the lock, print "acquired" or
//	      "timeout", release it and exit.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv("OAT_TOKENCACHE_HELPER")
	if mode == "" {
		t.Skip("helper for the lock tests; runs only as their child process")
	}
	c := New(os.Getenv("OAT_TOKENCACHE_DIR"))
	wait, _ := time.ParseDuration(os.Getenv("OAT_TOKENCACHE_WAIT"))
	if wait == 0 {
		wait = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	unlock, err := c.Lock(ctx, "work")
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Println("timeout")
		return
	case err != nil:
		fmt.Println("error:", err)
		return
	}
	if mode == "hold" {
		fmt.Println("held")
		time.Sleep(time.Hour)
	}
	fmt.Println("acquired")
	unlock()
}

// helper is a running helper process and its output lines.
type helper struct {
	cmd   *exec.Cmd
	lines chan string
}

func startHelper(t *testing.T, dir, mode string, wait time.Duration) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(),
		"OAT_TOKENCACHE_HELPER="+mode,
		"OAT_TOKENCACHE_DIR="+dir,
		"OAT_TOKENCACHE_WAIT="+wait.String(),
	)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, lines: make(chan string, 10)}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			h.lines <- s.Text()
		}
		io.Copy(io.Discard, out)
		close(h.lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return h
}

// next returns the helper's next line, or "" once the helper has exited
// without printing one. It waits as long as it takes: the helper always
// prints or exits, and a hang is caught by go test's -timeout.
func (h *helper) next(t *testing.T) string {
	t.Helper()
	return <-h.lines
}

// waitBlocked returns once the helper process is blocked in flock(2) on a
// lock held by someone else: on Linux, /proc/locks lists such a waiter as
// "N: -> FLOCK ADVISORY WRITE PID ...". This is the handshake that proves
// the helper is waiting, rather than taking silence as proof. Elsewhere it
// returns at once.
func (h *helper) waitBlocked(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	want := fmt.Sprintf(" %d ", h.cmd.Process.Pid)
	for {
		b, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Fatalf("reading /proc/locks: %v", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "-> FLOCK") && strings.Contains(l, want) {
				return
			}
		}
		select { // poll again soon, unless the helper has spoken or exited
		case l := <-h.lines:
			t.Fatalf("the helper said %q (or exited) while it should wait for the lock", l)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestLockExcludesAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	c := New(dir)
	unlock, err := c.Lock(t.Context(), "work")
	if err != nil {
		t.Fatal(err)
	}

	// While we hold it, another process cannot take it: its wait ends
	// with its context.
	h := startHelper(t, dir, "try", 300*time.Millisecond)
	if got := h.next(t); got != "timeout" {
		t.Fatalf("second process while the lock is held: %q, want timeout", got)
	}

	// A process that waits is blocked while we hold the lock, and gets it
	// as soon as we let go.
	h = startHelper(t, dir, "try", time.Hour)
	h.waitBlocked(t)
	unlock()
	if got := h.next(t); got != "acquired" {
		t.Fatalf("waiting process after unlock: %q, want acquired", got)
	}
}

func TestLockHeldByAKilledProcessIsFree(t *testing.T) {
	dir := t.TempDir()
	c := New(dir)
	h := startHelper(t, dir, "hold", 10*time.Second)
	if got := h.next(t); got != "held" {
		t.Fatalf("helper: %q, want held", got)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Lock(ctx, "work")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrBusy) {
		t.Fatalf("Lock while another process holds it: err = %v, want a timeout", err)
	}
	if want := fmt.Sprintf("(PID %d)", h.cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the holder %s", err, want)
	}

	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	h.cmd.Wait()

	// Free once the holder is gone. Not "at once": the timed-out Lock above
	// left a goroutine blocked in flock(2) that takes the lock for a moment
	// when the holder dies and lets go of it again, so a mere try can lose
	// that race. A lock a dead process kept would run this wait out.
	ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	unlock, err := c.Lock(ctx, "work")
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	unlock()
}

func TestLockWaitEndsWithContext(t *testing.T) {
	c := New(t.TempDir())
	unlock, err := c.Lock(t.Context(), "work")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Lock(ctx, "work")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if want := fmt.Sprintf(`another oat process (PID %d) held the renewal lock of profile "work"`, os.Getpid()); !strings.Contains(err.Error(), want) || !errors.Is(err, ErrBusy) {
		t.Errorf("message %q should say what it waited for and who holds it (%s)", err, want)
	}

	// Other keys are not blocked.
	ctx2, cancel2 := context.WithTimeout(t.Context(), time.Second)
	defer cancel2()
	u2, err := c.Lock(ctx2, "other")
	if err != nil {
		t.Fatalf("a different key is blocked: %v", err)
	}
	u2()
}

func TestLockCanBeTakenAgainAfterUnlock(t *testing.T) {
	c := New(t.TempDir())
	for i := range 3 {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		unlock, err := c.Lock(ctx, "work")
		cancel()
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		unlock()
	}
}

// The holder's PID goes only into a lock file that is oat's own: never
// through a link into another file.
func TestLockNeverWritesThroughALink(t *testing.T) {
	dir := t.TempDir()
	c := New(dir)
	target := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(target, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "work.lock")); err != nil {
		t.Fatal(err)
	}
	if unlock, err := c.Lock(t.Context(), "work"); err == nil {
		unlock()
	}
	if b, _ := os.ReadFile(target); string(b) != "precious" {
		t.Fatalf("a linked file was overwritten: %q", b)
	}
	// A real lock file gets the PID while held and is empty after.
	unlock, err := c.Lock(t.Context(), "other")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "other.lock"))
	unlock()
	after, _ := os.ReadFile(filepath.Join(dir, "other.lock"))
	if string(b) != fmt.Sprintf("%d\n", os.Getpid()) || len(after) != 0 {
		t.Errorf("lock file while held %q, after %q", b, after)
	}
}
