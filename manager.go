package ebayauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
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
// The Manager, by its Config.Clock, is the only judge of its token's state:
// what it reads from a Store it judges itself, and what it learns (a new
// token, a validation's verdict, a token eBay refused) it writes back, so
// that every process sharing the Store reports the same state.
//
// A Manager is safe for concurrent use. Call Close when done with it to
// stop refreshes in flight.
type Manager struct {
	cfg           Config
	key           string     // store key: hash of what identifies the token
	grant         url.Values // token request form
	now           func() time.Time
	store         Store
	locker        Locker // store's lock; nil if it has none
	limiter       *rate.Limiter
	fallbackEntry *entry
	policy        *tokenPolicy // where the token may go
	log           *slog.Logger

	cur        atomic.Pointer[entry]
	lifetime   atomic.Int64 // nanoseconds: the token lifetime eBay last granted
	nextTry    atomic.Int64 // unix ns: no refresh before this after a failure
	bgRefresh  atomic.Bool  // a background refresh is running
	storeUp    atomic.Bool
	storeProbe atomic.Int64 // unix ns (Manager's clock): next try of a store that is down
	sf         singleflight.Group

	mu          sync.Mutex // guards the fields below
	closed      bool
	failures    int // consecutive
	lastErr     error
	lastErrTime time.Time
	inFallback  bool
	rtExpiry    time.Time
	validated   time.Time // last validation of the current token, and its verdict
	validErr    string

	ctx    context.Context // detached context of refreshes; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mints, storeHits, refreshFailures, retries401, fallbackUses atomic.Int64
	validations, validationFailures, storeErrors                atomic.Int64
}

var (
	_ TokenSource = (*Manager)(nil)
	_ Refresher   = (*Manager)(nil)
	_ authorizer  = (*Manager)(nil)
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
		now:           c.Clock.Now,
		store:         c.Store,
		limiter:       newLimiter(),
		fallbackEntry: newFallbackEntry(c.FallbackToken),
		rtExpiry:      c.RefreshTokenExpiry,
	}
	m.log = c.Logger
	if m.policy, err = newTokenPolicy(c.AllowedHosts, c.AllowHTTPHosts); err != nil {
		return nil, fmt.Errorf("ebayauth: Config.%s", strings.TrimPrefix(err.Error(), "ebayauth: "))
	}
	if u, _ := url.Parse(c.ValidateURL); u != nil {
		if ok, err := m.policy.check(u); !ok {
			why := "its host is not in AllowedHosts"
			if err != nil {
				why = "it is plain http (allow the host in AllowHTTPHosts, or use https)"
			}
			return nil, fmt.Errorf("ebayauth: Config.ValidateURL %q would get the token, but %s", u.Redacted(), why)
		}
	}
	if m.store == nil {
		m.store = NewMemoryStore()
	}
	m.locker, _ = m.store.(Locker)
	m.storeUp.Store(true)
	m.lifetime.Store(int64(defaultLifetime))
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// defaultLifetime is the access-token lifetime assumed until eBay grants
// one: eBay's two hours.
const defaultLifetime = 2 * time.Hour

// Close stops the refreshes in flight and the writes to the Store that
// follow them, and waits for them to end. Token and the other methods
// return ErrClosed (or the fallback) afterwards; Run returns ErrClosed.
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

// Token returns a valid token. A fresh token comes back at once with no lock
// taken; inside the refresh window the current token comes back at once and
// one background refresh starts; only when the token has expired, is about
// to, or eBay refused it does Token wait for a refresh, for no longer than
// ctx allows. When refreshing fails Token returns the still-valid token,
// else the fallback token, else an error matching ErrNoToken.
func (m *Manager) Token(ctx context.Context) (*Token, error) {
	e, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	return e.tok, nil
}

// authorize implements authorizer: the Transport gets the header built
// once with the token, so that the hot path allocates nothing.
func (m *Manager) authorize(ctx context.Context) (*Token, string, error) {
	e, err := m.current(ctx)
	if err != nil {
		return nil, "", err
	}
	return e.tok, e.header, nil
}

// Refresh implements Refresher: it returns a token other than rejected,
// refreshing only if rejected is still the current token, which it marks as
// refused by eBay (in the Store too, so that no process serves it again).
// Many callers rejected with the same token share one refresh. If the
// refresh fails it returns the fallback token, unless that is the one
// rejected.
//
// A token minted less than a minute ago (a tenth of its lifetime, if that
// is less) is not replaced: an API that refuses a brand-new token refuses
// its successor too, and replacing it would only spend eBay's daily quota.
// Refresh then returns an error matching ErrTokenRefused.
func (m *Manager) Refresh(ctx context.Context, rejected *Token) (*Token, error) {
	if rejected == nil {
		return m.Token(ctx)
	}
	for range 2 {
		e := m.cur.Load()
		if e != nil && !e.rejected && e.tok.AccessToken != rejected.AccessToken && e.tok.valid(m.now()) {
			return e.tok, nil
		}
		if e != nil && e.tok.AccessToken == rejected.AccessToken {
			if err := m.reject(e, "a request got HTTP 401", false); err != nil {
				return nil, err
			}
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
	e, err := m.await(ctx, m.startRefresh(true, rejected))
	if err != nil {
		return nil, err
	}
	return e.tok, nil
}

// RefreshIfDue brings the token up to date the way `ebaytoken refresh`
// does: it loads the Store's record, refreshes if the token is inside its
// refresh window, expired, refused by eBay or missing, waits for that
// refresh bounded by ctx, and returns the current token. Unlike Token it
// reports a failed refresh as an error instead of serving the old token or
// the fallback. It tells whether it refreshed.
func (m *Manager) RefreshIfDue(ctx context.Context) (tok *Token, refreshed bool, err error) {
	if err := m.Sync(ctx); err != nil && ctx.Err() != nil {
		return nil, false, err
	}
	if e := m.cur.Load(); e != nil && !e.rejected && (e.refreshAt.IsZero() || m.now().Before(e.refreshAt)) {
		return e.tok, false, nil
	}
	e, err := m.await(ctx, m.startRefresh(false, ""))
	if err != nil {
		return nil, false, err
	}
	return e.tok, true, nil
}

// Client returns an *http.Client whose requests to eBay carry the token,
// over http.DefaultTransport.
func (m *Manager) Client() *http.Client {
	return &http.Client{Transport: m.Transport(nil)}
}

// Transport returns a Transport that authorizes requests to the allowed
// hosts with the Manager's token, over base (nil: http.DefaultTransport).
func (m *Manager) Transport(base http.RoundTripper) *Transport {
	return &Transport{Source: m, Base: base, AllowedHosts: m.cfg.AllowedHosts, AllowHTTPHosts: m.cfg.AllowHTTPHosts}
}

// retried401 implements authorizer: it counts a healed 401 and reports it.
func (m *Manager) retried401(_ context.Context, tok *Token) {
	m.retries401.Add(1)
	m.emit(Event{Kind: EventRetried401, Fingerprint: tok.Fingerprint()})
}
