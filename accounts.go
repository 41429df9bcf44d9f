package ebayauth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"
)

// Accounts keeps user tokens valid for many sellers: one Manager per seller,
// created on first use from the seller's Account in an AccountStore and
// evicted when the cache of Managers is full and the seller is the least
// recently used. Managers hold no goroutine or timer while idle, so sellers
// cost memory only while cached; their access tokens are shared through
// Config.Store across a fleet, exactly as one Manager's are.
//
// Requests through Client or Transport act for the account their context
// names (WithAccount). A seller whose refresh token eBay refused is marked
// NeedsConsent in the store, and Token answers ErrConsentRequired at once,
// without asking eBay, until Connect records a new consent. Other sellers
// are unaffected.
//
// Accounts is safe for concurrent use. Close it when done.
type Accounts struct {
	cfg    Config       // the app's keyset, normalized; no refresh token
	store  AccountStore // accounts
	tokens Store        // access-token records
	max    int
	log    *slog.Logger
	tr     *Transport

	managers sync.Map // id -> *cachedManager
	count    atomic.Int64
	tick     atomic.Int64 // LRU clock
	sf       singleflight.Group

	mu     sync.Mutex // guards closed and eviction
	closed bool
	wg     sync.WaitGroup // Managers being closed
}

// cachedManager is a seller's Manager, or the note that the seller must
// consent again.
type cachedManager struct {
	m       *Manager // nil if needsConsent was known when it was cached
	lastUse atomic.Int64
	consent atomic.Bool // eBay refused the refresh token
}

// defaultMaxManagers is how many sellers' Managers Accounts caches unless
// WithMaxManagers says otherwise.
const defaultMaxManagers = 10000

// An AccountsOption configures Accounts.
type AccountsOption func(*Accounts) error

// WithMaxManagers caps how many sellers' Managers are cached (default
// 10,000); the least recently used are evicted beyond it.
func WithMaxManagers(n int) AccountsOption {
	return func(a *Accounts) error {
		if n <= 0 {
			return fmt.Errorf("ebayauth: WithMaxManagers(%d): not positive", n)
		}
		a.max = n
		return nil
	}
}

// NewAccounts returns Accounts for the app keyset cfg (cfg.RefreshToken
// must be empty: each seller has their own), keeping accounts in store.
// cfg.Scopes are the scopes asked for at consent (ScopeIdentity is always
// added); access tokens go to cfg.Store, or to store itself if it is also
// a Store (MemoryStore, filestore, pgstore), or to a private MemoryStore.
func NewAccounts(cfg Config, store AccountStore, opts ...AccountsOption) (*Accounts, error) {
	if store == nil {
		return nil, errors.New("ebayauth: NewAccounts: nil AccountStore")
	}
	if cfg.RefreshToken != "" {
		return nil, errors.New("ebayauth: NewAccounts: Config.RefreshToken must be empty: each seller's comes from the AccountStore")
	}
	probe := cfg
	probe.RefreshToken = "x" // a user-token configuration: checked as a seller's will be
	c, err := probe.normalize()
	if err != nil {
		return nil, err
	}
	c.RefreshToken = ""
	a := &Accounts{cfg: c, store: store, tokens: c.Store, max: defaultMaxManagers, log: c.Logger}
	if a.tokens == nil {
		if s, ok := store.(Store); ok {
			a.tokens = s
		} else {
			a.tokens = NewMemoryStore()
		}
	}
	for _, o := range opts {
		if err := o(a); err != nil {
			return nil, err
		}
	}
	a.tr = &Transport{Source: accountsSource{a}, AllowedHosts: c.AllowedHosts, AllowHTTPHosts: c.AllowHTTPHosts}
	return a, nil
}

// consentScopes are the scopes a consent asks for: the configured ones and
// ScopeIdentity, which Connect needs to learn who consented.
func (a *Accounts) consentScopes() []string {
	scopes := slices.Clone(a.cfg.Scopes)
	if len(scopes) == 0 {
		scopes = []string{ScopeAPI}
	}
	if !slices.Contains(scopes, ScopeIdentity) {
		scopes = append(scopes, ScopeIdentity)
	}
	return scopes
}

