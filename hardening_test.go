package ebayauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// Each test here reproduces a defect an adversarial review found; each
// failed before its fix.

// recordingBase is a RoundTripper that records what it was asked to send
// and answers 200 without a network.
type recordingBase struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (b *recordingBase) RoundTrip(r *http.Request) (*http.Response, error) {
	b.mu.Lock()
	b.reqs = append(b.reqs, r)
	b.mu.Unlock()
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

func (b *recordingBase) sent() []*http.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*http.Request(nil), b.reqs...)
}

func TestNoTokenOverCleartext(t *testing.T) {
	src := ebayauth.StaticTokenSource(&ebayauth.Token{AccessToken: "v^1.1#secret"})
	tests := []struct {
		url       string
		plainHTTP []string
		wantToken bool
		wantErr   bool
	}{
		{"https://api.ebay.com/x", nil, true, false},
		{"http://api.ebay.com/x", nil, false, true},
		{"http://api.ebay.com:80/x", nil, false, true},
		{"http://apiz.sandbox.ebay.com/x", nil, false, true},
		{"http://127.0.0.1:8080/x", []string{}, true, false},
		{"http://localhost:8080/x", nil, true, false},
		{"http://[::1]:8080/x", nil, true, false},
		{"http://proxy.internal.ebay.com/x", []string{"proxy.internal.ebay.com"}, true, false},
		{"ftp://api.ebay.com/x", nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			base := new(recordingBase)
			tr := &ebayauth.Transport{Source: src, Base: base, AllowHTTPHosts: tt.plainHTTP,
				AllowedHosts: []string{"*.ebay.com", "127.0.0.1", "localhost", "[::1]"}}
			req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
			resp, err := tr.RoundTrip(req)
			if (err != nil) != tt.wantErr {
				t.Fatalf("RoundTrip err = %v; want error %v", err, tt.wantErr)
			}
			if err == nil {
				resp.Body.Close()
			}
			sent := base.sent()
			got := len(sent) == 1 && sent[0].Header.Get("Authorization") != ""
			if got != tt.wantToken {
				t.Errorf("token sent = %v; want %v", got, tt.wantToken)
			}
			if tt.wantErr && len(sent) != 0 {
				t.Errorf("%d requests sent; want none", len(sent))
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}

// TestNoTokenOnCleartextRedirectHop: eBay redirecting to plain http on
// its own host: the hop is refused, not sent with the token.
func TestNoTokenOnCleartextRedirectHop(t *testing.T) {
	src := ebayauth.StaticTokenSource(&ebayauth.Token{AccessToken: "v^1.1#secret"})
	var hops atomic.Int32
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		hops.Add(1)
		if r.URL.Scheme == "http" {
			t.Errorf("a cleartext hop was sent, Authorization %q", r.Header.Get("Authorization"))
		}
		h := http.Header{"Location": {"http://api.ebay.com/elsewhere"}}
		return &http.Response{StatusCode: http.StatusFound, Header: h, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	c := &http.Client{Transport: &ebayauth.Transport{Source: src, Base: base}}
	if _, err := c.Get("https://api.ebay.com/x"); err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("Get = %v; want the cleartext hop refused", err)
	}
	if hops.Load() != 1 {
		t.Errorf("%d hops sent; want 1", hops.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestHandBuiltTransportRefusesBadPattern(t *testing.T) {
	src := ebayauth.StaticTokenSource(&ebayauth.Token{AccessToken: "v^1.1#secret"})
	for _, p := range []string{"*ebay.com", "ebay.*", "*.*.com", "https://api.ebay.com", "*.com", ""} {
		base := new(recordingBase)
		tr := &ebayauth.Transport{Source: src, Base: base, AllowedHosts: []string{p}}
		req, _ := http.NewRequest(http.MethodGet, "https://notebay.com/x", nil)
		if _, err := tr.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "AllowedHosts") {
			t.Errorf("pattern %q: err = %v; want the pattern refused", p, err)
		}
		if len(base.sent()) != 0 {
			t.Errorf("pattern %q: a request was sent", p)
		}
		if _, err := ebayauth.New(ebayauth.Config{ClientID: "a", ClientSecret: "b", AllowedHosts: []string{p}}); err == nil {
			t.Errorf("New accepted pattern %q", p)
		}
	}
}

type nilSource struct{}

func (nilSource) Token(context.Context) (*ebayauth.Token, error) { return nil, nil }

func TestNilTokenFromSource(t *testing.T) {
	for name, src := range map[string]ebayauth.TokenSource{"nil token": nilSource{}, "no source": nil} {
		tr := &ebayauth.Transport{Source: src, Base: new(recordingBase)}
		req, _ := http.NewRequest(http.MethodGet, "https://api.ebay.com/x", nil)
		if _, err := tr.RoundTrip(req); err == nil {
			t.Errorf("%s: RoundTrip = nil error; want one", name)
		}
	}
}

func TestValidateURLMustBeAllowed(t *testing.T) {
	for _, u := range []string{"https://evil.example.com/probe", "http://api.ebay.com/probe"} {
		_, err := ebayauth.New(ebayauth.Config{ClientID: "a", ClientSecret: "b", ValidateURL: u, AllowedHosts: []string{"api.ebay.com"}})
		if err == nil || !strings.Contains(err.Error(), "ValidateURL") {
			t.Errorf("ValidateURL %s: New = %v; want it refused", u, err)
		}
	}
}

func TestSecretsRedactedInEveryForm(t *testing.T) {
	cfg := ebayauth.Config{ClientID: "TestApp-PRD-0a1b2c3d4-5e6f7a8b", ClientSecret: "PRD-secret-cert-id",
		RefreshToken: "v^1.1#refresh-secret", FallbackToken: "v^1.1#fallback-secret"}
	m, err := ebayauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok := ebayauth.Token{AccessToken: "v^1.1#access-secret", RefreshToken: "v^1.1#refresh-secret", TokenType: "User Access Token"}
	secrets := []string{cfg.ClientSecret, cfg.RefreshToken, cfg.FallbackToken, tok.AccessToken}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("values", "cfg", cfg, "pcfg", &cfg, "tok", tok, "ptok", &tok, "toks", []ebayauth.Token{tok}, "m", m)
	log2 := slog.New(slog.NewTextHandler(&logs, nil))
	log2.Info("values", "cfg", cfg, "tok", tok, "toks", []ebayauth.Token{tok}, "m", m)
	var out []string
	for _, v := range []any{cfg, &cfg, tok, &tok, []ebayauth.Token{tok}, []*ebayauth.Token{&tok}, m,
		struct{ C ebayauth.Config }{cfg}, map[string]ebayauth.Token{"k": tok}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		js, _ := json.Marshal(v)
		out = append(out, string(js))
	}
	out = append(out, logs.String())
	hex := fmt.Sprintf("%x", cfg.ClientSecret)
	for _, o := range out {
		if found := secretsIn(o, append(secrets, hex)...); len(found) > 0 {
			t.Errorf("%q shows %q", o, found)
		}
	}
}

// TestEbayErrorTextScrubbedAndBounded: a token endpoint that echoes the
// request puts neither the secret, the refresh token nor the Basic
// credentials into errors, Status or logs, and a huge answer is cut.
func TestEbayErrorTextScrubbedAndBounded(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		desc := r.Header.Get("Authorization") + " " + string(body) + " " + strings.Repeat("x", 1<<16)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": desc})
	}))
	defer echo.Close()
	var logs bytes.Buffer
	cfg := ebayauth.Config{ClientID: "TestApp-PRD-0a1b2c3d4-5e6f7a8b", ClientSecret: "PRD-secret/cert+id",
		RefreshToken: "v^1.1#refresh/secret+token=", RetryMax: -1,
		Endpoint: ebayauth.Endpoint{TokenURL: echo.URL + "/token", APIURL: echo.URL},
		Logger:   slog.New(slog.NewJSONHandler(&logs, nil))}
	m, err := ebayauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Token(context.Background())
	if err == nil {
		t.Fatal("Token succeeded against an endpoint that answers 400")
	}
	basic := base64.StdEncoding.EncodeToString([]byte(cfg.ClientID + ":" + cfg.ClientSecret))
	texts := []string{err.Error(), m.Status().LastError, logs.String()}
	for _, s := range texts {
		if found := secretsIn(s, cfg.ClientSecret, cfg.RefreshToken, url.QueryEscape(cfg.RefreshToken), basic); len(found) > 0 {
			t.Errorf("%.200q… shows %q", s, found)
		}
	}
	if n := len(err.Error()); n > 1000 {
		t.Errorf("error is %d bytes long; want eBay's text bounded", n)
	}
}

// TestMalformedTokenRejected: a token no header can carry is a malformed
// answer, not a fresh token; it is not asked for again at once.
func TestMalformedTokenRejected(t *testing.T) {
	for _, bad := range []string{"v^1.1#abc\r\nX-Evil: 1", "v^1.1 abc", "v^1.1#\x00", "v^1.1#ünï"} {
		t.Run(fmt.Sprintf("%q", bad), func(t *testing.T) {
			var reqs atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reqs.Add(1)
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"access_token": bad, "expires_in": 7200, "token_type": "Application Access Token"})
			}))
			defer srv.Close()
			m, err := ebayauth.New(ebayauth.Config{ClientID: "a", ClientSecret: "b", RetryMax: 3,
				Endpoint: ebayauth.Endpoint{TokenURL: srv.URL + "/t", APIURL: srv.URL}, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			var re *ebayauth.RetrieveError
			for range 5 {
				if _, err := m.Token(context.Background()); !errors.As(err, &re) || re.ErrorCode != "malformed_token" || re.Temporary() {
					t.Fatalf("Token = %v; want a permanent malformed_token RetrieveError", err)
				}
			}
			if n := reqs.Load(); n != 1 {
				t.Errorf("%d token requests; want 1 (no retry storm)", n)
			}
		})
	}
}

