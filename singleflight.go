package ebayauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
)

// The cache core. A Manager holds its current token in an atomic pointer to
// an immutable entry; the entry carries the times at which the token turns
// stale (refresh in the background) and due (callers wait for a refresh).
//
//	fresh   now < refreshAt            atomic load, return
//	stale   refreshAt <= now < dueAt   return the token, start one background refresh
//	due     dueAt <= now               wait for the one refresh (singleflight)
//
// Every refresh, background or foreground, runs through one singleflight
// key on a context detached from its callers; after a failure the Manager
// backs off before it asks eBay again, and a token bucket caps the rate of
// mints whatever asks for them.

// Backoff after failed refreshes.
const (
	backoffMin          = time.Second
	backoffMax          = time.Minute
	permanentBackoffMin = 5 * time.Minute // after a 4xx such as invalid_grant
	permanentBackoffMax = 30 * time.Minute
	// maxDueWindow caps the stretch before expiry in which callers wait.
	maxDueWindow = time.Minute
	// Mint rate limit: a burst of 3, then one every 2 s.
	mintEvery = 2 * time.Second
	mintBurst = 3
)

// errRateLimited is returned when the mint rate limit stops a refresh.
var errRateLimited = errors.New("ebayauth: refresh rate limit reached; keeping the current token")

// entry is an immutable snapshot of the current token.
type entry struct {
	tok       *Token
	header    string    // "Bearer " + tok.AccessToken, built once
	refreshAt time.Time // stale from here (jittered); zero: never
	dueAt     time.Time // callers wait for a refresh from here; zero: never
}

// newEntry computes the windows of tok. lifetime is the token lifetime the
// Manager has seen eBay grant; the refresh window is at most half of it.
func (m *Manager) newEntry(tok *Token, jitter bool) *entry {
	e := &entry{tok: tok, header: "Bearer " + tok.AccessToken}
	if tok.Expiry.IsZero() {
		return e
	}
	before, due := m.refreshBefore(), m.dueWindow()
	if jitter && before > 0 {
		before += rand.N(before/10 + 1)
	}
	e.refreshAt = tok.Expiry.Add(-before)
	e.dueAt = tok.Expiry.Add(-due)
	return e
}

// refreshBefore is Config.RefreshBefore capped at half the token lifetime.
func (m *Manager) refreshBefore() time.Duration {
	return min(m.cfg.RefreshBefore, time.Duration(m.lifetime.Load())/2)
}

// dueWindow is the stretch before expiry in which callers wait for a
// refresh: a tenth of the refresh window, at most a minute.
func (m *Manager) dueWindow() time.Duration { return min(m.refreshBefore()/10, maxDueWindow) }

// current returns the entry to serve: fresh at once, stale at once after
// starting a background refresh, otherwise after waiting for a refresh.
func (m *Manager) current(ctx context.Context) (*entry, error) {
	e := m.cur.Load()
	if e != nil {
		now := m.now()
		if e.refreshAt.IsZero() || now.Before(e.refreshAt) {
			return e, nil
		}
		if now.Before(e.dueAt) {
			m.refreshInBackground(now)
			return e, nil
		}
	}
	return m.wait(ctx)
}

// refreshInBackground starts a refresh unless one runs or the Manager is
// backing off after a failure. It never blocks.
func (m *Manager) refreshInBackground(now time.Time) {
	if now.UnixNano() < m.nextTry.Load() || !m.bgRefresh.CompareAndSwap(false, true) {
		return
	}
	// The flag is cleared when the refresh we joined ends, whoever started it.
	ch := m.startRefresh(false, "")
	if !m.spawn(func() { <-ch; m.bgRefresh.Store(false) }) {
		m.bgRefresh.Store(false)
	}
}

// wait waits for a refresh, then serves what can be served: the new token,
// the old one while still valid, the fallback, or an error.
func (m *Manager) wait(ctx context.Context) (*entry, error) {
	if m.now().UnixNano() < m.nextTry.Load() {
		return m.degraded(m.lastFailure())
	}
	e, err := m.await(ctx, m.startRefresh(false, ""))
	switch {
	case err == nil:
		return e, nil
	case ctx.Err() != nil:
		if e := m.cur.Load(); e != nil && e.tok.valid(m.now()) {
			return e, nil
		}
		return nil, fmt.Errorf("ebayauth: waiting for a token refresh: %w", ctx.Err())
	case errors.Is(err, ErrClosed):
		return nil, err
	}
	return m.degraded(err)
}

