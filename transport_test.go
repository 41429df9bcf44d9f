package ebayauth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/internal/syncbuf"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

func TestTransportSendsBearer(t *testing.T) {
	f := newFixture(t, nil)
	if code := search(t, f.m.Client(), f.srv.URL); code != http.StatusOK {
		t.Fatalf("status %d; want 200", code)
	}
	tok := f.token(t)
	if tok.TokenType != "Application Access Token" {
		t.Fatalf("token type %q", tok.TokenType)
	}
	if got := f.srv.AuthHeaders(); len(got) != 1 || got[0] != "Bearer "+tok.AccessToken {
		t.Errorf("Authorization = %.30q; want Bearer and the token, whatever eBay's token_type says", got)
	}
}

func TestTransportDoesNotModifyRequest(t *testing.T) {
	f := newFixture(t, nil)
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/buy/browse/v1/item_summary/search?q=x", nil)
	req.Header.Set("X-EBAY-C-MARKETPLACE-ID", "EBAY_GB")
	resp, err := f.m.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.Header.Get("Authorization") != "" || len(req.Header) != 1 {
		t.Errorf("caller's request headers changed: %v", req.Header)
	}
}

func TestRevokedTokenRetriedOnceWithBody(t *testing.T) {
	f := newFixture(t, nil)
	client := f.m.Client()
	old := f.token(t)
	f.clock.Advance(10 * time.Minute) // eBay revokes a token in use, not one minted this instant
	f.srv.RevokeToken(old.AccessToken)

	body := `{"sku":"SKU-1","marketplaceId":"EBAY_US","format":"FIXED_PRICE","note":"^#+/= ünïcode"}`
	resp, err := client.Post(f.srv.URL+"/sell/inventory/v1/offer", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d; want 201 after one retry", resp.StatusCode)
	}
	reqs := f.srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("fake saw %d requests; want 2 (the 401 and the retry)", len(reqs))
	}
	for i, r := range reqs {
		if string(r.Body) != body {
			t.Errorf("request %d body = %q; want %q", i, r.Body, body)
		}
	}
	if reqs[0].Authorization == reqs[1].Authorization {
		t.Error("retry used the rejected token")
	}
	if got := f.m.Status().Counters.Retries401; got != 1 {
		t.Errorf("401 retries = %d; want 1", got)
	}
	f.waitEvent(t, ebayauth.EventRetried401)
}

func TestBurstOf401sRefreshesOnce(t *testing.T) {
	f := newFixture(t, nil)
	client := f.m.Client()
	old := f.token(t)
	f.clock.Advance(10 * time.Minute) // eBay revokes a token in use, not one minted this instant
	f.srv.RevokeToken(old.AccessToken)
	before := f.srv.TotalTokenRequests()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 50 {
		wg.Go(func() {
			if search(t, client, f.srv.URL) != http.StatusOK {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d requests failed", failed.Load())
	}
	if got := f.srv.TotalTokenRequests() - before; got != 1 {
		t.Errorf("token requests for 50 rejected requests = %d; want 1", got)
	}
}

func TestUnreplayableBodyGets401(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.RevokeToken(f.token(t).AccessToken)
	// An io.Reader http.NewRequest cannot rewind: no GetBody.
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/sell/inventory/v1/offer", io.MultiReader(strings.NewReader(`{"sku":"a"}`)))
	resp, err := f.m.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d; want the 401", resp.StatusCode)
	}
	if n := len(f.srv.Requests()); n != 1 {
		t.Errorf("fake saw %d requests; want 1", n)
	}
}

func TestNonEbayHostGetsNoToken(t *testing.T) {
	f := newFixture(t, nil)
	var got atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
	}))
	defer other.Close()
	resp, err := f.m.Client().Get(other.URL + "/anything")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if a := got.Load(); a != "" {
		t.Errorf("other host got Authorization %.20q…", a)
	}
	if f.srv.TotalTokenRequests() != 0 {
		t.Error("a request to another host minted a token")
	}
}

func TestRedirectToOtherHostCarriesNoToken(t *testing.T) {
	f := newFixture(t, nil)
	var seen atomic.Value
	seen.Store("unset")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusOK)
	}))
	defer evil.Close()
	// An allowed host (the fake's API host:port) that redirects elsewhere.
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			t.Errorf("allowed host got no token")
		}
		http.Redirect(w, r, evil.URL+"/collect", http.StatusFound)
	}))
	defer redirector.Close()
	tr := f.m.Transport(nil)
	tr.AllowedHosts = []string{strings.TrimPrefix(redirector.URL, "http://")}
	resp, err := (&http.Client{Transport: tr}).Get(redirector.URL + "/buy/browse/v1/item/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if a := seen.Load(); a != "" {
		t.Errorf("redirect target got Authorization %.20q…; want none", a)
	}
}

type closeRecorder struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return nil }

