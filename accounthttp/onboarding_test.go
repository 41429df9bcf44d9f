package accounthttp_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/accounthttp"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/internal/syncbuf"
)

// stateKey is the fixtures' OnboardingConfig.StateKey.
var stateKey = []byte("0123456789abcdef0123456789abcdef-state-key")

// onboarding is a fake eBay, a fake clock and an onboarding handler
// mounted under /sellers/ebay/ on a loopback server, with what Connect saw
// and what was logged.
type onboarding struct {
	ebay   *ebaytest.Server
	clock  *ebaytest.Clock
	base   string       // the handler's URL prefix, ending in "/"
	client *http.Client // trusts the handler's server, if it is HTTPS
	oauth  ebayauth.Config
	logs   *syncbuf.Buffer

	mu      sync.Mutex
	login   string   // the seller who consents on the fake's page; "" for its default
	codes   []string // what Connect was called with
	connect func(ctx context.Context, code string) (accounthttp.Seller, error)
}

// onboardingOptions adjust a fixture.
type onboardingOptions struct {
	tls      bool
	mount    func(h http.Handler) http.Handler // nil: a mux with the handler at /sellers/ebay/
	edit     func(*accounthttp.OnboardingConfig)
	basePath string // nil mount: "/sellers/ebay/"
}

func newOnboarding(t *testing.T, opt onboardingOptions) *onboarding {
	t.Helper()
	o := &onboarding{}
	o.ebay, o.clock = newEbay(t)
	logger, logs := newLogger()
	o.logs = logs
	o.oauth = ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret, RuName: ebaytest.RuName,
		Endpoint: o.ebay.Endpoint(), HTTPClient: o.ebay.Client(), Clock: o.clock,
		Scopes: []string{ebayauth.ScopeAPI, ebaytest.ScopeIdentity},
	}
	o.connect = o.exchange
	cfg := accounthttp.OnboardingConfig{
		ConsentURL: o.consentURL,
		Connect:    o.connectHook,
		StateKey:   stateKey,
		Clock:      o.clock,
		Logger:     logger,
	}
	if opt.edit != nil {
		opt.edit(&cfg)
	}
	h, err := accounthttp.NewOnboardingHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := opt.basePath
	mount := opt.mount
	if mount == nil {
		path = "/sellers/ebay/"
		mount = func(h http.Handler) http.Handler {
			mux := http.NewServeMux()
			mux.Handle(path, h)
			return mux
		}
	}
	ts := serve(t, opt.tls, func(string) http.Handler { return mount(h) })
	o.base, o.client = ts.URL+path, ts.Client()
	o.ebay.SetAcceptURL(o.base + "accept")
	t.Cleanup(func() {
		noSecrets(t, "log", o.logs.String(), string(stateKey), hex.EncodeToString(stateKey),
			base64.StdEncoding.EncodeToString(stateKey))
		for _, c := range o.seenCodes() {
			noSecrets(t, "log", o.logs.String(), c)
		}
	})
	return o
}

// consentURL is the handler's ConsentURL: eBay's consent page, as the
// seller o.login.
func (o *onboarding) consentURL(state string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.oauth.AuthCodeURL(state)
	if o.login != "" {
		u += "&login=" + url.QueryEscape(o.login)
	}
	return u
}

func (o *onboarding) setLogin(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.login = id
}

// connectHook records the code and calls o.connect.
func (o *onboarding) connectHook(ctx context.Context, code string) (accounthttp.Seller, error) {
	o.mu.Lock()
	o.codes = append(o.codes, code)
	connect := o.connect
	o.mu.Unlock()
	return connect(ctx, code)
}

func (o *onboarding) setConnect(f func(context.Context, string) (accounthttp.Seller, error)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.connect = f
}

func (o *onboarding) seenCodes() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.codes)
}

// exchange is the real Connect: trade the code, ask who the seller is.
func (o *onboarding) exchange(ctx context.Context, code string) (accounthttp.Seller, error) {
	tok, err := o.oauth.Exchange(ctx, code)
	if err != nil {
		return accounthttp.Seller{}, err
	}
	return getUser(ctx, o.ebay.Client(), o.ebay.URL, tok.AccessToken)
}

// isAccept stops a browser before the redirect to the handler's accept.
func (o *onboarding) isAccept(r *http.Request) bool {
	return strings.HasPrefix(r.URL.String(), o.base+"accept")
}

