package cli

import (
	"context"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

// TestCachedTokenStackDepth: a cached `oat token` runs in the 8 KiB stack
// of the main goroutine, never growing it to 16 KiB. Each growth of a
// goroutine's stack allocates a new stack from a fresh span (whose free list
// the runtime writes into every slot), copies the old one and reads the
// stack maps of every frame on it: on the cached path that was ~7 page
// faults of ~400 for the whole process (README, Performance). What kept it
// from fitting was config.(*File).Resolve copying the profile by value into
// helpers (3.2 KiB of frame) and EffectiveProvider's value receiver.
//
// debug.SetMaxStack makes a growth past 8 KiB a fatal error, so the check
// runs in a child process: the test binary again, running Main on a new
// goroutine as main.main does.
func TestCachedTokenStackDepth(t *testing.T) {
	if os.Getenv("OAT_TEST_STACK_CHILD") == "1" {
		old := debug.SetMaxStack(8 << 10)
		done := make(chan int)
		go func() {
			done <- Main(context.Background(), []string{"token"}, strings.NewReader(""), io.Discard, os.Stderr)
		}()
		code := <-done
		debug.SetMaxStack(old)
		if code != 0 {
			t.Fatalf("oat token: exit %d", code)
		}
		return
	}
	if raceEnabled {
		t.Skip("the race detector's instrumentation makes frames larger")
	}
	getenv := benchEnv(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCachedTokenStackDepth$", "-test.count=1")
	cmd.Env = []string{"OAT_TEST_STACK_CHILD=1", "PATH=" + os.Getenv("PATH"),
		// A cache hit never touches the keychain; if it did, this fails.
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + getenv("HOME") + "/no-such-bus"}
	for _, k := range []string{"HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"} {
		cmd.Env = append(cmd.Env, k+"="+getenv(k))
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		s := string(out)
		if i := strings.Index(s, "goroutine stack exceeds"); i >= 0 {
			s = s[i:min(len(s), i+3000)]
		}
		t.Fatalf("the cached `oat token` needs more than 8 KiB of stack (or failed): %v\n%s", err, s)
	}
}
