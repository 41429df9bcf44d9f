package ebayauth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// sellers is a fake eBay with sellers and Accounts over a store.
type sellers struct {
	srv    *ebaytest.Server
	clock  *ebaytest.Clock
	store  *savedStore
	a      *ebayauth.Accounts
	events chan ebayauth.Event
}

func newSellers(t *testing.T, opts ...ebayauth.AccountsOption) *sellers {
	t.Helper()
	s := &sellers{srv: ebaytest.NewServer(), clock: ebaytest.NewClock(start), store: newSavedStore(),
		events: make(chan ebayauth.Event, 1000)}
	t.Cleanup(s.srv.Close)
	s.srv.SetNow(s.clock.Now)
	s.a = s.accounts(t, s.store, opts...)
	return s
}

// accounts returns another Accounts over store, as another replica would
// have.
func (s *sellers) accounts(t *testing.T, store *savedStore, opts ...ebayauth.AccountsOption) *ebayauth.Accounts {
	t.Helper()
	a, err := ebayauth.NewAccounts(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret, RuName: ebaytest.RuName,
		Endpoint: s.srv.Endpoint(), Clock: s.clock, RetryMax: -1, Logger: slog.New(slog.DiscardHandler),
		Scopes: []string{ebayauth.ScopeAPI, ebayauth.ScopeAPI + "/sell.inventory"},
		OnEvent: func(e ebayauth.Event) {
			select {
			case s.events <- e:
			default:
			}
		},
	}, store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// connect adds seller id to the fake and connects them.
func (s *sellers) connect(t *testing.T, id, username, marketplace string) *ebayauth.Account {
	t.Helper()
	if _, ok := s.srv.User(id); !ok {
		s.srv.AddUser(ebaytest.User{ID: id, Username: username, Marketplace: marketplace})
	}
	code := s.srv.IssueCodeFor(id, ebayauth.ScopeAPI, ebayauth.ScopeAPI+"/sell.inventory", ebayauth.ScopeIdentity)
	acct, err := s.a.Connect(context.Background(), code)
	if err != nil {
		t.Fatalf("Connect(%s): %v", id, err)
	}
	return acct
}

func TestAccountsConnect(t *testing.T) {
	s := newSellers(t)
	acct := s.connect(t, "u-alice", "alice", "EBAY_GB")
	if acct.ID != "u-alice" || acct.Username != "alice" || acct.Marketplace != "EBAY_GB" || acct.RefreshToken == "" ||
		acct.RefreshTokenExpiry.IsZero() || acct.NeedsConsent || acct.Created.IsZero() {
		t.Fatalf("Connect = %+v; want alice's account from eBay's Identity API", *acct)
	}
	stored, err := s.store.LoadAccount(context.Background(), "u-alice")
	if err != nil || stored.RefreshToken != acct.RefreshToken {
		t.Fatalf("stored account: %v, %v", stored, err)
	}
	// Consent again, after a rename: same account, new refresh token,
	// Created kept.
	s.clock.Advance(time.Hour)
	s.srv.RenameUser("u-alice", "alice_2")
	again := s.connect(t, "u-alice", "", "")
	if again.RefreshToken == acct.RefreshToken || again.Username != "alice_2" || !again.Created.Equal(acct.Created) || !again.Updated.After(acct.Updated) {
		t.Errorf("re-consent = %+v; want a new refresh token, the new name, Created kept", *again)
	}
	// The consent URL asks for the identity scope.
	if u := s.a.AuthCodeURL("st"); !containsAll(u, "commerce.identity.readonly", "state=st") {
		t.Errorf("AuthCodeURL = %s; want the identity scope and the state", u)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestAccountsClientActsForTheContextsSeller(t *testing.T) {
	s := newSellers(t)
	s.connect(t, "u-alice", "alice", "EBAY_US")
	s.connect(t, "u-bob", "bob", "EBAY_DE")
	c := s.a.Client()
	get := func(ctx context.Context) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL+"/commerce/identity/v1/user/", nil)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for _, id := range []string{"u-alice", "u-bob"} {
		if code, err := get(ebayauth.WithAccount(context.Background(), id)); err != nil || code != http.StatusOK {
			t.Errorf("request for %s: %d, %v", id, code, err)
		}
	}
	// The Identity API answered for the seller each token belongs to.
	tokA, _ := s.a.Token(context.Background(), "u-alice")
	tokB, _ := s.a.Token(context.Background(), "u-bob")
	if tokA.AccessToken == tokB.AccessToken {
		t.Error("two sellers share one token")
	}
	before := s.srv.APIRequests()
	if _, err := get(context.Background()); err == nil {
		t.Error("a request naming no account went through")
	}
	if _, err := get(ebayauth.WithAccount(context.Background(), "u-nobody")); !errors.Is(err, ebayauth.ErrNotFound) {
		t.Errorf("request for an unknown account: %v; want ErrNotFound", err)
	}
	if got := s.srv.APIRequests(); got != before {
		t.Errorf("%d requests reached eBay without a seller; want none", got-before)
	}
}

func TestAccountsRevokedSellerNeedsConsent(t *testing.T) {
	s := newSellers(t)
	s.connect(t, "u-alice", "alice", "EBAY_US")
	s.connect(t, "u-bob", "bob", "EBAY_US")
	ctx := context.Background()
	for _, id := range []string{"u-alice", "u-bob"} {
		if _, err := s.a.Token(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	s.srv.RevokeUser("u-alice") // alice changed her password
	s.clock.Advance(2 * time.Hour)
	_, err := s.a.Token(ctx, "u-alice")
	if !errors.Is(err, ebayauth.ErrConsentRequired) || !errors.Is(err, ebayauth.ErrInvalidGrant) {
		t.Fatalf("Token for the revoked seller: %v; want ErrConsentRequired and ErrInvalidGrant", err)
	}
	var ev ebayauth.Event
	for ev.Kind != ebayauth.EventInvalidGrant {
		select {
		case ev = <-s.events:
		default:
			t.Fatal("no invalid_grant event")
		}
	}
	if ev.Account != "u-alice" {
		t.Errorf("invalid_grant event for account %q; want u-alice", ev.Account)
	}
	if acct, err := s.store.LoadAccount(ctx, "u-alice"); err != nil || !acct.NeedsConsent {
		t.Errorf("stored account after invalid_grant: %v, %v; want NeedsConsent", acct, err)
	}
	reqs := s.srv.TokenRequests(ebaytest.GrantRefreshToken)
	for range 5 {
		if _, err := s.a.Token(ctx, "u-alice"); !errors.Is(err, ebayauth.ErrConsentRequired) {
			t.Errorf("Token again: %v; want ErrConsentRequired", err)
		}
	}
	// Another replica reading the account knows too.
	other := s.accounts(t, s.store)
	if _, err := other.Token(ctx, "u-alice"); !errors.Is(err, ebayauth.ErrConsentRequired) {
		t.Errorf("another replica: %v; want ErrConsentRequired", err)
	}
	if got := s.srv.TokenRequests(ebaytest.GrantRefreshToken); got != reqs {
		t.Errorf("%d token requests for a seller who must consent; want none", got-reqs)
	}
	if st, err := s.a.Status(ctx, "u-alice"); err != nil || st.State != ebayauth.StateNeedsConsent || st.Healthy {
		t.Errorf("Status of the revoked seller: %s healthy=%v, %v; want needs_consent, unhealthy", st.State, st.Healthy, err)
	}

	if _, err := s.a.Token(ctx, "u-bob"); err != nil {
		t.Errorf("the other seller: %v; want unaffected", err)
	}
	if st, err := s.a.Status(ctx, "u-bob"); err != nil || st.State != ebayauth.StateFresh || !st.Healthy {
		t.Errorf("Status of the other seller: %s healthy=%v, %v; want fresh", st.State, st.Healthy, err)
	}
	// Consent again: the seller works again.
	s.connect(t, "u-alice", "", "")
	if _, err := s.a.Token(ctx, "u-alice"); err != nil {
		t.Errorf("after consenting again: %v", err)
	}
}

func TestAccountsRemove(t *testing.T) {
	s := newSellers(t)
	s.connect(t, "u-alice", "alice", "EBAY_US")
	ctx := context.Background()
	if _, err := s.a.Token(ctx, "u-alice"); err != nil {
		t.Fatal(err)
	}
	s.a.Close() // let the token reach the store
	s.a = s.accounts(t, s.store)
	if err := s.a.Remove(ctx, "u-alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.a.Token(ctx, "u-alice"); !errors.Is(err, ebayauth.ErrNotFound) {
		t.Errorf("Token after Remove: %v; want ErrNotFound", err)
	}
	if err := s.a.Remove(ctx, "u-alice"); err != nil {
		t.Errorf("second Remove: %v; want nil", err)
	}
}

// TestAccountsEvictIdleManagers: beyond the cap, the least recently used
// sellers' Managers go; a seller coming back takes the shared token
// without minting.
func TestAccountsEvictIdleManagers(t *testing.T) {
	s := newSellers(t, ebayauth.WithMaxManagers(2))
	ctx := context.Background()
	ids := []string{"u-1", "u-2", "u-3", "u-4", "u-5"}
	for _, id := range ids {
		s.connect(t, id, id, "EBAY_US")
	}
	first, err := s.a.Manager(ctx, "u-1")
	if err != nil {
		t.Fatal(err)
	}
	tok1, err := first.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.a.Manager(ctx, "u-1"); again != first {
		t.Error("a cached seller got a new Manager")
	}
	for _, id := range ids[1:] {
		if _, err := s.a.Token(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	mints := s.srv.Mints(ebaytest.GrantRefreshToken)
	back, err := s.a.Manager(ctx, "u-1")
	if err != nil {
		t.Fatal(err)
	}
	if back == first {
		t.Fatal("u-1's Manager was not evicted with 5 sellers and room for 2")
	}
	syncUntil(t, back, s.store, tok1)
	if got, err := back.Token(ctx); err != nil || got.AccessToken != tok1.AccessToken {
		t.Errorf("the returning seller's token: %v, %v; want the stored one", got, err)
	}
	if got := s.srv.Mints(ebaytest.GrantRefreshToken); got != mints {
		t.Errorf("the returning seller minted %d tokens; want 0 (the token is in the store)", got-mints)
	}
}

// TestAccountsShareAcrossReplicas: 100 requests for 10 sellers from two
// replicas over one store mint one token per seller.
func TestAccountsShareAcrossReplicas(t *testing.T) {
	s := newSellers(t)
	var ids []string
	for i := range 10 {
		id := "u-" + string(rune('a'+i))
		s.connect(t, id, id, "EBAY_US")
		ids = append(ids, id)
	}
	other := s.accounts(t, s.store)
	var wg sync.WaitGroup
	for i := range 100 {
		a := s.a
		if i%2 == 1 {
			a = other
		}
		wg.Go(func() {
			if _, err := a.Token(context.Background(), ids[i%10]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := s.srv.Mints(ebaytest.GrantRefreshToken); got != 10 {
		t.Errorf("%d mints for 10 sellers on two replicas; want 10", got)
	}
}

func TestAccountsWarnRefreshTokenExpiring(t *testing.T) {
	s := newSellers(t)
	acct := s.connect(t, "u-alice", "alice", "EBAY_US")
	acct.RefreshTokenExpiry = s.clock.Now().Add(10 * 24 * time.Hour)
	if err := s.store.SaveAccount(context.Background(), acct); err != nil {
		t.Fatal(err)
	}
	m, err := s.a.Manager(context.Background(), "u-alice")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Status().RefreshTokenExpiring {
		t.Error("status does not warn of the refresh token expiring in 10 days")
	}
	for {
		select {
		case e := <-s.events:
			if e.Kind == ebayauth.EventRefreshTokenExpiring {
				if e.Account != "u-alice" {
					t.Errorf("event for %q; want u-alice", e.Account)
				}
				return
			}
		default:
			t.Fatal("no refresh_token_expiring event")
		}
	}
}

func TestNewAccountsErrors(t *testing.T) {
	ok := ebayauth.Config{ClientID: "a", ClientSecret: "b"}
	if _, err := ebayauth.NewAccounts(ok, nil); err == nil {
		t.Error("NewAccounts with no store = nil error")
	}
	withRT := ok
	withRT.RefreshToken = "v^1.1#x"
	if _, err := ebayauth.NewAccounts(withRT, ebayauth.NewMemoryStore()); err == nil {
		t.Error("NewAccounts with a refresh token = nil error")
	}
	if _, err := ebayauth.NewAccounts(ok, ebayauth.NewMemoryStore(), ebayauth.WithMaxManagers(0)); err == nil {
		t.Error("WithMaxManagers(0) = nil error")
	}
}
