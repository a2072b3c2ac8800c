package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/config"
)

// The invalid_client hint names what the configured client authentication
// needs checking, never a secret the client does not use.
func TestInvalidClientHintFollowsClientAuth(t *testing.T) {
	for auth, want := range map[string]string{
		config.ClientAuthPrivateKeyJWT: "public key of client_key_file",
		ClientAuthAssertion:            "trusts the issuer and subject of the client_assertion token",
		config.ClientAuthNone:          "a confidential client also needs its secret",
		config.ClientAuthBasic:         "the client secret in client_secret_env",
		"":                             "the client secret in client_secret_env",
	} {
		msg := (&ServerError{Op: "client credentials", Code: "invalid_client", ClientAuth: auth}).Error()
		if !strings.Contains(msg, want) {
			t.Errorf("client_auth %q: %q, want %q", auth, msg, want)
		}
	}
	// Set from the client: a federated assertion is named as such.
	c := &Client{Profile: config.Profile{ClientAssertion: "env:X", ClientAuth: ""}}
	var se *ServerError
	if err := c.clientErr(&ServerError{Code: "invalid_client"}); !errors.As(err, &se) || se.ClientAuth != ClientAuthAssertion {
		t.Errorf("clientErr: %+v", err)
	}
}
