package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

func TestNewRefusesBadConfig(t *testing.T) {
	m, err := ebayauth.New(ebayauth.Config{ClientID: "id", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, err := ebayauth.NewAccounts(ebayauth.Config{ClientID: "id", ClientSecret: "secret"}, ebayauth.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing to show", Config{}, "neither Manager nor Accounts"},
		{"accounts without store", Config{Accounts: a}, "AccountStore"},
		{"short secret", Config{Manager: m, AdminSecret: []byte("short")}, "AdminSecret"},
		{"page size", Config{Manager: m, PageSize: 100000}, "PageSize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v; want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestOverviewShowsStates(t *testing.T) {
	f := newFixture(t, setup{single: true, sellers: true})
	if _, err := f.m.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.connect(t, "u-alice", "alice", "EBAY_US")
	f.connect(t, "u-bob", "bob", "EBAY_GB")
	f.connect(t, "u-carol", "carol", "EBAY_DE")
	f.token(t, "u-alice")
	f.revoke(t, "u-bob")
	f.expiring(t, "u-carol")

	b := f.client(t)
	code, page := b.get("/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	for _, want := range []string{
		">fresh<", "Application tokens", "1 of 1,000 today", // the single token and its gauge
		"alice", ">needs consent<", "Copy consent link", // the sellers
		"Consents exchanged (code grant)", "3 of 10,000 today",
		"refresh token refused (invalid_grant): consent needed", // the timeline
		`src="./chart.svg?v=`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}
	// Row by row: the state of each seller.
	for id, want := range map[string]string{"u-alice": "fresh", "u-bob": "needs consent", "u-carol": "no token"} {
		row := rowOf(t, page, id)
		if !strings.Contains(row, ">"+want+"<") {
			t.Errorf("row %s: want state %q in %s", id, want, row)
		}
	}
	if row := rowOf(t, page, "u-carol"); !strings.Contains(row, "tone-warn") || !strings.Contains(row, "in 10 days") {
		t.Errorf("carol's row does not warn of the refresh token: %s", row)
	}

	// The seller's page, and the JSON the script polls.
	if code, page := b.get("/sellers/u-bob"); code != http.StatusOK || !strings.Contains(page, "needs consent") ||
		!strings.Contains(page, "consent_url") || !strings.Contains(page, "oauth2/authorize") {
		t.Errorf("GET /sellers/u-bob = %d; want bob's page with a consent link", code)
	}
	if code, _ := b.get("/sellers/u-nobody"); code != http.StatusNotFound {
		t.Errorf("GET /sellers/u-nobody = %d; want 404", code)
	}
	var st struct {
		Token   tokenView
		Sellers struct{ Rows []tokenView }
		Events  []eventView
	}
	_, js := b.get("/api/state")
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatalf("api/state: %v\n%s", err, js)
	}
	if st.Token.State != "fresh" || len(st.Sellers.Rows) != 3 || st.Sellers.Rows[1].State != "needs_consent" || len(st.Events) == 0 {
		t.Errorf("api/state = %+v", st)
	}
}

// rowOf returns the table row of the seller id in page.
func rowOf(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `<tr data-scope="`+id+`"`)
	if i < 0 {
		t.Fatalf("no row for %s", id)
	}
	j := strings.Index(page[i:], "</tr>")
	return page[i : i+j]
}

func TestRefreshNowWithoutScript(t *testing.T) {
	f := newFixture(t, setup{single: true})
	before, err := f.m.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := f.client(t)
	b.get("/")
	resp, _ := b.post("/refresh", url.Values{"csrf": {b.csrf}, "return": {"?state=x"}}, sameOrigin)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "./?state=x&done=refreshed" {
		t.Fatalf("POST /refresh = %d, Location %q; want 303 back to the page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st := f.m.Status(); st.Fingerprint == before.Fingerprint() || st.Counters.Mints != 2 {
		t.Errorf("after Refresh now: %s, %d mints; want a new token, 2 mints", st.Fingerprint, st.Counters.Mints)
	}
	if _, page := b.get("/?done=refreshed"); !strings.Contains(page, "A new token was minted.") || !strings.Contains(page, "2 of 1,000 today") {
		t.Error("the page after Refresh now does not say so")
	}
	// Validate, asked for as JSON by the page's script.
	resp, body := b.post("/validate", url.Values{"csrf": {b.csrf}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Accept": "application/json"})
	var res actionResult
	if err := json.Unmarshal([]byte(body), &res); err != nil || resp.StatusCode != http.StatusOK || !res.OK {
		t.Errorf("POST /validate = %d %s; want ok", resp.StatusCode, body)
	}
}

func TestCleanReturn(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"?after=x&state=y":     "?after=x&state=y",
		"sellers/u-alice":      "sellers/u-alice",
		"//evil.example/":      "",
		"https://evil.example": "",
		"/abs":                 "",
		"sellers/../../x":      "",
		`\\evil.example`:       "",
		"static/x":             "",
	} {
		if got := cleanReturn(in); got != want {
			t.Errorf("cleanReturn(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestCrossSitePostRefused: a mutation needs a same-origin request and the
// session's CSRF token; whatever is missing, it is refused before it runs.
func TestCrossSitePostRefused(t *testing.T) {
	f := newFixture(t, setup{single: true})
	b := f.client(t)
	b.get("/")
	good := url.Values{"csrf": {b.csrf}}
	for _, tc := range []struct {
		name    string
		form    url.Values
		headers map[string]string
		cookie  bool
	}{
		{"cross-site by Sec-Fetch-Site", good, map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
		{"same-site, other origin", good, map[string]string{"Sec-Fetch-Site": "same-site"}, true},
		{"foreign Origin", good, map[string]string{"Origin": "http://evil.example"}, true},
		{"no CSRF token", url.Values{}, sameOrigin, true},
		{"wrong CSRF token", url.Values{"csrf": {"forged"}}, sameOrigin, true},
		{"no session cookie", good, sameOrigin, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := b
			if !tc.cookie {
				c = f.client(t)
			}
			for _, path := range []string{"/refresh", "/validate", "/logout"} {
				if resp, _ := c.post(path, tc.form, tc.headers); resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s = %d; want 403", path, resp.StatusCode)
				}
			}
		})
	}
	if n := f.srv.TotalTokenRequests(); n != 0 {
		t.Errorf("%d token requests reached eBay; want none", n)
	}
	// The same form, same-origin, goes through.
	if resp, _ := b.post("/refresh", good, map[string]string{"Origin": f.ts.URL}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin POST /refresh = %d; want 303", resp.StatusCode)
	}
}

func TestLoopbackOnlyWithoutSecret(t *testing.T) {
	f := newFixture(t, setup{single: true})
	for _, tc := range []struct {
		remote string
		want   int
	}{
		{"127.0.0.1:5000", http.StatusOK},
		{"[::1]:5000", http.StatusOK},
		{"192.0.2.7:5000", http.StatusForbidden},
		{"[2001:db8::1]:5000", http.StatusForbidden},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		w := httptest.NewRecorder()
		f.con.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("GET / from %s = %d; want %d", tc.remote, w.Code, tc.want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:80": true, "[::1]:8080": true, "localhost:8080": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "192.0.2.1:8080": false, "example.com:80": false,
		"[::ffff:127.0.0.1]:80": true,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v; want %v", addr, got, want)
		}
	}
}

const adminSecret = "correct horse battery staple"

// TestAdminSecret: beyond loopback (an admin secret configured), every
// page, the JSON and every action need a login; /login sets a strict
// session cookie.
func TestAdminSecret(t *testing.T) {
	f := newFixture(t, setup{single: true, edit: func(c *Config) { c.AdminSecret = []byte(adminSecret) }})
	b := f.client(t)
	code, page := b.get("/")
	if code != http.StatusOK || !strings.Contains(page, `type="password"`) || strings.Contains(page, "Refresh now") {
		t.Fatalf("GET / without login = %d; want the login form and nothing else", code)
	}
	for _, path := range []string{"/api/state", "/chart.svg"} {
		if code, _ := b.get(path); code != http.StatusUnauthorized {
			t.Errorf("GET %s without login = %d; want 401", path, code)
		}
	}
	if code, _ := b.get("/sellers/x"); code != http.StatusOK {
		t.Errorf("GET /sellers/x without login = %d; want the login form", code)
	}
	if resp, _ := b.post("/refresh", url.Values{"csrf": {b.csrf}}, sameOrigin); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /refresh without login = %d; want 403", resp.StatusCode)
	}
	// From another machine it is served, since a secret guards it.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.7:5000"
	w := httptest.NewRecorder()
	f.con.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Admin secret") {
		t.Errorf("GET / from afar = %d; want the login form", w.Code)
	}

	if resp, body := b.post("/login", url.Values{"csrf": {b.csrf}, "secret": {"wrong secret, long enough"}}, sameOrigin); resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(body, "not the admin secret") {
		t.Errorf("wrong secret: %d; want 401 and the form again", resp.StatusCode)
	}
	if resp, _ := b.post("/login", url.Values{"csrf": {b.csrf}, "secret": {adminSecret}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login: %d; want 403", resp.StatusCode)
	}
	resp, _ := b.post("/login", url.Values{"csrf": {b.csrf}, "secret": {adminSecret}},
		map[string]string{"Sec-Fetch-Site": "same-origin", "X-Forwarded-Proto": "https"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login = %d; want 303", resp.StatusCode)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == DefaultCookieName {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || strings.Contains(ck.Value, adminSecret) {
		t.Fatalf("session cookie %+v; want HttpOnly, Secure (X-Forwarded-Proto: https), SameSite=Strict, no secret", ck)
	}
	// The jar keeps no Secure cookie for http: hand it over.
	u, _ := url.Parse(f.ts.URL)
	ck.Secure = false
	b.c.Jar.SetCookies(u, []*http.Cookie{ck})
	if code, page := b.get("/"); code != http.StatusOK || !strings.Contains(page, "Refresh now") || !strings.Contains(page, "Log out") {
		t.Fatalf("GET / logged in = %d; want the console", code)
	}
	if code, _ := b.get("/api/state"); code != http.StatusOK {
		t.Errorf("GET /api/state logged in = %d", code)
	}
	if resp, _ := b.post("/refresh", url.Values{"csrf": {b.csrf}}, sameOrigin); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("POST /refresh logged in = %d; want 303", resp.StatusCode)
	}
	// Sessions end.
	f.clock.Advance(DefaultSessionLifetime + time.Minute)
	if code, _ := b.get("/api/state"); code != http.StatusUnauthorized {
		t.Errorf("GET /api/state after the session's end = %d; want 401", code)
	}
}

// TestNoSecretInOutput renders every page, the JSON, the chart and the
// action answers, in every state, and finds no token or secret in them.
func TestNoSecretInOutput(t *testing.T) {
	f := newFixture(t, setup{single: true, sellers: true})
	tok, err := f.m.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{ebaytest.ClientSecret, tok.AccessToken}
	for _, id := range []string{"u-alice", "u-bob"} {
		a := f.connect(t, id, strings.TrimPrefix(id, "u-"), "EBAY_US")
		secrets = append(secrets, a.RefreshToken, f.token(t, id).AccessToken)
	}
	f.revoke(t, "u-bob")
	f.srv.FailNext(1, http.StatusInternalServerError, `{"error":"server_error","error_description":"`+tok.AccessToken+`"}`)
	_, _ = f.m.ForceRefresh(context.Background())
	_ = f.m.Validate(context.Background())
	tok2, err := f.m.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, tok2.AccessToken)

	b := f.client(t)
	var out strings.Builder
	for _, path := range []string{"/", "/?state=needs_consent", "/?q=ali", "/sellers/u-alice", "/sellers/u-bob", "/api/state",
		"/api/state?account=u-bob", "/chart.svg", "/login"} {
		_, body := b.get(path)
		out.WriteString(body)
	}
	for _, path := range []string{"/refresh", "/validate"} {
		for _, acct := range []string{"", "u-alice", "u-bob"} {
			_, body := b.post(path, url.Values{"csrf": {b.csrf}, "account": {acct}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Accept": "application/json"})
			out.WriteString(body)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out.String(), s) {
			t.Errorf("the console's output holds a secret %.6s…", s)
		}
	}
	if !strings.Contains(out.String(), tok2.Fingerprint()) {
		t.Error("the console's output lacks the token's fingerprint")
	}
}

func TestSellersPaging(t *testing.T) {
	f := newFixture(t, setup{sellers: true, edit: func(c *Config) { c.PageSize = 10; c.ScanLimit = 25 }})
	ctx := context.Background()
	now := f.clock.Now()
	for i := range 42 {
		a := &ebayauth.Account{ID: idOf(i), Username: "seller" + idOf(i), RefreshToken: "rt-" + idOf(i),
			RefreshTokenExpiry: now.Add(500 * 24 * time.Hour)}
		switch i % 10 {
		case 3:
			a.NeedsConsent = true
		case 7:
			a.RefreshTokenExpiry = now.Add(5 * 24 * time.Hour)
		}
		if i == 41 {
			a.Username = "Zed"
		}
		if err := f.store.SaveAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	var l listing
	var err error
	page := func(q listQuery) []string {
		t.Helper()
		l, err = f.con.list(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range l.accounts {
			ids = append(ids, a.ID)
		}
		return ids
	}
	// Unfiltered: pages of 10 by cursor.
	var all []string
	q := listQuery{}
	for range 10 {
		ids := page(q)
		all = append(all, ids...)
		if l.next == "" {
			break
		}
		q.After = l.next
	}
	if len(all) != 42 || all[0] != idOf(0) || all[41] != idOf(41) {
		t.Errorf("paging read %d sellers (%v); want all 42 in order", len(all), all)
	}
	// Needs consent: 3, 13, 23, 33 — within the scan limit of 25 only 3 of them.
	if ids := page(listQuery{State: FilterNeedsConsent}); strings.Join(ids, ",") != idOf(3)+","+idOf(13)+","+idOf(23) || !l.partial || l.next != idOf(24) {
		t.Errorf("needs consent: %v partial %v next %q; want 3, 13, 23 and a partial scan up to 24", ids, l.partial, l.next)
	}
	if ids := page(listQuery{State: FilterNeedsConsent, After: idOf(24)}); strings.Join(ids, ",") != idOf(33) || l.partial {
		t.Errorf("needs consent, on: %v partial %v; want 33 and the end", ids, l.partial)
	}
	if ids := page(listQuery{State: FilterExpiring, After: idOf(20)}); strings.Join(ids, ",") != idOf(27)+","+idOf(37) {
		t.Errorf("expiring: %v; want 27, 37", ids)
	}
	if ids := page(listQuery{Q: "zED", After: idOf(20)}); strings.Join(ids, ",") != idOf(41) {
		t.Errorf("search zED: %v; want 41 (user name, any case)", ids)
	}
	if ids := page(listQuery{Q: idOf(5)}); strings.Join(ids, ",") != idOf(5) {
		t.Errorf("search by id: %v; want 5", ids)
	}
	// Failing: what the Recorder saw fail, whatever the store's order.
	for _, i := range []int{30, 8} {
		f.rec.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshFailed, Account: idOf(i), Err: context.DeadlineExceeded})
	}
	if ids := page(listQuery{State: FilterFailing}); strings.Join(ids, ",") != idOf(8)+","+idOf(30) {
		t.Errorf("failing: %v; want 8, 30", ids)
	}

	// The page says what it did.
	b := f.client(t)
	_, html := b.get("/?state=needs_consent")
	for _, want := range []string{"Searched 25 sellers", `href="./?after=s-024&amp;state=needs_consent"`, "<option value=\"needs_consent\" selected>"} {
		if !strings.Contains(html, want) {
			t.Errorf("the filtered page lacks %q", want)
		}
	}
	if _, html := b.get("/?after=" + idOf(9)); !strings.Contains(html, `href="./">First page`) || !strings.Contains(html, `rel="next"`) {
		t.Error("page 2 lacks its First and Next links")
	}
}

func idOf(i int) string { return fmt.Sprintf("s-%03d", i) }
