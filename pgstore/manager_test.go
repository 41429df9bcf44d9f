package pgstore_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/pgstore"
)

// TestManagersMintOnce runs two Managers, each over a Store with a pool of
// its own on one schema, as two processes of a fleet would: asking for a
// token at the same moment, they mint one per rotation between them.
func TestManagersMintOnce(t *testing.T) {
	e := newEnv(t)
	srv := ebaytest.NewServer()
	t.Cleanup(srv.Close)
	srv.SetLatency(100 * time.Millisecond) // both are asking while the mint is under way
	clock := ebaytest.NewClock(time.Now())
	srv.SetNow(clock.Now)
	newManager := func() *ebayauth.Manager {
		t.Helper()
		m, err := ebayauth.New(ebayauth.Config{
			ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
			Endpoint: srv.Endpoint(), Store: e.open(t), Clock: clock, RetryMax: -1,
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}
	managers := []*ebayauth.Manager{newManager(), newManager()}

	for rotation := 1; rotation <= 3; rotation++ {
		toks := make([]*ebayauth.Token, len(managers))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, m := range managers {
			wg.Go(func() {
				<-start
				var err error
				if toks[i], err = m.Token(context.Background()); err != nil {
					t.Errorf("rotation %d: Manager %d: %v", rotation, i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if toks[0].AccessToken != toks[1].AccessToken {
			t.Errorf("rotation %d: the Managers hold %s and %s; want one shared token", rotation, toks[0].Fingerprint(), toks[1].Fingerprint())
		}
		if got := srv.Mints(ebaytest.GrantClientCredentials); got != rotation {
			t.Errorf("rotation %d: eBay minted %d tokens in all; want %d", rotation, got, rotation)
		}
		clock.Advance(2 * time.Hour) // the token expires
	}
}

// TestAccountsMintOnce keeps a seller in PostgreSQL: one process connects
// the seller, two processes (two Stores, two pools) act for the seller and
// mint one user token between them, and removing the seller deletes the
// account and its token records.
func TestAccountsMintOnce(t *testing.T) {
	e := newEnv(t)
	srv := ebaytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()
	newAccounts := func() (*ebayauth.Accounts, *pgstore.Store) {
		t.Helper()
		s := e.open(t)
		a, err := ebayauth.NewAccounts(ebayauth.Config{
			ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret, RuName: ebaytest.RuName,
			Endpoint: srv.Endpoint(), RetryMax: -1, Logger: slog.New(slog.DiscardHandler),
		}, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a, s
	}
	a1, s1 := newAccounts()
	a2, s2 := newAccounts()

	acct, err := a1.Connect(ctx, srv.IssueCode(ebayauth.ScopeAPI, ebayauth.ScopeIdentity))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if got, err := s2.LoadAccount(ctx, acct.ID); err != nil || got.RefreshToken != acct.RefreshToken {
		t.Fatalf("the other process's LoadAccount = %v, %v; want the connected seller", got, err)
	}

	srv.SetLatency(100 * time.Millisecond)
	mintsBefore := srv.Mints(ebaytest.GrantRefreshToken)
	toks := make([]*ebayauth.Token, 2)
	var wg sync.WaitGroup
	for i, a := range []*ebayauth.Accounts{a1, a2} {
		wg.Go(func() {
			var err error
			if toks[i], err = a.Token(ctx, acct.ID); err != nil {
				t.Errorf("process %d: Token: %v", i+1, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if toks[0].AccessToken != toks[1].AccessToken {
		t.Errorf("the processes hold %s and %s; want one shared token", toks[0].Fingerprint(), toks[1].Fingerprint())
	}
	if got := srv.Mints(ebaytest.GrantRefreshToken) - mintsBefore; got != 1 {
		t.Errorf("eBay minted %d user tokens; want 1", got)
	}
	var records int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM "+e.table("tokens")+" WHERE account = $1", acct.ID).Scan(&records); err != nil {
		t.Fatal(err)
	}
	if records != 1 {
		t.Errorf("%d token records for the seller; want 1", records)
	}

	if err := a2.Remove(ctx, acct.ID); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := s1.LoadAccount(ctx, acct.ID); !errors.Is(err, ebayauth.ErrNotFound) {
		t.Errorf("LoadAccount after Remove: %v; want ErrNotFound", err)
	}
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM "+e.table("tokens")+" WHERE account = $1", acct.ID).Scan(&records); err != nil {
		t.Fatal(err)
	}
	if records != 0 {
		t.Errorf("%d token records for the removed seller; want 0", records)
	}
}
