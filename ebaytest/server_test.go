package ebaytest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/google/go-cmp/cmp"
)

const (
	scopeInventory = ebayauth.ScopeAPI + "/sell.inventory"
	formType       = "application/x-www-form-urlencoded"
)

// Exact error bodies from the protocol document.
const (
	invalidClient  = `{"error":"invalid_client","error_description":"client authentication failed"}`
	invalidRequest = `{"error":"invalid_request","error_description":"request is missing a required parameter or malformed."}`
	invalidScope   = `{"error":"invalid_scope","error_description":"The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client"}`
	badRefresh     = `{"error":"invalid_grant","error_description":"the provided authorization refresh token is invalid or was issued to another client"}`
	badCode        = `{"error":"invalid_grant","error_description":"the provided authorization grant code is invalid or was issued to another client"}`
	unsupported    = `{"error":"unsupported_grant_type","error_description":"grant type in request is not supported by the authorization server"}`

	err1001 = `{"errors":[{"errorId":1001,"domain":"OAuth","category":"REQUEST","message":"Invalid access token","longMessage":"Invalid access token. Check the value of the Authorization HTTP request header."}]}`
	err1002 = `{"errors":[{"errorId":1002,"domain":"OAuth","category":"REQUEST","message":"Missing access token","longMessage":"Access token is missing in the Authorization HTTP request header."}]}`
	err1100 = `{"errors":[{"errorId":1100,"domain":"ACCESS","category":"REQUEST","message":"Access denied","longMessage":"Insufficient permissions to fulfill the request."}]}`
	err2001 = `{"errors":[{"errorId":2001,"domain":"ACCESS","category":"REQUEST","message":"Too many requests","longMessage":"The request limit has been reached for the resource."}]}`
)

