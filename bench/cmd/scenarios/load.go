package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/bench"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// searchPath is the REST call every worker makes.
const searchPath = "/buy/browse/v1/item_summary/search?q=drone&limit=1"

var discardLogger = slog.New(slog.DiscardHandler)

// fake is a fake eBay with its own HTTP transport for the REST calls.
type fake struct {
	*ebaytest.Server
	base *http.Transport
}

// newFake starts a fake eBay whose tokens live lifetime and whose token
// endpoint answers after latency.
func newFake(lifetime, latency time.Duration) *fake {
	s := ebaytest.NewServer()
	s.SetTokenLifetime(lifetime)
	s.SetLatency(latency)
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 4096
	return &fake{s, base}
}

func (f *fake) Close() {
	f.base.CloseIdleConnections()
	f.Server.Close()
}

func (f *fake) mints() int { return f.Mints(ebaytest.GrantClientCredentials) }

// manager returns an ebayauth Manager for f's application token with
// RefreshBefore p.refreshBefore and no retries of the token request.
func (f *fake) manager(p params, edit func(*ebayauth.Config)) (*ebayauth.Manager, error) {
	cfg := ebayauth.Config{
		ClientID:      ebaytest.ClientID,
		ClientSecret:  ebaytest.ClientSecret,
		Endpoint:      f.Endpoint(),
		RefreshBefore: p.refreshBefore,
		RetryMax:      -1,
		Logger:        discardLogger,
	}
	if edit != nil {
		edit(&cfg)
	}
	return ebayauth.New(cfg)
}

// oauth2Transport returns x/oauth2's Transport for f's application token.
func (f *fake) oauth2Transport(p params) *oauth2.Transport {
	src := bench.OAuth2Source(f.Endpoint(), ebaytest.ClientID, ebaytest.ClientSecret, nil)
	return bench.OAuth2Transport(src, p.earlyExpiry, f.base)
}

// longLivedToken mints an application token that outlives the run.
func (f *fake) longLivedToken(lifetime time.Duration) (string, error) {
	f.SetTokenLifetime(time.Hour)
	defer f.SetTokenLifetime(lifetime)
	t, err := bench.OAuth2Source(f.Endpoint(), ebaytest.ClientID, ebaytest.ClientSecret, nil).Token()
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// loadResult is what a load run saw.
type loadResult struct {
	requests, failed int
	lat              []time.Duration // sorted
	firstFail        time.Time       // when the first failed request ended; zero if none failed
	lastFail         time.Time       // when the last one ended
	failures         map[string]int  // error or status → count
}

func (r *loadResult) percentile(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(q*float64(len(r.lat))+0.999999) - 1
	return r.lat[min(max(i, 0), len(r.lat)-1)]
}

// slower counts the requests that took d or more.
func (r *loadResult) slower(d time.Duration) int {
	i, _ := slices.BinarySearch(r.lat, d)
	return len(r.lat) - i
}

func (r *loadResult) max() time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[len(r.lat)-1]
}

// drive runs p.workers request loops against url through rt for d, each
// sending at most one request per p.pace, and returns what they saw. A
// request fails if it errs or is not answered 200.
func drive(ctx context.Context, p params, rt http.RoundTripper, url string, d time.Duration) *loadResult {
	client := &http.Client{Transport: rt, Timeout: 30 * time.Second}
	start := time.Now()
	end := start.Add(d)
	type local struct {
		lat               []time.Duration
		failed            int
		firstFail, lastFl time.Time
		failures          map[string]int
	}
	locals := make([]local, p.workers)
	var wg sync.WaitGroup
	for w := range p.workers {
		wg.Go(func() {
			l := &locals[w]
			l.failures = map[string]int{}
			// Spread the workers over one pace so they do not beat in step.
			next := start.Add(p.pace * time.Duration(w) / time.Duration(p.workers))
			for {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				t0 := time.Now()
				if !t0.Before(end) || ctx.Err() != nil {
					return
				}
				why := get(ctx, client, url)
				t1 := time.Now()
				l.lat = append(l.lat, t1.Sub(t0))
				if why != "" {
					l.failed++
					l.failures[why]++
					if l.firstFail.IsZero() {
						l.firstFail = t1
					}
					l.lastFl = t1
				}
				if next = next.Add(p.pace); next.Before(t1) {
					next = t1 // behind: do not catch up in a burst
				}
			}
		})
	}
	wg.Wait()
	r := &loadResult{failures: map[string]int{}}
	for _, l := range locals {
		r.lat = append(r.lat, l.lat...)
		r.failed += l.failed
		for k, v := range l.failures {
			r.failures[k] += v
		}
		if !l.firstFail.IsZero() && (r.firstFail.IsZero() || l.firstFail.Before(r.firstFail)) {
			r.firstFail = l.firstFail
		}
		if l.lastFl.After(r.lastFail) {
			r.lastFail = l.lastFl
		}
	}
	r.requests = len(r.lat)
	slices.Sort(r.lat)
	return r
}

// get makes one request and returns why it failed, "" if it did not.
func get(ctx context.Context, client *http.Client, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return shortErr(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return ""
}

// shortErr trims a request error to what tells the failures apart.
func shortErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// latencyRow fills the request columns of a row from r.
func latencyRow(scenarioName, client string, r *loadResult, mints int) row {
	return row{
		scenario: scenarioName, client: client,
		requests: num(r.requests), failed: num(r.failed), mints: num(mints),
		p50: ms(r.percentile(0.50)), p99: ms(r.percentile(0.99)), max: ms(r.max()),
	}
}

// logFailures reports what the failures of r were.
func logFailures(p params, what string, r *loadResult) {
	for k, v := range r.failures {
		p.logf("  %s: %d× %s", what, v, k)
	}
}

// runRows runs fs one after the other, or at once in a quick run, where
// timing does not matter; it returns their rows in order.
func runRows(p params, fs ...func() (row, error)) ([]row, error) {
	rows := make([]row, len(fs))
	errs := make([]error, len(fs))
	if !p.quick {
		for i, f := range fs {
			rows[i], errs[i] = f()
			if errs[i] != nil {
				return nil, errs[i]
			}
		}
		return rows, nil
	}
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Go(func() { rows[i], errs[i] = f() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}
