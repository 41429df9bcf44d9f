// Package ebayprom exports the health of an ebayauth.Manager as Prometheus
// metrics, so that the ebayauth package itself needs no Prometheus
// dependency.
//
// A Collector learns what happens from the Manager's events (Observe, set as
// Config.OnEvent) and reads the Manager's state at scrape time (SetStatus):
//
//	c := ebayprom.NewCollector(ebayprom.WithConstLabels(prometheus.Labels{"app": "lister"}))
//	m, err := ebayauth.New(ebayauth.Config{ /* ... */ OnEvent: c.Observe})
//	if err != nil {
//		return err
//	}
//	c.SetStatus(m.Status)
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(c)
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// To send events to several places, combine hooks with ebayauth.TeeEvents.
//
// The metrics, all prefixed "ebayauth_":
//
//	refreshes_total{result="success|failure"}  counter: refreshed and refresh_failed events
//	refresh_duration_seconds                   histogram: duration of refreshes, successful or not
//	store_hits_total                           counter: tokens another process minted, taken from the store
//	                                           (token_from_store events; a store hit is not a refresh)
//	retries_401_total                          counter: requests retried after a 401
//	validations_total{result="valid|invalid"}  counter: Validate outcomes
//	invalid_grant_total{account}               counter: refresh tokens refused by eBay, by seller
//	mints_today                                gauge: tokens minted this UTC day (eBay caps mints a day)
//	daily_mint_limit                           gauge: the cap, WithDailyMintLimit
//
// and, only once SetStatus has been called, read from the Status:
//
//	token_state{state="fresh|stale|expired|rejected|fallback|none|needs_consent"}
//	                                         gauge: 1 for the current state, 0 for the others
//	token_expiry_timestamp_seconds           gauge: expiry of the current token; 0 if none
//	refresh_token_expiry_timestamp_seconds   gauge: expiry of the refresh token; 0 if unknown
//	fallback_in_use                          gauge: 1 while the static fallback token is served
//	fallback_uses_total                      counter: times the fallback token was served (Counters.FallbackUses)
//	store_healthy                            gauge: 1 while the Store works
//	store_errors_total                       counter: failed Store operations (Counters.StoreErrors)
//	healthy                                  gauge: 1 while a valid token (or the fallback) can be served
//
// The two counters read from the Status count since the Manager was made,
// as its Counters do: they start again from 0 with a new Manager, which
// Prometheus's rate() and increase() take for a counter reset.
//
// No metric carries a token or a fingerprint.
package ebayprom

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ebayauth/ebayauth"
)

const namespace = "ebayauth"

// DefaultDailyMintLimit is the daily_mint_limit reported by default: the
// number of application tokens eBay lets an application mint a day.
const DefaultDailyMintLimit = 1000

// states are the values of the token_state metric's label, in output order.
var states = []ebayauth.State{
	ebayauth.StateFresh, ebayauth.StateStale, ebayauth.StateExpired, ebayauth.StateRejected, ebayauth.StateFallback,
	ebayauth.StateNone, ebayauth.StateNeedsConsent,
}

// Collector is a prometheus.Collector of the metrics of one Manager. Make
// one with NewCollector; the zero value is not usable. It is safe for
// concurrent use. To follow several Managers, make a Collector for each
// with distinct WithConstLabels and register them all.
type Collector struct {
	now    func() time.Time
	limit  int
	status atomic.Pointer[func() ebayauth.Status]

	refreshes    *prometheus.CounterVec
	duration     prometheus.Histogram
	storeHits    prometheus.Counter
	retries401   prometheus.Counter
	validations  *prometheus.CounterVec
	invalidGrant *prometheus.CounterVec

	mu    sync.Mutex // guards day and mints
	day   int64      // UTC day number (days since 1970-01-01) of mints
	mints int64

	mintsDesc, limitDesc, stateDesc, expiryDesc, rtExpiryDesc  *prometheus.Desc
	fallbackDesc, fallbackUsesDesc, storeDesc, storeErrorsDesc *prometheus.Desc
	healthyDesc                                                *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// An Option configures a Collector.
type Option func(*options)

type options struct {
	labels prometheus.Labels
	limit  int
	now    func() time.Time
}

// WithConstLabels adds labels with fixed values to every metric, e.g. to
// tell apart the Managers of one process.
func WithConstLabels(l prometheus.Labels) Option {
	return func(o *options) { o.labels = l }
}

// WithDailyMintLimit sets the value of daily_mint_limit, so that alerts can
// compare mints_today to it. The default is DefaultDailyMintLimit.
func WithDailyMintLimit(n int) Option {
	return func(o *options) { o.limit = n }
}

// WithNow sets the clock that decides the UTC day of mints_today. The
// default is time.Now.
func WithNow(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// NewCollector returns a Collector with no events seen and no status
// function.
func NewCollector(opts ...Option) *Collector {
	o := options{limit: DefaultDailyMintLimit, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, o.labels)
	}
	c := &Collector{
		now:   o.now,
		limit: o.limit,
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "refreshes_total", ConstLabels: o.labels,
			Help: "Token refreshes by result: a token minted (success) or not (failure).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "refresh_duration_seconds", ConstLabels: o.labels,
			Help:    "How long token refreshes took, successful or not.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}),
		storeHits: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "store_hits_total", ConstLabels: o.labels,
			Help: "Tokens another process minted, taken from the store instead of minting.",
		}),
		retries401: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "retries_401_total", ConstLabels: o.labels,
			Help: "Requests that got a 401 and were retried with a new token.",
		}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "validations_total", ConstLabels: o.labels,
			Help: "Token validations, by result.",
		}, []string{"result"}),
		invalidGrant: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "invalid_grant_total", ConstLabels: o.labels,
			Help: "Refreshes eBay refused with invalid_grant: the refresh token needs a new consent. account is the seller's eBay user id (Accounts), empty for a single token.",
		}, []string{"account"}),
		mintsDesc:        desc("mints_today", "Tokens minted since midnight UTC."),
		limitDesc:        desc("daily_mint_limit", "How many tokens may be minted a day."),
		stateDesc:        desc("token_state", "1 for the current state of the token, 0 for the others.", "state"),
		expiryDesc:       desc("token_expiry_timestamp_seconds", "Expiry of the current token, Unix time; 0 if none."),
		rtExpiryDesc:     desc("refresh_token_expiry_timestamp_seconds", "Expiry of the refresh token, Unix time; 0 if unknown."),
		fallbackDesc:     desc("fallback_in_use", "1 while the static fallback token is in use."),
		fallbackUsesDesc: desc("fallback_uses_total", "Times the static fallback token was served, since the Manager was made."),
		storeDesc:        desc("store_healthy", "1 while the token store works."),
		storeErrorsDesc:  desc("store_errors_total", "Failed token store operations, since the Manager was made."),
		healthyDesc:      desc("healthy", "1 while a valid token (or the fallback) can be served."),
	}
	// Create the labelled series now, so they read 0 rather than missing.
	for _, r := range []string{"success", "failure"} {
		c.refreshes.WithLabelValues(r)
	}
	c.validations.WithLabelValues("valid")
	c.validations.WithLabelValues("invalid")
	c.invalidGrant.WithLabelValues("") // the single token's series, at 0 from the start
	return c
}