// acceptURL goes from connect through eBay's consent page and returns
// the accept URL eBay redirects the browser to, without visiting it.
func (o *onboarding) acceptURL(t *testing.T, b *browser) string {
	t.Helper()
	status, h, body := b.get(t, o.base+"connect", o.isAccept)
	if status != http.StatusFound {
		t.Fatalf("connect: got %d %q; want eBay's 302 to accept", status, body)
	}
	return h.Get("Location")
}

// cookie returns the onboarding cookie b holds for the handler, "" if none.
func (o *onboarding) cookie(t *testing.T, b *browser) string {
	t.Helper()
	u, err := url.Parse(o.base + "accept")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == accounthttp.DefaultCookieName {
			return c.Value
		}
	}
	return ""
}

// setCookie gives b the onboarding cookie value.
func (o *onboarding) setCookie(t *testing.T, b *browser, value string) {
	t.Helper()
	u, err := url.Parse(o.base)
	if err != nil {
		t.Fatal(err)
	}
	b.Jar.SetCookies(u, []*http.Cookie{{Name: accounthttp.DefaultCookieName, Value: value, Path: u.Path}})
}

func TestOnboardingFlow(t *testing.T) {
	tests := []struct {
		name  string
		login string
		want  []string // on the page
	}{
		{"default seller", "", []string{ebaytest.DefaultUsername, ebaytest.DefaultUserID, "EBAY_US"}},
		{"UK seller", gbSeller.ID, []string{"uk_shop", gbSeller.ID, "EBAY_GB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOnboarding(t, onboardingOptions{})
			o.setLogin(tt.login)
			b := newBrowser(t)
			status, h, body := b.get(t, o.base+"connect", nil)
			if status != http.StatusOK {
				t.Fatalf("got %d %q; want 200", status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page does not contain %q:\n%s", w, body)
				}
			}
			wantHeaders := map[string]string{
				"Content-Type":    "text/html; charset=utf-8",
				"Cache-Control":   "no-store",
				"Referrer-Policy": "no-referrer",
			}
			for k, v := range wantHeaders {
				if got := h.Get(k); got != v {
					t.Errorf("%s: got %q; want %q", k, got, v)
				}
			}
			if n := len(o.seenCodes()); n != 1 {
				t.Errorf("Connect called %d times; want 1", n)
			}
			if c := o.cookie(t, b); c != "" {
				t.Errorf("cookie still set after accept: %q", c)
			}
			noSecrets(t, "page", body, o.seenCodes()...)
		})
	}
}

