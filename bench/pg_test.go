package bench_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/bench"
	"github.com/ebayauth/ebayauth/pgstore"
)

// counting wraps pgstore and counts the calls that reach the database: each
// is one SQL statement.
type counting struct {
	*pgstore.Store
	calls atomic.Int64
	saved chan struct{} // a Save returned
}

func (c *counting) Load(ctx context.Context, k string) (*ebayauth.Record, error) {
	c.calls.Add(1)
	return c.Store.Load(ctx, k)
}
func (c *counting) Save(ctx context.Context, k string, r *ebayauth.Record) error {
	c.calls.Add(1)
	err := c.Store.Save(ctx, k, r)
	select {
	case c.saved <- struct{}{}:
	default:
	}
	return err
}
func (c *counting) LoadAccount(ctx context.Context, id string) (*ebayauth.Account, error) {
	c.calls.Add(1)
	return c.Store.LoadAccount(ctx, id)
}
func (c *counting) Lock(ctx context.Context, k string, lease time.Duration) (func(context.Context) error, error) {
	c.calls.Add(1)
	unlock, err := c.Store.Lock(ctx, k, lease)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { c.calls.Add(1); return unlock(ctx) }, nil
}

// BenchmarkSellerPostgres measures a request for a seller kept in
// PostgreSQL (pgstore, local server) among n accounts: cold with the token
// already in the database (another replica minted it), cold with nothing
// stored (one mint, in process), and warm. It reports the database
// statements each costs. n is 2,000, or 100,000 with EBAYAUTH_BENCH_LARGE=1.
func BenchmarkSellerPostgres(b *testing.B) {
	n := 2000
	if os.Getenv("EBAYAUTH_BENCH_LARGE") != "" {
		n = 100000
	}
	ctx := context.Background()
	dsn := os.Getenv("EBAYAUTH_PG_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	schema := fmt.Sprintf("bench_%d", os.Getpid())
	ps, err := pgstore.Open(ctx, dsn, pgstore.WithSealKey([]byte(strings.Repeat("k", 32))), pgstore.WithSchema(schema))
	if err != nil {
		b.Fatalf("PostgreSQL at %s: %v", dsn, err)
	}
	b.Cleanup(func() {
		ps.Close()
		if conn, err := pgx.Connect(ctx, dsn); err == nil {
			conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			conn.Close(ctx)
		}
	})
	store := &counting{Store: ps, saved: make(chan struct{}, 100)}
	ids := make([]string, n)
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				ids[i] = fmt.Sprintf("seller%07d", i)
				if err := ps.SaveAccount(ctx, &ebayauth.Account{ID: ids[i], RefreshToken: "v^1.1#r^1#t^" + ids[i]}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	newAccounts := func() *ebayauth.Accounts {
		a, err := ebayauth.NewAccounts(ebayauth.Config{ClientID: "bench-app", ClientSecret: "bench-secret",
			HTTPClient: &http.Client{Transport: new(mintInProcess)}, Logger: slog.New(slog.DiscardHandler)}, store)
		if err != nil {
			b.Fatal(err)
		}
		return a
	}
	minter := newAccounts() // "another replica"
	defer minter.Close()
	probe := newAccounts() // sees what the minter stored, without warming the measured replica
	defer probe.Close()
	half := n / 2
	for _, mode := range []string{"cold-stored", "cold-new", "warm"} {
		b.Run(fmt.Sprintf("%s/accounts=%d", mode, n), func(b *testing.B) {
			a := newAccounts()
			defer a.Close()
			rt := a.Transport(bench.NewInstant())
			i := 0
			var calls, ops int64
			for b.Loop() {
				var id string
				switch mode {
				case "cold-stored": // sellers [0, n/2): another replica minted their token
					id = ids[i%half]
					b.StopTimer()
					tok, err := minter.Token(ctx, id)
					if err != nil {
						b.Fatal(err)
					}
					waitStored(b, probe, id, tok, store.saved)
					b.StartTimer()
				case "cold-new": // sellers [n/2, n): nothing stored yet
					id = ids[half+i%(n-half)]
				case "warm":
					id = ids[0]
					if i == 0 {
						b.StopTimer()
						if _, err := a.Token(ctx, id); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
				}
				i++
				req, _ := http.NewRequestWithContext(ebayauth.WithAccount(ctx, id), http.MethodGet, "https://api.ebay.com/sell/x", nil)
				before := store.calls.Load()
				if _, err := rt.RoundTrip(req); err != nil {
					b.Fatal(err)
				}
				calls += store.calls.Load() - before
				ops++
				if mode != "warm" && i >= half {
					break // no cold seller left
				}
			}
			b.ReportMetric(float64(calls)/float64(ops), "statements/op")
		})
	}
}

// waitStored waits until tok, minted for id by another replica, is in the
// store, checking again after each save.
func waitStored(b *testing.B, probe *ebayauth.Accounts, id string, tok *ebayauth.Token, saved <-chan struct{}) {
	b.Helper()
	m, err := probe.Manager(context.Background(), id)
	if err != nil {
		b.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		if m.Sync(context.Background()) == nil && m.Status().Fingerprint == tok.Fingerprint() {
			return
		}
		select {
		case <-saved:
		case <-timeout:
			b.Fatalf("the token minted for %s never reached the store", id)
		}
	}
}
