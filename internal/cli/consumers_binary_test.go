package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
)

// TestConsumersThroughTheBinary drives the built oat against the OP as
// users do: eval of -o env in bash, kubectl's exec-credential call,
// introspect, userinfo, and masking in GitHub Actions.
func TestConsumersThroughTheBinary(t *testing.T) {
	bin := oatBinary(t)
	e := newConfidentialOPEnv(t)
	e.forBinary()
	e.mustRun(0, "login")

	env := []string{"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")}
	for k, v := range e.env {
		env = append(env, k+"="+v)
	}
	run := func(extra []string, name string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(append([]string{}, env...), extra...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), exitCode(err)
	}

	out, errOut, code := run(nil, bin, "token")
	tok := strings.TrimSpace(out)
	if code != 0 || tok == "" {
		t.Fatalf("oat token: exit %d, %s", code, errOut)
	}

	// eval "$(oat token -o env)" in bash.
	out, errOut, code = run(nil, "bash", "--noprofile", "--norc", "-c", `eval "$(oat token -o env --shell bash)" && printf '%s|%s' "$OAT_ACCESS_TOKEN" "${OAT_ACCESS_TOKEN_EXPIRES_AT:+set}"`)
	if code != 0 || out != tok+"|set" {
		t.Errorf("bash eval of -o env: exit %d, %q, %s", code, out, errOut)
	}

	// kubectl (client-go) runs the plugin with KUBERNETES_EXEC_INFO.
	out, errOut, code = run([]string{`KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`}, bin, "token", "-p", "work", "-o", "exec-credential")
	var cred k8sExecCredentialV1beta1
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cred); code != 0 || err != nil || cred.APIVersion != k8sAuthV1beta1 || cred.Status == nil || cred.Status.Token != tok {
		t.Errorf("exec-credential: exit %d, %v, %s %s", code, err, out, errOut)
	}

	out, errOut, code = run(nil, bin, "introspect")
	if code != 0 || !strings.Contains(out, `"active": true`) {
		t.Errorf("introspect: exit %d, %s %s", code, out, errOut)
	}
	out, errOut, code = run(nil, bin, "userinfo")
	if code != 0 || !strings.Contains(out, `"sub": "`+authtest.Subject+`"`) {
		t.Errorf("userinfo: exit %d, %s %s", code, out, errOut)
	}

	// In GitHub Actions: $(oat token) still captures the token alone; the
	// runner finds the mask on stderr.
	out, errOut, code = run([]string{"GITHUB_ACTIONS=true"}, "bash", "--noprofile", "--norc", "-c", `TOKEN=$(oat token) && printf '%s' "$TOKEN"`)
	if code != 0 || out != tok {
		t.Errorf("TOKEN=$(oat token) in Actions: exit %d, captured %q", code, out)
	}
	if got := parseAddMasks(errOut); len(got) != 1 || got[0] != tok {
		t.Errorf("runner would mask %q; stderr %q", got, errOut)
	}
}
