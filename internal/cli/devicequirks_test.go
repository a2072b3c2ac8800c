package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/config"
)

// A device authorization answer in the style of Entra ID v1 and Google
// (numbers as strings, verification_url instead of RFC 8628's
// verification_uri) is accepted. Entra v1 documents "expires_in" and
// "interval" as strings and "verification_url":
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code#device-authorization-response
// (v1 endpoint /oauth2/devicecode); Google:
// https://developers.google.com/identity/protocols/oauth2/limited-input-device#step-2:-handle-the-authorization-server-response
func TestLoginDeviceStringNumbersAndVerificationURL(t *testing.T) {
	t.Parallel()
	e := newOPEnv(t, config.FlowDevice, authtest.WithDeviceInterval(1))
	// The emulated endpoint is the real OP's, its answer rewritten.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := http.NewRequest(http.MethodPost, e.op.Issuer+"/device_authorization", bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Error(err)
			return
		}
		m["expires_in"] = "900"
		m["interval"] = "1"
		m["verification_url"] = m["verification_uri"]
		delete(m, "verification_uri")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	}))
	t.Cleanup(proxy.Close)
	e.configure = chain(e.configure, func(f *Factory) {
		f.Browser = func(u string) error {
			pu, err := url.Parse(u)
			if err != nil {
				return err
			}
			go e.op.ApproveDevice(t, pu.Query().Get("user_code"))
			return nil
		}
	})
	e.mustRun(0, "login", "--device-authorization-url", proxy.URL+"/devicecode")
	if !strings.Contains(e.errOut.String(), "To log in, visit:\n\n  "+e.op.Issuer) {
		t.Errorf("the verification_url was not shown: stderr %q", e.errOut)
	}
	if _, err := e.store.Get("work"); err != nil {
		t.Errorf("refresh token not stored: %v", err)
	}
}
