package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// demoOptions are demo's own flags.
type demoOptions struct {
	quick     bool
	live      bool
	workers   int
	rotations int
	lifetime  time.Duration
	before    time.Duration
	requests  int // --live: how many searches
}

func demoFlags(fs *flag.FlagSet, c *call) {
	o := &c.demo
	fs.BoolVar(&o.quick, "quick", false, "a shorter run: fewer workers and one rotation")
	fs.IntVar(&o.workers, "workers", 200, "concurrent `n` workers making Browse searches")
	fs.IntVar(&o.rotations, "rotations", 2, "scheduled token rotations to run through")
	fs.DurationVar(&o.lifetime, "lifetime", 5*time.Second, "access-token `lifetime` the fake grants")
	fs.DurationVar(&o.before, "refresh-before", 2*time.Second, "the Manager's refresh `window` (RefreshBefore)")
	fs.BoolVar(&o.live, "live", false, "talk to the configured eBay (the configuration flags are for --live) instead of a fake: a few Browse searches, nothing else")
	fs.IntVar(&o.requests, "requests", 3, "--live: `n` Browse searches to make")
}

// demoSummary is what demo reports.
type demoSummary struct {
	Target          string        `json:"target"` // "fake" or the API URL with --live
	Duration        time.Duration `json:"duration_ns"`
	Requests        int64         `json:"requests"`
	Failures        int64         `json:"failures"`
	Mints           int64         `json:"token_mints"`
	Retries401      int64         `json:"retries_401"`
	FallbackUses    int64         `json:"fallback_uses"`
	RefreshFailures int64         `json:"refresh_failures"`
	TokenRequests   int           `json:"token_requests,omitempty"`
	Token503s       int           `json:"token_requests_503,omitempty"`
	Phases          []demoPhase   `json:"phases,omitempty"`
	FirstFailure    string        `json:"first_failure,omitempty"`
	Incomplete      string        `json:"incomplete,omitempty"` // a phase that did not happen in time
}

type demoPhase struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration_ns"`
	Outcome  string        `json:"outcome"`
}

// cmdDemo runs the library against a fake eBay: a few hundred workers make
// Browse searches through one Manager's Client while the token rotates, the
// identity endpoint goes down (at a cold start, served by the fallback
// token; then through a refresh window, served by the still-valid token) and
// eBay revokes every token (healed by one 401 retry). It exits 1 if any
// search failed.
func cmdDemo(ctx context.Context, c *call) error {
	if c.demo.live {
		return demoLive(ctx, c)
	}
	var set []string
	for _, n := range credentialEnv {
		if os.Getenv(n) != "" {
			set = append(set, n)
		}
	}
	if len(set) > 0 || (c.s != nil && c.s.ClientID != "") {
		c.notef("note: eBay credentials are configured (%s); demo still talks only to a fake eBay. 'ebaytoken demo --live' makes a few real Browse searches with them; 'ebaytoken status' shows their token",
			firstNonEmpty(strings.Join(set, ", "), "--config"))
	}
	o := c.demo
	if o.quick {
		o.rotations = min(o.rotations, 1)
		o.workers = min(o.workers, 50)
	}
	switch {
	case o.workers < 1:
		return usagef("--workers: must be at least 1")
	case o.rotations < 0:
		return usagef("--rotations: must not be negative")
	case o.lifetime < 2*time.Second:
		return usagef("--lifetime: at least 2s (the library backs off a second after a failed refresh)")
	case o.before <= 0 || o.before > o.lifetime/2:
		return usagef("--refresh-before: must be positive and at most half of --lifetime")
	}
	d := &demo{c: c, o: o, events: make(chan ebayauth.Event, 4096)}
	sum, err := d.run(ctx)
	if err != nil {
		return err
	}
	if err := c.output(sum, func(w io.Writer) { printDemo(w, sum) }); err != nil {
		return err
	}
	switch {
	case sum.Failures > 0:
		return &exitError{code: exitFailure, msg: fmt.Sprintf("%d of %d requests failed; first: %s", sum.Failures, sum.Requests, sum.FirstFailure)}
	case sum.Incomplete != "":
		return &exitError{code: exitFailure, msg: "incomplete: " + sum.Incomplete}
	}
	return nil
}

type demo struct {
	c      *call
	o      demoOptions
	srv    *ebaytest.Server
	m      *ebayauth.Manager
	start  time.Time
	events chan ebayauth.Event

	requests, failures atomic.Int64
	failMu             sync.Mutex
	firstFailure       string
}

