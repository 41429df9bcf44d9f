package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ebayauth/ebayauth/bench"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// storm: p.stormGoroutines goroutines send a request at the same moment
// through a middleware that has no token yet. The base RoundTripper answers
// at once and notes the Authorization header, so the time until all are
// served is the time to get one token to everyone; the headers are checked
// against the fake afterwards. The latency columns are those of the median
// round; mints is the most any round needed.
func storm(ctx context.Context, p params) ([]row, error) {
	const name = "storm"
	type round struct {
		r     *loadResult
		mints int
		all   time.Duration
	}
	one := func(client string, newRT func(f *fake, base http.RoundTripper) (http.RoundTripper, func(), error)) func() (round, error) {
		return func() (round, error) {
			f := newFake(ebaytest.DefaultTokenLifetime, p.tokenLatency)
			defer f.Close()
			n := p.stormGoroutines
			headers := make([]string, n)
			rt, done, err := newRT(f, recorder{headers, bench.NewInstant()})
			if err != nil {
				return round{}, err
			}
			defer done()

			lat := make([]time.Duration, n)
			errs := make([]error, n)
			var ready, finished sync.WaitGroup
			gate := make(chan struct{})
			ready.Add(n)
			for i := range n {
				finished.Go(func() {
					req, _ := http.NewRequestWithContext(context.WithValue(ctx, slotKey{}, i), http.MethodGet, f.URL+searchPath, nil)
					ready.Done()
					<-gate
					t0 := time.Now()
					_, errs[i] = rt.RoundTrip(req)
					lat[i] = time.Since(t0)
				})
			}
			ready.Wait()
			start := time.Now()
			close(gate)
			finished.Wait()
			all := time.Since(start)

			r := &loadResult{requests: n, lat: lat, failures: map[string]int{}}
			for i, h := range headers {
				tok, ok := strings.CutPrefix(h, "Bearer ")
				switch {
				case errs[i] != nil:
					r.failures[shortErr(errs[i])]++
				case !ok || !f.ValidToken(tok):
					r.failures["no valid token"]++
				default:
					continue
				}
				r.failed++
			}
			slices.Sort(r.lat)
			logFailures(p, "storm "+client, r)
			return round{r, f.mints(), all}, nil
		}
	}
	clients := []struct {
		name string
		run  func() (round, error)
	}{
		{"ebayauth", one("ebayauth", func(f *fake, base http.RoundTripper) (http.RoundTripper, func(), error) {
			m, err := f.manager(p, nil)
			if err != nil {
				return nil, nil, err
			}
			return m.Transport(base), func() { m.Close() }, nil
		})},
		{"x/oauth2", one("x/oauth2", func(f *fake, base http.RoundTripper) (http.RoundTripper, func(), error) {
			return bench.OAuth2Transport(bench.OAuth2Source(f.Endpoint(), ebaytest.ClientID, ebaytest.ClientSecret, nil),
				0, base), func() {}, nil
		})},
	}
	// Rounds alternate the clients, and each row reports its median round,
	// so that a burst of load from elsewhere does not decide the comparison.
	rounds := make([][]round, len(clients))
	for range p.stormRounds {
		for i, c := range clients {
			r, err := c.run()
			if err != nil {
				return nil, err
			}
			rounds[i] = append(rounds[i], r)
		}
	}
	var rows []row
	for i, c := range clients {
		rs := rounds[i]
		slices.SortFunc(rs, func(a, b round) int { return cmp.Compare(a.all, b.all) })
		med := rs[len(rs)/2]
		mints := 0
		for _, r := range rs {
			mints = max(mints, r.mints)
		}
		out := latencyRow(name, c.name, med.r, mints)
		out.mints = fmt.Sprintf("%d per round", mints)
		out.result = fmt.Sprintf("%s goroutines on a cold cache, all served in %s (median of %d rounds; %s to %s)",
			num(p.stormGoroutines), ms(med.all), len(rs), ms(rs[0].all), ms(rs[len(rs)-1].all))
		rows = append(rows, out)
	}
	return rows, nil
}

type slotKey struct{}

// recorder notes each request's Authorization header in the slot its
// context names, then passes it on.
type recorder struct {
	headers []string
	base    http.RoundTripper
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if i, ok := req.Context().Value(slotKey{}).(int); ok {
		r.headers[i] = req.Header.Get("Authorization")
	}
	return r.base.RoundTrip(req)
}
