package ebayauth

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
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
//	fresh    now < refreshAt            atomic load, return
//	stale    refreshAt <= now < dueAt   return the token, start one background refresh
//	due      dueAt <= now               wait for the one refresh (singleflight)
//	rejected eBay refused the token     wait for the one refresh; never served again
//
// Every refresh, background or foreground, runs through one singleflight
// key on a context detached from its callers. It first reads the Store (a
// token another process minted, or news of this one), then mints under the
// Store's lock. After a failure the Manager backs off before it asks eBay
// again, and a token bucket caps the rate of mints whatever asks for them.

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
	minted    time.Time // when it was requested from eBay; zero if unknown
	refreshAt time.Time // stale from here; zero: never
	dueAt     time.Time // callers wait for a refresh from here; zero: never
	rejected  bool      // eBay refused it: it is replaced, never served
}

// newEntry computes the windows of tok, minted at minted (zero: unknown).
//
// The refresh window is Config.RefreshBefore, capped at half the token's
// lifetime, plus a jitter of up to a tenth of it so that a fleet does not
// refresh in the same second. The jitter is derived from the token itself,
// so every process that holds the token judges it stale at the same moment
// and reports the same state.
func (m *Manager) newEntry(tok *Token, minted time.Time) *entry {
	e := &entry{tok: tok, header: "Bearer " + tok.AccessToken, minted: minted}
	if tok.Expiry.IsZero() {
		return e
	}
	lifetime := time.Duration(m.lifetime.Load())
	if !minted.IsZero() && tok.Expiry.After(minted) {
		lifetime = tok.Expiry.Sub(minted)
	}
	before := min(m.cfg.RefreshBefore, lifetime/2)
	due := min(before/10, maxDueWindow)
	if before > 0 {
		sum := sha256.Sum256([]byte(tok.AccessToken))
		before += time.Duration(binary.BigEndian.Uint64(sum[:8]) % uint64(before/10+1))
	}
	e.refreshAt = tok.Expiry.Add(-before)
	e.dueAt = tok.Expiry.Add(-due)
	return e
}

// fresh reports whether e can be served without a refresh at now.
func (e *entry) fresh(now time.Time) bool {
	return !e.rejected && (e.refreshAt.IsZero() || now.Before(e.refreshAt))
}

// usable reports whether e can be served at now, if need be while a
// refresh runs: not refused, and not yet due.
func (e *entry) usable(now time.Time) bool {
	return !e.rejected && e.tok.valid(now) && (e.dueAt.IsZero() || now.Before(e.dueAt))
}