// demoFallbackLifetime is how long the demo's fallback token lives: longer
// than any run, like a token pasted from eBay's developer portal.
const demoFallbackLifetime = time.Hour

func (d *demo) run(ctx context.Context) (*demoSummary, error) {
	o := d.o
	d.srv = ebaytest.NewServer()
	defer d.srv.Close()
	fallback, err := d.fallbackToken(ctx)
	if err != nil {
		return nil, err
	}
	d.srv.SetTokenLifetime(o.lifetime)

	httpTransport := &http.Transport{MaxIdleConns: o.workers, MaxIdleConnsPerHost: o.workers, IdleConnTimeout: 30 * time.Second}
	defer httpTransport.CloseIdleConnections()
	tokenClient := ebayauth.NewRetryingClient(1) // fail fast: the Manager's own backoff takes over
	m, err := ebayauth.New(ebayauth.Config{
		ClientID:      ebaytest.ClientID,
		ClientSecret:  ebaytest.ClientSecret,
		Endpoint:      d.srv.Endpoint(),
		FallbackToken: fallback,
		RefreshBefore: o.before,
		HTTPClient:    tokenClient,
		Logger:        d.c.log,
		OnEvent: func(e ebayauth.Event) {
			if d.c.verbose() {
				d.logf("event %s fingerprint=%s err=%v", e.Kind, e.Fingerprint, e.Err)
			}
			select {
			case d.events <- e:
			default: // the phases only wait for the first events of a kind
			}
		},
	})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	d.m = m
	client := &http.Client{Transport: m.Transport(httpTransport), Timeout: 20 * time.Second}

	fmt.Fprintf(d.c.stderr, "ebaytoken demo: fake eBay at %s (no real eBay is called); %d workers, tokens live %v, refreshed %v before expiry\n",
		d.srv.URL, o.workers, o.lifetime, o.before)

	// The identity endpoint is down from the start.
	d.srv.FailNext(-1, http.StatusServiceUnavailable, `{"errors":[{"errorId":1004,"domain":"OAuth","category":"APPLICATION","message":"Internal error"}]}`)
	d.start = time.Now()
	workCtx, stopWork := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range o.workers {
		wg.Go(func() { d.worker(workCtx, client, i) })
	}
	phases, incomplete := d.phases(ctx)
	stopWork()
	wg.Wait()
	if ctx.Err() != nil {
		return nil, &exitError{code: exitFailure, msg: "interrupted"}
	}

	st := m.Status()
	sum := &demoSummary{
		Target:          "fake",
		Duration:        time.Since(d.start).Round(time.Millisecond),
		Requests:        d.requests.Load(),
		Failures:        d.failures.Load(),
		Mints:           st.Counters.Mints,
		Retries401:      st.Counters.Retries401,
		FallbackUses:    st.Counters.FallbackUses,
		RefreshFailures: st.Counters.RefreshFailures,
		TokenRequests:   d.srv.TokenRequests(ebaytest.GrantClientCredentials) - 1, // less the fallback's
		Phases:          phases,
		FirstFailure:    d.firstFailure,
		Incomplete:      incomplete,
	}
	sum.Token503s = sum.TokenRequests - (d.srv.Mints(ebaytest.GrantClientCredentials) - 1)
	return sum, nil
}

// fallbackToken mints a long-lived token to serve as the static fallback.
func (d *demo) fallbackToken(ctx context.Context) (string, error) {
	d.srv.SetTokenLifetime(demoFallbackLifetime)
	fm, err := ebayauth.New(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		Endpoint: d.srv.Endpoint(), Logger: d.c.log, Store: ebayauth.NewMemoryStore(),
	})
	if err != nil {
		return "", err
	}
	defer fm.Close()
	tok, err := fm.ForceRefresh(ctx)
	if err != nil {
		return "", fmt.Errorf("minting the fallback token: %w", err)
	}
	return tok.AccessToken, nil
}

var demoQueries = []string{"drone", "camera", "watch", "lens", "vintage", "ebay"}

