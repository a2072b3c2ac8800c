package session

import (
	"context"
	"testing"
	"time"

	"github.com/oatcli/oat/internal/auth/authtest"
	"github.com/oatcli/oat/internal/keychain/keychaintest"
)

// A refused access token is dropped from the cache, only when it is the one
// cached; the refresh token stays and the next Token renews.
func TestForgetAccessTokenDropsOnlyThatToken(t *testing.T) {
	t.Parallel()
	op := authtest.NewOP(t)
	mem := keychaintest.NewMemory()
	m := newManager(t, op, mem)
	ctx := context.Background()
	e := login(t, m)
	rt, _ := mem.Get("work")

	// A token that is not (or no longer) the cached one: nothing happens.
	if dropped, err := m.ForgetAccessToken(ctx, "some-other-token"); err != nil || dropped {
		t.Fatalf("forget another token: dropped %v, %v", dropped, err)
	}
	if c := m.Cached(time.Minute); c == nil || c.AccessToken != e.AccessToken {
		t.Fatal("forgetting another token dropped the cached one")
	}

	if dropped, err := m.ForgetAccessToken(ctx, e.AccessToken); err != nil || !dropped {
		t.Fatalf("forget the cached token: dropped %v, %v", dropped, err)
	}
	if c := m.Cached(0); c != nil {
		t.Fatal("the forgotten token is still served from the cache")
	}
	ent, err := m.Cache.Load("work")
	if err != nil || ent.IDToken != e.IDToken || ent.Subject != e.Subject {
		t.Errorf("forgetting lost the ID token or subject: %+v, %v", ent, err)
	}
	if got, _ := mem.Get("work"); got != rt {
		t.Error("forgetting the access token touched the refresh token")
	}
	before := op.Grants("refresh_token")
	n, err := m.Token(ctx, time.Minute)
	if err != nil || n.AccessToken == "" || n.AccessToken == e.AccessToken {
		t.Fatalf("Token after forget: %v (same token: %v)", err, n != nil && n.AccessToken == e.AccessToken)
	}
	if got := op.Grants("refresh_token") - before; got != 1 {
		t.Errorf("Token after forget made %d refresh grants, want 1", got)
	}
	// Nothing cached to drop: not an error.
	if _, err := m.ForgetAccessToken(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if dropped, err := m.ForgetAccessToken(ctx, ""); err != nil || dropped {
		t.Errorf("second forget: dropped %v, %v", dropped, err)
	}
}