func TestOnboardingRefusals(t *testing.T) {
	tests := []struct {
		name    string
		attack  func(t *testing.T, o *onboarding, b *browser, accept string) (*browser, string)
		wantLog string
	}{
		{"reused state", func(t *testing.T, o *onboarding, b *browser, accept string) (*browser, string) {
			secret := o.cookie(t, b)
			if status, _, body := b.get(t, accept, nil); status != 200 {
				t.Fatalf("first use: got %d %q; want 200", status, body)
			}
			o.setCookie(t, b, secret) // even with the cookie back
			return b, accept
		}, accounthttp.ErrStateUsed.Error()},
		{"expired state", func(t *testing.T, o *onboarding, b *browser, accept string) (*browser, string) {
			o.clock.Advance(accounthttp.StateLifetime)
			return b, accept
		}, accounthttp.ErrStateExpired.Error()},
		{"forged state", func(t *testing.T, o *onboarding, b *browser, accept string) (*browser, string) {
			u, _ := url.Parse(accept)
			q := u.Query()
			st := []byte(q.Get("state"))
			st[3] ^= 1
			q.Set("state", string(st))
			u.RawQuery = q.Encode()
			return b, u.String()
		}, accounthttp.ErrStateForged.Error()},
		{"state of the right length, unsigned", func(t *testing.T, o *onboarding, b *browser, accept string) (*browser, string) {
			u, _ := url.Parse(accept)
			q := u.Query()
			q.Set("state", strings.Repeat("A", len(q.Get("state"))))
			u.RawQuery = q.Encode()
			return b, u.String()
		}, accounthttp.ErrStateForged.Error()},
		{"no state", func(t *testing.T, o *onboarding, b *browser, accept string) (*browser, string) {
			u, _ := url.Parse(accept)
			q := u.Query()
			q.Del("state")
			u.RawQuery = q.Encode()
			return b, u.String()
		}, accounthttp.ErrStateForged.Error()},
		{"missing cookie (another browser)", func(t *testing.T, o *onboarding, _ *browser, accept string) (*browser, string) {
			return newBrowser(t), accept
		}, accounthttp.ErrNoStateCookie.Error()},
		{"another browser's cookie", func(t *testing.T, o *onboarding, _ *browser, accept string) (*browser, string) {
			other := newBrowser(t)
			o.acceptURL(t, other) // it started onboarding too
			return other, accept
		}, accounthttp.ErrStateForged.Error()},
		{"no code", func(t *testing.T, o *onboarding, b *browser, accept string) (*browser, string) {
			u, _ := url.Parse(accept)
			q := u.Query()
			q.Del("code")
			u.RawQuery = q.Encode()
			return b, u.String()
		}, "accept without code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOnboarding(t, onboardingOptions{})
			b := newBrowser(t)
			accept := o.acceptURL(t, b)
			b2, u := tt.attack(t, o, b, accept)
			before := len(o.seenCodes()) // the reuse attack used the state once
			status, _, body := b2.get(t, u, nil)
			if status != http.StatusBadRequest {
				t.Errorf("got %d; want 400", status)
			}
			if !strings.Contains(body, "start again") {
				t.Errorf("page does not tell the seller to start again:\n%s", body)
			}
			if n := len(o.seenCodes()); n != before {
				t.Errorf("Connect called %d times; want %d", n, before)
			}
			if !strings.Contains(o.logs.String(), tt.wantLog) {
				t.Errorf("log does not say %q:\n%s", tt.wantLog, o.logs)
			}
		})
	}
}

func TestOnboardingStateLifetime(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		want    int
	}{
		{"at once", 0, 200},
		{"just in time", accounthttp.StateLifetime - time.Millisecond, 200},
		{"too late", accounthttp.StateLifetime, 400},
		{"much too late", 24 * time.Hour, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOnboarding(t, onboardingOptions{})
			// eBay's code lives 299 s; this test is about the state only.
			o.setConnect(func(context.Context, string) (accounthttp.Seller, error) {
				return accounthttp.Seller{ID: "slow", Username: "slow_seller"}, nil
			})
			b := newBrowser(t)
			accept := o.acceptURL(t, b)
			o.clock.Advance(tt.advance)
			if status, _, body := b.get(t, accept, nil); status != tt.want {
				t.Errorf("got %d %q; want %d", status, body, tt.want)
			}
			wantConnect := 0
			if tt.want == 200 {
				wantConnect = 1
			}
			if n := len(o.seenCodes()); n != wantConnect {
				t.Errorf("Connect called %d times; want %d", n, wantConnect)
			}
		})
	}
}

func TestOnboardingConnectErrors(t *testing.T) {
	tests := []struct {
		name       string
		connect    func(o *onboarding) func(context.Context, string) (accounthttp.Seller, error)
		wantStatus int
		wantPage   string
	}{
		{"code expired at eBay", func(o *onboarding) func(context.Context, string) (accounthttp.Seller, error) {
			return func(ctx context.Context, code string) (accounthttp.Seller, error) {
				o.clock.Advance(ebaytest.CodeLifetime) // the seller dawdled
				return o.exchange(ctx, code)
			}
		}, 400, "did not accept the authorization"},
		{"store down", func(*onboarding) func(context.Context, string) (accounthttp.Seller, error) {
			return func(context.Context, string) (accounthttp.Seller, error) {
				return accounthttp.Seller{}, errors.New("account store unavailable")
			}
		}, 500, "try again later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOnboarding(t, onboardingOptions{})
			o.setConnect(tt.connect(o))
			status, _, body := newBrowser(t).get(t, o.base+"connect", nil)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantPage) {
				t.Errorf("got %d %q; want %d and a page saying %q", status, body, tt.wantStatus, tt.wantPage)
			}
			if strings.Contains(body, "unavailable") || strings.Contains(body, "invalid_grant") {
				t.Errorf("page shows the error's text:\n%s", body)
			}
		})
	}
}

// failingStates is a StateStore that is down.
type failingStates struct{}