func newServer(t *testing.T) *ebaytest.Server {
	t.Helper()
	srv := ebaytest.NewServer()
	t.Cleanup(srv.Close)
	return srv
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(srv *ebaytest.Server) *fakeClock {
	c := &fakeClock{now: time.Date(2037, 3, 1, 12, 0, 0, 0, time.UTC)}
	srv.SetNow(c.Now)
	return c
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// do sends req with srv's client and returns the status and the body.
func do(t *testing.T, srv *ebaytest.Server, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, strings.TrimSuffix(string(b), "\n")
}

// tokenReq posts body to the token endpoint as contentType, with Basic
// credentials id:secret unless id is "".
func tokenReq(t *testing.T, srv *ebaytest.Server, id, secret, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.Endpoint().TokenURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	status, _, got := do(t, srv, req)
	return status, got
}

// postForm posts form to the token endpoint with the default credentials.
func postForm(t *testing.T, srv *ebaytest.Server, form url.Values) (int, string) {
	t.Helper()
	return tokenReq(t, srv, ebaytest.ClientID, ebaytest.ClientSecret, formType, form.Encode())
}

// mint posts form and returns the decoded 200 response.
func mint(t *testing.T, srv *ebaytest.Server, form url.Values) map[string]any {
	t.Helper()
	status, body := postForm(t, srv, form)
	if status != http.StatusOK {
		t.Fatalf("token request: got %d %s; want 200", status, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func appToken(t *testing.T, srv *ebaytest.Server, scopes ...string) string {
	t.Helper()
	return mint(t, srv, url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Join(scopes, " ")}})["access_token"].(string)
}

func userToken(t *testing.T, srv *ebaytest.Server, scopes ...string) string {
	t.Helper()
	rt := srv.IssueRefreshToken(scopes...)
	return mint(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})["access_token"].(string)
}

// call sends a REST request with the given Authorization header (none if "").
func call(t *testing.T, srv *ebaytest.Server, method, path, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("X-EBAY-C-MARKETPLACE-ID", "EBAY_NOWHERE")
	status, _, got := do(t, srv, req)
	return status, got
}

func keys(m map[string]any) []string {
	k := make([]string, 0, len(m))
	for key := range m {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}

func TestEndpoint(t *testing.T) {
	srv := newServer(t)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL: got %q; want http://127.0.0.1:port", srv.URL)
	}
	want := ebayauth.Endpoint{
		TokenURL: srv.URL + "/identity/v1/oauth2/token",
		AuthURL:  srv.URL + "/oauth2/authorize",
		APIURL:   srv.URL,
	}
	if diff := cmp.Diff(want, srv.Endpoint()); diff != "" {
		t.Errorf("Endpoint (-want +got):\n%s", diff)
	}
}

func TestGrants(t *testing.T) {
	tests := []struct {
		name      string
		form      func(*ebaytest.Server) url.Values
		wantKeys  []string
		wantType  string
		wantRTExp float64
	}{
		{
			name: "client_credentials",
			form: func(*ebaytest.Server) url.Values {
				return url.Values{"grant_type": {"client_credentials"}, "scope": {ebayauth.ScopeAPI}, "redirect_uri": {ebaytest.RuName}}
			},
			wantKeys: []string{"access_token", "expires_in", "token_type"},
			wantType: "Application Access Token",
		},
		{
			name: "refresh_token",
			form: func(srv *ebaytest.Server) url.Values {
				return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {srv.IssueRefreshToken(ebayauth.ScopeAPI, scopeInventory)}, "scope": {scopeInventory}}
			},
			wantKeys: []string{"access_token", "expires_in", "token_type"},
			wantType: "User Access Token",
		},
		{
			name: "authorization_code",
			form: func(srv *ebaytest.Server) url.Values {
				return url.Values{"grant_type": {"authorization_code"}, "code": {srv.IssueCode()}, "redirect_uri": {ebaytest.RuName}}
			},
			wantKeys:  []string{"access_token", "expires_in", "refresh_token", "refresh_token_expires_in", "token_type"},
			wantType:  "User Access Token",
			wantRTExp: 47304000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			got := mint(t, srv, tt.form(srv))
			if diff := cmp.Diff(tt.wantKeys, keys(got)); diff != "" {
				t.Errorf("response fields (-want +got):\n%s", diff)
			}
			if got["token_type"] != tt.wantType {
				t.Errorf("token_type: got %q; want %q", got["token_type"], tt.wantType)
			}
			if got["expires_in"] != 7200.0 {
				t.Errorf("expires_in: got %v; want 7200", got["expires_in"])
			}
			if tt.wantRTExp != 0 && got["refresh_token_expires_in"] != tt.wantRTExp {
				t.Errorf("refresh_token_expires_in: got %v; want %v", got["refresh_token_expires_in"], tt.wantRTExp)
			}
			access := got["access_token"].(string)
			if !srv.ValidToken(access) {
				t.Errorf("ValidToken(%.20q…) = false; want true", access)
			}
			if srv.LastIssued() != access {
				t.Errorf("LastIssued: got %.20q…; want %.20q…", srv.LastIssued(), access)
			}
			if n := srv.Mints(tt.name); n != 1 {
				t.Errorf("Mints(%q): got %d; want 1", tt.name, n)
			}
			if n := srv.TokenRequests(tt.name); n != 1 {
				t.Errorf("TokenRequests(%q): got %d; want 1", tt.name, n)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	form := func(kv ...string) func(*ebaytest.Server) string {
		return func(*ebaytest.Server) string {
			v := url.Values{}
			for i := 0; i < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v.Encode()
		}
	}
	tests := []struct {
		name        string
		id, secret  string
		contentType string
		body        func(*ebaytest.Server) string
		wantStatus  int
		want        string
	}{
		{"no basic auth", "", "", formType, form("grant_type", "client_credentials", "scope", ebayauth.ScopeAPI), 401, invalidClient},
		{"wrong secret", ebaytest.ClientID, "nope", formType, form("grant_type", "client_credentials", "scope", ebayauth.ScopeAPI), 401, invalidClient},
		{"wrong id", "Other-PRD-1", ebaytest.ClientSecret, formType, form("grant_type", "client_credentials", "scope", ebayauth.ScopeAPI), 401, invalidClient},
		{"json body", "", "", "application/json", func(*ebaytest.Server) string {
			return `{"grant_type":"client_credentials","scope":"` + ebayauth.ScopeAPI + `"}`
		}, 400, unsupported},
		{"unknown grant", "", "", formType, form("grant_type", "password"), 400, unsupported},
		{"no grant", "", "", formType, form("scope", ebayauth.ScopeAPI), 400, unsupported},
		{"malformed form", "", "", formType, func(*ebaytest.Server) string { return "grant_type=client_credentials&scope=%zz" }, 400, invalidRequest},
		{"client_credentials without scope", "", "", formType, form("grant_type", "client_credentials"), 400, invalidRequest},
		{"client_credentials bad scope", "", "", formType, form("grant_type", "client_credentials", "scope", ebayauth.ScopeAPI+" https://api.ebay.com/oauth/api_scope/nope"), 400, invalidScope},
		{"refresh without token", "", "", formType, form("grant_type", "refresh_token"), 400, invalidRequest},
		{"refresh unknown token", "", "", formType, form("grant_type", "refresh_token", "refresh_token", "v^1.1#i^1#p^3#r^1#I^3#f^0#t^bm9wZQ=="), 400, badRefresh},
		{"refresh scope beyond consent", "", "", formType, func(srv *ebaytest.Server) string {
			return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {srv.IssueRefreshToken()}, "scope": {scopeInventory}}.Encode()
		}, 400, invalidScope},
		{"refresh token of another client", "Other-PRD-1", "other-secret", formType, func(srv *ebaytest.Server) string {
			rt := srv.IssueRefreshToken()
			srv.SetCredentials("Other-PRD-1", "other-secret")
			return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()
		}, 400, badRefresh},
		{"code without redirect_uri", "", "", formType, func(srv *ebaytest.Server) string {
			return url.Values{"grant_type": {"authorization_code"}, "code": {srv.IssueCode()}}.Encode()
		}, 400, invalidRequest},
		{"code without code", "", "", formType, form("grant_type", "authorization_code", "redirect_uri", ebaytest.RuName), 400, invalidRequest},
		{"code wrong redirect_uri", "", "", formType, func(srv *ebaytest.Server) string {
			return url.Values{"grant_type": {"authorization_code"}, "code": {srv.IssueCode()}, "redirect_uri": {"https://app.example/cb"}}.Encode()
		}, 400, badCode},
		{"code unknown", "", "", formType, form("grant_type", "authorization_code", "code", "v^1.1#nope", "redirect_uri", ebaytest.RuName), 400, badCode},
		{"code double-encoded", "", "", formType, func(srv *ebaytest.Server) string {
			return url.Values{"grant_type": {"authorization_code"}, "code": {url.QueryEscape(srv.IssueCode())}, "redirect_uri": {ebaytest.RuName}}.Encode()
		}, 400, badCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			body := tt.body(srv)
			id, secret := tt.id, tt.secret
			if id == "" && tt.name != "no basic auth" {
				id, secret = ebaytest.ClientID, ebaytest.ClientSecret
			}
			status, got := tokenReq(t, srv, id, secret, tt.contentType, body)
			if status != tt.wantStatus || got != tt.want {
				t.Errorf("got %d %q; want %d %q", status, got, tt.wantStatus, tt.want)
			}
			if n := srv.TotalTokenRequests(); n != 1 {
				t.Errorf("TotalTokenRequests: got %d; want 1", n)
			}
			if n := srv.LastIssued(); n != "" {
				t.Errorf("LastIssued: got %.20q…; want none", n)
			}
		})
	}
}

func TestTokenMethodNotAllowed(t *testing.T) {
	srv := newServer(t)
	req, _ := http.NewRequest(http.MethodGet, srv.Endpoint().TokenURL, nil)
	if status, _, _ := do(t, srv, req); status != http.StatusMethodNotAllowed {
		t.Errorf("GET token endpoint: got %d; want 405", status)
	}
}

func TestSetCredentials(t *testing.T) {
	srv := newServer(t)
	srv.SetCredentials("New-PRD-1", "new-secret")
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {ebayauth.ScopeAPI}}.Encode()
	for _, tt := range []struct {
		name, id, secret string
		want             int
	}{
		{"old", ebaytest.ClientID, ebaytest.ClientSecret, 401},
		{"new", "New-PRD-1", "new-secret", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, got := tokenReq(t, srv, tt.id, tt.secret, formType, body); status != tt.want {
				t.Errorf("got %d %q; want %d", status, got, tt.want)
			}
		})
	}
}

