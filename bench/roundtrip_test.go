package bench_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/bench"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// The micro-benchmarks measure what a request with a fresh token costs in
// each middleware, over a base RoundTripper that answers at once. The token
// is minted from the fake eBay before the timer starts, with eBay's default
// lifetime of two hours, so no refresh happens while they run.

// goroutineCounts are the sub-benchmarks of BenchmarkRoundTripParallel.
var goroutineCounts = []int{1, 100, 10_000}

// fixture holds one RoundTripper per middleware, all over one Instant base.
type fixture struct {
	url   string
	trips map[string]http.RoundTripper
	rc    *retryablehttp.Client
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	srv := ebaytest.NewServer()
	tb.Cleanup(srv.Close)
	base := bench.NewInstant()

	m, err := ebayauth.New(ebayauth.Config{
		ClientID:     ebaytest.ClientID,
		ClientSecret: ebaytest.ClientSecret,
		Endpoint:     srv.Endpoint(),
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	tok, err := m.Token(context.Background())
	if err != nil {
		tb.Fatal(err)
	}

	o2 := bench.OAuth2Transport(bench.OAuth2Source(srv.Endpoint(), ebaytest.ClientID, ebaytest.ClientSecret, srv.Client()), 0, base)
	if _, err := o2.Source.Token(); err != nil { // mint before the timer starts
		tb.Fatal(err)
	}

	rc := retryablehttp.NewClient()
	rc.Logger = nil
	rc.HTTPClient = &http.Client{Transport: m.Transport(base)}

	return &fixture{
		url: srv.URL + "/buy/browse/v1/item_summary/search?q=drone&limit=3",
		trips: map[string]http.RoundTripper{
			"floor":    &bench.Floor{Header: "Bearer " + tok.AccessToken, Base: base},
			"ebayauth": m.Transport(base),
			"oauth2":   o2,
		},
		rc: rc,
	}
}

// newRequest is a typical eBay REST request: a GET with two headers.
func (f *fixture) newRequest(tb testing.TB) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-EBAY-C-MARKETPLACE-ID", "EBAY_US")
	return req
}

// cpuMeter reports the process CPU time per operation as "cpu-ns/op".
type cpuMeter struct {
	start time.Duration
	ok    bool
}

// startCPU starts a cpuMeter; call it right after b.ResetTimer.
func startCPU() cpuMeter {
	c, ok := processCPU()
	return cpuMeter{c, ok}
}

func (m cpuMeter) report(b *testing.B) {
	b.StopTimer()
	end, ok := processCPU()
	if m.ok && ok && b.N > 0 {
		b.ReportMetric(float64(end-m.start)/float64(b.N), "cpu-ns/op")
	}
}

// check makes one request through rt and fails unless it carries a token.
func check(tb testing.TB, rt http.RoundTripper, req *http.Request) {
	tb.Helper()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		tb.Fatalf("RoundTrip: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("RoundTrip: status %d", resp.StatusCode)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	f := newFixture(b)
	for _, name := range []string{"floor", "ebayauth", "oauth2"} {
		rt := f.trips[name]
		b.Run(name, func(b *testing.B) {
			req := f.newRequest(b)
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
	// ebayauth's Transport inside a go-retryablehttp client: the cost of the
	// whole client stack around it, for scale.
	b.Run("retryablehttp", func(b *testing.B) {
		req, err := retryablehttp.FromRequest(f.newRequest(b))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu := startCPU()
		for b.Loop() {
			resp, err := f.rc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
		cpu.report(b)
	})
}

// BenchmarkRoundTripParallel runs each middleware from about N goroutines:
// RunParallel starts parallelism×GOMAXPROCS of them, so parallelism is N
// divided by GOMAXPROCS, rounded up. With N=1 that is GOMAXPROCS goroutines,
// the fewest RunParallel starts.
func BenchmarkRoundTripParallel(b *testing.B) {
	f := newFixture(b)
	procs := runtime.GOMAXPROCS(0)
	for _, name := range []string{"floor", "ebayauth", "oauth2"} {
		rt := f.trips[name]
		for _, n := range goroutineCounts {
			b.Run(fmt.Sprintf("%s/goroutines=%d", name, n), func(b *testing.B) {
				check(b, rt, f.newRequest(b))
				p := (n + procs - 1) / procs
				// One request per goroutine, made before the timer starts.
				reqs := make([]*http.Request, p*procs)
				for i := range reqs {
					reqs[i] = f.newRequest(b)
				}
				var next atomic.Int64
				b.SetParallelism(p)
				b.ReportAllocs()
				b.ResetTimer()
				cpu := startCPU()
				b.RunParallel(func(pb *testing.PB) {
					req := reqs[int(next.Add(1)-1)%len(reqs)]
					for pb.Next() {
						if _, err := rt.RoundTrip(req); err != nil {
							b.Error(err)
							return
						}
					}
				})
				cpu.report(b)
			})
		}
	}
}
