package console

import (
	"slices"
	"sync"
	"time"

	"github.com/ebayauth/ebayauth"
)

// DefaultRecorderEvents is how many events a Recorder keeps unless
// RecorderConfig.Events says otherwise.
const DefaultRecorderEvents = 500

// maxFailing bounds the sellers a Recorder remembers as failing; past it,
// the one whose failure is oldest is forgotten.
const maxFailing = 10000

// maxErrorText bounds the error text kept per event, in bytes.
const maxErrorText = 300

// hours is the span of the mint and failure chart.
const hours = 24

// RecorderConfig configures NewRecorder. Its zero value is usable.
type RecorderConfig struct {
	// Events is how many of the latest events are kept. Zero:
	// DefaultRecorderEvents.
	Events int
	// Clock decides which hours the chart shows and which UTC day "mints
	// today" counts. Nil: the system clock. Give it the Managers' clock.
	Clock ebayauth.Clock
}

// Recorder remembers what the Managers it observes did, for the console:
// the latest events in a ring buffer of fixed size, mints and failed
// refreshes per hour over the last 24 hours, and which sellers' last
// refresh or validation failed. Put Observe in Config.OnEvent (with
// ebayauth.TeeEvents next to other hooks) before the Manager or Accounts
// is created.
//
// Its memory is bounded whatever the traffic: the ring of events (each
// with an error text of at most 300 bytes), 24 hourly buckets, and at most
// 10,000 failing sellers. A Recorder is safe for concurrent use.
type Recorder struct {
	now func() time.Time

	mu      sync.Mutex // guards the fields below
	ring    []Entry    // the last len(ring) events; ring[next] is the oldest once full
	next    int
	full    bool
	seq     uint64
	buckets [hours]bucket
	codes   [hours]bucket // authorization-code exchanges (ObserveExchange)
	failing map[string]time.Time
}

// Entry is an event as the Recorder keeps it: an ebayauth.Event with its
// error reduced to text. It holds no credential (Event holds none).
type Entry struct {
	Seq         uint64             `json:"seq"`
	Kind        ebayauth.EventKind `json:"kind"`
	Time        time.Time          `json:"time"`
	Account     string             `json:"account,omitempty"`
	Fingerprint string             `json:"fingerprint,omitempty"`
	Duration    time.Duration      `json:"duration,omitempty"`
	Error       string             `json:"error,omitempty"`
}

// bucket counts one clock hour.
type bucket struct {
	hour        int64 // Unix hour number; the bucket is empty unless it matches
	mints       int   // all tokens minted
	sellerMints int   // of which by Accounts' Managers
	failures    int
}

// HourCount is one hour of the chart.
type HourCount struct {
	Start    time.Time // the start of the hour, UTC
	Mints    int       // tokens minted (refreshed events)
	Failures int       // failed refreshes (refresh_failed events)
}

// NewRecorder returns a Recorder that has seen nothing.
func NewRecorder(cfg RecorderConfig) *Recorder {
	n := cfg.Events
	if n <= 0 {
		n = DefaultRecorderEvents
	}
	r := &Recorder{ring: make([]Entry, n), failing: make(map[string]time.Time), now: time.Now}
	if cfg.Clock != nil {
		r.now = cfg.Clock.Now
	}
	return r
}