func (failingStates) Use(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("redis: connection refused")
}

// recordingStates wraps a StateStore and records what it was asked.
type recordingStates struct {
	accounthttp.StateStore
	mu      sync.Mutex
	expires []time.Time
}

func (r *recordingStates) Use(ctx context.Context, id string, exp time.Time) (bool, error) {
	r.mu.Lock()
	r.expires = append(r.expires, exp)
	r.mu.Unlock()
	return r.StateStore.Use(ctx, id, exp)
}

func TestOnboardingStateStore(t *testing.T) {
	t.Run("down", func(t *testing.T) {
		o := newOnboarding(t, onboardingOptions{edit: func(c *accounthttp.OnboardingConfig) { c.States = failingStates{} }})
		status, _, _ := newBrowser(t).get(t, o.base+"connect", nil)
		if status != http.StatusServiceUnavailable {
			t.Errorf("got %d; want 503", status)
		}
		if n := len(o.seenCodes()); n != 0 {
			t.Errorf("Connect called %d times; want 0", n)
		}
	})
	t.Run("shared by two replicas", func(t *testing.T) {
		shared := &recordingStates{StateStore: accounthttp.NewMemoryStateStore(nil, 0)}
		a := newOnboarding(t, onboardingOptions{edit: func(c *accounthttp.OnboardingConfig) { c.States = shared }})
		start := a.clock.Now()
		b := newBrowser(t)
		accept := a.acceptURL(t, b)
		secret := a.cookie(t, b)
		if status, _, _ := b.get(t, accept, nil); status != 200 {
			t.Fatalf("replica A: got %d; want 200", status)
		}
		// Replica B: same key, same store, another process. The
		// replayed accept (with the cookie) is refused there too.
		replica := newOnboarding(t, onboardingOptions{edit: func(c *accounthttp.OnboardingConfig) { c.States = shared }})
		replica.setConnect(func(context.Context, string) (accounthttp.Seller, error) {
			return accounthttp.Seller{ID: "replayed"}, nil
		})
		other := strings.Replace(accept, a.base, replica.base, 1)
		replica.setCookie(t, b, secret)
		if status, _, _ := b.get(t, other, nil); status != 400 {
			t.Errorf("replica B: got %d; want 400", status)
		}
		if n := len(replica.seenCodes()); n != 0 {
			t.Errorf("replica B called Connect %d times; want 0", n)
		}
		shared.mu.Lock()
		defer shared.mu.Unlock()
		if len(shared.expires) != 2 {
			t.Fatalf("StateStore.Use called %d times; want 2", len(shared.expires))
		}
		if d := shared.expires[0].Sub(start); d > accounthttp.StateLifetime || d <= accounthttp.StateLifetime-time.Millisecond {
			t.Errorf("state expires %v after connect; want %v", d, accounthttp.StateLifetime)
		}
	})
}

func TestOnboardingDeclined(t *testing.T) {
	o := newOnboarding(t, onboardingOptions{})
	b := newBrowser(t)
	o.acceptURL(t, b) // the seller went to eBay and said no
	status, _, body := b.get(t, o.base+"declined", nil)
	if status != http.StatusOK || !strings.Contains(body, "declined") || !strings.Contains(body, `href="connect"`) {
		t.Errorf("got %d %q; want 200, a page saying declined, linking to connect", status, body)
	}
	if c := o.cookie(t, b); c != "" {
		t.Errorf("cookie still set after declined: %q", c)
	}
	if n := len(o.seenCodes()); n != 0 {
		t.Errorf("Connect called %d times; want 0", n)
	}
	// The link starts again.
	if status, _, body := b.get(t, o.base+"connect", nil); status != 200 || !strings.Contains(body, ebaytest.DefaultUsername) {
		t.Errorf("after declining, connect: got %d %q", status, body)
	}
}

func TestOnboardingRoutes(t *testing.T) {
	o := newOnboarding(t, onboardingOptions{})
	tests := []struct {
		method, path string
		want         int
		wantAllow    string
	}{
		{http.MethodPost, "connect", 405, "GET, HEAD"},
		{http.MethodPut, "accept", 405, "GET, HEAD"},
		{http.MethodGet, "nope", 404, ""},
		{http.MethodGet, "", 404, ""},
		{http.MethodGet, "declined", 200, ""},
		{http.MethodHead, "declined", 200, ""},
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, o.base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want || resp.Header.Get("Allow") != tt.wantAllow {
				t.Errorf("got %d Allow %q; want %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"), tt.want, tt.wantAllow)
			}
		})
	}
}