// AuthCodeURL is the consent page URL for a seller, asking for the
// configured scopes and ScopeIdentity; see Config.AuthCodeURL.
func (a *Accounts) AuthCodeURL(state string) string {
	c := a.cfg
	c.Scopes = a.consentScopes()
	return c.AuthCodeURL(state)
}

// Manager returns the seller's Manager, creating it from the stored account
// on first use. It returns an error matching ErrNotFound for an unknown
// account and ErrConsentRequired for one that needs a new consent.
func (a *Accounts) Manager(ctx context.Context, id string) (*Manager, error) {
	if id == "" {
		return nil, errNoAccount
	}
	if v, ok := a.managers.Load(id); ok {
		cm := v.(*cachedManager)
		cm.lastUse.Store(a.tick.Add(1))
		if cm.consent.Load() {
			return nil, fmt.Errorf("%w (account %s)", ErrConsentRequired, id)
		}
		return cm.m, nil
	}
	v, err, _ := a.sf.Do(id, func() (any, error) { return a.create(ctx, id) })
	if err != nil {
		return nil, err
	}
	cm := v.(*cachedManager)
	if cm.consent.Load() {
		return nil, fmt.Errorf("%w (account %s)", ErrConsentRequired, id)
	}
	return cm.m, nil
}

// create reads the account and caches its Manager.
func (a *Accounts) create(ctx context.Context, id string) (*cachedManager, error) {
	if v, ok := a.managers.Load(id); ok {
		return v.(*cachedManager), nil
	}
	acct, err := a.store.LoadAccount(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("ebayauth: account %s: %w", id, err)
	}
	cm := &cachedManager{}
	cm.lastUse.Store(a.tick.Add(1))
	if acct.NeedsConsent {
		cm.consent.Store(true)
	} else {
		m, err := New(a.sellerConfig(acct, cm))
		if err != nil {
			return nil, fmt.Errorf("ebayauth: account %s: %w", id, err)
		}
		cm.m = m
		if st := m.Status(); st.RefreshTokenExpiring {
			m.log.Warn("ebayauth: the seller's refresh token expires within 30 days: ask them to consent again",
				slog.Time("refresh_token_expiry", st.RefreshTokenExpiry))
			m.emit(Event{Kind: EventRefreshTokenExpiring, Expiry: st.RefreshTokenExpiry})
		}
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		if cm.m != nil {
			cm.m.Close()
		}
		return nil, ErrClosed
	}
	a.managers.Store(id, cm)
	a.mu.Unlock()
	if a.count.Add(1) > int64(a.max) {
		a.evict()
	}
	return cm, nil
}

// sellerConfig is the Config of acct's Manager.
func (a *Accounts) sellerConfig(acct *Account, cm *cachedManager) Config {
	c := a.cfg
	c.RefreshToken = acct.RefreshToken
	c.RefreshTokenExpiry = acct.RefreshTokenExpiry
	c.Scopes = nil // every scope the seller consented to
	c.Store = a.tokens
	c.account = acct.ID
	c.Logger = a.log.With(slog.String("account", acct.ID))
	user := a.cfg.OnEvent
	id := acct.ID
	c.OnEvent = func(e Event) {
		if e.Kind == EventInvalidGrant && cm != nil {
			a.needsConsent(id, cm)
		}
		if user != nil {
			user(e)
		}
	}
	return c
}

// needsConsent records that eBay refused id's refresh token.
func (a *Accounts) needsConsent(id string, cm *cachedManager) {
	cm.consent.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.StoreTimeout)
	defer cancel()
	acct, err := a.store.LoadAccount(ctx, id)
	if err == nil && !acct.NeedsConsent {
		acct.NeedsConsent = true
		acct.Updated = a.cfg.Clock.Now()
		err = a.store.SaveAccount(ctx, acct)
	}
	if err != nil {
		a.log.Error("ebayauth: cannot record that the seller must consent again", slog.String("account", id), slog.String("error", err.Error()))
	}
}

// evict drops the least recently used tenth of the cache (at least down to
// the cap) and closes their Managers in the background.
func (a *Accounts) evict() {
	a.mu.Lock()
	defer a.mu.Unlock()
	type use struct {
		id string
		at int64
	}
	var all []use
	a.managers.Range(func(k, v any) bool {
		all = append(all, use{k.(string), v.(*cachedManager).lastUse.Load()})
		return true
	})
	n := len(all) - a.max + a.max/10
	if n <= 0 {
		return
	}
	slices.SortFunc(all, func(x, y use) int { return cmp.Compare(x.at, y.at) })
	for _, u := range all[:min(n, len(all))] {
		a.forgetLocked(u.id)
	}
}

