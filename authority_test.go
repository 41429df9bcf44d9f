package ebayauth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// The Manager is the one judge of a token's state, and every process that
// shares a store reports the same state through it.

// TestRestartedManagerServesStaleStoredToken: a new Manager (a restart, a
// new replica) whose store holds a token inside its refresh window serves
// it at once and keeps serving it through an identity outage until it
// expires.
func TestRestartedManagerServesStaleStoredToken(t *testing.T) {
	store := newSavedStore()
	f := newFixture(t, func(c *ebayauth.Config) { c.Store = store })
	tok := f.token(t)
	f.m.Close() // the first process ends; Close waits for its write to the store

	f.clock.Set(tok.Expiry.Add(-30 * time.Minute)) // stale: inside the 1 h window
	f.srv.FailNext(-1, http.StatusServiceUnavailable, "")
	restarted := newFixtureOn(t, f, func(c *ebayauth.Config) { c.Store = store })
	for i := range 3 {
		got, err := restarted.m.Token(context.Background())
		if err != nil || got.AccessToken != tok.AccessToken {
			t.Fatalf("call %d during the outage: %v, %v; want the stored token %v", i, got, err, tok)
		}
	}
	if code := search(t, restarted.m.Client(), f.srv.URL); code != http.StatusOK {
		t.Errorf("request during the outage: HTTP %d; want 200 with the stored token", code)
	}
	if st := restarted.m.Status(); st.State != ebayauth.StateStale || !st.Healthy {
		t.Errorf("status = %s healthy=%v; want stale and healthy", st.State, st.Healthy)
	}
	if got := f.srv.Mints(ebaytest.GrantClientCredentials); got != 1 {
		t.Errorf("mints = %d; want 1 (the outage lets none through)", got)
	}
	// Past its expiry, with no fallback, the outage shows.
	f.clock.Set(tok.Expiry.Add(time.Minute))
	if _, err := restarted.m.Token(context.Background()); !errors.Is(err, ebayauth.ErrNoToken) {
		t.Errorf("after expiry: err = %v; want ErrNoToken", err)
	}
}

// TestRejectedTokenReportedEverywhere: once validation finds the token
// revoked, every process sharing the store reports it (unhealthy) until one
// replaces it, with one mint.
func TestRejectedTokenReportedEverywhere(t *testing.T) {
	store := newSavedStore()
	a := newFixture(t, func(c *ebayauth.Config) { c.Store = store })
	b := newFixtureOn(t, a, func(c *ebayauth.Config) { c.Store = store })
	tok := a.token(t)
	a.clock.Advance(10 * time.Minute)
	if err := a.m.Validate(context.Background()); err != nil {
		t.Fatalf("Validate of a good token: %v", err)
	}
	syncUntil(t, b.m, store, tok)
	sa, sb := a.m.Status(), b.m.Status()
	if sa.LastValidation.IsZero() || !sb.LastValidation.Equal(sa.LastValidation) || !sb.LastRefresh.Equal(sa.LastRefresh) ||
		sb.ValidationError != "" || sb.State != sa.State || !sb.Expiry.Equal(sa.Expiry) || !sb.RefreshAt.Equal(sa.RefreshAt) {
		t.Errorf("second process reports %+v;\nthe first %+v;\nwant the same state, expiry, last refresh and last validation", sb, sa)
	}

	a.clock.Advance(time.Minute)
	a.srv.RevokeAll()
	var ae *ebayauth.APIError
	if err := a.m.Validate(context.Background()); !errors.As(err, &ae) || !ae.IsInvalidToken() {
		t.Fatalf("Validate of a revoked token = %v; want eBay's 401", err)
	}
	if err := b.m.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*ebayauth.Manager{"validating": a.m, "other": b.m} {
		st := m.Status()
		if st.State != ebayauth.StateRejected || st.Healthy || st.ValidationError == "" || st.LastValidation.IsZero() {
			t.Errorf("%s process: state %s healthy=%v validation %q at %v; want rejected, unhealthy, with the verdict",
				name, st.State, st.Healthy, st.ValidationError, st.LastValidation)
		}
	}
	before := a.srv.Mints(ebaytest.GrantClientCredentials)
	fresh, refreshed, err := b.m.RefreshIfDue(context.Background())
	if err != nil || !refreshed || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("RefreshIfDue of a rejected token = %v, refreshed=%v, %v; want a new token", fresh, refreshed, err)
	}
	if got := a.srv.Mints(ebaytest.GrantClientCredentials) - before; got != 1 {
		t.Errorf("mints to replace the rejected token = %d; want 1", got)
	}
	syncUntil(t, a.m, store, fresh)
	for name, m := range map[string]*ebayauth.Manager{"validating": a.m, "other": b.m} {
		if st := m.Status(); st.State != ebayauth.StateFresh || !st.Healthy || st.ValidationError != "" {
			t.Errorf("%s process after the replacement: %s healthy=%v validation %q; want fresh and healthy", name, st.State, st.Healthy, st.ValidationError)
		}
	}
	// The rejected token is never served again, by either.
	if got := a.token(t); got.AccessToken != fresh.AccessToken {
		t.Errorf("Token after replacement = %v; want %v", got, fresh)
	}
}

// TestRejectedTokenNotServed: a token validation found revoked is replaced
// by the next Token call, not served.
func TestRejectedTokenNotServed(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(t)
	f.clock.Advance(10 * time.Minute)
	f.srv.RevokeAll()
	if err := f.m.Validate(context.Background()); err == nil {
		t.Fatal("Validate accepted a revoked token")
	}
	got := f.token(t)
	if got.AccessToken == tok.AccessToken || !f.srv.ValidToken(got.AccessToken) {
		t.Errorf("Token after the rejection = %v; want a new, valid token", got)
	}
}

func TestRunAfterCloseReturnsErrClosed(t *testing.T) {
	f := newFixture(t, nil)
	f.m.Close()
	done := make(chan error, 1)
	go func() { done <- f.m.Run(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, ebayauth.ErrClosed) {
			t.Errorf("Run after Close = %v; want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run after Close did not return")
	}
}

func TestCloseStopsRun(t *testing.T) {
	f := newFixture(t, nil)
	done := make(chan error, 1)
	go func() { done <- f.m.Run(context.Background()) }()
	waitWaiters(t, f.clock) // Run minted and sleeps until the refresh point
	f.m.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ebayauth.ErrClosed) {
			t.Errorf("Run after Close = %v; want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop Run")
	}
}
