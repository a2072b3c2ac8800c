package cli

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/issuer"
	"github.com/oatcli/oat/internal/keychain"
	"github.com/oatcli/oat/internal/keychain/keychaintest"
)

func TestNewCmdIssuerServeFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args    string
		wantErr string
		check   func(*IssuerServeOptions) bool
	}{
		{args: "", check: func(o *IssuerServeOptions) bool {
			return o.Port == 0 && o.Addr == "" && o.AccessTokenTTL == 5*time.Minute && o.Clients == nil && o.Users == nil && !o.AllowNonLoopback
		}},
		{args: "--port 9000 --access-token-ttl 1m --client a --client b --user alice --user bob --key k.pem --auto-approve", check: func(o *IssuerServeOptions) bool {
			return o.Port == 9000 && o.AccessTokenTTL == time.Minute && strings.Join(o.Clients, ",") == "a,b" &&
				strings.Join(o.Users, ",") == "alice,bob" && o.KeyFile == "k.pem" && o.AutoApprove
		}},
		{args: "--addr 0.0.0.0:9000 --allow-non-loopback", check: func(o *IssuerServeOptions) bool {
			return o.Addr == "0.0.0.0:9000" && o.AllowNonLoopback
		}},
		{args: "--port 70000", wantErr: "not a port"},
		{args: "--port 1 --addr 127.0.0.1:2", wantErr: "not both"},
		{args: "--access-token-ttl 10ms", wantErr: "below one second"},
	} {
		e := newTestEnv(t)
		var got *IssuerServeOptions
		cmd := newCmdIssuerServe(e.factory(), func(_ context.Context, o *IssuerServeOptions) error { got = o; return nil })
		args := strings.Fields(tc.args)
		cmd.SetArgs(args)
		cmd.SetOut(e.out)
		cmd.SetErr(e.errOut)
		err := cmd.Execute()
		if tc.wantErr != "" {
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want a usage error with %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got == nil || !tc.check(got) {
			t.Errorf("%q: err = %v, options = %+v", tc.args, err, got)
		}
	}
}

func TestRunIssuerServe(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.factory()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var url string
	o := &IssuerServeOptions{F: f, AccessTokenTTL: time.Minute, Users: []string{"bob"}, onReady: func(iss *issuer.Issuer) {
		url = iss.URL
		resp, err := http.Get(iss.URL + "/.well-known/openid-configuration")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("discovery: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		cancel() // as Ctrl-C does
	}}
	if err := runIssuerServe(ctx, o); err != nil {
		t.Fatalf("runIssuerServe: %v", err)
	}
	if url == "" || e.out.String() != url+"\n" {
		t.Errorf("stdout = %q, want the issuer URL %q and a newline", e.out.String(), url)
	}
	stderr := e.errOut.String()
	for _, want := range []string{
		"oat profile add local --issuer " + url + ` --client-id oat --scope "openid profile offline_access"`,
		"export OAT_OAT_MACHINE_SECRET=",
		"--client-id oat-machine --client-secret-env OAT_OAT_MACHINE_SECRET --flow client-credentials",
		"Users (pick one on the login page, no password): bob",
		"Issuer stopped.",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := http.Get(url + "/.well-known/openid-configuration"); err == nil {
		t.Error("issuer still serving after the context ended")
	}
}

func TestRunIssuerServeRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	err := runIssuerServe(context.Background(), &IssuerServeOptions{F: e.factory(), Addr: "0.0.0.0:0", AccessTokenTTL: time.Minute})
	if ExitCode(err, false) != ExitUsage || !strings.Contains(err.Error(), "--allow-non-loopback") {
		t.Errorf("err = %v (exit %d), want a usage error naming --allow-non-loopback", err, ExitCode(err, false))
	}
	if e.out.Len() != 0 {
		t.Errorf("stdout = %q", e.out.String())
	}
}

func TestCmdIssuerGroup(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	cmd := newCmdIssuer(e.factory())
	cmd.SetArgs([]string{"serve", "--port", "-1"})
	cmd.SetOut(e.out)
	cmd.SetErr(e.errOut)
	if err := cmd.Execute(); ExitCode(err, false) != ExitUsage {
		t.Errorf("serve --port -1: err = %v", err)
	}
}

// The lines the issuer prints work with oat itself.
func TestIssuerHintsWithOat(t *testing.T) {
	t.Parallel()
	iss, err := issuer.Start(context.Background(), issuer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	var secret string
	for _, c := range iss.Clients() {
		if c.Confidential {
			secret = c.Secret
		}
	}
	e := newTestEnv(t)
	e.env["OAT_STORAGE"] = "file"
	e.env[issuer.SecretEnv(issuer.DefaultMachineClient)] = secret
	e.mustRun(ExitOK, strings.Fields(strings.TrimPrefix(iss.ProfileAddCommand(issuer.DefaultMachineClient), "oat "))...)
	e.mustRun(ExitOK, "token", "-p", "local-machine")
	tok := strings.TrimSpace(e.out.String())
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("token = %q", tok)
	}
	e.mustRun(ExitOK, "decode", "--verify", "--issuer", iss.URL, tok)
	if !strings.Contains(e.out.String(), "oat-machine") {
		t.Errorf("decode output lacks the subject:\n%s", e.out.String())
	}
}

// oat login (PKCE and device), token, refresh and revoke against oat's own
// issuer, as `oat demo` will do it: auto-approve, a browser that just follows
// redirects, a throwaway keychain.
func TestLoginAgainstOwnIssuer(t *testing.T) {
	t.Parallel()
	iss, err := issuer.Start(context.Background(), issuer.Config{AutoApprove: true, DeviceInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	for _, flow := range []string{"pkce", "device"} {
		t.Run(flow, func(t *testing.T) {
			e := newTestEnv(t)
			store := keychaintest.NewMemory()
			var opened []string
			e.configure = func(f *Factory) {
				f.StoreFor = func(string) (keychain.Store, error) { return store, nil }
				f.Browser = func(u string) error {
					opened = append(opened, u)
					resp, err := http.Get(u) // follows the redirects to oat's loopback listener
					if err != nil {
						return err
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						return errors.New(resp.Status)
					}
					return nil
				}
			}
			// The line the issuer prints, as a shell would split it.
			line := iss.ProfileAddCommand(issuer.DefaultPublicClient)
			args := strings.Fields(strings.TrimPrefix(line[:strings.Index(line, " --scope ")], "oat "))
			args = append(args, "--scope", issuer.DefaultScopes, "--flow", flow)
			e.mustRun(ExitOK, args...)
			e.mustRun(ExitOK, "login", "-p", "local")
			if len(opened) != 1 || !strings.Contains(e.errOut.String(), "alice") {
				t.Errorf("opened %v; stderr: %s", opened, e.errOut)
			}
			e.mustRun(ExitOK, "token", "-p", "local")
			at := e.out.String()
			e.mustRun(ExitOK, "refresh", "-p", "local")
			if e.out.String() == at {
				t.Error("refresh printed the same access token")
			}
			e.mustRun(ExitOK, "revoke", "-p", "local")
			if !strings.Contains(e.errOut.String(), "Revoked the refresh token") {
				t.Errorf("revoke stderr: %s", e.errOut)
			}
		})
	}
}