// forget drops id's cached Manager, closing it in the background.
func (a *Accounts) forget(id string) {
	a.mu.Lock()
	a.forgetLocked(id)
	a.mu.Unlock()
}

func (a *Accounts) forgetLocked(id string) {
	v, ok := a.managers.LoadAndDelete(id)
	if !ok {
		return
	}
	a.count.Add(-1)
	if m := v.(*cachedManager).m; m != nil {
		a.wg.Go(func() { m.Close() })
	}
}

// Status reports the seller's state as the seller's Manager sees it after
// loading the shared record (Manager.Sync); for a seller who must consent
// again, State is StateNeedsConsent. It returns an error matching
// ErrNotFound for an unknown account.
func (a *Accounts) Status(ctx context.Context, id string) (Status, error) {
	m, err := a.Manager(ctx, id)
	switch {
	case errors.Is(err, ErrConsentRequired):
		st := Status{State: StateNeedsConsent, Kind: "user", Environment: a.cfg.Endpoint.environment(),
			ClientID: maskID(a.cfg.ClientID), Store: storeName(a.tokens), StoreHealthy: true}
		if acct, err := a.store.LoadAccount(ctx, id); err == nil {
			st.RefreshTokenExpiry = acct.RefreshTokenExpiry
			st.Scopes = acct.Scopes
		}
		return st, nil
	case err != nil:
		return Status{}, err
	}
	_ = m.Sync(ctx)
	return m.Status(), nil
}

// Token returns a valid access token for the seller id; see Manager.Token.
// An unknown account is an error matching ErrNotFound; one whose refresh
// token eBay refused, ErrConsentRequired (and ErrInvalidGrant).
func (a *Accounts) Token(ctx context.Context, id string) (*Token, error) {
	m, err := a.Manager(ctx, id)
	if err != nil {
		return nil, err
	}
	tok, err := m.Token(ctx)
	return tok, a.wrap(id, err)
}

// wrap makes a refused refresh token's error match ErrConsentRequired.
func (a *Accounts) wrap(id string, err error) error {
	if err != nil && errors.Is(err, ErrInvalidGrant) && !errors.Is(err, ErrConsentRequired) {
		return fmt.Errorf("%w (account %s): %w", ErrConsentRequired, id, err)
	}
	return err
}

// Client returns an *http.Client whose requests to eBay carry the token of
// the account their context names (WithAccount), over
// http.DefaultTransport. A request whose context names no account fails
// and nothing is sent.
func (a *Accounts) Client() *http.Client { return &http.Client{Transport: a.tr} }

// Transport returns a RoundTripper like Client's, over base (nil:
// http.DefaultTransport).
func (a *Accounts) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		return a.tr
	}
	return &Transport{Source: accountsSource{a}, Base: base, AllowedHosts: a.cfg.AllowedHosts, AllowHTTPHosts: a.cfg.AllowHTTPHosts}
}

// Remove deletes the seller's account, its cached access tokens (in the
// token store too, if it is not the account store) and its Manager: what
// eBay's account-deletion notice asks for. Removing an unknown account is
// not an error.
func (a *Accounts) Remove(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("ebayauth: Accounts.Remove: empty account id")
	}
	acct, err := a.store.LoadAccount(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return fmt.Errorf("ebayauth: account %s: %w", id, err)
	default:
		c, err := a.sellerConfig(acct, nil).normalize()
		if err == nil {
			if err := a.tokens.Delete(ctx, c.cacheKey()); err != nil {
				return fmt.Errorf("ebayauth: account %s: deleting its tokens: %w", id, err)
			}
		}
	}
	if err := a.store.DeleteAccount(ctx, id); err != nil {
		return fmt.Errorf("ebayauth: account %s: %w", id, err)
	}
	a.forget(id)
	return nil
}

