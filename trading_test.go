package ebayauth_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// userFixture is a fixture whose Manager keeps a user token.
func userFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, nil)
	rt := f.srv.IssueRefreshToken()
	return newFixtureOn(t, f, func(c *ebayauth.Config) { c.RefreshToken = rt })
}

func trading(t *testing.T, c *http.Client, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/ws/api.dll", strings.NewReader(body))
	req.Header.Set("X-EBAY-API-CALL-NAME", "GetAccount")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTradingAPIGetsIAFHeader(t *testing.T) {
	f := userFixture(t)
	code, body := trading(t, f.m.Client(), f.srv.URL, "<GetAccountRequest/>")
	if code != http.StatusOK || !strings.Contains(body, "<Ack>Success</Ack>") {
		t.Fatalf("Trading call: %d %s; want Ack Success", code, body)
	}
	reqs := f.srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Authorization != "IAF "+f.srv.LastIssued() {
		t.Errorf("the Trading call carried %.20q…; want the token in X-EBAY-API-IAF-TOKEN and no Authorization", last.Authorization)
	}
}

// TestTradingExpiredTokenHealed: the Trading API reports a revoked token
// inside an HTTP 200; the Transport heals it like a 401: one refresh, one
// replay with the body.
func TestTradingExpiredTokenHealed(t *testing.T) {
	f := userFixture(t)
	tok := f.token(t)
	f.clock.Advance(10 * time.Minute)
	f.srv.RevokeToken(tok.AccessToken)
	const body = `<?xml version="1.0"?><GetAccountRequest xmlns="urn:ebay:apis:eBLBaseComponents"><AccountHistorySelection>LastInvoice</AccountHistorySelection></GetAccountRequest>`
	code, got := trading(t, f.m.Client(), f.srv.URL, body)
	if code != http.StatusOK || !strings.Contains(got, "<Ack>Success</Ack>") {
		t.Fatalf("Trading call with a revoked token: %d %s; want Success after one replay", code, got)
	}
	reqs := f.srv.Requests()
	if len(reqs) != 2 || string(reqs[1].Body) != body {
		t.Errorf("%d Trading requests; want 2, the second with the body intact", len(reqs))
	}
	if n := f.srv.Mints(ebaytest.GrantRefreshToken); n != 2 {
		t.Errorf("mints = %d; want 2 (the first token and its replacement)", n)
	}
}

// TestTradingOtherFailurePassesThrough: a Trading failure that is not about
// the token is handed back as it came, body and all.
func TestTradingOtherFailurePassesThrough(t *testing.T) {
	const answer = `<?xml version="1.0"?><GetAccountResponse><Ack>Failure</Ack><Errors><ErrorCode>10007</ErrorCode></Errors>` // internal error
	var calls atomic.Int32
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		long := strings.Repeat("<Pad/>", 20000) // longer than what is peeked
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(answer + long + "</GetAccountResponse>")), Request: r}, nil
	})
	src := &scriptedSource{toks: []string{"v^1.1#one", "v^1.1#two"}}
	tr := &ebayauth.Transport{Source: src, Base: base}
	req, _ := http.NewRequest(http.MethodPost, "https://api.ebay.com/ws/api.dll", strings.NewReader("<x/>"))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := answer + strings.Repeat("<Pad/>", 20000) + "</GetAccountResponse>"; string(b) != want {
		t.Errorf("the body read %d bytes, not the %d the server sent", len(b), len(want))
	}
	if calls.Load() != 1 || src.refreshes.Load() != 0 {
		t.Errorf("%d calls, %d refreshes; want 1 and 0", calls.Load(), src.refreshes.Load())
	}
}

// scriptedSource hands out toks in turn, one per Token call, and counts
// Refresh calls.
type scriptedSource struct {
	toks      []string
	n         atomic.Int32
	refreshes atomic.Int32
}

func (s *scriptedSource) Token(context.Context) (*ebayauth.Token, error) {
	i := min(int(s.n.Add(1))-1, len(s.toks)-1)
	return &ebayauth.Token{AccessToken: s.toks[i]}, nil
}

func (s *scriptedSource) Refresh(ctx context.Context, _ *ebayauth.Token) (*ebayauth.Token, error) {
	s.refreshes.Add(1)
	return s.Token(ctx)
}

// TestAccessDenied1100 never mints: a 403/1100 to the current token (a
// missing scope, say) comes back as it is; one to a token that is no longer
// current is replayed with the current one.
func TestAccessDenied1100(t *testing.T) {
	const denied = `{"errors":[{"errorId":1100,"domain":"ACCESS","category":"REQUEST","message":"Access denied"}]}`
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Authorization") == "Bearer v^1.1#new" {
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
		}
		return &http.Response{StatusCode: 403, Body: io.NopCloser(strings.NewReader(denied)), Request: r}, nil
	})
	t.Run("current token", func(t *testing.T) {
		src := &scriptedSource{toks: []string{"v^1.1#old"}}
		tr := &ebayauth.Transport{Source: src, Base: base}
		req, _ := http.NewRequest(http.MethodGet, "https://api.ebay.com/sell/account/v1/privilege", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || string(b) != denied || src.refreshes.Load() != 0 {
			t.Errorf("got %d %q with %d refreshes; want eBay's 403 as it came, no refresh", resp.StatusCode, b, src.refreshes.Load())
		}
	})
	t.Run("stale token", func(t *testing.T) {
		src := &scriptedSource{toks: []string{"v^1.1#old", "v^1.1#new"}}
		tr := &ebayauth.Transport{Source: src, Base: base}
		req, _ := http.NewRequest(http.MethodGet, "https://api.ebay.com/sell/account/v1/privilege", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || src.refreshes.Load() != 0 {
			t.Errorf("got %d with %d refreshes; want 200 from the replay with the current token, no refresh", resp.StatusCode, src.refreshes.Load())
		}
	})
}

// TestAccessDenied1100AgainstFake: the fake's getPrivileges answers an
// expired user token 403/1100; once the Manager has a new token the call
// works, and a 403 to a fresh token mints nothing.
func TestAccessDenied1100AgainstFake(t *testing.T) {
	f := userFixture(t)
	c := f.m.Client()
	get := func() int {
		resp, err := c.Get(f.srv.URL + "/sell/account/v1/privilege")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != 200 {
		t.Fatalf("getPrivileges: %d", code)
	}
	tok := f.token(t)
	f.clock.Advance(10 * time.Minute)
	f.srv.RevokeToken(tok.AccessToken)
	mints := f.srv.Mints(ebaytest.GrantRefreshToken)
	if code := get(); code != 403 {
		t.Errorf("getPrivileges with a revoked current token: %d; want eBay's 403 (1100 alone mints nothing)", code)
	}
	if got := f.srv.Mints(ebaytest.GrantRefreshToken); got != mints {
		t.Errorf("a 403/1100 minted %d tokens; want 0", got-mints)
	}
}
