package ebaytest_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/google/go-cmp/cmp"
)

const identityPath = "/commerce/identity/v1/user/"

// Sellers besides the default one, added by addSellers.
var (
	gbSeller = ebaytest.User{ID: "Gb7Ys2kWq1A", Username: "uk_shop", AccountType: "BUSINESS", Marketplace: "EBAY_GB", Status: "CONFIRMED"}
	deSeller = ebaytest.User{ID: "De4Rt9mXz0B", Username: "de_laden", AccountType: "INDIVIDUAL", Marketplace: "EBAY_DE", Status: "UNCONFIRMED"}
)

func addSellers(srv *ebaytest.Server) {
	srv.AddUser(gbSeller)
	srv.AddUser(deSeller)
}

// identityOf is what getUser should answer for u.
func identityOf(u ebaytest.User) string {
	return `{"userId":"` + u.ID + `","username":"` + u.Username + `","accountType":"` + u.AccountType +
		`","registrationMarketplaceId":"` + u.Marketplace + `","status":"` + u.Status + `"}`
}

// userTokenFor mints a user access token from a refresh token issued for
// the seller id.
func userTokenFor(t *testing.T, srv *ebaytest.Server, id string, scopes ...string) string {
	t.Helper()
	rt := srv.IssueRefreshTokenFor(id, scopes...)
	return mint(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})["access_token"].(string)
}

// exchange trades an authorization code for the token response.
func exchange(t *testing.T, srv *ebaytest.Server, code string) map[string]any {
	t.Helper()
	return mint(t, srv, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ebaytest.RuName}})
}

// whoIs calls getUser with the bearer token tok.
func whoIs(t *testing.T, srv *ebaytest.Server, tok string) (int, string) {
	t.Helper()
	return call(t, srv, http.MethodGet, identityPath, "Bearer "+tok, "")
}

func TestDefaultUser(t *testing.T) {
	srv := newServer(t)
	got, ok := srv.User(ebaytest.DefaultUserID)
	want := ebaytest.User{ID: ebaytest.DefaultUserID, Username: ebaytest.DefaultUsername,
		AccountType: "INDIVIDUAL", Marketplace: "EBAY_US", Status: "CONFIRMED"}
	if !ok || got != want {
		t.Errorf("User(DefaultUserID) = %+v, %v; want %+v, true", got, ok, want)
	}
	if _, ok := srv.User("nobody"); ok {
		t.Error(`User("nobody") found a user`)
	}
	srv.AddUser(ebaytest.User{ID: "only-id"})
	got, _ = srv.User("only-id")
	want = ebaytest.User{ID: "only-id", Username: "only-id", AccountType: "INDIVIDUAL", Marketplace: "EBAY_US", Status: "CONFIRMED"}
	if got != want {
		t.Errorf("AddUser with only an ID: got %+v; want %+v", got, want)
	}
}

func TestIdentity(t *testing.T) {
	tests := []struct {
		name       string
		auth       func(*testing.T, *ebaytest.Server, *fakeClock) string
		wantStatus int
		want       string
	}{
		{"default seller", func(t *testing.T, srv *ebaytest.Server, _ *fakeClock) string {
			return "Bearer " + userToken(t, srv, ebaytest.ScopeIdentity)
		}, 200, identityOf(ebaytest.User{ID: ebaytest.DefaultUserID, Username: ebaytest.DefaultUsername,
			AccountType: "INDIVIDUAL", Marketplace: "EBAY_US", Status: "CONFIRMED"})},
		{"UK business seller", func(t *testing.T, srv *ebaytest.Server, _ *fakeClock) string {
			return "Bearer " + userTokenFor(t, srv, gbSeller.ID, ebayauth.ScopeAPI, ebaytest.ScopeIdentity)
		}, 200, identityOf(gbSeller)},
		{"German seller", func(t *testing.T, srv *ebaytest.Server, _ *fakeClock) string {
			return "Bearer " + userTokenFor(t, srv, deSeller.ID, ebaytest.ScopeIdentity)
		}, 200, identityOf(deSeller)},
		{"user token without identity scope", func(t *testing.T, srv *ebaytest.Server, _ *fakeClock) string {
			return "Bearer " + userTokenFor(t, srv, gbSeller.ID, ebayauth.ScopeAPI)
		}, 403, err1100},
		{"application token with identity scope", func(t *testing.T, srv *ebaytest.Server, _ *fakeClock) string {
			return "Bearer " + appToken(t, srv, ebayauth.ScopeAPI, ebaytest.ScopeIdentity)
		}, 403, err1100},
		{"application token", func(t *testing.T, srv *ebaytest.Server, _ *fakeClock) string {
			return "Bearer " + appToken(t, srv, ebayauth.ScopeAPI)
		}, 403, err1100},
		{"expired user token", func(t *testing.T, srv *ebaytest.Server, c *fakeClock) string {
			tok := userToken(t, srv, ebaytest.ScopeIdentity)
			c.Advance(2 * time.Hour)
			return "Bearer " + tok
		}, 401, err1001},
		{"unknown token", func(*testing.T, *ebaytest.Server, *fakeClock) string {
			return "Bearer v^1.1#i^1#p^3#r^0#I^3#f^0#t^bm9wZQ=="
		}, 401, err1001},
		{"no header", func(*testing.T, *ebaytest.Server, *fakeClock) string { return "" }, 400, err1002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			clock := newClock(srv)
			addSellers(srv)
			status, got := call(t, srv, http.MethodGet, identityPath, tt.auth(t, srv, clock), "")
			if status != tt.wantStatus || got != tt.want {
				t.Errorf("got %d %q; want %d %q", status, got, tt.wantStatus, tt.want)
			}
		})
	}
}