// SetStatus sets the function read at every scrape for the metrics of the
// Manager's state, typically Manager.Status. Until it is called, or after
// it is called with nil, those metrics are not exported.
func (c *Collector) SetStatus(f func() ebayauth.Status) {
	if f == nil {
		c.status.Store(nil)
		return
	}
	c.status.Store(&f)
}

// Observe counts e. It has the signature of ebayauth.Config.OnEvent, and
// never blocks.
func (c *Collector) Observe(e ebayauth.Event) {
	switch e.Kind {
	case ebayauth.EventRefreshed:
		c.refreshes.WithLabelValues("success").Inc()
		c.duration.Observe(e.Duration.Seconds())
		c.mu.Lock()
		if d := utcDay(c.now()); d != c.day {
			c.day, c.mints = d, 0
		}
		c.mints++
		c.mu.Unlock()
	case ebayauth.EventRefreshFailed:
		c.refreshes.WithLabelValues("failure").Inc()
		c.duration.Observe(e.Duration.Seconds())
	case ebayauth.EventTokenFromStore:
		c.storeHits.Inc()
	case ebayauth.EventRetried401:
		c.retries401.Inc()
	case ebayauth.EventValidated:
		c.validations.WithLabelValues("valid").Inc()
	case ebayauth.EventValidationFailed:
		c.validations.WithLabelValues("invalid").Inc()
	case ebayauth.EventInvalidGrant:
		// Labelled by seller: the series grow only with sellers whose
		// refresh token eBay refused, which an operator must act on.
		c.invalidGrant.WithLabelValues(e.Account).Inc()
	}
}

// mintsToday returns the mints counted on the clock's current UTC day.
func (c *Collector) mintsToday() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if utcDay(c.now()) != c.day {
		return 0
	}
	return c.mints
}

func utcDay(t time.Time) int64 {
	return t.UTC().Unix() / 86400 // floor for dates after 1970
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.refreshes.Describe(ch)
	c.duration.Describe(ch)
	c.storeHits.Describe(ch)
	c.retries401.Describe(ch)
	c.validations.Describe(ch)
	c.invalidGrant.Describe(ch)
	for _, d := range []*prometheus.Desc{c.mintsDesc, c.limitDesc, c.stateDesc, c.expiryDesc,
		c.rtExpiryDesc, c.fallbackDesc, c.fallbackUsesDesc, c.storeDesc, c.storeErrorsDesc, c.healthyDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. It calls the status function
// set by SetStatus, if any.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.refreshes.Collect(ch)
	c.duration.Collect(ch)
	c.storeHits.Collect(ch)
	c.retries401.Collect(ch)
	c.validations.Collect(ch)
	c.invalidGrant.Collect(ch)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.mintsDesc, float64(c.mintsToday()))
	gauge(c.limitDesc, float64(c.limit))

	f := c.status.Load()
	if f == nil {
		return
	}
	s := (*f)()
	for _, st := range states {
		gauge(c.stateDesc, bool01(s.State == st), string(st))
	}
	gauge(c.expiryDesc, unix(s.Expiry))
	gauge(c.rtExpiryDesc, unix(s.RefreshTokenExpiry))
	gauge(c.fallbackDesc, bool01(s.State == ebayauth.StateFallback))
	counter(c.fallbackUsesDesc, float64(s.Counters.FallbackUses))
	gauge(c.storeDesc, bool01(s.StoreHealthy))
	counter(c.storeErrorsDesc, float64(s.Counters.StoreErrors))
	gauge(c.healthyDesc, bool01(s.Healthy))
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// unix returns t in seconds since the epoch, 0 for the zero time.
func unix(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