// worker searches until ctx ends, pausing 100-300 ms between searches.
func (d *demo) worker(ctx context.Context, client *http.Client, i int) {
	u := d.srv.URL + "/buy/browse/v1/item_summary/search?limit=3&q=" + url.QueryEscape(demoQueries[i%len(demoQueries)])
	for {
		if ctx.Err() != nil {
			return
		}
		err := d.search(ctx, client, u)
		if ctx.Err() != nil {
			return // the run ended under this request: not a failure
		}
		d.requests.Add(1)
		if err != nil {
			d.failures.Add(1)
			d.failMu.Lock()
			if d.firstFailure == "" {
				d.firstFailure = fmt.Sprintf("at %.1fs: %v", time.Since(d.start).Seconds(), err)
			}
			d.failMu.Unlock()
		}
		t := time.NewTimer(100*time.Millisecond + rand.N(200*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (d *demo) search(ctx context.Context, client *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-EBAY-C-MARKETPLACE-ID", "EBAY_US")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body)
	}
	return nil
}

// logf prints a timeline line.
func (d *demo) logf(format string, args ...any) {
	fmt.Fprintf(d.c.stderr, "  [%5.1fs] %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

// waitEvent waits for an event of one of kinds, up to timeout.
func (d *demo) waitEvent(ctx context.Context, timeout time.Duration, kinds ...ebayauth.EventKind) (ebayauth.Event, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ebayauth.Event{}, false
		case <-t.C:
			return ebayauth.Event{}, false
		case e := <-d.events:
			for _, k := range kinds {
				if e.Kind == k {
					return e, true
				}
			}
		}
	}
}

// pause waits for dur or ctx.
func pause(ctx context.Context, dur time.Duration) {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// phases drives the scenario; it returns what happened and, if a phase did
// not happen in time, which.
func (d *demo) phases(ctx context.Context) ([]demoPhase, string) {
	o := d.o
	var out []demoPhase
	phase := func(name string, f func() (string, bool)) bool {
		start := time.Now()
		d.logf("%s", name)
		outcome, ok := f()
		out = append(out, demoPhase{Name: name, Duration: time.Since(start).Round(time.Millisecond), Outcome: outcome})
		d.logf("  %s", outcome)
		return ok
	}
	slack := o.lifetime + 5*time.Second

	if !phase("cold start with eBay's identity endpoint down", func() (string, bool) {
		if _, ok := d.waitEvent(ctx, slack, ebayauth.EventFallbackUsed); !ok {
			return "the fallback token was not used", false
		}
		pause(ctx, o.before/4)
		d.srv.ClearFailures()
		d.logf("  identity endpoint back")
		e, ok := d.waitEvent(ctx, slack, ebayauth.EventRecovered)
		if !ok {
			return "no token was minted after the outage", false
		}
		return fmt.Sprintf("served by the static fallback token (%s), then token %s minted", plural(d.m.Status().Counters.FallbackUses, "use"), e.Fingerprint), true
	}) {
		return out, "cold start"
	}

	last := d.m.Status().Fingerprint
	lastMint := time.Now()
	// nextMint waits for a token other than the last one.
	nextMint := func() (ebayauth.Event, bool) {
		for {
			e, ok := d.waitEvent(ctx, slack, ebayauth.EventRefreshed)
			if !ok {
				return e, false
			}
			if e.Fingerprint != last {
				last, lastMint = e.Fingerprint, e.Time
				return e, true
			}
		}
	}

	if !phase(plural(o.rotations, "scheduled rotation"), func() (string, bool) {
		for i := range o.rotations {
			e, ok := nextMint()
			if !ok {
				return "only " + plural(i, "rotation"), false
			}
			d.logf("  token %s minted in the background, expires in %v", e.Fingerprint, time.Until(e.Expiry).Round(100*time.Millisecond))
		}
		return plural(o.rotations, "token") + " minted before expiry; no request waited", true
	}) {
		return out, "rotation"
	}

	if !phase("identity endpoint down through the refresh window", func() (string, bool) {
		// From the last mint to the middle of the next refresh window:
		// the refresh fails, the valid token goes on serving, and the
		// retry after the backoff succeeds, well before expiry.
		before := d.srv.TotalTokenRequests()
		d.srv.FailNext(-1, http.StatusServiceUnavailable, "<html><body>503 Service Unavailable</body></html>")
		_, failed := d.waitEvent(ctx, slack, ebayauth.EventRefreshFailed)
		pause(ctx, time.Until(lastMint.Add(o.lifetime-o.before*3/4)))
		d.srv.ClearFailures()
		if !failed {
			return "no refresh was attempted during the outage", false
		}
		failedReqs := d.srv.TotalTokenRequests() - before
		d.logf("  identity endpoint back")
		e, ok := nextMint()
		if !ok {
			return "no token was minted after the outage", false
		}
		return fmt.Sprintf("%s answered 503, the valid token kept serving, then token %s minted", plural(failedReqs, "token request"), e.Fingerprint), true
	}) {
		return out, "outage"
	}

	if !phase("eBay revokes every token", func() (string, bool) {
		// Revoke when no request carries a token older than the current
		// one: a request still holding the previous token would be
		// retried once with the current token, revoked too, and fail.
		// A slow token endpoint lets many requests meet the revoked
		// token: they all wait for the one refresh their 401s cause.
		pause(ctx, time.Until(lastMint.Add(time.Second)))
		before := d.m.Status().Counters
		d.srv.SetLatency(300 * time.Millisecond)
		d.srv.RevokeAll()
		_, ok := d.waitEvent(ctx, slack, ebayauth.EventRetried401)
		d.srv.SetLatency(0)
		if !ok {
			return "no request was retried", false
		}
		pause(ctx, 300*time.Millisecond)
		after := d.m.Status().Counters
		if after.Mints == before.Mints {
			return "no token was minted after the revocation", false
		}
		return fmt.Sprintf("%s got 401 and succeeded on one retry; %s minted for them",
			plural(after.Retries401-before.Retries401, "request"), plural(after.Mints-before.Mints, "token")), true
	}) {
		return out, "revocation"
	}
	return out, ""
}

func printDemo(w io.Writer, s *demoSummary) {
	fmt.Fprintf(w, "ebaytoken demo against a %s eBay, %v\n\n", s.Target, s.Duration)
	if len(s.Phases) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, p := range s.Phases {
			fmt.Fprintf(tw, "  %s\t%v\t%s\n", p.Name, p.Duration, p.Outcome)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "requests\t%d\n", s.Requests)
	fmt.Fprintf(tw, "failures\t%d\n", s.Failures)
	fmt.Fprintf(tw, "token mints\t%d\n", s.Mints)
	fmt.Fprintf(tw, "401 retries\t%d\n", s.Retries401)
	fmt.Fprintf(tw, "fallback uses\t%d\n", s.FallbackUses)
	fmt.Fprintf(tw, "refresh failures\t%d\n", s.RefreshFailures)
	if s.Target == "fake" {
		fmt.Fprintf(tw, "token requests\t%d (%d answered 503)\n", s.TokenRequests, s.Token503s)
	}
	tw.Flush()
	if s.Incomplete != "" {
		fmt.Fprintf(w, "\nINCOMPLETE: the %s phase did not happen in time\n", s.Incomplete)
	}
}

// demoLive makes a few Browse searches against the configured eBay through
// a Manager with the configured store: a smoke test of real credentials,
// with no fault injection.
func demoLive(ctx context.Context, c *call) error {
	if c.s == nil {
		return usagef("--live needs a valid configuration")
	}
	c.printNotes()
	if c.demo.requests < 1 || c.demo.requests > 100 {
		return usagef("--requests: between 1 and 100")
	}
	ss, err := c.open()
	if err != nil {
		return err
	}
	defer ss.Close()
	fmt.Fprintf(c.stderr, "ebaytoken demo --live: %s against %s (%s)\n", plural(c.demo.requests, "Browse search"), c.s.Endpoint.APIURL, ss.m.Status().Environment)
	start := time.Now()
	client := ss.m.Client()
	u := strings.TrimSuffix(c.s.Endpoint.APIURL, "/") + "/buy/browse/v1/item_summary/search?limit=1&q="
	sum := &demoSummary{Target: c.s.Endpoint.APIURL}
	for i := range c.demo.requests {
		d := &demo{c: c}
		err := d.search(ctx, client, u+url.QueryEscape(demoQueries[i%len(demoQueries)]))
		sum.Requests++
		if err != nil {
			sum.Failures++
			if sum.FirstFailure == "" {
				sum.FirstFailure = err.Error()
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	st := ss.m.Status()
	sum.Duration = time.Since(start).Round(time.Millisecond)
	sum.Mints, sum.Retries401, sum.FallbackUses, sum.RefreshFailures = st.Counters.Mints, st.Counters.Retries401, st.Counters.FallbackUses, st.Counters.RefreshFailures
	if err := c.output(sum, func(w io.Writer) { printDemo(w, sum) }); err != nil {
		return err
	}
	if sum.Failures > 0 {
		return &exitError{code: exitFailure, msg: fmt.Sprintf("%d of %d requests failed; first: %s", sum.Failures, sum.Requests, sum.FirstFailure)}
	}
	return nil
}

// plural is "1 token", "2 tokens": n and the noun, in the plural unless n
// is 1 ("retry", "retries").
func plural[N int | int64](n N, noun string) string {
	if n != 1 {
		if stem, ok := strings.CutSuffix(noun, "y"); ok && stem != "" && !strings.ContainsAny(stem[len(stem)-1:], "aeiou") {
			noun = stem + "ie"
		}
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}