func TestTokenShape(t *testing.T) {
	srv := newServer(t)
	code := mint(t, srv, url.Values{"grant_type": {"authorization_code"}, "code": {srv.IssueCode()}, "redirect_uri": {ebaytest.RuName}})
	tokens := map[string]string{
		"app":     appToken(t, srv, ebayauth.ScopeAPI),
		"user":    code["access_token"].(string),
		"refresh": code["refresh_token"].(string),
		"code":    srv.IssueCode(),
	}
	wantPrefix := map[string]string{
		"app":     "v^1.1#i^1#p^1#r^0#I^3#f^0#t^",
		"user":    "v^1.1#i^1#p^3#r^0#I^3#f^0#t^",
		"refresh": "v^1.1#i^1#p^3#r^1#I^3#f^0#t^",
		"code":    "v^1.1#",
	}
	for name, tok := range tokens {
		t.Run(name, func(t *testing.T) {
			if !strings.HasPrefix(tok, wantPrefix[name]) {
				t.Errorf("got %.40q…; want prefix %q", tok, wantPrefix[name])
			}
			if !strings.ContainsAny(tok, "+/=") {
				t.Errorf("got %q; want one of + / = inside", tok)
			}
			if name == "app" || name == "user" {
				if len(tok) < 900 || len(tok) > 2048 {
					t.Errorf("length: got %d; want about 1,000", len(tok))
				}
			}
		})
	}
	seen := map[string]bool{}
	for range 20 {
		tok := appToken(t, srv, ebayauth.ScopeAPI)
		if seen[tok] {
			t.Fatalf("token %.40q… issued twice", tok)
		}
		seen[tok] = true
	}
}