// current returns the entry to serve: fresh at once, stale at once after
// starting a background refresh, otherwise after waiting for a refresh.
func (m *Manager) current(ctx context.Context) (*entry, error) {
	e := m.cur.Load()
	if e != nil && !e.rejected {
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
		if e := m.cur.Load(); e != nil && !e.rejected && e.tok.valid(m.now()) {
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
// A scheduled refresh (rejected empty, force false) accepts a token other
// than the one it started with that is not yet stale; when the Manager had
// no token at all, it also accepts a stored token that is stale but not yet
// due, which is served at once and refreshed by the next call. A
// replacement (rejected set: a server refused that access token) accepts
// any other token that is not due. A forced refresh mints, unless while it
// waited for the lock another Manager minted a token other than rejected.
func (m *Manager) refresh(ctx context.Context, force bool, rejected string) (*entry, error) {
	start := m.now()
	old := m.cur.Load()
	if !force && rejected == "" && old != nil && old.fresh(start) {
		return old, nil // refreshed since this refresh was asked for
	}
	if old != nil && !old.rejected && !old.dueAt.IsZero() && !start.Before(old.dueAt) {
		m.log.Warn("ebayauth: refreshing an expiring token",
			slog.String("fingerprint", old.tok.Fingerprint()), slog.Time("expiry", old.tok.Expiry))
	}
	if !force {
		if e := m.fromStore(ctx, old, rejected); e != nil {
			return e, nil
		}
	}
	// A refresh asked for by a 401 obeys the backoff as a scheduled one
	// does: after invalid_grant, say, eBay is not asked again for minutes.
	if !force && start.UnixNano() < m.nextTry.Load() {
		return nil, m.lastFailure()
	}
	unlock, e := m.lockStore(ctx, old, rejected)
	if e != nil {
		return e, nil
	}
	if unlock == nil {
		unlock = func() {}
	} else if !force {
		// Another Manager may have saved a token and released the lock
		// just before we took it.
		if e := m.fromStore(ctx, old, rejected); e != nil {
			unlock()
			return e, nil
		}
	}
	if !m.limiter.AllowN(m.now(), 1) {
		unlock()
		m.log.Warn("ebayauth: refresh skipped: mint rate limit reached")
		m.failed(start, errRateLimited)
		return nil, errRateLimited
	}
	tok, err := m.cfg.retrieve(ctx, m.cfg.HTTPClient, m.grant, m.now)
	if err != nil {
		unlock()
		m.failed(start, err)
		return nil, err
	}
	if tok.Expiry.After(start) {
		m.lifetime.Store(int64(tok.Expiry.Sub(start)))
	}
	e = m.adopt(tok, start)
	m.mints.Add(1)
	// Waiters get the token now; the Store hears of it right after, and
	// the lock is released only then, so that no other Manager mints
	// before the token is there to be found.
	persist := func() {
		m.save(context.WithoutCancel(m.ctx), e)
		unlock()
	}
	if !m.spawn(persist) {
		persist()
	}
	took := m.now().Sub(start)
	m.log.Info("ebayauth: token refreshed", slog.String("kind", m.cfg.kind()),
		slog.String("fingerprint", tok.Fingerprint()), slog.Time("expiry", tok.Expiry), slog.Duration("took", took))
	m.emit(Event{Kind: EventRefreshed, Fingerprint: tok.Fingerprint(), Expiry: tok.Expiry, Duration: took})
	return e, nil
}

// acceptable reports whether e, the current entry after a look at the
// Store, ends a refresh that started with old (see refresh).
func (m *Manager) acceptable(e, old *entry, rejected string) bool {
	if e == nil || e.rejected {
		return false
	}
	now := m.now()
	if rejected != "" {
		return e.tok.AccessToken != rejected && e.usable(now)
	}
	if old != nil && !old.rejected && e.tok.AccessToken == old.tok.AccessToken {
		return false // nobody refreshed it
	}
	return e.fresh(now) || (old == nil && e.usable(now))
}

// fromStore reads the Store, adopting what is news there, and returns the
// current entry if it ends the refresh.
func (m *Manager) fromStore(ctx context.Context, old *entry, rejected string) *entry {
	if m.load(ctx) == nil {
		return nil
	}
	if e := m.cur.Load(); m.acceptable(e, old, rejected) {
		return e
	}
	return nil
}

// lockStore takes the store's mint lock and returns its release. If another
// Manager holds it, it waits for that Manager's token, polling the store
// with backoff, and returns the token; if the holder vanishes (the lock
// lapses) it takes the lock itself. It returns neither when the store has
// no lock or fails, or when the wait outlasts half the refresh's time: the
// Manager then mints without the lock (one extra mint beats an outage).
func (m *Manager) lockStore(ctx context.Context, old *entry, rejected string) (unlock func(), e *entry) {
	if m.locker == nil || !m.storeUp.Load() {
		return nil, nil
	}
	wait, cancel := context.WithTimeout(ctx, m.cfg.RefreshTimeout/2)
	defer cancel()
	delay := 25 * time.Millisecond
	for {
		var rel func(context.Context) error
		err := m.storeOp(wait, "lock", func(ctx context.Context) error {
			var err error
			rel, err = m.locker.Lock(ctx, m.key, m.cfg.LockLease)
			return err
		})
		switch {
		case err == nil:
			return func() {
				// Release on a fresh context: the refresh's may have ended.
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.StoreTimeout)
				defer cancel()
				_ = m.storeOp(ctx, "unlock", rel)
			}, nil
		case !errors.Is(err, ErrLocked):
			return nil, nil
		}
		// Another Manager is minting: wait for its token.
		t := time.NewTimer(delay)
		select {
		case <-wait.Done():
			t.Stop()
			if ctx.Err() == nil {
				m.log.Warn("ebayauth: another process has held the store's mint lock too long; minting without it",
					slog.String("store", storeName(m.store)), slog.Duration("waited", m.cfg.RefreshTimeout/2))
			}
			return nil, nil
		case <-t.C:
		}
		delay = min(delay*2, time.Second)
		if e := m.fromStore(wait, old, rejected); e != nil {
			return nil, e
		}
		if !m.storeUp.Load() {
			return nil, nil
		}
	}
}

// adopt makes tok, just minted at minted, the current token.
func (m *Manager) adopt(tok *Token, minted time.Time) *entry {
	e := m.newEntry(tok, minted)
	m.cur.Store(e)
	m.mu.Lock()
	recovered := m.failures > 0
	m.failures = 0
	m.inFallback = false
	m.validated, m.validErr = time.Time{}, ""
	if !tok.RefreshTokenExpiry.IsZero() {
		m.rtExpiry = tok.RefreshTokenExpiry
	}
	m.mu.Unlock()
	m.nextTry.Store(0)
	if recovered {
		m.log.Info("ebayauth: token refresh recovered", slog.String("fingerprint", tok.Fingerprint()))
		m.emit(Event{Kind: EventRecovered, Fingerprint: tok.Fingerprint(), Expiry: tok.Expiry})
	}
	return e
}

// adoptRecord takes what rec, read from the Store, tells: a token newer
// than the current one becomes current; for the current token itself, a
// newer validation verdict or eBay's refusal. It returns the current entry.
func (m *Manager) adoptRecord(rec *Record) *entry {
	for {
		cur := m.cur.Load()
		same := cur != nil && cur.tok.AccessToken == rec.Token.AccessToken
		if cur != nil && !same && !newerThan(rec.Token, cur.tok) {
			return cur // older than ours: nothing to learn
		}
		e := cur
		if !same || (!cur.rejected && !rec.Rejected.IsZero()) || (cur.minted.IsZero() && !rec.Minted.IsZero()) {
			e = m.newEntry(rec.Token, rec.Minted)
			e.rejected = !rec.Rejected.IsZero() || (same && cur.rejected)
			if !m.cur.CompareAndSwap(cur, e) {
				continue
			}
		}
		if !same && !rec.Minted.IsZero() && rec.Token.Expiry.After(rec.Minted) {
			m.lifetime.Store(int64(rec.Token.Expiry.Sub(rec.Minted)))
		}
		m.mu.Lock()
		if !same {
			m.validated, m.validErr = time.Time{}, ""
			m.inFallback = false
		}
		if rec.Validated.After(m.validated) {
			m.validated, m.validErr = rec.Validated, rec.ValidationError
		}
		if !rec.RefreshTokenExpiry.IsZero() && m.cfg.RefreshTokenExpiry.IsZero() {
			m.rtExpiry = rec.RefreshTokenExpiry
		}
		m.mu.Unlock()
		if !same {
			m.storeHits.Add(1)
			m.log.Debug("ebayauth: token taken from store", slog.String("fingerprint", rec.Token.Fingerprint()), slog.Time("expiry", rec.Token.Expiry))
			m.emit(Event{Kind: EventTokenFromStore, Fingerprint: rec.Token.Fingerprint(), Expiry: rec.Token.Expiry})
		}
		return e
	}
}

// recordOf is the Store record of e, the current entry, with what the
// Manager knows of it.
func (m *Manager) recordOf(e *entry) *Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := &Record{Token: e.tok, Minted: e.minted, RefreshTokenExpiry: m.rtExpiry, Account: m.cfg.account}
	if e.tok.AccessToken == m.curToken() {
		rec.Validated, rec.ValidationError = m.validated, m.validErr
	}
	return rec
}

// curToken is the current access token, "" if none.
func (m *Manager) curToken() string {
	if e := m.cur.Load(); e != nil {
		return e.tok.AccessToken
	}
	return ""
}

// reject marks e, the current entry, as refused by eBay (why says how it
// was found out) and writes that to the Store. Unless sure (the validation
// probe's verdict), it refuses to reject a token minted too recently to be
// believed dead, and returns ErrTokenRefused.
func (m *Manager) reject(e *entry, why string, sure bool) error {
	if e.rejected {
		return nil
	}
	now := m.now()
	if !sure && !e.minted.IsZero() && now.Sub(e.minted) < m.minReplaceAge(e) {
		return fmt.Errorf("%w: token %s was minted %s ago", ErrTokenRefused, e.tok.Fingerprint(), now.Sub(e.minted).Round(time.Second))
	}
	r := *e
	r.rejected = true
	if !m.cur.CompareAndSwap(e, &r) {
		return nil // replaced meanwhile
	}
	m.log.Warn("ebayauth: eBay refused the token; replacing it", slog.String("fingerprint", e.tok.Fingerprint()), slog.String("how", why))
	rec := m.recordOf(&r)
	rec.Rejected = now
	_ = m.storeOp(m.ctx, "save", func(ctx context.Context) error { return m.store.Save(ctx, m.key, rec) })
	return nil
}

// minReplaceAge is how old a token must be before a 401 makes the Manager
// replace it: a minute, or a tenth of its lifetime if less.
func (m *Manager) minReplaceAge(e *entry) time.Duration {
	if e.tok.Expiry.IsZero() || e.minted.IsZero() {
		return time.Minute
	}
	return min(time.Minute, e.tok.Expiry.Sub(e.minted)/10)
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
