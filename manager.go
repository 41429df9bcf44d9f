package ebayauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
)

// Manager keeps one eBay access token valid: it mints it, caches it,
// refreshes it before it expires and shares it through a Store. It is a
// TokenSource and a Refresher, and hands out Transports and Clients that put
// the token on requests to eBay.
//
// A Manager is safe for concurrent use. Call Close when done with it to
// stop refreshes in flight.
type Manager struct {
	cfg           Config
	key           string     // store key: hash of what identifies the token
	grant         url.Values // token request form
	log           *slog.Logger
	now           func() time.Time
	store         Store
	locker        Locker // store's lock; nil if it has none
	limiter       *rate.Limiter
	fallbackEntry *entry

	cur       atomic.Pointer[entry]
	lifetime  atomic.Int64 // nanoseconds: the token lifetime eBay grants
	nextTry   atomic.Int64 // unix ns: no refresh before this after a failure
	bgRefresh atomic.Bool  // a background refresh is running
	storeUp   atomic.Bool
	sf        singleflight.Group

	mu          sync.Mutex // guards the fields below
	closed      bool
	failures    int // consecutive
	lastErr     error
	lastErrTime time.Time
	lastRefresh time.Time
	inFallback  bool
	rtExpiry    time.Time

	ctx    context.Context // detached context of refreshes; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mints, storeHits, refreshFailures, retries401, fallbackUses atomic.Int64
	validations, validationFailures, storeErrors                atomic.Int64
}

var (
	_ TokenSource = (*Manager)(nil)
	_ Refresher   = (*Manager)(nil)
)

// New returns a Manager for cfg. It does not contact eBay: the first token
// is minted by the first Token call (or by Run). It fails only on a config
// error.
func New(cfg Config) (*Manager, error) {
	c, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	m := &Manager{
		cfg:           c,
		key:           c.cacheKey(),
		grant:         c.grantValues(),
		log:           c.Logger,
		now:           c.Clock.Now,
		store:         c.Store,
		limiter:       newLimiter(),
		fallbackEntry: newFallbackEntry(c.FallbackToken),
	}
	if m.store == nil {
		m.store = NewMemoryStore()
	}
	m.locker, _ = m.store.(Locker)
	m.storeUp.Store(true)
	m.lifetime.Store(int64(2 * time.Hour))
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// Close stops the refreshes in flight and waits for them to end. Token and
// the other methods return ErrClosed (or the fallback) afterwards; a token
// already held keeps being served until it goes stale.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	return nil
}

// enter registers a goroutine working for the Manager; false once closed.
func (m *Manager) enter() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.wg.Add(1)
	return true
}

// spawn runs f in a goroutine Close waits for, unless the Manager is
// closed. f must return once m.ctx ends.
func (m *Manager) spawn(f func()) bool {
	if !m.enter() {
		return false
	}
	go func() {
		defer m.wg.Done()
		f()
	}()
	return true
}

// Key is the Store key of this Manager's token: a hash of the environment,
// client id, grant, scopes and refresh token. It holds no secret.
func (m *Manager) Key() string { return m.key }

// Token returns a valid token. A fresh token comes back at once with no lock
// taken; inside the refresh window the current token comes back at once and
// one background refresh starts; only when the token has expired, or is
// about to, does Token wait for a refresh, for no longer than ctx allows.
// When refreshing fails Token returns the still-valid token, else the
// fallback token, else an error matching ErrNoToken.
func (m *Manager) Token(ctx context.Context) (*Token, error) {
	e, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	return e.tok, nil
}