// startRefresh joins the refresh in flight or starts one on a context
// detached from every caller, bounded by Config.RefreshTimeout and Close.
// Forced refreshes (ForceRefresh) have a singleflight key of their own, so
// they never settle for a scheduled refresh's result. Once the Manager is
// closed the refresh fails at once with ErrClosed.
func (m *Manager) startRefresh(force bool, rejected string) <-chan singleflight.Result {
	key := "refresh"
	if force {
		key = "mint"
	}
	return m.sf.DoChan(key, func() (any, error) {
		if !m.enter() { // Close waits for a refresh that got in
			return nil, ErrClosed
		}
		defer m.wg.Done()
		ctx, cancel := context.WithTimeout(m.ctx, m.cfg.RefreshTimeout)
		defer cancel()
		return m.refresh(ctx, force, rejected)
	})
}

// await waits for a refresh's result, for no longer than ctx allows.
func (m *Manager) await(ctx context.Context, ch <-chan singleflight.Result) (*entry, error) {
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*entry), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// refresh gets a new token: from the store if another Manager minted one,
// else by minting under the store's lock. It runs inside the singleflight.
//
// A scheduled refresh (rejected empty, force false) accepts any token that is
// not yet stale. A replacement (rejected set: a server refused that access
// token) accepts any other token still valid beyond the due window. A forced
// refresh mints, unless while it waited for the lock another Manager minted a
// token other than rejected.
func (m *Manager) refresh(ctx context.Context, force bool, rejected string) (*entry, error) {
	start := m.now()
	old := m.cur.Load()
	if !force && rejected == "" && old != nil && (old.refreshAt.IsZero() || start.Before(old.refreshAt)) {
		return old, nil // refreshed since this refresh was asked for
	}
	if old != nil && !old.dueAt.IsZero() && !start.Before(old.dueAt) {
		m.log.Warn("ebayauth: refreshing an expiring token",
			slog.String("fingerprint", old.tok.Fingerprint()), slog.Time("expiry", old.tok.Expiry))
	}
	if !force {
		if e := m.fromStore(ctx, rejected); e != nil {
			return e, nil
		}
	}
	if unlock, ok := m.lockStore(ctx, rejected); ok {
		defer unlock()
		// Another Manager may have saved a token just before we locked.
		if !force {
			if e := m.fromStore(ctx, rejected); e != nil {
				return e, nil
			}
		}
	} else if e := m.cur.Load(); e != old && e.tok.AccessToken != rejected {
		// Another Manager held the lock; its token arrived while we waited.
		return e, nil
	}
	if !m.limiter.AllowN(m.now(), 1) {
		m.log.Warn("ebayauth: refresh skipped: mint rate limit reached")
		m.failed(start, errRateLimited)
		return nil, errRateLimited
	}
	tok, err := m.cfg.retrieve(ctx, m.cfg.HTTPClient, m.grant, m.now)
	if err != nil {
		m.failed(start, err)
		return nil, err
	}
	m.lifetime.Store(int64(tok.Expiry.Sub(start)))
	e := m.adopt(tok, start)
	m.mints.Add(1)
	m.storeOp(ctx, "save", func(ctx context.Context) error { return m.store.Save(ctx, m.key, tok) })
	took := m.now().Sub(start)
	m.log.Info("ebayauth: token refreshed", slog.String("kind", m.cfg.kind()),
		slog.String("fingerprint", tok.Fingerprint()), slog.Time("expiry", tok.Expiry), slog.Duration("took", took))
	m.emit(Event{Kind: EventRefreshed, Fingerprint: tok.Fingerprint(), Expiry: tok.Expiry, Duration: took})
	return e, nil
}

// fresh reports whether tok is good enough to end a refresh: for a
// replacement (lenient) valid beyond the due window, otherwise not yet stale.
func (m *Manager) fresh(tok *Token, lenient bool) bool {
	now := m.now()
	if !tok.valid(now) {
		return false
	}
	if tok.Expiry.IsZero() {
		return true
	}
	if lenient {
		return now.Before(tok.Expiry.Add(-m.dueWindow()))
	}
	return now.Before(tok.Expiry.Add(-m.refreshBefore()))
}