func TestScopeEncoding(t *testing.T) {
	tests := []struct{ name, body string }{
		{"plus and raw", "grant_type=client_credentials&scope=https://api.ebay.com/oauth/api_scope+https://api.ebay.com/oauth/api_scope/sell.inventory"},
		{"percent-encoded", url.Values{"grant_type": {"client_credentials"}, "scope": {ebayauth.ScopeAPI + " " + scopeInventory}}.Encode()},
		{"extra spaces", "grant_type=client_credentials&scope=++https://api.ebay.com/oauth/api_scope++"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			status, got := tokenReq(t, srv, ebaytest.ClientID, ebaytest.ClientSecret, "application/x-www-form-urlencoded; charset=utf-8", tt.body)
			if status != http.StatusOK {
				t.Fatalf("got %d %q; want 200", status, got)
			}
			if diff := cmp.Diff([]string{tt.body}, srv.TokenRequestBodies()); diff != "" {
				t.Errorf("TokenRequestBodies (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCodeSingleUse(t *testing.T) {
	srv := newServer(t)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {srv.IssueCode()}, "redirect_uri": {ebaytest.RuName}}
	mint(t, srv, form)
	if status, got := postForm(t, srv, form); status != 400 || got != badCode {
		t.Errorf("second use: got %d %q; want 400 %q", status, got, badCode)
	}
}

func TestCodeExpiry(t *testing.T) {
	tests := []struct {
		age        time.Duration
		wantStatus int
	}{
		{298 * time.Second, 200},
		{299*time.Second - time.Millisecond, 200},
		{299 * time.Second, 400},
		{time.Hour, 400},
	}
	for _, tt := range tests {
		t.Run(tt.age.String(), func(t *testing.T) {
			srv := newServer(t)
			clock := newClock(srv)
			code := srv.IssueCode()
			clock.Advance(tt.age)
			status, got := postForm(t, srv, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ebaytest.RuName}})
			if status != tt.wantStatus || (status == 400 && got != badCode) {
				t.Errorf("got %d %q; want %d", status, got, tt.wantStatus)
			}
		})
	}
}

func TestRefreshToken(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(srv *ebaytest.Server, clock *fakeClock, rt string)
		want  int
	}{
		{"valid", func(*ebaytest.Server, *fakeClock, string) {}, 200},
		{"revoked", func(srv *ebaytest.Server, _ *fakeClock, rt string) { srv.RevokeRefreshToken(rt) }, 400},
		{"almost expired", func(_ *ebaytest.Server, c *fakeClock, _ string) {
			c.Advance(ebaytest.RefreshTokenLifetime - time.Second)
		}, 200},
		{"expired", func(_ *ebaytest.Server, c *fakeClock, _ string) { c.Advance(ebaytest.RefreshTokenLifetime) }, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			clock := newClock(srv)
			rt := mint(t, srv, url.Values{"grant_type": {"authorization_code"}, "code": {srv.IssueCode()}, "redirect_uri": {ebaytest.RuName}})["refresh_token"].(string)
			tt.spoil(srv, clock, rt)
			status, got := postForm(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			if status != tt.want || (status == 400 && got != badRefresh) {
				t.Errorf("got %d %q; want %d", status, got, tt.want)
			}
		})
	}
}