// Observe records e. It has the signature of ebayauth.Config.OnEvent and
// never blocks on I/O.
func (r *Recorder) Observe(e ebayauth.Event) {
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	en := Entry{Kind: e.Kind, Time: e.Time, Account: e.Account, Fingerprint: e.Fingerprint, Duration: e.Duration}
	if e.Err != nil {
		en.Error = truncate(e.Err.Error(), maxErrorText)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	en.Seq = r.seq
	r.ring[r.next] = en
	r.next++
	if r.next == len(r.ring) {
		r.next, r.full = 0, true
	}
	switch e.Kind {
	case ebayauth.EventRefreshed:
		bk := r.bucketFor(&r.buckets, e.Time)
		bk.mints++
		if e.Account != "" {
			bk.sellerMints++
		}
	case ebayauth.EventRefreshFailed:
		r.bucketFor(&r.buckets, e.Time).failures++
	}
	if e.Account == "" {
		return
	}
	switch e.Kind {
	case ebayauth.EventRefreshFailed, ebayauth.EventInvalidGrant, ebayauth.EventValidationFailed, ebayauth.EventFallbackUsed:
		if _, ok := r.failing[e.Account]; !ok && len(r.failing) >= maxFailing {
			r.forgetOldestFailure()
		}
		r.failing[e.Account] = e.Time
	case ebayauth.EventRefreshed, ebayauth.EventRecovered, ebayauth.EventValidated, ebayauth.EventTokenFromStore:
		delete(r.failing, e.Account)
	}
}

// ObserveExchange counts one authorization-code exchange (a seller's
// consent traded for a refresh token) at time t (zero: now), for the gauge
// of the authorization-code grant's daily limit. Exchanges emit no Event:
// call it after Accounts.Connect succeeds, e.g. in accounthttp's
// OnboardingConfig.Connect.
func (r *Recorder) ObserveExchange(t time.Time) {
	if t.IsZero() {
		t = r.now()
	}
	r.mu.Lock()
	r.bucketFor(&r.codes, t).mints++
	r.seq++
	r.mu.Unlock()
}

// forgetOldestFailure drops the failing seller seen failing longest ago.
// r.mu must be held.
func (r *Recorder) forgetOldestFailure() {
	var oldest string
	var at time.Time
	for id, t := range r.failing {
		if oldest == "" || t.Before(at) {
			oldest, at = id, t
		}
	}
	delete(r.failing, oldest)
}

// bucketFor returns the bucket of t's hour in b, emptied if it last
// counted another hour. r.mu must be held.
func (r *Recorder) bucketFor(b *[hours]bucket, t time.Time) *bucket {
	h := unixHour(t)
	bk := &b[mod(h, hours)]
	if bk.hour != h {
		*bk = bucket{hour: h}
	}
	return bk
}

// Seq counts the events observed so far: it changes whenever the Recorder
// does, so a page can tell whether anything happened since it last looked.
func (r *Recorder) Seq() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

// Events returns up to n of the latest events, newest first; only the
// seller's if account is not empty.
func (r *Recorder) Events(account string, n int) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	size := r.next
	if r.full {
		size = len(r.ring)
	}
	var out []Entry
	for i := 0; i < size && len(out) < n; i++ {
		en := r.ring[mod(int64(r.next-1-i), int64(len(r.ring)))]
		if account == "" || en.Account == account {
			out = append(out, en)
		}
	}
	return out
}

// Hours returns the last 24 clock hours, oldest first, the current hour
// last.
func (r *Recorder) Hours() []HourCount {
	now := unixHour(r.now())
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]HourCount, hours)
	for i := range out {
		h := now - hours + 1 + int64(i)
		out[i].Start = time.Unix(h*3600, 0).UTC()
		if bk := r.buckets[mod(h, hours)]; bk.hour == h {
			out[i].Mints, out[i].Failures = bk.mints, bk.failures
		}
	}
	return out
}

// DailyMints counts what was minted since midnight UTC, by grant: eBay's
// daily limits are per grant and day.
type DailyMints struct {
	// Token counts the tokens minted by Managers not of Accounts (the
	// client_credentials or refresh_token grant, as they are configured).
	Token int
	// Sellers counts the tokens minted by Accounts' Managers (the
	// refresh_token grant).
	Sellers int
	// Exchanges counts the authorization codes exchanged
	// (ObserveExchange).
	Exchanges int
}

// MintsToday counts the mints since midnight UTC by the Recorder's clock.
func (r *Recorder) MintsToday() DailyMints {
	now := r.now()
	from, to := unixHour(now.UTC().Truncate(24*time.Hour)), unixHour(now)
	r.mu.Lock()
	defer r.mu.Unlock()
	var d DailyMints
	for i := range hours {
		if bk := r.buckets[i]; bk.hour >= from && bk.hour <= to {
			d.Token += bk.mints - bk.sellerMints
			d.Sellers += bk.sellerMints
		}
		if bk := r.codes[i]; bk.hour >= from && bk.hour <= to {
			d.Exchanges += bk.mints
		}
	}
	return d
}

// Failing reports whether the seller's last refresh or validation seen by
// this Recorder failed (and nothing has succeeded for them since).
func (r *Recorder) Failing(account string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.failing[account]
	return ok
}

// FailingAccounts returns the sellers Failing reports, sorted by id.
func (r *Recorder) FailingAccounts() []string {
	r.mu.Lock()
	ids := make([]string, 0, len(r.failing))
	for id := range r.failing {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	slices.Sort(ids)
	return ids
}

func unixHour(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 3599) / 3600
	}
	return s / 3600
}

// mod is the non-negative remainder of a divided by n.
func mod(a, n int64) int64 {
	m := a % n
	if m < 0 {
		m += n
	}
	return m
}

// truncate cuts s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