// TestPersistent401DoesNotBurnQuota: an API that refuses every token does
// not make the Manager mint again and again.
func TestPersistent401DoesNotBurnQuota(t *testing.T) {
	f := newFixture(t, nil)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"errorId":1001,"domain":"OAuth","category":"REQUEST","message":"Invalid access token"}]}`)
	}))
	defer api.Close()
	tr := f.m.Transport(nil)
	tr.AllowedHosts = []string{strings.TrimPrefix(api.URL, "http://")}
	c := &http.Client{Transport: tr}
	for range 50 {
		resp, err := c.Get(api.URL + "/sell/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d; want eBay's 401 handed back", resp.StatusCode)
		}
	}
	if got := f.srv.Mints(ebaytest.GrantClientCredentials); got != 1 {
		t.Errorf("50 requests refused with a brand-new token minted %d tokens; want 1", got)
	}
	// An hour on, the token is no longer brand new: one replacement, and
	// the replacement (brand new again) is not replaced.
	f.clock.Advance(10 * time.Minute)
	for range 50 {
		resp, err := c.Get(api.URL + "/sell/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := f.srv.Mints(ebaytest.GrantClientCredentials); got != 2 {
		t.Errorf("50 more refused requests minted %d tokens in all; want 2", got)
	}
}

// TestInvalidGrantBackoffHoldsFor401s: after invalid_grant, requests that
// get 401 do not ask eBay again within the backoff.
func TestInvalidGrantBackoffHoldsFor401s(t *testing.T) {
	f := newFixture(t, nil)
	rt := f.srv.IssueRefreshToken()
	f = newFixtureOn(t, f, func(c *ebayauth.Config) { c.RefreshToken = rt })
	tok := f.token(t)
	f.clock.Advance(10 * time.Minute)
	f.srv.RevokeRefreshToken(rt)
	f.srv.RevokeToken(tok.AccessToken)
	c := f.m.Client()
	for range 20 {
		// The first gets eBay's 401 back, the others ErrNoToken: no
		// token can be had until the seller consents again.
		if resp, err := c.Get(f.srv.URL + "/buy/browse/v1/item_summary/search?q=x"); err == nil {
			resp.Body.Close()
		} else if !errors.Is(err, ebayauth.ErrInvalidGrant) {
			t.Errorf("request error %v; want one matching ErrInvalidGrant", err)
		}
	}
	if got := f.srv.TokenRequests(ebaytest.GrantRefreshToken); got != 2 {
		t.Errorf("%d refresh_token requests; want 2 (the first mint, one invalid_grant, then the backoff)", got)
	}
}

// stuckLockStore is a MemoryStore whose mint lock another process holds
// for good: it died holding a lock with no end.
type stuckLockStore struct {
	*ebayauth.MemoryStore
	tries atomic.Int32
}

func (s *stuckLockStore) Lock(context.Context, string, time.Duration) (func(context.Context) error, error) {
	s.tries.Add(1)
	return nil, ebayauth.ErrLocked
}

// TestStuckLockDoesNotStopMinting: a store lock nobody releases does not
// leave the Manager without a token: it waits half its refresh time, then
// mints without the lock.
func TestStuckLockDoesNotStopMinting(t *testing.T) {
	store := &stuckLockStore{MemoryStore: ebayauth.NewMemoryStore()}
	f := newFixture(t, func(c *ebayauth.Config) {
		c.Store = store
		c.RefreshTimeout = 400 * time.Millisecond
	})
	tok, err := f.m.Token(context.Background())
	if err != nil {
		t.Fatalf("Token with the lock held by a dead process: %v", err)
	}
	if got := f.srv.Mints(ebaytest.GrantClientCredentials); got != 1 || !f.srv.ValidToken(tok.AccessToken) {
		t.Errorf("mints = %d; want 1 valid token", got)
	}
	if store.tries.Load() < 2 {
		t.Errorf("the lock was tried %d times; want the Manager to wait for it", store.tries.Load())
	}
	if !strings.Contains(f.logs.String(), "minting without it") {
		t.Errorf("nothing logged says the lock was given up on:\n%s", f.logs.String())
	}
}

// hangingStore is a Store whose every call blocks until released,
// ignoring its context, as a client without timeouts on a dead network.
type hangingStore struct {
	calls   atomic.Int32
	release chan struct{}
}

func (s *hangingStore) Load(context.Context, string) (*ebayauth.Record, error) {
	s.calls.Add(1)
	<-s.release
	return nil, errors.New("gone")
}
func (s *hangingStore) Save(context.Context, string, *ebayauth.Record) error {
	s.calls.Add(1)
	<-s.release
	return errors.New("gone")
}
func (s *hangingStore) Delete(context.Context, string) error { return nil }

// TestHangingStoreOffRequestPath: a store that never answers delays a
// request by at most StoreTimeout, once; after that the Manager skips it.
func TestHangingStoreOffRequestPath(t *testing.T) {
	store := &hangingStore{release: make(chan struct{})}
	defer close(store.release)
	f := newFixture(t, func(c *ebayauth.Config) {
		c.Store = store
		c.StoreTimeout = 50 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := f.m.Token(ctx); err != nil {
		t.Fatalf("Token with a hanging store: %v", err)
	}
	if st := f.m.Status(); st.StoreHealthy {
		t.Error("status says the hanging store is healthy")
	}
	calls := store.calls.Load()
	f.clock.Advance(2 * time.Hour) // a refresh: the store is skipped, not asked
	if _, err := f.m.Token(ctx); err != nil {
		t.Fatalf("second Token: %v", err)
	}
	if got := store.calls.Load(); got > calls+1 {
		t.Errorf("the store known to be down was called %d more times; want at most one probe", got-calls)
	}
}

func TestConfigRefusesWhatEbayWould(t *testing.T) {
	ok := ebayauth.Config{ClientID: "a", ClientSecret: "b"}
	tests := []struct {
		name string
		edit func(*ebayauth.Config)
		want string
	}{
		{"legacy fallback", func(c *ebayauth.Config) { c.FallbackToken = "AgAAAA**AQAAAA**aAAAAA**legacy" }, "Auth'n'Auth"},
		{"fallback with newline", func(c *ebayauth.Config) { c.FallbackToken = "v^1.1#a\nb" }, "FallbackToken"},
		{"garbage scope", func(c *ebayauth.Config) { c.Scopes = []string{"garbage"} }, "not an eBay scope"},
		{"http scope", func(c *ebayauth.Config) { c.Scopes = []string{"http://api.ebay.com/oauth/api_scope"} }, "not an eBay scope"},
		{"empty scope", func(c *ebayauth.Config) { c.Scopes = []string{""} }, "not an eBay scope"},
		{"comma scopes", func(c *ebayauth.Config) { c.Scopes = []string{ebayauth.ScopeAPI + "," + ebayauth.ScopeIdentity} }, "not an eBay scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Check()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v; want an error saying %q", err, tt.want)
			}
			if _, nerr := ebayauth.New(c); nerr == nil || nerr.Error() != err.Error() {
				t.Errorf("New = %v; want the same error as Check", nerr)
			}
		})
	}
	if err := ok.Check(); err != nil {
		t.Errorf("Check of a good config: %v", err)
	}
}