func TestOnboardingCookie(t *testing.T) {
	tests := []struct {
		name        string
		opt         onboardingOptions
		header      http.Header
		wantPath    string
		wantSecure  bool
		wantName    string
		wantConnect bool // the whole flow works with a real browser
	}{
		{"plain HTTP", onboardingOptions{}, nil, "/sellers/ebay", false, accounthttp.DefaultCookieName, true},
		{"HTTPS", onboardingOptions{tls: true}, nil, "/sellers/ebay", true, accounthttp.DefaultCookieName, false},
		{"behind a TLS proxy", onboardingOptions{}, http.Header{"X-Forwarded-Proto": {"https"}}, "/sellers/ebay", true, accounthttp.DefaultCookieName, false},
		{"StripPrefix", onboardingOptions{basePath: "/p/", mount: func(h http.Handler) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("/p/", http.StripPrefix("/p", h))
			return mux
		}}, nil, "/p", false, accounthttp.DefaultCookieName, true},
		{"at the root", onboardingOptions{basePath: "/", mount: func(h http.Handler) http.Handler { return h }},
			nil, "/", false, accounthttp.DefaultCookieName, true},
		{"configured", onboardingOptions{edit: func(c *accounthttp.OnboardingConfig) {
			c.CookieName, c.CookiePath = "ebay_state", "/"
		}}, nil, "/", false, "ebay_state", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOnboarding(t, tt.opt)
			req, err := http.NewRequest(http.MethodGet, o.base+"connect", nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := o.client.Transport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), o.ebay.Endpoint().AuthURL+"?") {
				t.Fatalf("got %d to %q; want 302 to eBay's consent page", resp.StatusCode, resp.Header.Get("Location"))
			}
			cs := resp.Cookies()
			if len(cs) != 1 {
				t.Fatalf("got %d cookies; want 1", len(cs))
			}
			c := cs[0]
			if c.Name != tt.wantName || c.Path != tt.wantPath || c.MaxAge != 600 || !c.HttpOnly ||
				c.SameSite != http.SameSiteLaxMode || c.Secure != tt.wantSecure || c.Domain != "" {
				t.Errorf("cookie: got %s; want %s, Path=%s, Max-Age=600, HttpOnly, SameSite=Lax, Secure %v, no Domain",
					c, tt.wantName, tt.wantPath, tt.wantSecure)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if state := loc.Query().Get("state"); state == "" || strings.Contains(state, c.Value) {
				t.Errorf("state %q is empty or holds the cookie's secret", state)
			}
			if tt.wantConnect {
				if status, _, body := newBrowser(t).get(t, o.base+"connect", nil); status != 200 {
					t.Errorf("flow: got %d %q; want 200", status, body)
				}
			}
		})
	}
}

func TestOnboardingPages(t *testing.T) {
	custom := template.Must(template.New("x").Parse(
		`{{define "connected"}}HELLO {{.Seller.Username}}{{end}}{{define "declined"}}NO{{end}}{{define "failed"}}OOPS {{.Problem}}{{end}}`))
	t.Run("custom", func(t *testing.T) {
		o := newOnboarding(t, onboardingOptions{edit: func(c *accounthttp.OnboardingConfig) { c.Pages = custom }})
		if _, _, body := newBrowser(t).get(t, o.base+"connect", nil); body != "HELLO "+ebaytest.DefaultUsername {
			t.Errorf("got %q; want %q", body, "HELLO "+ebaytest.DefaultUsername)
		}
	})
	t.Run("escaped", func(t *testing.T) {
		o := newOnboarding(t, onboardingOptions{})
		o.ebay.AddUser(ebaytest.User{ID: "x1", Username: `<script>alert(1)</script>`})
		o.setLogin("x1")
		_, _, body := newBrowser(t).get(t, o.base+"connect", nil)
		if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("user name not escaped:\n%s", body)
		}
	})
}

