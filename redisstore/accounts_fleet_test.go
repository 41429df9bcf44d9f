package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/internal/redistest"
)

// TestAccountsFleetMintsOncePerSellerRotation: eight replicas, each with
// its own Accounts, over one Redis (access tokens) and one account store,
// serve 1,000 sellers through three token lifetimes: eBay mints exactly one
// token per seller per rotation.
func TestAccountsFleetMintsOncePerSellerRotation(t *testing.T) {
	const replicas, sellers, rotations = 8, 1000, 3
	srv := redistest.New(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 64})
	t.Cleanup(func() { c.Close() })
	tokens, err := New(c, WithPrefix(srv.Prefix(t)), WithSealKey([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	fake := ebaytest.NewServer()
	t.Cleanup(fake.Close)
	clock := ebaytest.NewClock(time.Date(2040, 3, 1, 9, 0, 0, 0, time.UTC))
	fake.SetNow(clock.Now)
	accounts := ebayauth.NewMemoryStore()
	ids := make([]string, sellers)
	for i := range ids {
		ids[i] = fmt.Sprintf("seller-%04d", i)
		if err := accounts.SaveAccount(context.Background(), &ebayauth.Account{ID: ids[i], RefreshToken: fake.IssueRefreshToken()}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	kinds := map[ebayauth.EventKind]int{}
	var logs syncLog
	fleet := make([]*ebayauth.Accounts, replicas)
	for r := range fleet {
		a, err := ebayauth.NewAccounts(ebayauth.Config{ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
			Endpoint: fake.Endpoint(), Store: tokens, Clock: clock, RetryMax: -1,
			Logger:  slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
			OnEvent: func(e ebayauth.Event) { mu.Lock(); kinds[e.Kind]++; mu.Unlock() }}, accounts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		fleet[r] = a
	}
	for rotation := 1; rotation <= rotations; rotation++ {
		var wg sync.WaitGroup
		for r, a := range fleet {
			wg.Go(func() {
				for i := range sellers {
					id := ids[(i+r*sellers/replicas)%sellers] // each replica starts elsewhere
					if _, err := a.Token(context.Background(), id); err != nil {
						t.Errorf("replica %d, %s: %v", r, id, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if got, want := fake.Mints(ebaytest.GrantRefreshToken), rotation*sellers; got != want {
			mu.Lock()
			t.Fatalf("after rotation %d: %d mints; want %d (one per seller per rotation); events %v; warnings:\n%.3000s", rotation, got, want, kinds, logs.String())
		}
		clock.Advance(2 * time.Hour)
	}
}

type syncLog struct {
	mu sync.Mutex
	b  []byte
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
