package ebayauth_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

func TestColdCacheStormMintsOnce(t *testing.T) {
	f := newFixture(t, nil)
	const n = 1000
	var wg sync.WaitGroup
	tokens := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			tok, err := f.m.Token(context.Background())
			errs[i] = err
			if tok != nil {
				tokens[i] = tok.AccessToken
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || tokens[i] != tokens[0] {
			t.Fatalf("caller %d: token %.12q, err %v; want the one token %.12q", i, tokens[i], errs[i], tokens[0])
		}
	}
	if got := f.srv.TotalTokenRequests(); got != 1 {
		t.Errorf("token requests = %d; want 1", got)
	}
	// Expire it: 1,000 more callers, one more mint.
	f.clock.Advance(2 * time.Hour)
	for range n {
		wg.Go(func() {
			if _, err := f.m.Token(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := f.srv.TotalTokenRequests(); got != 2 {
		t.Errorf("token requests after expiry = %d; want 2", got)
	}
}

func TestStaleTokenServedWithoutWaiting(t *testing.T) {
	g := newGate()
	f := newFixture(t, func(c *ebayauth.Config) { c.HTTPClient = &http.Client{Transport: g} })
	close(g.release) // let the first mint through
	first := f.token(t)
	<-g.arrived
	f.waitEvent(t, ebayauth.EventRefreshed)

	g.release = make(chan struct{})
	// 61 minutes before expiry: inside the 1 h window (even with 10 % jitter
	// the window starts at most 66 minutes before), far from the due point.
	f.clock.Set(first.Expiry.Add(-59 * time.Minute))
	if st := f.m.Status().State; st != ebayauth.StateStale {
		t.Fatalf("state = %s; want stale", st)
	}
	got := f.token(t) // must not wait for the held refresh
	if got.AccessToken != first.AccessToken {
		t.Fatal("stale call returned a different token")
	}
	<-g.arrived // the background refresh is at the token endpoint, held
	for range 50 {
		if tok := f.token(t); tok.AccessToken != first.AccessToken {
			t.Fatal("token changed while the refresh was held")
		}
	}
	close(g.release)
	e := f.waitEvent(t, ebayauth.EventRefreshed)
	if e.Fingerprint == first.Fingerprint() {
		t.Fatal("refresh reported the old token")
	}
	if got := f.token(t); got.AccessToken == first.AccessToken {
		t.Error("new token not served after the refresh")
	}
	if got := f.srv.TotalTokenRequests(); got != 2 {
		t.Errorf("token requests = %d; want 2 (one background refresh for 51 stale calls)", got)
	}
}

func TestCallerContextBoundsOnlyItsOwnWait(t *testing.T) {
	g := newGate()
	f := newFixture(t, func(c *ebayauth.Config) { c.HTTPClient = &http.Client{Transport: g} })
	ctx, cancel := context.WithCancel(context.Background())
	impatient := make(chan error, 1)
	go func() {
		_, err := f.m.Token(ctx)
		impatient <- err
	}()
	<-g.arrived
	patient := make(chan *ebayauth.Token, 1)
	go func() {
		tok, err := f.m.Token(context.Background())
		if err != nil {
			t.Error(err)
		}
		patient <- tok
	}()
	cancel()
	if err := <-impatient; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: err = %v; want context.Canceled", err)
	}
	close(g.release)
	if tok := <-patient; tok == nil || !f.srv.ValidToken(tok.AccessToken) {
		t.Error("the other caller got no valid token after the first gave up")
	}
	if got := f.srv.TotalTokenRequests(); got != 1 {
		t.Errorf("token requests = %d; want 1", got)
	}
}

func TestInvalidGrant(t *testing.T) {
	f := newFixture(t, func(c *ebayauth.Config) {
		c.RefreshToken = "v^1.1#i^1#p^3#r^1#I^3#f^0#t^revoked+/="
		c.RetryMax = 0 // the default retrying client: it must not retry a 400
	})
	_, err := f.m.Token(context.Background())
	if !errors.Is(err, ebayauth.ErrInvalidGrant) || !errors.Is(err, ebayauth.ErrNoToken) {
		t.Fatalf("err = %v; want ErrInvalidGrant and ErrNoToken", err)
	}
	var re *ebayauth.RetrieveError
	if !errors.As(err, &re) || re.StatusCode != 400 || re.Temporary() {
		t.Errorf("RetrieveError = %+v; want permanent HTTP 400", re)
	}
	// Asking again inside the backoff does not go back to eBay.
	for range 10 {
		if _, err := f.m.Token(context.Background()); !errors.Is(err, ebayauth.ErrInvalidGrant) {
			t.Fatalf("repeat: err = %v", err)
		}
	}
	if got := f.srv.TokenRequests(ebaytest.GrantRefreshToken); got != 1 {
		t.Errorf("token requests = %d; want 1", got)
	}
	f.waitEvent(t, ebayauth.EventInvalidGrant)
	if s := f.m.Status(); s.Healthy || s.State != ebayauth.StateNone || !strings.Contains(s.LastError, "invalid_grant") {
		t.Errorf("status = %+v; want unhealthy, none, last error invalid_grant", s)
	}
}

func TestUserTokenFromRefreshToken(t *testing.T) {
	f := newFixture(t, nil)
	rt := f.srv.IssueRefreshToken(ebayauth.ScopeAPI)
	f = newFixtureOn(t, f, func(c *ebayauth.Config) { c.RefreshToken = rt })
	tok := f.token(t)
	if tok.TokenType != "User Access Token" || tok.RefreshToken != "" {
		t.Errorf("token = %v (refresh token %q); want a user token and no refresh token", tok, tok.RefreshToken)
	}
	if got := f.srv.Mints(ebaytest.GrantRefreshToken); got != 1 {
		t.Errorf("refresh_token mints = %d; want 1", got)
	}
	if s := f.m.Status(); s.Kind != "user" {
		t.Errorf("kind = %q; want user", s.Kind)
	}
}

// newFixtureOn makes a second Manager on f's server and clock.
func newFixtureOn(t *testing.T, f *fixture, edit func(*ebayauth.Config)) *fixture {
	t.Helper()
	g := *f
	cfg := ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret, Endpoint: f.srv.Endpoint(),
		Clock: f.clock, RetryMax: -1, Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := ebayauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	g.m = m
	return &g
}

func TestIdentityOutageThroughStaleWindowThenFallback(t *testing.T) {
	f := newFixture(t, nil)
	// A long-lived token the fake accepts, as a pasted user token would be.
	f.srv.SetTokenLifetime(48 * time.Hour)
	fbTok := mintDirect(t, f.srv)
	f.srv.SetTokenLifetime(0)
	f = newFixtureOn(t, f, func(c *ebayauth.Config) { c.FallbackToken = fbTok })
	client := f.m.Client()

	first := f.token(t)
	f.srv.FailNext(-1, http.StatusServiceUnavailable, `{"errors":[{"errorId":1004,"message":"Internal error"}]}`)
	// Walk through the stale window in steps, with traffic at each.
	failed := 0
	for at := first.Expiry.Add(-70 * time.Minute); at.Before(first.Expiry); at = at.Add(30 * time.Second) {
		f.clock.Set(at)
		if code := search(t, client, f.srv.URL); code != http.StatusOK {
			failed++
		}
	}
	if failed != 0 {
		t.Errorf("%d requests failed while the token was still valid", failed)
	}
	if f.srv.TotalTokenRequests() < 3 {
		t.Errorf("token requests = %d; want the Manager to keep trying", f.srv.TotalTokenRequests())
	}
	if got := f.m.Status().Counters.Mints; got != 1 {
		t.Errorf("Manager mints = %d; want 1", got)
	}
	// Past expiry the fallback takes over.
	f.clock.Set(first.Expiry.Add(time.Second))
	f.clock.Advance(2 * time.Minute) // past any backoff
	if code := search(t, client, f.srv.URL); code != http.StatusOK {
		t.Fatalf("after expiry: status %d; want 200 with the fallback", code)
	}
	s := f.m.Status()
	if s.State != ebayauth.StateFallback || !s.Healthy || s.Counters.FallbackUses == 0 {
		t.Errorf("status = %s healthy=%v fallback uses=%d; want fallback, healthy, >0", s.State, s.Healthy, s.Counters.FallbackUses)
	}
	auth := f.srv.AuthHeaders()
	if last := auth[len(auth)-1]; last != "Bearer "+fbTok {
		t.Errorf("last Authorization = %.20q…; want the fallback token", last)
	}
	// eBay comes back: the Manager mints again and leaves the fallback.
	f.srv.ClearFailures()
	f.clock.Advance(time.Hour)
	if tok := f.token(t); tok.AccessToken == fbTok || !f.srv.ValidToken(tok.AccessToken) {
		t.Error("did not return to a minted token after the outage")
	}
	if s := f.m.Status(); s.State != ebayauth.StateFresh {
		t.Errorf("state after recovery = %s; want fresh", s.State)
	}
}

// mintDirect mints an application token from the fake without a Manager.
func mintDirect(t *testing.T, srv *ebaytest.Server) string {
	t.Helper()
	m, err := ebayauth.New(ebayauth.Config{ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		Endpoint: srv.Endpoint(), RetryMax: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok, err := m.ForceRefresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func TestNoTokenNoFallback(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.FailNext(-1, http.StatusServiceUnavailable, "<html>down</html>")
	_, err := f.m.Token(context.Background())
	var re *ebayauth.RetrieveError
	if !errors.Is(err, ebayauth.ErrNoToken) || !errors.As(err, &re) || re.StatusCode != 503 || !re.Temporary() {
		t.Fatalf("err = %v; want ErrNoToken wrapping a temporary 503 RetrieveError", err)
	}
	resp, err := f.m.Client().Get(f.srv.URL + "/buy/browse/v1/item/v1|1|0")
	if err == nil {
		resp.Body.Close()
		t.Fatal("request went out without a token")
	}
	if !errors.Is(err, ebayauth.ErrNoToken) {
		t.Errorf("client err = %v; want ErrNoToken", err)
	}
	if f.srv.APIRequests() != 0 {
		t.Errorf("API requests = %d; want 0", f.srv.APIRequests())
	}
}

func TestForceRefreshReplacesToken(t *testing.T) {
	f := newFixture(t, nil)
	a := f.token(t)
	b, err := f.m.ForceRefresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessToken == b.AccessToken || f.token(t).AccessToken != b.AccessToken {
		t.Error("ForceRefresh did not replace the token")
	}
	if got := f.srv.Mints(ebaytest.GrantClientCredentials); got != 2 {
		t.Errorf("mints = %d; want 2", got)
	}
}

func TestManagersSharingAStoreMintOnce(t *testing.T) {
	store := ebayauth.NewMemoryStore()
	f := newFixture(t, func(c *ebayauth.Config) { c.Store = store })
	g := newFixtureOn(t, f, func(c *ebayauth.Config) { c.Store = store })
	other := newFixtureOn(t, f, func(c *ebayauth.Config) { c.Store = store; c.Scopes = []string{ebayauth.ScopeAPI + "/sell.inventory"} })
	a, b := f.token(t), g.token(t)
	if a.AccessToken != b.AccessToken {
		t.Error("second Manager did not take the stored token")
	}
	if c := other.token(t); c.AccessToken == a.AccessToken {
		t.Error("a Manager with other scopes got the same token: cache key ignores scopes")
	}
	if got := f.srv.Mints(ebaytest.GrantClientCredentials); got != 2 {
		t.Errorf("mints = %d; want 2 (one per scope set)", got)
	}
	if g.m.Status().Counters.StoreHits != 1 {
		t.Errorf("store hits = %d; want 1", g.m.Status().Counters.StoreHits)
	}
	// Rotation: both stale at once, one mint between them.
	f.clock.Set(a.Expiry.Add(-30 * time.Second))
	var wg sync.WaitGroup
	for _, x := range []*fixture{f, g} {
		wg.Go(func() {
			if _, err := x.m.Token(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := f.srv.Mints(ebaytest.GrantClientCredentials); got != 3 {
		t.Errorf("mints after rotation = %d; want 3", got)
	}
}

func TestRunRefreshesWithoutTraffic(t *testing.T) {
	f := newFixture(t, func(c *ebayauth.Config) { c.ValidateEvery = 20 * time.Minute })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.m.Run(ctx) }()
	first := f.waitEvent(t, ebayauth.EventRefreshed)
	waitWaiters(t, f.clock)
	f.clock.Advance(20 * time.Minute)
	f.waitEvent(t, ebayauth.EventValidated)
	// Move to the refresh point: Run refreshes with nobody asking.
	waitWaiters(t, f.clock)
	f.clock.Set(first.Expiry.Add(-59 * time.Minute))
	if e := f.waitEvent(t, ebayauth.EventRefreshed); e.Fingerprint == first.Fingerprint {
		t.Error("Run refreshed to the same token")
	}
	// A revoked token found by validation is replaced.
	f.srv.RevokeAll()
	waitWaiters(t, f.clock)
	f.clock.Advance(20 * time.Minute)
	f.waitEvent(t, ebayauth.EventValidationFailed)
	f.waitEvent(t, ebayauth.EventRefreshed)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v; want nil on cancel", err)
	}
	if tok := f.token(t); !f.srv.ValidToken(tok.AccessToken) {
		t.Error("token after Run is not valid")
	}
}

// waitWaiters waits until something is parked on the clock.
func waitWaiters(t *testing.T, c *ebaytest.Clock) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.BlockUntil(ctx, 1); err != nil {
		t.Fatal("nothing waits on the clock")
	}
}

func TestValidate(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.m.Validate(context.Background()); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	f.srv.RevokeAll()
	err := f.m.Validate(context.Background())
	var ae *ebayauth.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || len(ae.Errors) == 0 || ae.Errors[0].ErrorID != 1001 || !ae.IsInvalidToken() {
		t.Fatalf("Validate after revocation = %v; want 401 errorId 1001", err)
	}
	s := f.m.Status()
	if s.Counters.Validations != 1 || s.Counters.ValidationFailures != 1 {
		t.Errorf("counters = %+v", s.Counters)
	}
}

func TestConfigErrors(t *testing.T) {
	ok := ebayauth.Config{ClientID: "id", ClientSecret: "secret"}
	tests := []struct {
		name string
		edit func(*ebayauth.Config)
		want string
	}{
		{"no client id", func(c *ebayauth.Config) { c.ClientID = "" }, "ClientID"},
		{"no secret", func(c *ebayauth.Config) { c.ClientSecret = "" }, "ClientSecret"},
		{"negative buffer", func(c *ebayauth.Config) { c.RefreshBefore = -time.Second }, "RefreshBefore"},
		{"bad token URL", func(c *ebayauth.Config) { c.Endpoint = ebayauth.Endpoint{TokenURL: "ftp://x", APIURL: "https://a"} }, "TokenURL"},
		{"relative API URL", func(c *ebayauth.Config) { c.Endpoint = ebayauth.Endpoint{TokenURL: "https://x/t", APIURL: "/api"} }, "APIURL"},
		{"scope with space", func(c *ebayauth.Config) { c.Scopes = []string{"a b"} }, "Scopes"},
		{"bad host", func(c *ebayauth.Config) { c.AllowedHosts = []string{"https://api.ebay.com/"} }, "AllowedHosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			_, err := ebayauth.New(c)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "ebayauth: ") {
				t.Errorf("New: err = %v; want an ebayauth: error naming %s", err, tt.want)
			}
		})
	}
}

func TestExchangeAndConsentURL(t *testing.T) {
	srv := ebaytest.NewServer()
	t.Cleanup(srv.Close)
	cfg := ebayauth.Config{ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret, Endpoint: srv.Endpoint(),
		RuName: ebaytest.RuName, Scopes: []string{ebayauth.ScopeAPI, ebayauth.ScopeAPI + "/sell.inventory"}, RetryMax: -1,
		Logger: slog.New(slog.DiscardHandler)}
	u := cfg.AuthCodeURL("st8")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.Contains(loc, "state=st8") {
		t.Fatalf("consent: %d %q; want a 302 carrying the state", resp.StatusCode, loc)
	}
	tok, err := cfg.Exchange(context.Background(), loc) // the whole redirect URL
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || time.Until(tok.RefreshTokenExpiry) < 500*24*time.Hour || !srv.ValidToken(tok.AccessToken) {
		t.Errorf("exchange gave %v, refresh expiry %v", tok, tok.RefreshTokenExpiry)
	}
	// The code is single use.
	if _, err := cfg.Exchange(context.Background(), loc); !errors.Is(err, ebayauth.ErrInvalidGrant) {
		t.Errorf("reused code: err = %v; want ErrInvalidGrant", err)
	}
	// The refresh token it gave works for a Manager.
	cfg.RefreshToken = tok.RefreshToken
	cfg.RefreshTokenExpiry = tok.RefreshTokenExpiry
	m, err := ebayauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := m.Status(); s.RefreshTokenExpiry.IsZero() || s.RefreshTokenExpiring {
		t.Errorf("status refresh expiry = %v expiring=%v", s.RefreshTokenExpiry, s.RefreshTokenExpiring)
	}
}

func TestTokenNeverPrintsSecret(t *testing.T) {
	tok := &ebayauth.Token{AccessToken: "v^1.1#secret-access", RefreshToken: "v^1.1#secret-refresh", TokenType: "User Access Token"}
	for _, s := range []string{tok.String(), tok.GoString(), fmtAll(tok)} {
		if found := secretsIn(s, tok.AccessToken, tok.RefreshToken); len(found) > 0 {
			t.Errorf("%q shows %q", s, found)
		}
	}
}

func TestSyncAndRefreshIfDue(t *testing.T) {
	store := newSavedStore()
	f := newFixture(t, func(c *ebayauth.Config) { c.Store = store })
	reader := newFixtureOn(t, f, func(c *ebayauth.Config) { c.Store = store })

	tok, refreshed, err := f.m.RefreshIfDue(context.Background())
	if err != nil || !refreshed {
		t.Fatalf("first RefreshIfDue = %v, %v; want a refresh", refreshed, err)
	}
	if _, refreshed, _ := f.m.RefreshIfDue(context.Background()); refreshed {
		t.Error("RefreshIfDue refreshed a fresh token")
	}
	// Another process's view: Sync takes the stored token without minting.
	if s := reader.m.Status(); s.State != ebayauth.StateNone {
		t.Fatalf("reader state before Sync = %s", s.State)
	}
	syncUntil(t, reader.m, store, tok)
	if s := reader.m.Status(); s.State != ebayauth.StateFresh || s.Fingerprint != tok.Fingerprint() {
		t.Errorf("reader after Sync: %s %s; want fresh %s", s.State, s.Fingerprint, tok.Fingerprint())
	}
	if got := f.srv.TotalTokenRequests(); got != 1 {
		t.Errorf("token requests = %d; want 1", got)
	}
	// Inside the window RefreshIfDue mints and waits for it; a failure is an error.
	f.clock.Set(tok.Expiry.Add(-59 * time.Minute))
	f.srv.FailNext(1, http.StatusBadGateway, "")
	if _, _, err := f.m.RefreshIfDue(context.Background()); err == nil {
		t.Error("RefreshIfDue hid a failed refresh")
	}
	f.clock.Advance(2 * time.Minute) // past the backoff
	if tok2, refreshed, err := f.m.RefreshIfDue(context.Background()); err != nil || !refreshed || tok2.AccessToken == tok.AccessToken {
		t.Errorf("RefreshIfDue in the window = %v, %v; want a new token", refreshed, err)
	}
}

// TestJitteredRefreshMints: past its jittered refresh point a Manager mints,
// even though by the unjittered window its stored token is still fresh (it
// used to find its own token in the store and give up on every request).
func TestJitteredRefreshMints(t *testing.T) {
	f := newFixture(t, nil)
	first := f.token(t)
	f.waitEvent(t, ebayauth.EventRefreshed)
	// Just inside the jittered window's far end: one hour and a bit before expiry.
	at := f.m.Status().RefreshAt
	if !at.Before(first.Expiry.Add(-time.Hour)) { // the jitter is drawn from 6 minutes in nanoseconds
		t.Fatalf("refresh point %v before expiry; want the jitter to put it earlier than 1 h", first.Expiry.Sub(at))
	}
	f.clock.Set(at)
	f.token(t) // stale: starts the background refresh
	if e := f.waitEvent(t, ebayauth.EventRefreshed); e.Fingerprint == first.Fingerprint() {
		t.Fatal("refreshed to the same token")
	}
	if got := f.srv.Mints(ebaytest.GrantClientCredentials); got != 2 {
		t.Errorf("mints = %d; want 2", got)
	}
}