func TestAccessTokenLifetime(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		want     float64
	}{
		{"default", 0, 7200},
		{"whole seconds", 90*time.Second + 500*time.Millisecond, 90},
		{"at least one", 10 * time.Millisecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			clock := newClock(srv)
			srv.SetTokenLifetime(tt.lifetime)
			resp := mint(t, srv, url.Values{"grant_type": {"client_credentials"}, "scope": {ebayauth.ScopeAPI}})
			if resp["expires_in"] != tt.want {
				t.Errorf("expires_in: got %v; want %v", resp["expires_in"], tt.want)
			}
			tok := resp["access_token"].(string)
			life := tt.lifetime
			if life == 0 {
				life = ebaytest.DefaultTokenLifetime
			}
			clock.Advance(life - time.Nanosecond)
			if !srv.ValidToken(tok) {
				t.Errorf("ValidToken just before expiry: got false; want true")
			}
			clock.Advance(time.Nanosecond)
			if srv.ValidToken(tok) {
				t.Errorf("ValidToken at expiry: got true; want false")
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	srv := newServer(t)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {ebayauth.ScopeAPI}}
	srv.FailNext(2, http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`)
	for i := range 2 {
		if status, got := postForm(t, srv, form); status != 503 || got != `{"error":"temporarily_unavailable"}` {
			t.Errorf("request %d: got %d %q; want 503", i, status, got)
		}
	}
	mint(t, srv, form)

	srv.FailNext(-1, http.StatusInternalServerError, "boom")
	for i := range 3 {
		if status, got := postForm(t, srv, form); status != 500 || got != "boom" {
			t.Errorf("request %d: got %d %q; want 500 %q", i, status, got, "boom")
		}
	}
	srv.ClearFailures()
	mint(t, srv, form)

	if got, want := srv.TokenRequests("client_credentials"), 7; got != want {
		t.Errorf("TokenRequests: got %d; want %d", got, want)
	}
	if got, want := srv.Mints("client_credentials"), 2; got != want {
		t.Errorf("Mints: got %d; want %d", got, want)
	}
}

func TestDailyQuota(t *testing.T) {
	srv := newServer(t)
	srv.SetDailyQuota("client_credentials", 2)
	app := url.Values{"grant_type": {"client_credentials"}, "scope": {ebayauth.ScopeAPI}}
	mint(t, srv, app)
	mint(t, srv, app)
	if status, got := postForm(t, srv, app); status != http.StatusTooManyRequests || got != err2001 {
		t.Errorf("over quota: got %d %q; want 429 %q", status, got, err2001)
	}
	userToken(t, srv) // other grants have their own quota

	code := srv.IssueCode()
	srv.SetDailyQuota("authorization_code", 1)
	mint(t, srv, url.Values{"grant_type": {"authorization_code"}, "code": {srv.IssueCode()}, "redirect_uri": {ebaytest.RuName}})
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ebaytest.RuName}}
	if status, got := postForm(t, srv, exchange); status != http.StatusTooManyRequests {
		t.Errorf("code over quota: got %d %q; want 429", status, got)
	}

	srv.ResetQuota()
	mint(t, srv, app)
	mint(t, srv, exchange) // a refused code was not used up
	if got, want := srv.Mints("client_credentials"), 3; got != want {
		t.Errorf("Mints: got %d; want %d", got, want)
	}
	if got, want := srv.TokenRequests("client_credentials"), 4; got != want {
		t.Errorf("TokenRequests: got %d; want %d", got, want)
	}
}

// startSlowRequest sends a token request on a server with an hour of
// latency and returns once the request is written, with the channel that
// receives the request's error.
func startSlowRequest(t *testing.T, srv *ebaytest.Server, ctx context.Context) <-chan error {
	t.Helper()
	srv.SetLatency(time.Hour)
	written := make(chan struct{})
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(written) }})
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {ebayauth.ScopeAPI}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.Endpoint().TokenURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", formType)
	req.SetBasicAuth(ebaytest.ClientID, ebaytest.ClientSecret)
	errc := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-written
	return errc
}

// closeWithin closes srv and fails the test if that takes longer than a
// generous bound, which means a request ignored its cancellation.
func closeWithin(t *testing.T, srv *ebaytest.Server) {
	t.Helper()
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close blocked: a delayed request did not end")
	}
}

func TestLatency(t *testing.T) {
	t.Run("delays", func(t *testing.T) {
		srv := newServer(t)
		srv.SetLatency(50 * time.Millisecond)
		start := time.Now()
		appToken(t, srv, ebayauth.ScopeAPI)
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("answered after %v; want at least 50ms", d)
		}
	})
	t.Run("client cancels", func(t *testing.T) {
		srv := ebaytest.NewServer()
		ctx, cancel := context.WithCancel(context.Background())
		errc := startSlowRequest(t, srv, ctx)
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v; want context.Canceled", err)
		}
		closeWithin(t, srv)
	})
	t.Run("server closes", func(t *testing.T) {
		srv := ebaytest.NewServer()
		errc := startSlowRequest(t, srv, context.Background())
		closeWithin(t, srv)
		<-errc // 503 or a closed connection, depending on timing
	})
}

func TestRESTAuth(t *testing.T) {
	const search = "/buy/browse/v1/item_summary/search?q=lego"
	tests := []struct {
		name       string
		auth       func(*ebaytest.Server, *fakeClock) string
		wantStatus int
		want       string
	}{
		{"valid app token", func(srv *ebaytest.Server, _ *fakeClock) string {
			return "Bearer " + appToken(t, srv, ebayauth.ScopeAPI)
		}, 200, ""},
		{"no header", func(*ebaytest.Server, *fakeClock) string { return "" }, 400, err1002},
		{"basic scheme", func(*ebaytest.Server, *fakeClock) string { return "Basic dXNlcjpwYXNz" }, 400,
			`{"errors":[{"errorId":1003,"domain":"OAuth","category":"REQUEST","message":"Token type in the Authorization header is invalid:Basic","longMessage":"Token type in the Authorization header is invalid:Basic"}]}`},
		{"x/oauth2 token type", func(srv *ebaytest.Server, _ *fakeClock) string {
			return "Application Access Token " + appToken(t, srv, ebayauth.ScopeAPI)
		}, 400, `{"errors":[{"errorId":1003,"domain":"OAuth","category":"REQUEST","message":"Token type in the Authorization header is invalid:Application","longMessage":"Token type in the Authorization header is invalid:Application"}]}`},
		{"unknown token", func(*ebaytest.Server, *fakeClock) string { return "Bearer v^1.1#i^1#p^1#r^0#I^3#f^0#t^bm9wZQ==" }, 401, err1001},
		{"revoked token", func(srv *ebaytest.Server, _ *fakeClock) string {
			tok := appToken(t, srv, ebayauth.ScopeAPI)
			srv.RevokeToken(tok)
			return "Bearer " + tok
		}, 401, err1001},
		{"revoke all", func(srv *ebaytest.Server, _ *fakeClock) string {
			tok := userToken(t, srv)
			srv.RevokeAll()
			return "Bearer " + tok
		}, 401, err1001},
		{"expired token", func(srv *ebaytest.Server, c *fakeClock) string {
			tok := appToken(t, srv, ebayauth.ScopeAPI)
			c.Advance(2 * time.Hour)
			return "Bearer " + tok
		}, 401, err1001},
		{"token without api_scope", func(srv *ebaytest.Server, _ *fakeClock) string {
			return "Bearer " + userToken(t, srv, scopeInventory)
		}, 403, err1100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			clock := newClock(srv)
			auth := tt.auth(srv, clock)
			status, got := call(t, srv, http.MethodGet, search, auth, "")
			if status != tt.wantStatus || (tt.want != "" && got != tt.want) {
				t.Errorf("got %d %q; want %d %q", status, got, tt.wantStatus, tt.want)
			}
			if diff := cmp.Diff([]string{auth}, srv.AuthHeaders()); diff != "" {
				t.Errorf("AuthHeaders (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBrowse(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		wantStatus int
		want       string
	}{
		{"search", "/buy/browse/v1/item_summary/search?q=LEGO&limit=3", 200,
			`{"href":"URL/buy/browse/v1/item_summary/search?limit=3&offset=0&q=LEGO","total":1,"limit":3,"offset":0,"itemSummaries":[{"itemId":"v1|110551234569|0","title":"LEGO Star Wars Millennium Falcon 75192","price":{"value":"799.95","currency":"USD"}}]}`},
		{"search page", "/buy/browse/v1/item_summary/search?q=&limit=1&offset=1", 200,
			`{"href":"URL/buy/browse/v1/item_summary/search?limit=1&offset=1&q=","total":3,"limit":1,"offset":1,"itemSummaries":[{"itemId":"v1|110551234568|0","title":"Apple iPhone 13 128GB Blue Unlocked","price":{"value":"379.00","currency":"USD"}}]}`},
		{"search nothing", "/buy/browse/v1/item_summary/search?q=unicorn", 200,
			`{"href":"URL/buy/browse/v1/item_summary/search?limit=50&offset=0&q=unicorn","total":0,"limit":50,"offset":0}`},
		{"item", "/buy/browse/v1/item/" + url.PathEscape("v1|110551234567|0"), 200,
			`{"itemId":"v1|110551234567|0","title":"Vintage Nikon F3 35mm Film Camera Body","price":{"value":"249.99","currency":"USD"}}`},
		{"unknown item", "/buy/browse/v1/item/v1%7C1%7C0", 404,
			`{"errors":[{"errorId":11001,"domain":"API_BROWSE","category":"REQUEST","message":"The specified item ID was not found.","longMessage":"The specified item ID was not found."}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			status, got := call(t, srv, http.MethodGet, tt.path, "Bearer "+appToken(t, srv, ebayauth.ScopeAPI), "")
			want := strings.ReplaceAll(tt.want, "URL", srv.URL)
			if status != tt.wantStatus || got != want {
				t.Errorf("got %d %q; want %d %q", status, got, tt.wantStatus, want)
			}
		})
	}
}

func TestBrowseQuota(t *testing.T) {
	srv := newServer(t)
	srv.SetBrowseQuota(1)
	auth := "Bearer " + appToken(t, srv, ebayauth.ScopeAPI)
	const path = "/buy/browse/v1/item_summary/search?q=lego"
	steps := []struct {
		reset bool
		want  int
	}{{false, 200}, {false, 429}, {true, 200}, {false, 429}}
	for i, s := range steps {
		if s.reset {
			srv.ResetQuota()
		}
		status, got := call(t, srv, http.MethodGet, path, auth, "")
		if status != s.want || (status == 429 && got != err2001) {
			t.Errorf("call %d: got %d %q; want %d", i, status, got, s.want)
		}
	}
}

func TestOffer(t *testing.T) {
	srv := newServer(t)
	auth := "Bearer " + userToken(t, srv, scopeInventory)
	const path = "/sell/inventory/v1/offer"
	tests := []struct {
		name, body string
		wantStatus int
		want       string
	}{
		{"created", `{"sku":"A+B/C=1","format":"FIXED_PRICE","note":"grüß"}`, 201, `{"offerId":"1"}`},
		{"created again", `{}`, 201, `{"offerId":"2"}`},
		{"not json", `{"sku":`, 400, `{"errors":[{"errorId":2004,"domain":"ACCESS","category":"REQUEST","message":"Invalid request","longMessage":"The request has errors. For help, see the documentation for this API."}]}`},
		{"no token", `{}`, 400, err1002},
	}
	var want []ebaytest.Request
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := auth
			if tt.name == "no token" {
				a = ""
			}
			status, got := call(t, srv, http.MethodPost, path, a, tt.body)
			if status != tt.wantStatus || got != tt.want {
				t.Errorf("got %d %q; want %d %q", status, got, tt.wantStatus, tt.want)
			}
			want = append(want, ebaytest.Request{Method: http.MethodPost, Path: path, Authorization: a, Body: []byte(tt.body)})
		})
	}
	if diff := cmp.Diff(want, srv.Requests()); diff != "" {
		t.Errorf("Requests (-want +got):\n%s", diff)
	}
	if got := srv.APIRequests(); got != len(tests) {
		t.Errorf("APIRequests: got %d; want %d", got, len(tests))
	}
}