// Refresh implements Refresher: it returns a token other than rejected,
// refreshing only if rejected is still the current token. Many callers
// rejected with the same token share one refresh. If the refresh fails it
// returns the fallback token, unless that is the one rejected.
func (m *Manager) Refresh(ctx context.Context, rejected *Token) (*Token, error) {
	if rejected == nil {
		return m.Token(ctx)
	}
	for range 2 {
		if e := m.cur.Load(); e != nil && e.tok.AccessToken != rejected.AccessToken && e.tok.valid(m.now()) {
			return e.tok, nil
		}
		e, err := m.await(ctx, m.startRefresh(false, rejected.AccessToken))
		if err != nil {
			// No new token: the fallback, unless it is what was rejected.
			if fb := m.fallbackEntry; fb != nil && ctx.Err() == nil && !errors.Is(err, ErrClosed) &&
				fb.tok.AccessToken != rejected.AccessToken {
				m.useFallback(err)
				return fb.tok, nil
			}
			return nil, err
		}
		if e.tok.AccessToken != rejected.AccessToken {
			return e.tok, nil
		}
		// We joined a scheduled refresh that kept the rejected token: go again.
	}
	return nil, errors.New("ebayauth: no token other than the rejected one could be had")
}

// ForceRefresh mints a new token now, replacing the current one, and
// returns it. It waits for the mint, bounded by ctx; the mint goes on if ctx
// ends first. Unlike Token it reports a failure instead of falling back.
func (m *Manager) ForceRefresh(ctx context.Context) (*Token, error) {
	rejected := ""
	if e := m.cur.Load(); e != nil {
		rejected = e.tok.AccessToken
	}
	ch := m.startRefresh(true, rejected)
	e, err := m.await(ctx, ch)
	if err != nil {
		return nil, err
	}
	return e.tok, nil
}

// Client returns an *http.Client whose requests to eBay carry the token,
// over http.DefaultTransport.
func (m *Manager) Client() *http.Client {
	return &http.Client{Transport: m.Transport(nil)}
}

// Transport returns a Transport that authorizes requests to the allowed
// hosts with the Manager's token, over base (nil: http.DefaultTransport).
func (m *Manager) Transport(base http.RoundTripper) *Transport {
	return &Transport{Source: m, Base: base, AllowedHosts: m.cfg.AllowedHosts}
}

// SetRefreshTokenExpiry tells the Manager when its refresh token expires
// (Exchange reports it; eBay's token endpoint never repeats it) so Status
// can warn before it does.
func (m *Manager) SetRefreshTokenExpiry(t time.Time) {
	m.mu.Lock()
	m.rtExpiry = t
	m.mu.Unlock()
}

// storeOp runs a Store operation, tracking whether the store works: the
// first failure logs one warning and an event, the first success after
// failures logs the recovery. A failed store never fails a refresh.
func (m *Manager) storeOp(ctx context.Context, op string, f func(context.Context) error) {
	if err := f(ctx); err != nil {
		if ctx.Err() != nil {
			return
		}
		m.storeFailed(op, err)
		return
	}
	m.storeOK()
}

func (m *Manager) storeFailed(op string, err error) {
	m.storeErrors.Add(1)
	if m.storeUp.CompareAndSwap(true, false) {
		m.log.Warn("ebayauth: token store unavailable; minting without it until it is back",
			slog.String("op", op), slog.String("store", storeName(m.store)), slog.String("error", err.Error()))
		m.emit(Event{Kind: EventStoreUnavailable, Err: err})
	}
}

func (m *Manager) storeOK() {
	if m.storeUp.CompareAndSwap(false, true) {
		m.log.Info("ebayauth: token store available again", slog.String("store", storeName(m.store)))
		m.emit(Event{Kind: EventStoreRecovered})
	}
}

func storeName(s Store) string {
	if sn, ok := s.(interface{ String() string }); ok {
		return sn.String()
	}
	if _, ok := s.(*MemoryStore); ok {
		return "memory"
	}
	return "custom"
}

