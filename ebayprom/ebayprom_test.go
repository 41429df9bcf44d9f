package ebayprom_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebayprom"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// flatten turns metric families into "name{label="value",...}" → value,
// labels sorted; histograms give their _count, _sum and _bucket series.
func flatten(fams []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	key := func(name string, lps []*dto.LabelPair, extra ...string) string {
		var ls []string
		for _, lp := range lps {
			ls = append(ls, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
		}
		ls = append(ls, extra...)
		sort.Strings(ls)
		if len(ls) == 0 {
			return name
		}
		return name + "{" + strings.Join(ls, ",") + "}"
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			name, lps := f.GetName(), m.GetLabel()
			switch {
			case m.Counter != nil:
				out[key(name, lps)] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key(name, lps)] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				h := m.GetHistogram()
				out[key(name+"_count", lps)] = float64(h.GetSampleCount())
				out[key(name+"_sum", lps)] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					le := fmt.Sprintf("le=%q", fmt.Sprint(b.GetUpperBound()))
					out[key(name+"_bucket", lps, le)] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out
}

// scrape fetches reg's metrics over HTTP, as Prometheus would, and parses
// the text format.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	list := make([]*dto.MetricFamily, 0, len(fams))
	for _, f := range fams {
		list = append(list, f)
	}
	return flatten(list)
}

func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return flatten(fams)
}