func TestIdentityPaths(t *testing.T) {
	srv := newServer(t)
	auth := "Bearer " + userToken(t, srv, ebaytest.ScopeIdentity)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, identityPath, 200},
		{http.MethodGet, identityPath + "someone", 404},
		{http.MethodPost, identityPath, 405},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			if status, got := call(t, srv, tt.method, tt.path, auth, ""); status != tt.want {
				t.Errorf("got %d %q; want %d", status, got, tt.want)
			}
		})
	}
}

// consentAs visits the consent page with query q (and the usual client
// parameters) and returns the code it redirects with, or the status it
// answered instead.
func consentAs(t *testing.T, srv *ebaytest.Server, extra url.Values) (code string, status int) {
	t.Helper()
	q := url.Values{
		"client_id":     {ebaytest.ClientID},
		"redirect_uri":  {ebaytest.RuName},
		"response_type": {"code"},
		"scope":         {ebaytest.ScopeIdentity},
	}
	for k, v := range extra {
		q[k] = v
	}
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(srv.Endpoint().AuthURL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", resp.StatusCode
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query().Get("code"), resp.StatusCode
}

func TestConsentAsUser(t *testing.T) {
	tests := []struct {
		name        string
		consentUser string // for SetConsentUser; "" leaves the default
		login       string // the consent page's login parameter
		wantStatus  int
		want        ebaytest.User
	}{
		{"default", "", "", 302, ebaytest.User{ID: ebaytest.DefaultUserID, Username: ebaytest.DefaultUsername}},
		{"login parameter", "", gbSeller.ID, 302, gbSeller},
		{"SetConsentUser", deSeller.ID, "", 302, deSeller},
		{"login beats SetConsentUser", deSeller.ID, gbSeller.ID, 302, gbSeller},
		{"unknown login", "", "nobody", 400, ebaytest.User{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			addSellers(srv)
			if tt.consentUser != "" {
				srv.SetConsentUser(tt.consentUser)
			}
			extra := url.Values{}
			if tt.login != "" {
				extra.Set("login", tt.login)
			}
			code, status := consentAs(t, srv, extra)
			if status != tt.wantStatus {
				t.Fatalf("consent page: got %d; want %d", status, tt.wantStatus)
			}
			if status != http.StatusFound {
				return
			}
			// code → refresh token → access token all remember the seller.
			rt := exchange(t, srv, code)["refresh_token"].(string)
			tok := mint(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})["access_token"].(string)
			want, _ := srv.User(tt.want.ID)
			if status, got := whoIs(t, srv, tok); status != 200 || got != identityOf(want) {
				t.Errorf("getUser: got %d %q; want 200 %q", status, got, identityOf(want))
			}
		})
	}
}