func TestOnboardingConfig(t *testing.T) {
	good := func() accounthttp.OnboardingConfig {
		return accounthttp.OnboardingConfig{
			ConsentURL: func(string) string { return "https://auth.ebay.com/oauth2/authorize" },
			Connect:    func(context.Context, string) (accounthttp.Seller, error) { return accounthttp.Seller{}, nil },
			StateKey:   stateKey,
		}
	}
	tests := []struct {
		name      string
		edit      func(*accounthttp.OnboardingConfig)
		wantField string
	}{
		{"valid", func(*accounthttp.OnboardingConfig) {}, ""},
		{"no ConsentURL", func(c *accounthttp.OnboardingConfig) { c.ConsentURL = nil }, "ConsentURL"},
		{"no Connect", func(c *accounthttp.OnboardingConfig) { c.Connect = nil }, "Connect"},
		{"no StateKey", func(c *accounthttp.OnboardingConfig) { c.StateKey = nil }, "StateKey"},
		{"StateKey of 31 bytes", func(c *accounthttp.OnboardingConfig) { c.StateKey = stateKey[:31] }, "StateKey"},
		{"StateKey of 32 bytes", func(c *accounthttp.OnboardingConfig) { c.StateKey = stateKey[:32] }, ""},
		{"bad CookieName", func(c *accounthttp.OnboardingConfig) { c.CookieName = "a b" }, "CookieName"},
		{"relative CookiePath", func(c *accounthttp.OnboardingConfig) { c.CookiePath = "ebay" }, "CookiePath"},
		{"Pages without failed", func(c *accounthttp.OnboardingConfig) {
			c.Pages = template.Must(template.New("x").Parse(`{{define "connected"}}{{end}}{{define "declined"}}{{end}}`))
		}, "Pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.edit(&cfg)
			h, err := accounthttp.NewOnboardingHandler(cfg)
			if tt.wantField == "" {
				if err != nil || h == nil {
					t.Fatalf("got %v; want a handler", err)
				}
				return
			}
			var ce *accounthttp.ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.wantField {
				t.Fatalf("got %v; want a ConfigError for %s", err, tt.wantField)
			}
			if want := "accounthttp: OnboardingConfig." + tt.wantField; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("got %q; want it to start %q", err, want)
			}
			noSecrets(t, "error", err.Error(), string(cfg.StateKey))
		})
	}
}

func TestStateErrors(t *testing.T) {
	for _, err := range []error{accounthttp.ErrStateForged, accounthttp.ErrStateExpired, accounthttp.ErrStateUsed, accounthttp.ErrNoStateCookie} {
		t.Run(err.Error(), func(t *testing.T) {
			if !errors.Is(err, accounthttp.ErrState) {
				t.Errorf("%v does not match ErrState", err)
			}
			if !strings.HasPrefix(err.Error(), "accounthttp: ") {
				t.Errorf("%q lacks the package prefix", err)
			}
		})
	}
}

func TestMemoryStateStore(t *testing.T) {
	clock := ebaytest.NewClock(time.Now())
	s := accounthttp.NewMemoryStateStore(clock, 3)
	ctx := context.Background()
	use := func(id string, ttl time.Duration) bool {
		t.Helper()
		first, err := s.Use(ctx, id, clock.Now().Add(ttl))
		if err != nil {
			t.Fatal(err)
		}
		return first
	}
	steps := []struct {
		name    string
		advance time.Duration
		id      string
		ttl     time.Duration
		want    bool
		wantLen int
	}{
		{"first use", 0, "a", 10 * time.Minute, true, 1},
		{"second use", 0, "a", 10 * time.Minute, false, 1},
		{"another", time.Minute, "b", 10 * time.Minute, true, 2},
		{"a third", time.Minute, "c", 10 * time.Minute, true, 3},
		{"full: the oldest goes", 0, "d", 10 * time.Minute, true, 3},
		{"the oldest, forgotten early", 0, "a", 10 * time.Minute, true, 3},
		{"c is still remembered", 0, "c", 10 * time.Minute, false, 3},
		{"expired entries are forgotten", 11 * time.Minute, "e", 10 * time.Minute, true, 1},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		if got := use(st.id, st.ttl); got != st.want {
			t.Errorf("%s: Use(%q) = %v; want %v", st.name, st.id, got, st.want)
		}
		if got := s.Len(); got != st.wantLen {
			t.Errorf("%s: Len = %d; want %d", st.name, got, st.wantLen)
		}
	}
}
