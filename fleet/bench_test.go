package fleet_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/internal/redistest"
	"github.com/ebayauth/ebayauth/redisstore"
)

// BenchmarkFleetMintsPerRotation reports how many tokens 8 replicas mint
// between them per token rotation (mints/rotation): each with its own
// in-memory cache (independent: 8) or sharing one Redis (redis: 1). One
// iteration is one rotation; ns/op is the real time the fleet takes to move
// to the new token, store round trips and lock waits included.
//
// The replicas are 8 Managers in the benchmark's process, each with its own
// store (for redis, its own client), not 8 processes: a rotation then takes
// milliseconds, not the seconds the process tests of this package spend
// waiting for real rotations. They run on a fake clock (ebaytest.Clock)
// with eBay's own token lifetime (2 h) and the default RefreshBefore
// (1 h): each iteration moves the clock into the refresh window and makes
// every replica ask for a token until it holds the new one.
func BenchmarkFleetMintsPerRotation(b *testing.B) {
	b.Run("independent", func(b *testing.B) {
		benchRotations(b, func(*testing.B) ebayauth.Store { return nil })
	})
	b.Run("redis", func(b *testing.B) {
		rs := redistest.New(b)
		prefix := rs.Prefix(b)
		benchRotations(b, func(b *testing.B) ebayauth.Store {
			st, err := redisstore.New(rs.Client(b), redisstore.WithPrefix(prefix))
			if err != nil {
				b.Fatal(err)
			}
			return st
		})
	})
}

func benchRotations(b *testing.B, newStore func(*testing.B) ebayauth.Store) {
	srv := ebaytest.NewServer()
	defer srv.Close()
	clk := ebaytest.NewClock(time.Now())
	srv.SetNow(clk.Now)

	ms := make([]*ebayauth.Manager, replicas)
	for i := range ms {
		m, err := ebayauth.New(ebayauth.Config{
			ClientID:      ebaytest.ClientID,
			ClientSecret:  ebaytest.ClientSecret,
			Endpoint:      srv.Endpoint(),
			Store:         newStore(b), // nil: a private MemoryStore
			RetryMax:      -1,
			LockLease:     5 * time.Second,
			ValidateEvery: -1,
			Logger:        slog.New(slog.DiscardHandler),
			Clock:         clk,
		})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		ms[i] = m
	}

	// The first token, then b.N rotations.
	moveToNewTokens(b, ms)
	before := srv.Mints(ebaytest.GrantClientCredentials)
	rotations := 0
	for b.Loop() {
		// Into every replica's refresh window (RefreshBefore, jittered up
		// to 10 % earlier), before the due window. Independent replicas
		// minted at the same instant of the fake clock, so they share it.
		clk.Set(ms[0].Status().Expiry.Add(-time.Hour + time.Second)) // the default RefreshBefore
		moveToNewTokens(b, ms)
		rotations++
	}
	b.ReportMetric(float64(srv.Mints(ebaytest.GrantClientCredentials)-before)/float64(rotations), "mints/rotation")
}

// moveToNewTokens makes every Manager ask for a token, as traffic would,
// until it holds one other than the one it held before.
func moveToNewTokens(b *testing.B, ms []*ebayauth.Manager) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(ms))
	for i, m := range ms {
		old := m.Status().Fingerprint // "" before the first token
		wg.Go(func() {
			for {
				tok, err := m.Token(ctx)
				if err != nil {
					errs[i] = err
					return
				}
				if tok.Fingerprint() != old {
					return
				}
				// A background refresh is on its way.
				select {
				case <-ctx.Done():
					errs[i] = ctx.Err()
					return
				case <-time.After(time.Millisecond):
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}