// fromStore adopts the store's token if it is fresh and not the rejected
// one. For a scheduled refresh the current token does not count.
func (m *Manager) fromStore(ctx context.Context, rejected string) *entry {
	var tok *Token
	m.storeOp(ctx, "load", func(ctx context.Context) error {
		var err error
		tok, err = m.store.Load(ctx, m.key)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	if tok == nil || tok.AccessToken == rejected || !m.fresh(tok, rejected != "") {
		return nil
	}
	if cur := m.cur.Load(); cur != nil && cur.tok.AccessToken == tok.AccessToken {
		// The store holds our own token: nobody refreshed it. A scheduled
		// refresh (past our jittered refresh point) must mint; a
		// replacement is content with it, as it is not the rejected one.
		if rejected == "" {
			return nil
		}
		return cur
	}
	e := m.adopt(tok, m.now())
	m.storeHits.Add(1)
	m.log.Debug("ebayauth: token taken from store", slog.String("fingerprint", tok.Fingerprint()), slog.Time("expiry", tok.Expiry))
	m.emit(Event{Kind: EventTokenFromStore, Fingerprint: tok.Fingerprint(), Expiry: tok.Expiry})
	return e
}

// lockStore takes the store's mint lock. If another Manager holds it, it
// waits for that Manager's token (polling the store with backoff) and
// reports ok=false; it also reports false if the store has no lock or fails.
// If the holder vanishes (the lock lapses with no token), lockStore takes
// the lock itself.
func (m *Manager) lockStore(ctx context.Context, rejected string) (unlock func(), ok bool) {
	if m.locker == nil || !m.storeUp.Load() {
		return nil, false
	}
	delay := 25 * time.Millisecond
	for {
		rel, err := m.locker.Lock(ctx, m.key, m.cfg.LockLease)
		switch {
		case err == nil:
			m.storeOK()
			return func() {
				// Release on a fresh context: the refresh's may have ended.
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				if err := rel(ctx); err != nil {
					m.storeFailed("unlock", err)
				}
			}, true
		case !errors.Is(err, ErrLocked):
			m.storeFailed("lock", err)
			return nil, false
		}
		// Another Manager is minting: wait for its token.
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, false
		case <-t.C:
		}
		delay = min(delay*2, time.Second)
		if e := m.fromStore(ctx, rejected); e != nil {
			return nil, false
		}
		if !m.storeUp.Load() {
			return nil, false
		}
	}
}

// adopt makes tok the current token.
func (m *Manager) adopt(tok *Token, now time.Time) *entry {
	e := m.newEntry(tok, true)
	m.cur.Store(e)
	m.mu.Lock()
	recovered := m.failures > 0
	m.failures = 0
	m.lastRefresh = now
	m.inFallback = false
	m.mu.Unlock()
	m.nextTry.Store(0)
	if recovered {
		m.log.Info("ebayauth: token refresh recovered", slog.String("fingerprint", tok.Fingerprint()))
		m.emit(Event{Kind: EventRecovered, Fingerprint: tok.Fingerprint(), Expiry: tok.Expiry})
	}
	return e
}

// failed records a failed refresh and schedules the next attempt: jittered
// exponential backoff, longer after a permanent (4xx) error.
func (m *Manager) failed(start time.Time, err error) {
	now := m.now()
	m.refreshFailures.Add(1)
	lo, hi := backoffMin, backoffMax
	var re *RetrieveError
	if errors.As(err, &re) && !re.Temporary() {
		lo, hi = permanentBackoffMin, permanentBackoffMax
	}
	m.mu.Lock()
	m.failures++
	n := m.failures
	m.lastErr, m.lastErrTime = err, now
	m.mu.Unlock()
	d := min(lo<<min(n-1, 16), hi)
	d = d/2 + rand.N(d/2+1) // jitter: between half and all of d
	m.nextTry.Store(now.Add(d).UnixNano())

	attrs := []any{slog.String("error", err.Error()), slog.Int("attempt", n), slog.Duration("retry_in", d)}
	if re != nil {
		attrs = append(attrs, slog.Int("http_status", re.StatusCode), slog.String("ebay_error", re.ErrorCode))
	}
	if e := m.cur.Load(); e != nil {
		attrs = append(attrs, slog.String("fingerprint", e.tok.Fingerprint()), slog.Time("expiry", e.tok.Expiry))
	}
	m.log.Error("ebayauth: token refresh failed", attrs...)
	m.emit(Event{Kind: EventRefreshFailed, Err: err, Duration: now.Sub(start)})
	if errors.Is(err, ErrInvalidGrant) {
		m.log.Error("ebayauth: eBay refused the refresh token (invalid_grant): the seller must consent again")
		m.emit(Event{Kind: EventInvalidGrant, Err: err})
	}
}

func (m *Manager) lastFailure() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastErr == nil {
		return errRateLimited
	}
	return m.lastErr
}

// newLimiter is the mint rate limit.
func newLimiter() *rate.Limiter { return rate.NewLimiter(rate.Every(mintEvery), mintBurst) }
