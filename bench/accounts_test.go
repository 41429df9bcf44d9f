package bench_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/bench"
)

// mintInProcess is a token endpoint answered in process: every request gets
// a new two-hour user token. It lets the sellers benchmarks mint hundreds
// of thousands of tokens without measuring the network.
type mintInProcess struct{ n atomic.Int64 }

func (m *mintInProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	body := `{"access_token":"v^1.1#i^1#p^3#r^0#I^3#f^0#t^` + strconv.FormatInt(m.n.Add(1), 36) + strings.Repeat("A", 1200) +
		`","expires_in":7200,"token_type":"User Access Token"}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// newSellers returns Accounts over a MemoryStore holding n sellers, with
// tokens minted in process and kept in tokens (nil: the account store).
func newSellers(tb testing.TB, n int, tokens ebayauth.Store, opts ...ebayauth.AccountsOption) (*ebayauth.Accounts, *ebayauth.MemoryStore, []string) {
	tb.Helper()
	store := ebayauth.NewMemoryStore()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("seller%07d", i)
		if err := store.SaveAccount(context.Background(), &ebayauth.Account{ID: ids[i],
			RefreshToken: "v^1.1#i^1#r^1#t^" + ids[i], Scopes: []string{ebayauth.ScopeAPI}}); err != nil {
			tb.Fatal(err)
		}
	}
	a, err := ebayauth.NewAccounts(ebayauth.Config{ClientID: "bench-app", ClientSecret: "bench-secret",
		HTTPClient: &http.Client{Transport: new(mintInProcess)}, Logger: slog.New(slog.DiscardHandler), Store: tokens}, store, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return a, store, ids
}

// BenchmarkSellerRoundTrip compares the hot path of a warm seller through
// Accounts' Transport with a single Manager's, in the same run: the cost of
// finding the seller's Manager from the request's context.
func BenchmarkSellerRoundTrip(b *testing.B) {
	a, _, ids := newSellers(b, 10000, nil)
	for _, id := range ids {
		if _, err := a.Token(context.Background(), id); err != nil {
			b.Fatal(err)
		}
	}
	m, err := a.Manager(context.Background(), ids[0])
	if err != nil {
		b.Fatal(err)
	}
	trips := map[string]http.RoundTripper{
		"manager":  m.Transport(bench.NewInstant()),
		"accounts": a.Transport(bench.NewInstant()),
	}
	for _, name := range []string{"manager", "accounts"} {
		rt := trips[name]
		b.Run(name, func(b *testing.B) {
			ctx := ebayauth.WithAccount(context.Background(), ids[len(ids)/2])
			if name == "manager" {
				ctx = context.Background()
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.ebay.com/sell/inventory/v1/offer", nil)
			check(b, rt, req)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for b.Loop() {
				if _, err := rt.RoundTrip(req); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkSellersMemory uses n sellers once each and reports what a
// cached seller costs (its Manager), what its token record costs in the
// token store, the goroutines each seller leaves running (none), and the
// heap per seller once the default cache of 10,000 has evicted the rest.
// Run it with -benchtime=1x; 100,000 sellers need EBAYAUTH_BENCH_LARGE=1.
func BenchmarkSellersMemory(b *testing.B) {
	sizes := []int{10000}
	if os.Getenv("EBAYAUTH_BENCH_LARGE") != "" {
		sizes = append(sizes, 100000)
	}
	use := func(b *testing.B, a *ebayauth.Accounts, ids []string) {
		for _, id := range ids {
			if _, err := a.Token(context.Background(), id); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("sellers=%d", n), func(b *testing.B) {
			for b.Loop() {
				tokens := ebayauth.NewMemoryStore()
				a, _, ids := newSellers(b, n, tokens, ebayauth.WithMaxManagers(n))
				h0, g0 := heap(), runtime.NumGoroutine()
				use(b, a, ids)
				h1, g1 := heap(), runtime.NumGoroutine()
				a.Close()
				h2 := heap()
				b.ReportMetric(float64(h1-h2)/float64(n), "B/cached-seller")
				b.ReportMetric(float64(h2-h0)/float64(n), "B/token-record")
				b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/seller")

				capped, _, ids2 := newSellers(b, n, ebayauth.NewMemoryStore())
				h3 := heap()
				use(b, capped, ids2)
				h4 := heap()
				capped.Close()
				b.ReportMetric(float64(h4-h3)/float64(n), "B/seller-default-cache")
			}
		})
	}
}

// heap is the live heap after a collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