// Status reports the Manager's state. It never blocks on I/O.
func (m *Manager) Status() Status {
	now := m.now()
	m.mu.Lock()
	s := Status{
		Kind:               m.cfg.kind(),
		Environment:        m.cfg.Endpoint.environment(),
		ClientID:           MaskID(m.cfg.ClientID),
		Scopes:             append([]string(nil), m.cfg.Scopes...),
		FallbackConfigured: m.fallbackEntry != nil,
		LastRefresh:        m.lastRefresh,
		LastErrorTime:      m.lastErrTime,
		RefreshTokenExpiry: m.rtExpiry,
		Store:              storeName(m.store),
		StoreHealthy:       m.storeUp.Load(),
	}
	inFallback := m.inFallback
	if m.lastErr != nil {
		s.LastError = m.lastErr.Error()
	}
	if m.failures > 0 {
		s.NextAttempt = time.Unix(0, m.nextTry.Load())
	}
	m.mu.Unlock()
	s.RefreshTokenExpiring = !s.RefreshTokenExpiry.IsZero() && s.RefreshTokenExpiry.Sub(now) < RefreshTokenWarning
	s.Counters = Counters{
		Mints: m.mints.Load(), StoreHits: m.storeHits.Load(), RefreshFailures: m.refreshFailures.Load(),
		Retries401: m.retries401.Load(), FallbackUses: m.fallbackUses.Load(), Validations: m.validations.Load(),
		ValidationFailure: m.validationFailures.Load(), StoreErrors: m.storeErrors.Load(),
	}
	e := m.cur.Load()
	switch {
	case e != nil && e.tok.valid(now):
		s.State = StateFresh
		if !e.refreshAt.IsZero() && !now.Before(e.refreshAt) {
			s.State = StateStale
		}
		if !e.dueAt.IsZero() && !now.Before(e.dueAt) {
			s.State = StateExpired
		}
	case inFallback && m.fallbackEntry != nil:
		s.State = StateFallback
	case e != nil:
		s.State = StateExpired
	default:
		s.State = StateNone
	}
	if e != nil {
		s.TokenType, s.Fingerprint, s.Expiry, s.RefreshAt = e.tok.TokenType, e.tok.Fingerprint(), e.tok.Expiry, e.refreshAt
		s.ExpiresIn = int64(e.tok.Expiry.Sub(now) / time.Second)
	}
	s.Healthy = s.State == StateFresh || s.State == StateStale || s.State == StateFallback ||
		(s.State == StateExpired && e.tok.valid(now))
	return s
}

// Sync takes the Store's token if it is valid and expires later than the
// Manager's, without contacting eBay. A process that only reports on a token
// another process keeps fresh (ebaytoken status) calls it before Status.
func (m *Manager) Sync(ctx context.Context) error {
	tok, err := m.store.Load(ctx, m.key)
	switch {
	case errors.Is(err, ErrNotFound):
		m.storeOK()
		return nil
	case err != nil:
		m.storeFailed("load", err)
		return err
	}
	m.storeOK()
	if !tok.valid(m.now()) {
		return nil
	}
	cur := m.cur.Load()
	if cur != nil && !newerThan(tok, cur.tok) {
		return nil
	}
	m.cur.CompareAndSwap(cur, m.newEntry(tok, false))
	return nil
}

// RefreshIfDue refreshes the token if it is inside the refresh window (or
// there is none), waits for that refresh bounded by ctx, and returns the
// current token. Unlike Token it reports a failed refresh as an error
// instead of serving the old token or the fallback. It tells whether it
// refreshed.
func (m *Manager) RefreshIfDue(ctx context.Context) (tok *Token, refreshed bool, err error) {
	if err := m.Sync(ctx); err != nil && ctx.Err() != nil {
		return nil, false, err
	}
	if e := m.cur.Load(); e != nil && (e.refreshAt.IsZero() || m.now().Before(e.refreshAt)) {
		return e.tok, false, nil
	}
	e, err := m.await(ctx, m.startRefresh(false, ""))
	if err != nil {
		return nil, false, err
	}
	return e.tok, true, nil
}