func TestConsent(t *testing.T) {
	good := func() url.Values {
		return url.Values{
			"client_id":     {ebaytest.ClientID},
			"redirect_uri":  {ebaytest.RuName},
			"response_type": {"code"},
			"scope":         {ebayauth.ScopeAPI + " " + scopeInventory},
		}
	}
	with := func(key, value string) url.Values {
		v := good()
		if value == "" {
			v.Del(key)
		} else {
			v.Set(key, value)
		}
		return v
	}
	tests := []struct {
		name       string
		acceptURL  string
		query      url.Values
		wantStatus int
		wantAccept string // accept URL the redirect goes to, without its query
		wantQuery  url.Values
	}{
		{"with state", "", with("state", "xyz 123/+"), 302, "/accept", url.Values{"expires_in": {"299"}, "state": {"xyz 123/+"}}},
		{"without state", "", good(), 302, "/accept", url.Values{"expires_in": {"299"}}},
		{"accept URL with query", "https://app.example/cb?x=1", with("prompt", "login"), 302, "https://app.example/cb", url.Values{"expires_in": {"299"}, "x": {"1"}}},
		{"wrong client_id", "", with("client_id", "Other-PRD-1"), 400, "", nil},
		{"wrong redirect_uri", "", with("redirect_uri", "https://app.example/cb"), 400, "", nil},
		{"wrong response_type", "", with("response_type", "token"), 400, "", nil},
		{"no response_type", "", with("response_type", ""), 400, "", nil},
		{"no scope", "", with("scope", ""), 400, "", nil},
		{"unknown scope", "", with("scope", "https://api.ebay.com/oauth/api_scope/nope"), 400, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			if tt.acceptURL != "" {
				srv.SetAcceptURL(tt.acceptURL)
			}
			client := *srv.Client()
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := client.Get(srv.Endpoint().AuthURL + "?" + tt.query.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d; want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusFound {
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type: got %q; want text/plain", ct)
				}
				return
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			q := loc.Query()
			code := q.Get("code")
			q.Del("code")
			loc.RawQuery = ""
			wantAccept := tt.wantAccept
			if strings.HasPrefix(wantAccept, "/") {
				wantAccept = srv.URL + wantAccept
			}
			if loc.String() != wantAccept {
				t.Errorf("redirect: got %q; want %q", loc, wantAccept)
			}
			if diff := cmp.Diff(tt.wantQuery, q); diff != "" {
				t.Errorf("redirect query (-want +got):\n%s", diff)
			}
			resp2 := mint(t, srv, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ebaytest.RuName}})
			refreshed := mint(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {resp2["refresh_token"].(string)}, "scope": {scopeInventory}})
			if !srv.ValidToken(refreshed["access_token"].(string)) {
				t.Errorf("token refreshed from consented code is not valid")
			}
		})
	}
}