func TestCollectorScrape(t *testing.T) {
	now := time.Date(2037, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := &clock{t: now}
	c := ebayprom.NewCollector(
		ebayprom.WithConstLabels(prometheus.Labels{"app": "t"}),
		ebayprom.WithDailyMintLimit(500),
		ebayprom.WithNow(clk.Now),
	)
	expiry := now.Add(90 * time.Minute)
	rtExpiry := time.Date(2038, 12, 1, 0, 0, 0, 0, time.UTC)
	c.SetStatus(func() ebayauth.Status {
		return ebayauth.Status{
			State: ebayauth.StateFallback, Healthy: true, Expiry: expiry,
			RefreshTokenExpiry: rtExpiry, StoreHealthy: false,
			Fingerprint: "abcd1234",
			Counters:    ebayauth.Counters{FallbackUses: 7, StoreErrors: 4, StoreHits: 99},
		}
	})
	for _, e := range []ebayauth.Event{
		{Kind: ebayauth.EventRefreshed, Duration: 100 * time.Millisecond},
		{Kind: ebayauth.EventRefreshed, Duration: 2 * time.Second},
		{Kind: ebayauth.EventRefreshFailed, Duration: 40 * time.Second},
		{Kind: ebayauth.EventTokenFromStore},
		{Kind: ebayauth.EventTokenFromStore},
		{Kind: ebayauth.EventRetried401},
		{Kind: ebayauth.EventRetried401},
		{Kind: ebayauth.EventRetried401},
		{Kind: ebayauth.EventValidated},
		{Kind: ebayauth.EventValidationFailed},
		{Kind: ebayauth.EventValidationFailed},
		{Kind: ebayauth.EventInvalidGrant},
		{Kind: ebayauth.EventFallbackUsed},
		{Kind: ebayauth.EventStoreUnavailable},
		{Kind: "something_new"},
	} {
		c.Observe(e)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)

	got := scrape(t, reg)
	l := `app="t"`
	want := map[string]float64{
		"ebayauth_refreshes_total{" + l + `,result="success"}`:          2,
		"ebayauth_refreshes_total{" + l + `,result="failure"}`:          1,
		"ebayauth_store_hits_total{" + l + "}":                          2,
		"ebayauth_fallback_uses_total{" + l + "}":                       7,
		"ebayauth_store_errors_total{" + l + "}":                        4,
		"ebayauth_refresh_duration_seconds_count{" + l + "}":            3,
		"ebayauth_refresh_duration_seconds_sum{" + l + "}":              42.1,
		"ebayauth_retries_401_total{" + l + "}":                         3,
		"ebayauth_validations_total{" + l + `,result="valid"}`:          1,
		"ebayauth_validations_total{" + l + `,result="invalid"}`:        2,
		"ebayauth_invalid_grant_total{account=\"\"," + l + "}":          1,
		"ebayauth_mints_today{" + l + "}":                               2,
		"ebayauth_daily_mint_limit{" + l + "}":                          500,
		"ebayauth_token_state{" + l + `,state="fresh"}`:                 0,
		"ebayauth_token_state{" + l + `,state="stale"}`:                 0,
		"ebayauth_token_state{" + l + `,state="expired"}`:               0,
		"ebayauth_token_state{" + l + `,state="fallback"}`:              1,
		"ebayauth_token_state{" + l + `,state="none"}`:                  0,
		"ebayauth_token_state{" + l + `,state="rejected"}`:              0,
		"ebayauth_token_state{" + l + `,state="needs_consent"}`:         0,
		"ebayauth_token_expiry_timestamp_seconds{" + l + "}":            float64(expiry.Unix()),
		"ebayauth_refresh_token_expiry_timestamp_seconds{" + l + "}":    float64(rtExpiry.Unix()),
		"ebayauth_fallback_in_use{" + l + "}":                           1,
		"ebayauth_store_healthy{" + l + "}":                             0,
		"ebayauth_healthy{" + l + "}":                                   1,
		"ebayauth_refresh_duration_seconds_bucket{" + l + `,le="0.05"}`: 0,
		"ebayauth_refresh_duration_seconds_bucket{" + l + `,le="0.1"}`:  1,
		"ebayauth_refresh_duration_seconds_bucket{" + l + `,le="0.25"}`: 1,
		"ebayauth_refresh_duration_seconds_bucket{" + l + `,le="0.5"}`:  1,
		"ebayauth_refresh_duration_seconds_bucket{" + l + `,le="1"}`:    1,
		"ebayauth_refresh_duration_seconds_bucket{" + l + `,le="2.5"}`:  2,
		"ebayauth_refresh_duration_seconds_bucket{" + l + `,le="5"}`:    2,
		"ebayauth_refresh_duration_seconds_bucket{" + l + `,le="10"}`:   2,
		"ebayauth_refresh_duration_seconds_bucket{" + l + `,le="30"}`:   2,
		"ebayauth_refresh_duration_seconds_bucket{" + l + `,le="+Inf"}`: 3,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scrape (-want +got):\n%s", diff)
	}
}

func TestTokenState(t *testing.T) {
	for _, tc := range []struct {
		st                       ebayauth.State
		healthy, store, fallback float64
	}{
		{ebayauth.StateFresh, 1, 1, 0},
		{ebayauth.StateStale, 1, 1, 0},
		{ebayauth.StateExpired, 0, 1, 0},
		{ebayauth.StateFallback, 1, 1, 1},
		{ebayauth.StateNone, 0, 1, 0},
		{ebayauth.StateRejected, 0, 1, 0},
		{ebayauth.StateNeedsConsent, 0, 1, 0},
	} {
		t.Run(string(tc.st), func(t *testing.T) {
			c := ebayprom.NewCollector()
			c.SetStatus(func() ebayauth.Status {
				return ebayauth.Status{State: tc.st, Healthy: tc.healthy == 1, StoreHealthy: true}
			})
			reg := prometheus.NewRegistry()
			reg.MustRegister(c)
			got := gather(t, reg)
			for _, s := range []ebayauth.State{ebayauth.StateFresh, ebayauth.StateStale, ebayauth.StateExpired, ebayauth.StateFallback,
				ebayauth.StateNone, ebayauth.StateRejected, ebayauth.StateNeedsConsent} {
				want := 0.0
				if s == tc.st {
					want = 1
				}
				k := fmt.Sprintf("ebayauth_token_state{state=%q}", s)
				if got[k] != want {
					t.Errorf("%s = %v; want %v", k, got[k], want)
				}
			}
			for k, want := range map[string]float64{
				"ebayauth_healthy": tc.healthy, "ebayauth_store_healthy": tc.store, "ebayauth_fallback_in_use": tc.fallback,
				"ebayauth_token_expiry_timestamp_seconds": 0, "ebayauth_refresh_token_expiry_timestamp_seconds": 0,
				"ebayauth_daily_mint_limit": ebayprom.DefaultDailyMintLimit,
			} {
				if v, ok := got[k]; !ok || v != want {
					t.Errorf("%s = %v (present %v); want %v", k, v, ok, want)
				}
			}
		})
	}
}

func TestNoStatus(t *testing.T) {
	c := ebayprom.NewCollector()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	c.SetStatus(func() ebayauth.Status { return ebayauth.Status{State: ebayauth.StateFresh} })
	if _, ok := gather(t, reg)[`ebayauth_token_state{state="fresh"}`]; !ok {
		t.Fatal("token_state missing with a status function")
	}
	c.SetStatus(nil)
	got := gather(t, reg)
	for k := range got {
		if strings.HasPrefix(k, "ebayauth_token_state") || strings.HasPrefix(k, "ebayauth_healthy") {
			t.Errorf("got %s without a status function", k)
		}
	}
	if v, ok := got["ebayauth_mints_today"]; !ok || v != 0 {
		t.Errorf("mints_today = %v (present %v); want 0", v, ok)
	}
}

func TestMintsTodayRollover(t *testing.T) {
	// 23:59 UTC is 15:59 in UTC-8: the day must turn at midnight UTC, not
	// at local midnight.
	pst := time.FixedZone("PST", -8*3600)
	clk := &clock{t: time.Date(2037, 3, 1, 15, 59, 0, 0, pst)}
	c := ebayprom.NewCollector(ebayprom.WithNow(clk.Now))
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mints := func() float64 { t.Helper(); return gather(t, reg)["ebayauth_mints_today"] }

	for range 3 {
		c.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshed})
	}
	c.Observe(ebayauth.Event{Kind: ebayauth.EventTokenFromStore}) // neither a mint nor a refresh
	if got := mints(); got != 3 {
		t.Fatalf("mints_today = %v; want 3", got)
	}
	clk.Set(clk.Now().Add(2 * time.Minute)) // 00:01 UTC
	if got := mints(); got != 0 {
		t.Fatalf("after midnight UTC: mints_today = %v; want 0", got)
	}
	c.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshed})
	if got := mints(); got != 1 {
		t.Fatalf("mints_today = %v; want 1", got)
	}
	clk.Set(clk.Now().Add(23 * time.Hour)) // 23:01 UTC, same day
	c.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshed})
	if got := mints(); got != 2 {
		t.Fatalf("mints_today = %v; want 2", got)
	}
	got := gather(t, reg)
	if got[`ebayauth_refreshes_total{result="success"}`] != 5 || got["ebayauth_store_hits_total"] != 1 {
		t.Errorf("refreshes_total{success} = %v, store_hits_total = %v; want 5, 1",
			got[`ebayauth_refreshes_total{result="success"}`], got["ebayauth_store_hits_total"])
	}
}

