package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/oatcli/oat/internal/auth"
	"github.com/oatcli/oat/internal/config"
	"github.com/oatcli/oat/internal/dpop"
	"github.com/oatcli/oat/internal/jwt"
	"github.com/oatcli/oat/internal/tokencache"
)

// clientWith returns the auth.Client with the endpoint pick(e) set: to
// override when given, else from discovery. A discovery cache written
// before oat read that endpoint lacks it, so an empty one is looked up
// afresh once.
func (m *Manager) clientWith(ctx context.Context, override string, pick func(*auth.Endpoints) *string) (*auth.Client, error) {
	c, err := m.client(ctx, false)
	if err != nil {
		return nil, err
	}
	if override != "" {
		ep := *c.Endpoints
		*pick(&ep) = override
		c.Endpoints = &ep
		return c, nil
	}
	if *pick(c.Endpoints) == "" && m.Profile.Profile.Issuer != "" {
		if c, err = m.client(ctx, true); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Introspect asks the server about token (RFC 7662) with the profile's
// client; endpoint, when set, replaces the discovered introspection
// endpoint.
func (m *Manager) Introspect(ctx context.Context, token, hint, endpoint string) (*auth.Introspection, error) {
	c, err := m.clientWith(ctx, endpoint, func(e *auth.Endpoints) *string { return &e.IntrospectionURL })
	if err != nil {
		return nil, err
	}
	res, err := c.Introspect(ctx, token, hint)
	if errors.Is(err, auth.ErrNoIntrospectionEndpoint) {
		return nil, &config.Error{Msg: "the server names no introspection endpoint (introspection_endpoint in its metadata): pass --introspection-url"}
	}
	return res, err
}

// SubjectMismatchError is a UserInfo response whose sub is not the ID
// token's: OpenID Connect Core 5.3.2 says its values must not be used.
type SubjectMismatchError struct{ Got, Want string }

func (e *SubjectMismatchError) Error() string {
	return fmt.Sprintf("userinfo: the response's sub %q is not the ID token's %q, so it must not be used (OpenID Connect Core 5.3.2)", e.Got, e.Want)
}

// UserInfo returns the OIDC UserInfo response for the profile's access token
// (renewed first when it expires within minTTL); endpoint, when set,
// replaces the discovered userinfo endpoint. A token the server refuses with
// 401 is renewed once and tried again, since the server may have revoked it
// before its time; refused again, the session is over: *LoginRequiredError.
func (m *Manager) UserInfo(ctx context.Context, minTTL time.Duration, endpoint string) (json.RawMessage, error) {
	e, err := m.Token(ctx, minTTL)
	if err != nil {
		return nil, err
	}
	c, err := m.clientWith(ctx, endpoint, func(e *auth.Endpoints) *string { return &e.UserinfoURL })
	if err != nil {
		return nil, err
	}
	if err := m.proveWith(c, e); err != nil {
		return nil, err
	}
	body, err := c.UserInfo(ctx, e.AccessToken)
	var refused *auth.TokenRefusedError
	if errors.As(err, &refused) && refused.StatusCode == http.StatusUnauthorized {
		if e, err = m.Refresh(ctx); err != nil {
			return nil, err
		}
		if err := m.proveWith(c, e); err != nil {
			return nil, err
		}
		body, err = c.UserInfo(ctx, e.AccessToken)
		if errors.As(err, &refused) && refused.StatusCode == http.StatusUnauthorized {
			return nil, &LoginRequiredError{Profile: m.Profile, Reason: fmt.Errorf("%w, even just renewed", err)}
		}
	}
	if errors.Is(err, auth.ErrNoUserinfoEndpoint) {
		return nil, &config.Error{Msg: "the server names no userinfo endpoint (userinfo_endpoint in its metadata): pass --userinfo-url"}
	}
	if err != nil {
		return nil, err
	}
	if want := idTokenSubject(e.IDToken); want != "" {
		var ui struct {
			Sub string `json:"sub"`
		}
		_ = json.Unmarshal(body, &ui)
		if ui.Sub != want {
			return nil, &SubjectMismatchError{Got: ui.Sub, Want: want}
		}
	}
	return body, nil
}

// idTokenSubject is the sub of the cached ID token (verified when it was
// received), "" when there is none.
func idTokenSubject(raw string) string {
	sub, _ := jwt.Claims(raw).String("sub")
	return sub
}

// proveWith sets c's DPoP key for a resource request with e's token: the
// key e is bound to when e is a DPoP token, else none.
func (m *Manager) proveWith(c *auth.Client, e *tokencache.Entry) error {
	c.DPoP = nil
	if !strings.EqualFold(e.TokenType, dpop.TokenType) {
		return nil
	}
	k, err := m.DPoPKey(e)
	if err != nil {
		return err
	}
	c.DPoP = k
	return nil
}