func TestOtherPaths(t *testing.T) {
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/", 404},
		{http.MethodGet, "/sell/account/v1/fulfillment_policy", 404},
		{http.MethodGet, "/accept?code=x", 200},
		{http.MethodPost, "/oauth2/authorize", 405},
		{http.MethodGet, "/sell/inventory/v1/offer", 405},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			srv := newServer(t)
			if status, got := call(t, srv, tt.method, tt.path, "", ""); status != tt.want {
				t.Errorf("got %d %q; want %d", status, got, tt.want)
			}
			if n := srv.APIRequests(); n != 0 {
				t.Errorf("APIRequests: got %d; want 0", n)
			}
		})
	}
}

func TestSetAllowedScopes(t *testing.T) {
	srv := newServer(t)
	form := func(scope string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	}
	steps := []struct {
		allow      []string
		scope      string
		wantStatus int
	}{
		{[]string{scopeInventory}, ebayauth.ScopeAPI, 400},
		{[]string{scopeInventory}, scopeInventory, 200},
		{nil, ebayauth.ScopeAPI, 200},
	}
	for i, s := range steps {
		srv.SetAllowedScopes(s.allow...)
		if status, got := postForm(t, srv, form(s.scope)); status != s.wantStatus || (status == 400 && got != invalidScope) {
			t.Errorf("step %d: got %d %q; want %d", i, status, got, s.wantStatus)
		}
	}
}