func TestConcurrentObserve(t *testing.T) {
	const workers, each = 8, 500
	c := ebayprom.NewCollector()
	c.SetStatus(func() ebayauth.Status { return ebayauth.Status{State: ebayauth.StateFresh, Healthy: true} })
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				c.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshed, Duration: time.Second})
				c.Observe(ebayauth.Event{Kind: ebayauth.EventRetried401})
			}
		})
	}
	stop := make(chan struct{})
	scraped := make(chan struct{})
	go func() { // scrape while events arrive
		defer close(scraped)
		for {
			select {
			case <-stop:
				return
			default:
				if _, err := reg.Gather(); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-scraped

	got := gather(t, reg)
	for k, want := range map[string]float64{
		`ebayauth_refreshes_total{result="success"}`: workers * each,
		"ebayauth_refresh_duration_seconds_count":    workers * each,
		"ebayauth_retries_401_total":                 workers * each,
		"ebayauth_mints_today":                       workers * each,
	} {
		if got[k] != want {
			t.Errorf("%s = %v; want %v", k, got[k], want)
		}
	}
}

func TestSeveralCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := ebayprom.NewCollector(ebayprom.WithConstLabels(prometheus.Labels{"manager": "a"}))
	b := ebayprom.NewCollector(ebayprom.WithConstLabels(prometheus.Labels{"manager": "b"}))
	reg.MustRegister(a, b)
	a.Observe(ebayauth.Event{Kind: ebayauth.EventInvalidGrant})
	got := gather(t, reg)
	if got[`ebayauth_invalid_grant_total{account="",manager="a"}`] != 1 || got[`ebayauth_invalid_grant_total{account="",manager="b"}`] != 0 {
		t.Errorf("invalid_grant_total: a %v, b %v; want 1, 0",
			got[`ebayauth_invalid_grant_total{account="",manager="a"}`], got[`ebayauth_invalid_grant_total{account="",manager="b"}`])
	}
}

// TestLint lints the exposition as promtool check metrics does, with every
// series present: events of every kind seen and a status with counts.
func TestLint(t *testing.T) {
	c := ebayprom.NewCollector(ebayprom.WithConstLabels(prometheus.Labels{"app": "t"}))
	c.SetStatus(func() ebayauth.Status {
		return ebayauth.Status{State: ebayauth.StateFresh, Counters: ebayauth.Counters{FallbackUses: 1, StoreErrors: 1}}
	})
	for _, k := range []ebayauth.EventKind{ebayauth.EventRefreshed, ebayauth.EventRefreshFailed, ebayauth.EventTokenFromStore,
		ebayauth.EventRetried401, ebayauth.EventValidated, ebayauth.EventValidationFailed, ebayauth.EventInvalidGrant} {
		c.Observe(ebayauth.Event{Kind: k, Duration: time.Second})
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestCountsAreCounters: whatever counts events is a counter named
// *_total, and nothing else is named so; what counts since the Manager
// started (fallback uses, store errors, store hits) has a counter, not
// only a gauge.
func TestCountsAreCounters(t *testing.T) {
	c := ebayprom.NewCollector()
	c.SetStatus(func() ebayauth.Status { return ebayauth.Status{State: ebayauth.StateFallback} })
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]dto.MetricType{}
	for _, f := range fams {
		types[f.GetName()] = f.GetType()
		if total := strings.HasSuffix(f.GetName(), "_total"); total != (f.GetType() == dto.MetricType_COUNTER) {
			t.Errorf("%s is a %s; want counters named *_total and only them", f.GetName(), f.GetType())
		}
	}
	for _, name := range []string{
		"ebayauth_refreshes_total", "ebayauth_retries_401_total", "ebayauth_validations_total", "ebayauth_invalid_grant_total",
		"ebayauth_store_hits_total", "ebayauth_fallback_uses_total", "ebayauth_store_errors_total",
	} {
		switch got, ok := types[name]; {
		case !ok:
			t.Errorf("%s: missing; want a counter", name)
		case got != dto.MetricType_COUNTER:
			t.Errorf("%s: got %v; want a counter", name, got)
		}
	}
	// A store hit is no refresh.
	for _, f := range fams {
		if f.GetName() != "ebayauth_refreshes_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "result" && lp.GetValue() == "store" {
					t.Error(`refreshes_total{result="store"}: a store hit is not a refresh; want store_hits_total`)
				}
			}
		}
	}
}

// TestInvalidGrantNamesTheSeller: a seller's invalid_grant (Accounts) is
// counted under the seller's eBay user id, so an alert can say whom to ask
// for a new consent.
func TestInvalidGrantNamesTheSeller(t *testing.T) {
	c := ebayprom.NewCollector()
	c.Observe(ebayauth.Event{Kind: ebayauth.EventInvalidGrant, Account: "hX3kq7Pz"})
	c.Observe(ebayauth.Event{Kind: ebayauth.EventInvalidGrant, Account: "hX3kq7Pz"})
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	n, err := testutil.GatherAndCount(reg, "ebayauth_invalid_grant_total")
	if err != nil || n != 2 { // the single token's series and the seller's
		t.Fatalf("series = %d, %v; want 2", n, err)
	}
	want := `
# HELP ebayauth_invalid_grant_total Refreshes eBay refused with invalid_grant: the refresh token needs a new consent. account is the seller's eBay user id (Accounts), empty for a single token.
# TYPE ebayauth_invalid_grant_total counter
ebayauth_invalid_grant_total{account=""} 0
ebayauth_invalid_grant_total{account="hX3kq7Pz"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "ebayauth_invalid_grant_total"); err != nil {
		t.Error(err)
	}
}
