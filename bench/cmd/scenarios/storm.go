package main

import (
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
// against the fake afterwards.
func storm(ctx context.Context, p params) ([]row, error) {
	const name = "storm"
	one := func(client string, newRT func(f *fake, base http.RoundTripper) (http.RoundTripper, func(), error)) func() (row, error) {
		return func() (row, error) {
			f := newFake(ebaytest.DefaultTokenLifetime, p.tokenLatency)
			defer f.Close()
			n := p.stormGoroutines
			headers := make([]string, n)
			rt, done, err := newRT(f, recorder{headers, bench.NewInstant()})
			if err != nil {
				return row{}, err
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
			out := latencyRow(name, client, r, f.mints())
			out.result = fmt.Sprintf("%s goroutines on a cold cache, all served in %s", num(n), ms(all))
			return out, nil
		}
	}
	return runRows(p,
		one("ebayauth", func(f *fake, base http.RoundTripper) (http.RoundTripper, func(), error) {
			m, err := f.manager(p, nil)
			if err != nil {
				return nil, nil, err
			}
			return m.Transport(base), func() { m.Close() }, nil
		}),
		one("x/oauth2", func(f *fake, base http.RoundTripper) (http.RoundTripper, func(), error) {
			return bench.OAuth2Transport(bench.OAuth2Source(f.Endpoint(), ebaytest.ClientID, ebaytest.ClientSecret, nil),
				0, base), func() {}, nil
		}),
	)
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