// Connect records a seller's consent: it trades code (or the whole accept
// URL eBay redirected the seller to) for a refresh token, asks eBay's
// Identity API who the seller is, and saves the account under eBay's user
// id. A seller already stored gets the new refresh token, NeedsConsent
// cleared and Created kept.
func (a *Accounts) Connect(ctx context.Context, code string) (*Account, error) {
	c := a.cfg
	c.Scopes = a.consentScopes()
	tok, err := c.Exchange(ctx, code)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		return nil, errors.New("ebayauth: Connect: eBay answered the exchange without a refresh token")
	}
	user, err := a.identity(ctx, tok)
	if err != nil {
		return nil, err
	}
	now := a.cfg.Clock.Now()
	acct, err := a.store.LoadAccount(ctx, user.UserID)
	switch {
	case errors.Is(err, ErrNotFound):
		acct = &Account{ID: user.UserID, Created: now}
	case err != nil:
		return nil, fmt.Errorf("ebayauth: Connect: account %s: %w", user.UserID, err)
	}
	acct.Username = user.Username
	acct.Marketplace = user.Marketplace
	acct.RefreshToken = tok.RefreshToken
	acct.RefreshTokenExpiry = tok.RefreshTokenExpiry
	acct.Scopes = c.Scopes
	acct.NeedsConsent = false
	acct.Updated = now
	if err := a.store.SaveAccount(ctx, acct); err != nil {
		return nil, fmt.Errorf("ebayauth: Connect: saving account %s: %w", acct.ID, err)
	}
	a.forget(acct.ID) // its Manager had the old refresh token
	return acct.clone(), nil
}

// identityUser is the Identity API's getUser answer, as far as Connect
// reads it.
type identityUser struct {
	UserID      string `json:"userId"`
	Username    string `json:"username"`
	Marketplace string `json:"registrationMarketplaceId"`
}

// identity asks eBay's Identity API who tok's seller is.
func (a *Accounts) identity(ctx context.Context, tok *Token) (*identityUser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.cfg.Endpoint.apiz()+"/commerce/identity/v1/user/", nil)
	if err != nil {
		return nil, fmt.Errorf("ebayauth: Connect: %w", err)
	}
	p, err := newTokenPolicy(a.cfg.AllowedHosts, a.cfg.AllowHTTPHosts)
	if err != nil {
		return nil, err
	}
	if ok, err := p.check(req.URL); !ok {
		if err == nil {
			err = errors.New("ebayauth: Connect: the Identity API's host is not in AllowedHosts")
		}
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := probeClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ebayauth: Connect: Identity API: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("ebayauth: Connect: Identity API: %w", parseAPIError(resp.StatusCode, body))
	}
	var u identityUser
	if err := json.Unmarshal(body, &u); err != nil || u.UserID == "" {
		return nil, errors.New("ebayauth: Connect: the Identity API's answer has no userId")
	}
	return &u, nil
}

// Close closes every cached Manager and waits for them.
func (a *Accounts) Close() error {
	a.mu.Lock()
	a.closed = true
	a.managers.Range(func(k, _ any) bool {
		a.forgetLocked(k.(string))
		return true
	})
	a.mu.Unlock()
	a.wg.Wait()
	return nil
}

// accountsSource is the TokenSource of Accounts' Transport: the Manager of
// the account the request's context names.
type accountsSource struct{ a *Accounts }

var (
	_ authorizer = accountsSource{}
	_ Refresher  = accountsSource{}
)

func (s accountsSource) Token(ctx context.Context) (*Token, error) {
	return s.a.Token(ctx, accountFrom(ctx))
}

func (s accountsSource) authorize(ctx context.Context) (*Token, string, error) {
	id := accountFrom(ctx)
	m, err := s.a.Manager(ctx, id)
	if err != nil {
		return nil, "", err
	}
	tok, header, err := m.authorize(ctx)
	return tok, header, s.a.wrap(id, err)
}

func (s accountsSource) Refresh(ctx context.Context, rejected *Token) (*Token, error) {
	id := accountFrom(ctx)
	m, err := s.a.Manager(ctx, id)
	if err != nil {
		return nil, err
	}
	tok, err := m.Refresh(ctx, rejected)
	return tok, s.a.wrap(id, err)
}

func (s accountsSource) retried401(ctx context.Context, tok *Token) {
	if m, err := s.a.Manager(ctx, accountFrom(ctx)); err == nil {
		m.retried401(ctx, tok)
	}
}