func TestBodyClosedWhenNoToken(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.FailNext(-1, http.StatusServiceUnavailable, "down")
	body := &closeRecorder{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/sell/inventory/v1/offer", body)
	_, err := f.m.Transport(nil).RoundTrip(req)
	if !errors.Is(err, ebayauth.ErrNoToken) {
		t.Fatalf("err = %v; want ErrNoToken", err)
	}
	if !body.closed.Load() {
		t.Error("request body not closed on the error path")
	}
}

func TestTransportWithStaticSource(t *testing.T) {
	srv := ebaytest.NewServer()
	defer srv.Close()
	tok := &ebayauth.Token{AccessToken: mintDirect(t, srv), TokenType: "Application Access Token"}
	c := &http.Client{Transport: &ebayauth.Transport{Source: ebayauth.StaticTokenSource(tok), AllowedHosts: ebayauth.DefaultAllowedHosts(srv.Endpoint())}}
	if code := search(t, c, srv.URL); code != http.StatusOK {
		t.Errorf("status %d; want 200", code)
	}
	// A static source cannot heal a 401: the 401 comes back as it is.
	srv.RevokeAll()
	if code := search(t, c, srv.URL); code != http.StatusUnauthorized {
		t.Errorf("after revocation: status %d; want 401", code)
	}
}

// TestNoSecretInLogsOrErrors drives the failure paths with debug logging on
// and checks that no credential shows in a log line, an error or Status.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	f := newFixture(t, nil)
	rt := f.srv.IssueRefreshToken()
	f.srv.SetTokenLifetime(48 * time.Hour)
	fb := mintDirect(t, f.srv)
	f.srv.SetTokenLifetime(0)
	logs := new(syncbuf.Buffer)
	var errs []string
	var events []ebayauth.Event
	var mu sync.Mutex
	m, err := ebayauth.New(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret, RefreshToken: rt,
		Endpoint: f.srv.Endpoint(), Clock: f.clock, RetryMax: -1, FallbackToken: fb,
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnEvent: func(e ebayauth.Event) { mu.Lock(); events = append(events, e); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := m.Client()
	tok, err := m.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Revoked access token: 401 and retry.
	f.clock.Advance(10 * time.Minute)
	f.srv.RevokeToken(tok.AccessToken)
	search(t, c, f.srv.URL)
	// Identity outage, then expiry: fallback.
	f.srv.FailNext(-1, http.StatusServiceUnavailable, `{"error":"server_error"}`)
	f.clock.Advance(3 * time.Hour)
	search(t, c, f.srv.URL)
	if _, err := m.ForceRefresh(context.Background()); err != nil {
		errs = append(errs, err.Error())
	}
	// Refresh token revoked: invalid_grant.
	f.srv.ClearFailures()
	f.srv.RevokeRefreshToken(rt)
	f.clock.Advance(time.Hour)
	if _, err := m.ForceRefresh(context.Background()); err != nil {
		errs = append(errs, err.Error())
	}
	// Bad client secret.
	f.srv.SetCredentials(ebaytest.ClientID, "another-secret")
	if _, err := m.ForceRefresh(context.Background()); err != nil {
		errs = append(errs, err.Error())
	}
	if err := m.Validate(context.Background()); err != nil {
		errs = append(errs, err.Error())
	}
	st := fmtAll(m.Status())
	mu.Lock()
	evs := fmtAll(events)
	for _, e := range events {
		if e.Err != nil {
			errs = append(errs, e.Err.Error())
		}
	}
	mu.Unlock()
	secrets := []string{ebaytest.ClientSecret, rt, tok.AccessToken, fb}
	for name, text := range map[string]string{"logs": logs.String(), "errors": strings.Join(errs, "\n"), "status": st, "events": evs} {
		if found := secretsIn(text, secrets...); len(found) > 0 {
			t.Errorf("%s contain %d secret(s), e.g. %.16q…", name, len(found), found[0])
		}
	}
	if len(errs) < 3 || !strings.Contains(logs.String(), "invalid_grant") {
		t.Errorf("the scenario did not reach its failure paths: errors %q", errs)
	}
}

// TestRevokedDuringOutageUsesFallback: eBay revokes the token while its
// identity endpoint is down; the retry goes out with the fallback token
// instead of returning the 401.
func TestRevokedDuringOutageUsesFallback(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.SetTokenLifetime(48 * time.Hour)
	fb := mintDirect(t, f.srv)
	f.srv.SetTokenLifetime(0)
	f = newFixtureOn(t, f, func(c *ebayauth.Config) { c.FallbackToken = fb })
	tok := f.token(t)
	f.clock.Advance(10 * time.Minute)
	f.srv.RevokeToken(tok.AccessToken)
	f.srv.FailNext(-1, http.StatusServiceUnavailable, "")
	if code := search(t, f.m.Client(), f.srv.URL); code != http.StatusOK {
		t.Fatalf("status %d; want 200 from the retry with the fallback token", code)
	}
	auth := f.srv.AuthHeaders()
	if last := auth[len(auth)-1]; last != "Bearer "+fb {
		t.Errorf("retry Authorization = %.20q…; want the fallback token", last)
	}
	if s := f.m.Status(); s.Counters.FallbackUses != 1 || s.Counters.Retries401 != 1 {
		t.Errorf("fallback uses %d, 401 retries %d; want 1 and 1", s.Counters.FallbackUses, s.Counters.Retries401)
	}
	// The fallback itself rejected: the 401 comes back, no loop.
	f.srv.RevokeToken(fb)
	if code := search(t, f.m.Client(), f.srv.URL); code != http.StatusUnauthorized {
		t.Errorf("with the fallback revoked too: status %d; want 401", code)
	}
}
