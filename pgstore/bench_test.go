package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ebayauth/ebayauth/pgstore"
	"github.com/ebayauth/ebayauth/storetest"
)

// The benchmarks run against the same database as the tests, each in a
// schema of its own:
//
//	go test -run '^$' -bench . ./pgstore/

func BenchmarkLoad(b *testing.B) {
	s := newEnv(b).store(b)
	ctx := context.Background()
	key := storetest.Key(b)
	if err := s.Save(ctx, key, storetest.NewRecord(time.Now().Add(time.Hour))); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Load(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadParallel loads one key from as many goroutines as
// GOMAXPROCS, over the default pool.
func BenchmarkLoadParallel(b *testing.B) {
	s := newEnv(b).store(b)
	ctx := context.Background()
	key := storetest.Key(b)
	if err := s.Save(ctx, key, storetest.NewRecord(time.Now().Add(time.Hour))); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Load(ctx, key); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSave saves records that replace the stored one (Replace: each
// expires later) and that do not (Keep: each expires earlier).
func BenchmarkSave(b *testing.B) {
	for _, tt := range []struct {
		name string
		step time.Duration
	}{{"Replace", time.Millisecond}, {"Keep", -time.Millisecond}} {
		b.Run(tt.name, func(b *testing.B) {
			s := newEnv(b).store(b)
			ctx := context.Background()
			key := storetest.Key(b)
			rec := storetest.NewRecord(time.Now().Add(time.Hour))
			for b.Loop() {
				r := *rec
				tok := *rec.Token
				tok.Expiry = tok.Expiry.Add(tt.step)
				r.Token = &tok
				rec = &r
				if err := s.Save(ctx, key, rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLock takes and releases a mint lock.
func BenchmarkLock(b *testing.B) {
	s := newEnv(b).store(b)
	ctx := context.Background()
	key := storetest.Key(b)
	for b.Loop() {
		unlock, err := s.Lock(ctx, key, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if err := unlock(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListAccounts100k pages through 100,000 accounts, 1,000 a page:
// one op is the whole walk. The accounts go in with COPY, sealed as
// SaveAccount seals them, before the clock starts.
func BenchmarkListAccounts100k(b *testing.B) {
	const (
		accounts = 100_000
		pageSize = 1000
	)
	e := newEnv(b)
	s := e.store(b)
	ctx := context.Background()
	now := time.Now()
	start := time.Now()
	rows := make([][]any, accounts)
	for i := range rows {
		id := fmt.Sprintf("u%09d", i)
		rows[i] = []any{id, pgstore.SealRefreshToken(s, id, "v^1.1#i^1#r^1#f^0#p^3#I^3#t^Ul4xMF8"+id),
			"seller_" + id, "EBAY_US", []string{"https://api.ebay.com/oauth/api_scope"}, false,
			now.Add(540 * 24 * time.Hour), now, now}
	}
	n, err := e.pool.CopyFrom(ctx, pgx.Identifier{e.schema, "accounts"},
		[]string{"id", "refresh_token", "username", "marketplace", "scopes", "needs_consent", "refresh_token_expiry", "created", "updated"},
		pgx.CopyFromRows(rows))
	if err != nil || n != accounts {
		b.Fatalf("COPY: %d rows, %v", n, err)
	}
	if _, err := e.pool.Exec(ctx, "ANALYZE "+e.table("accounts")); err != nil {
		b.Fatal(err)
	}
	b.Logf("sealed and copied %d accounts in %v", accounts, time.Since(start).Round(time.Millisecond))

	pages := 0
	for b.Loop() {
		pages = 0
		seen := 0
		for after := ""; ; {
			page, err := s.ListAccounts(ctx, after, pageSize)
			if err != nil {
				b.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			pages++
			seen += len(page)
			after = page[len(page)-1].ID
		}
		if seen != accounts {
			b.Fatalf("paged through %d accounts; want %d", seen, accounts)
		}
	}
	b.ReportMetric(float64(pages), "pages/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pages), "ns/page")
}
