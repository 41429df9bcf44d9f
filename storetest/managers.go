package storetest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// testManagersOnAnyClock runs two Managers over one store, on a fake clock
// years behind the store's and years ahead of it, against a fake eBay on
// the same clock: they must share each token as Managers on the real clock
// do, one mint per rotation.
func testManagersOnAnyClock(t *testing.T, newStore func(t *testing.T) ebayauth.Store) {
	for _, start := range []time.Time{
		time.Date(2020, 3, 1, 9, 0, 0, 0, time.UTC),
		time.Date(2040, 3, 1, 9, 0, 0, 0, time.UTC),
	} {
		t.Run(start.Format("2006"), func(t *testing.T) {
			store := newStore(t)
			clock := ebaytest.NewClock(start)
			srv := ebaytest.NewServer()
			t.Cleanup(srv.Close)
			srv.SetNow(clock.Now)
			newManager := func() *ebayauth.Manager {
				t.Helper()
				m, err := ebayauth.New(ebayauth.Config{
					ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
					Endpoint: srv.Endpoint(), Store: store, Clock: clock, RetryMax: -1,
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { m.Close() })
				return m
			}
			a, b := newManager(), newManager()
			ctx := context.Background()

			for rotation := 1; rotation <= 2; rotation++ {
				ta, err := a.Token(ctx)
				if err != nil {
					t.Fatalf("rotation %d: first Manager: %v", rotation, err)
				}
				waitForToken(t, b, ta)
				tb, err := b.Token(ctx)
				if err != nil {
					t.Fatalf("rotation %d: second Manager: %v", rotation, err)
				}
				if tb.AccessToken != ta.AccessToken {
					t.Errorf("rotation %d: the Managers hold different tokens %s and %s; want one shared token", rotation, ta.Fingerprint(), tb.Fingerprint())
				}
				if got := srv.Mints(ebaytest.GrantClientCredentials); got != rotation {
					t.Errorf("rotation %d: eBay minted %d tokens; want %d", rotation, got, rotation)
				}
				if st := b.Status(); st.State != ebayauth.StateFresh || !st.LastRefresh.Equal(a.Status().LastRefresh) {
					t.Errorf("rotation %d: second Manager's status = %s, last refresh %v; want fresh, %v", rotation, st.State, st.LastRefresh, a.Status().LastRefresh)
				}
				clock.Advance(2 * time.Hour) // the token expires on the Managers' clock
			}
		})
	}
}

// waitForToken waits until m finds tok in its store: a Manager writes its
// token to the store just after handing it out.
func waitForToken(t *testing.T, m *ebayauth.Manager, tok *ebayauth.Token) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		if err := m.Sync(context.Background()); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		if m.Status().Fingerprint == tok.Fingerprint() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store does not hold the first Manager's token %v after %v", tok, patience)
		}
		time.Sleep(pollEvery)
	}
}
