package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// fixture is a fake eBay, a fake clock driving it, the Managers and the
// console, served on a loopback port.
type fixture struct {
	srv   *ebaytest.Server
	clock *ebaytest.Clock
	rec   *Recorder
	m     *ebayauth.Manager     // the single token, if asked for
	store *ebayauth.MemoryStore // the sellers, if asked for
	accts *ebayauth.Accounts
	con   *Console
	ts    *httptest.Server
}

// setup says what a fixture has.
type setup struct {
	single  bool // a single application token
	sellers bool // Accounts over a MemoryStore
	start   time.Time
	edit    func(*Config)
}

func newFixture(t *testing.T, s setup) *fixture {
	t.Helper()
	if s.start.IsZero() {
		s.start = farStart
	}
	f := &fixture{srv: ebaytest.NewServer(), clock: ebaytest.NewClock(s.start)}
	t.Cleanup(f.srv.Close)
	f.srv.SetNow(f.clock.Now)
	f.rec = NewRecorder(RecorderConfig{Clock: f.clock})
	base := ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret, RuName: ebaytest.RuName,
		Endpoint: f.srv.Endpoint(), Clock: f.clock, RetryMax: -1, Logger: slog.New(slog.DiscardHandler),
		OnEvent: f.rec.Observe,
	}
	cfg := Config{Recorder: f.rec, Clock: f.clock, Logger: slog.New(slog.DiscardHandler), PollInterval: 100 * time.Millisecond}
	if s.single {
		m, err := ebayauth.New(base)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		f.m, cfg.Manager = m, m
	}
	if s.sellers {
		f.store = ebayauth.NewMemoryStore()
		ac := base
		ac.Scopes = []string{ebayauth.ScopeAPI, ebayauth.ScopeAPI + "/sell.inventory"}
		a, err := ebayauth.NewAccounts(ac, f.store)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		f.accts, cfg.Accounts, cfg.AccountStore = a, a, f.store
	}
	if s.edit != nil {
		s.edit(&cfg)
	}
	con, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.con = con
	f.ts = httptest.NewServer(con)
	t.Cleanup(f.ts.Close)
	return f
}

// connect adds the seller to the fake eBay and connects them.
func (f *fixture) connect(t *testing.T, id, username, marketplace string) *ebayauth.Account {
	t.Helper()
	f.srv.AddUser(ebaytest.User{ID: id, Username: username, Marketplace: marketplace})
	code := f.srv.IssueCodeFor(id, ebayauth.ScopeAPI, ebayauth.ScopeAPI+"/sell.inventory", ebayauth.ScopeIdentity)
	a, err := f.accts.Connect(context.Background(), code)
	if err != nil {
		t.Fatalf("Connect(%s): %v", id, err)
	}
	f.rec.ObserveExchange(time.Time{})
	return a
}

// token mints (or returns) the seller's token.
func (f *fixture) token(t *testing.T, id string) *ebayauth.Token {
	t.Helper()
	tok, err := f.accts.Token(context.Background(), id)
	if err != nil {
		t.Fatalf("Token(%s): %v", id, err)
	}
	return tok
}

// revoke revokes the seller at eBay and lets their Manager find out, as
// the daemon's next refresh would.
func (f *fixture) revoke(t *testing.T, id string) {
	t.Helper()
	f.srv.RevokeUser(id)
	m, err := f.accts.Manager(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ForceRefresh(context.Background()); err == nil {
		t.Fatalf("ForceRefresh(%s) after RevokeUser: no error", id)
	}
}

// expiring makes the seller's refresh token expire in 10 days, in the
// store.
func (f *fixture) expiring(t *testing.T, id string) {
	t.Helper()
	a, err := f.store.LoadAccount(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	a.RefreshTokenExpiry = f.clock.Now().Add(10 * 24 * time.Hour)
	if err := f.store.SaveAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

// browserless is a client of the console with a cookie jar, as a browser
// that runs no script.
type browserless struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func (f *fixture) client(t *testing.T) *browserless {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browserless{t: t, base: f.ts.URL, c: c}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches path and returns the status and body, remembering the
// page's CSRF token.
func (b *browserless) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}

// post posts form to path as the page's own form would, with headers
// added, and returns the response (body read).
func (b *browserless) post(path string, form url.Values, headers map[string]string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// sameOrigin are the headers a browser sends with a same-origin POST.
var sameOrigin = map[string]string{"Sec-Fetch-Site": "same-origin"}
