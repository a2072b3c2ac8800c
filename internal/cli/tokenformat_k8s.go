package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/oatcli/oat/internal/output"
)

// The client.authentication.k8s.io API versions -o exec-credential writes
// (k8s.io/client-go/pkg/apis/clientauthentication/{v1,v1beta1}/types.go).
const (
	k8sAuthV1      = "client.authentication.k8s.io/v1"
	k8sAuthV1beta1 = "client.authentication.k8s.io/v1beta1"
)

// execInfo is what oat reads of $KUBERNETES_EXEC_INFO, the ExecCredential
// that client-go passes to an exec plugin.
type execInfo struct {
	APIVersion  string
	Interactive bool
}

// parseExecInfo reads $KUBERNETES_EXEC_INFO: empty means v1 (client-go sets
// it for every exec plugin, but a plugin run by hand has none). Unknown
// fields are ignored (spec.cluster is only there with provideClusterInfo).
func parseExecInfo(s string) (execInfo, error) {
	if s == "" {
		return execInfo{APIVersion: k8sAuthV1}, nil
	}
	var in struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			Interactive bool `json:"interactive"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return execInfo{}, usageErrorf("KUBERNETES_EXEC_INFO is not an ExecCredential in JSON (%s): unset it, or check the kubeconfig's exec section", jsonErrorText(err))
	}
	if in.Kind != "" && in.Kind != "ExecCredential" {
		return execInfo{}, usageErrorf("KUBERNETES_EXEC_INFO has kind %q, not ExecCredential", in.Kind)
	}
	switch in.APIVersion {
	case k8sAuthV1, k8sAuthV1beta1:
	case "":
		in.APIVersion = k8sAuthV1
	default:
		return execInfo{}, usageErrorf("KUBERNETES_EXEC_INFO asks for apiVersion %q: oat writes %s and %s; set one of them as the kubeconfig exec apiVersion", in.APIVersion, k8sAuthV1, k8sAuthV1beta1)
	}
	return execInfo{APIVersion: in.APIVersion, Interactive: in.Spec.Interactive}, nil
}

// jsonErrorText says what is wrong with a JSON document without quoting it.
func jsonErrorText(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("invalid JSON at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("field %q has the wrong type", e.Field)
	}
	return "invalid JSON"
}

// execCredential is the ExecCredential of both API versions as oat fills
// it: spec.interactive (required in both) echoes the request; spec.cluster
// is never sent back.
type execCredential struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Spec       execCredentialSpec   `json:"spec"`
	Status     execCredentialStatus `json:"status"`
}

type execCredentialSpec struct {
	Interactive bool `json:"interactive"`
}

type execCredentialStatus struct {
	ExpirationTimestamp string `json:"expirationTimestamp,omitempty"`
	Token               string `json:"token"`
}

// writeExecCredential writes the ExecCredential for kubectl (client-go),
// which caches the token until expirationTimestamp and runs oat again then.
func writeExecCredential(o *TokenOptions, tok string, exp time.Time) error {
	c := execCredential{
		APIVersion: o.k8sInfo.APIVersion,
		Kind:       "ExecCredential",
		Spec:       execCredentialSpec{Interactive: o.k8sInfo.Interactive},
		Status:     execCredentialStatus{Token: tok},
	}
	if c.APIVersion == "" {
		c.APIVersion = k8sAuthV1
	}
	if !exp.IsZero() {
		// metav1.Time's JSON form: RFC 3339, UTC, whole seconds.
		c.Status.ExpirationTimestamp = exp.UTC().Format(time.RFC3339)
	}
	return output.WriteJSON(o.F.IO.Out, c)
}
