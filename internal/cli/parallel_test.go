package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/tokencache"
)

// oatBinary is the oat binary, built once per test run, for tests that run
// it as a user would (skipped with -short).
func oatBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin, err := buildOat()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// forBinary makes e keep tokens in files, which the built binary can read
// (it cannot share e's in-memory stores), and log in through e's scripted
// browser.
func (e *opEnv) forBinary() {
	e.env["OAT_STORAGE"] = "file"
	e.configure = func(f *Factory) { f.Browser = e.browser.Open }
}

// buildOat builds the oat binary once per test run.
var buildOat = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "oat-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "oat")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/oatcli/oat/cmd/oat")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{out: string(out), err: err}
	}
	return bin, nil
})

type buildError struct {
	out string
	err error
}

func (b *buildError) Error() string { return b.err.Error() + ": " + b.out }

// TestParallelTokenRefreshesOnce runs 20 oat processes at once on an expired
// token: all print the same new token and the provider sees one refresh.
func TestParallelTokenRefreshesOnce(t *testing.T) {
	bin := oatBinary(t)
	e := newOPEnv(t, config.FlowPKCE)
	e.forBinary()
	e.mustRun(0, "login")

	// Let the access token expire (as if its time had passed).
	cache := tokencache.New(filepath.Join(e.dir, "cache", "oat"))
	ent, err := cache.Load("work")
	if err != nil {
		t.Fatal(err)
	}
	old := ent.AccessToken
	ent.Expiry = time.Now().Add(-time.Minute)
	if err := cache.Save("work", ent); err != nil {
		t.Fatal(err)
	}
	before := e.op.Grants(refreshGrant)

	var env []string
	for k, v := range e.env {
		env = append(env, k+"="+v)
	}
	env = append(env, "PATH="+os.Getenv("PATH"))
	const n = 20
	outs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, bin, "token")
			cmd.Env = env
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			outs[i] = string(out)
			if err != nil {
				errs[i] = &buildError{out: stderr.String(), err: err}
			}
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("process %d: %v", i, errs[i])
		}
		if outs[i] != outs[0] {
			t.Errorf("process %d printed another token", i)
		}
	}
	if strings.TrimSpace(outs[0]) == old || strings.TrimSpace(outs[0]) == "" {
		t.Errorf("the processes printed the expired token (or nothing): %q", outs[0])
	}
	if got := e.op.Grants(refreshGrant) - before; got != 1 {
		t.Errorf("the provider saw %d refresh grants, want exactly 1", got)
	}
}