func TestIssueFor(t *testing.T) {
	srv := newServer(t)
	addSellers(srv)
	tests := []struct {
		name  string
		token func() string
		want  ebaytest.User
	}{
		{"IssueCodeFor", func() string {
			return exchange(t, srv, srv.IssueCodeFor(gbSeller.ID, ebaytest.ScopeIdentity))["access_token"].(string)
		}, gbSeller},
		{"IssueRefreshTokenFor", func() string { return userTokenFor(t, srv, deSeller.ID, ebaytest.ScopeIdentity) }, deSeller},
		{"IssueCode after SetConsentUser", func() string {
			srv.SetConsentUser(gbSeller.ID)
			return exchange(t, srv, srv.IssueCode(ebaytest.ScopeIdentity))["access_token"].(string)
		}, gbSeller},
		{"IssueRefreshToken after SetConsentUser", func() string {
			srv.SetConsentUser(deSeller.ID)
			return userToken(t, srv, ebaytest.ScopeIdentity)
		}, deSeller},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, got := whoIs(t, srv, tt.token()); status != 200 || got != identityOf(tt.want) {
				t.Errorf("getUser: got %d %q; want 200 %q", status, got, identityOf(tt.want))
			}
		})
	}
}

func TestUnknownUserPanics(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name string
		f    func()
	}{
		{"AddUser without ID", func() { srv.AddUser(ebaytest.User{Username: "x"}) }},
		{"SetConsentUser", func() { srv.SetConsentUser("nobody") }},
		{"IssueCodeFor", func() { srv.IssueCodeFor("nobody") }},
		{"IssueRefreshTokenFor", func() { srv.IssueRefreshTokenFor("nobody") }},
		{"RevokeUser", func() { srv.RevokeUser("nobody") }},
		{"RenameUser", func() { srv.RenameUser("nobody", "x") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", tt.name)
				}
			}()
			tt.f()
		})
	}
}

// seller is one seller's refresh token and the access token minted from it.
type seller struct{ refresh, access string }

func newSeller(t *testing.T, srv *ebaytest.Server, id string) seller {
	t.Helper()
	rt := srv.IssueRefreshTokenFor(id, ebaytest.ScopeIdentity)
	at := mint(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})["access_token"].(string)
	return seller{rt, at}
}

func TestRevokeAndRenameUser(t *testing.T) {
	tests := []struct {
		name         string
		act          func(*ebaytest.Server)
		wantUsername string
	}{
		{"RevokeUser (password changed)", func(srv *ebaytest.Server) { srv.RevokeUser(gbSeller.ID) }, gbSeller.Username},
		{"RenameUser", func(srv *ebaytest.Server) { srv.RenameUser(gbSeller.ID, "uk_shop_ltd") }, "uk_shop_ltd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			addSellers(srv)
			gb, de := newSeller(t, srv, gbSeller.ID), newSeller(t, srv, deSeller.ID)
			app := appToken(t, srv, ebayauth.ScopeAPI)
			tt.act(srv)

			refresh := func(rt string) (int, string) {
				return postForm(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			}
			if status, got := refresh(gb.refresh); status != 400 || got != badRefresh {
				t.Errorf("refresh of the seller's token: got %d %q; want 400 %q", status, got, badRefresh)
			}
			if status, got := whoIs(t, srv, gb.access); status != 401 || got != err1001 {
				t.Errorf("seller's access token: got %d %q; want 401 %q", status, got, err1001)
			}
			if status, got := refresh(de.refresh); status != 200 {
				t.Errorf("other seller's refresh: got %d %q; want 200", status, got)
			}
			if !srv.ValidToken(de.access) || !srv.ValidToken(app) {
				t.Error("other seller's or the application's access token was revoked")
			}

			// A new consent works; the userId stays.
			fresh := newSeller(t, srv, gbSeller.ID)
			want := gbSeller
			want.Username = tt.wantUsername
			if status, got := whoIs(t, srv, fresh.access); status != 200 || got != identityOf(want) {
				t.Errorf("after new consent: got %d %q; want 200 %q", status, got, identityOf(want))
			}
			if got, _ := srv.User(gbSeller.ID); got != want {
				t.Errorf("User: got %+v; want %+v", got, want)
			}
		})
	}
}

func TestAddUserReplacesProfile(t *testing.T) {
	srv := newServer(t)
	addSellers(srv)
	s := newSeller(t, srv, gbSeller.ID)
	moved := gbSeller
	moved.Status = "ACCOUNTONHOLD"
	srv.AddUser(moved)
	status, got := whoIs(t, srv, s.access)
	if status != 200 || got != identityOf(moved) {
		t.Errorf("got %d %q; want 200 %q", status, got, identityOf(moved))
	}
	if diff := cmp.Diff(moved, func() ebaytest.User { u, _ := srv.User(moved.ID); return u }()); diff != "" {
		t.Errorf("User (-want +got):\n%s", diff)
	}
}
