package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/ebayauth/ebayauth"
)

// Defaults of Config's zero values.
const (
	DefaultPageSize        = 50
	DefaultScanLimit       = 10000
	DefaultPollInterval    = 5 * time.Second
	DefaultSessionLifetime = 12 * time.Hour
	maxPageSize            = 500
	actionTimeout          = 30 * time.Second // bounds a Refresh now or Validate
	readTimeout            = 10 * time.Second // bounds the reads behind one page
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures New. At least one of Manager and Accounts is
// required; the zero value of every other field means what its comment
// says. It is read by New and not retained.
type Config struct {
	// Manager is the single token to show, as serve keeps it. Nil: none.
	Manager *ebayauth.Manager
	// Accounts are the sellers to show, one row each, listed from
	// AccountStore (which is required with Accounts: Accounts cannot list
	// its sellers). Nil: no sellers table.
	Accounts     *ebayauth.Accounts
	AccountStore ebayauth.AccountStore
	// Recorder is what the Managers reported (put Recorder.Observe in
	// their Config.OnEvent). Nil: a Recorder that sees nothing, so the
	// timeline, chart and gauges stay empty.
	Recorder *Recorder
	// AdminSecret, if set, must be given on the console's login form
	// before anything is shown or done; sessions last SessionLifetime. At
	// least MinAdminSecret bytes. Empty: no login, and only requests from
	// loopback addresses are answered (others get 403): serve refuses to
	// listen beyond loopback without it.
	AdminSecret []byte
	// SessionLifetime is how long a session cookie lasts. Zero: 12 hours.
	SessionLifetime time.Duration
	// CookieName and CookiePath name the session cookie and its Path.
	// Zero: DefaultCookieName and "/".
	CookieName, CookiePath string
	// PageSize is how many sellers a page shows. Zero: 50; at most 500.
	PageSize int
	// ScanLimit bounds how many accounts one page reads from AccountStore
	// while filtering or searching; past it the page shows what it found
	// and links to the rest of the scan. Zero: 10,000.
	ScanLimit int
	// PollInterval is how often the page's script asks for fresh state.
	// Zero: 5 s; negative: never (the page still reads right on reload).
	PollInterval time.Duration
	// ConsentURL returns the consent link copied for a seller who must
	// consent again. Nil: Accounts.AuthCodeURL with no state; set it when
	// the app's accept handler wants a state of its own.
	ConsentURL func(accountID string) string
	// Title heads every page. Zero: "eBay tokens".
	Title string
	// Clock tells time for the page (time left, "ago") and sessions. Nil:
	// the system clock. Give it the Managers' clock.
	Clock ebayauth.Clock
	// Logger receives the console's logs. Nil: slog.Default().
	Logger *slog.Logger
}

// Console is the token console: an http.Handler of server-rendered pages
// over the Manager's and the sellers' Status, with Refresh now and
// Validate buttons; see the package doc for its routes. It is safe for
// concurrent use.
type Console struct {
	m          *ebayauth.Manager
	accts      *ebayauth.Accounts
	store      ebayauth.AccountStore
	rec        *Recorder
	secret     []byte
	key        []byte // signs sessions and CSRF tokens; random per Console
	now        func() time.Time
	pageSize   int
	scanLimit  int
	poll       time.Duration
	lifetime   time.Duration
	cookieName string
	cookiePath string
	consentURL func(string) string
	title      string
	log        *slog.Logger
	cop        *http.CrossOriginProtection
	logins     *rate.Limiter
	tmpl       *template.Template
	mux        *http.ServeMux
}

var _ http.Handler = (*Console)(nil)

// New returns the Console of cfg, or an error naming the field of cfg it
// refuses.
func New(cfg Config) (*Console, error) {
	switch {
	case cfg.Manager == nil && cfg.Accounts == nil:
		return nil, errors.New("console: Config has neither Manager nor Accounts: nothing to show")
	case cfg.Accounts != nil && cfg.AccountStore == nil:
		return nil, errors.New("console: Config.Accounts needs Config.AccountStore, to list the sellers")
	case len(cfg.AdminSecret) > 0 && len(cfg.AdminSecret) < MinAdminSecret:
		return nil, fmt.Errorf("console: Config.AdminSecret is shorter than %d bytes", MinAdminSecret)
	case cfg.PageSize < 0 || cfg.PageSize > maxPageSize:
		return nil, fmt.Errorf("console: Config.PageSize %d is not within 0..%d", cfg.PageSize, maxPageSize)
	case cfg.ScanLimit < 0 || cfg.SessionLifetime < 0:
		return nil, errors.New("console: Config.ScanLimit and Config.SessionLifetime may not be negative")
	}
	c := &Console{
		m: cfg.Manager, accts: cfg.Accounts, store: cfg.AccountStore, rec: cfg.Recorder,
		secret: bytes.Clone(cfg.AdminSecret), key: make([]byte, 32), now: time.Now,
		pageSize: cfg.PageSize, scanLimit: cfg.ScanLimit, poll: cfg.PollInterval, lifetime: cfg.SessionLifetime,
		cookieName: cfg.CookieName, cookiePath: cfg.CookiePath, consentURL: cfg.ConsentURL, title: cfg.Title,
		log: cfg.Logger, cop: http.NewCrossOriginProtection(),
		logins: rate.NewLimiter(rate.Every(time.Second), 5),
	}
	rand.Read(c.key) // never fails since Go 1.24
	if cfg.Clock != nil {
		c.now = cfg.Clock.Now
	}
	if c.rec == nil {
		c.rec = NewRecorder(RecorderConfig{Clock: cfg.Clock})
	}
	if c.pageSize == 0 {
		c.pageSize = DefaultPageSize
	}
	if c.scanLimit == 0 {
		c.scanLimit = DefaultScanLimit
	}
	if c.poll == 0 {
		c.poll = DefaultPollInterval
	}
	if c.lifetime == 0 {
		c.lifetime = DefaultSessionLifetime
	}
	if c.cookieName == "" {
		c.cookieName = DefaultCookieName
	}
	if c.cookiePath == "" {
		c.cookiePath = "/"
	}
	if c.title == "" {
		c.title = "eBay tokens"
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.consentURL == nil && c.accts != nil {
		c.consentURL = func(string) string { return c.accts.AuthCodeURL("") }
	}
	var err error
	c.tmpl, err = template.New("console").Funcs(template.FuncMap{"tone": toneClass, "card": newCardData, "bar": newBarData, "path": url.PathEscape}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	static, _ := fs.Sub(staticFS, "static")

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", c.page(c.serveOverview))
	mux.HandleFunc("GET /sellers/{id}", c.page(c.serveSeller))
	mux.HandleFunc("GET /api/state", c.api(c.serveState))
	mux.HandleFunc("GET /chart.svg", c.api(c.serveChart))
	mux.HandleFunc("POST /refresh", c.mutation(c.doRefresh))
	mux.HandleFunc("POST /validate", c.mutation(c.doValidate))
	mux.HandleFunc("GET /login", c.serveLogin)
	mux.HandleFunc("POST /login", c.doLogin)
	mux.HandleFunc("POST /logout", c.doLogout)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	c.mux = mux
	return c, nil
}

// securityHeaders are set on every answer: nothing but the console's own
// scripts, styles and images runs or loads, no framing, no referrer.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options":        "DENY",
	"Referrer-Policy":        "no-referrer",
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range securityHeaders {
		w.Header().Set(k, v)
	}
	if len(c.secret) == 0 && !remoteLoopback(r) {
		http.Error(w, "The token console answers loopback clients only unless an admin secret is configured.", http.StatusForbidden)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// page wraps a page handler: without a logged-in session it shows the
// login form instead.
func (c *Console) page(h func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := c.session(w, r)
		if !s.authed {
			c.renderLogin(w, r, s, http.StatusOK, "")
			return
		}
		h(w, r, s)
	}
}

// api wraps a handler of data (JSON, the chart): 401 without a logged-in
// session.
func (c *Console) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s, ok := c.cookieSession(r); len(c.secret) > 0 && (!ok || !s.authed) {
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

// cookieSession returns the request's session without starting one.
func (c *Console) cookieSession(r *http.Request) (session, bool) {
	ck, err := r.Cookie(c.cookieName)
	if err != nil {
		return session{}, false
	}
	return c.open(ck.Value)
}

// actionResult is the answer to a POST asked for as JSON (by the page's
// script).
type actionResult struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// mutation wraps an action: it refuses cross-origin requests, requests
// without the session's CSRF token, and sessions not logged in; then runs
// the action and answers JSON to the page's script, or redirects back to
// the page (303) with a notice code when the browser posted the form
// itself.
func (c *Console) mutation(act func(ctx context.Context, r *http.Request) (actionResult, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		s, ok := c.cookieSession(r)
		if why := c.checkMutation(r, s, ok); why != "" {
			c.log.Warn("console: refused a request", slog.String("path", r.URL.Path), slog.String("why", why))
			http.Error(w, "Forbidden: "+why, http.StatusForbidden)
			return
		}
		if !s.authed {
			http.Error(w, "Forbidden: log in first", http.StatusForbidden)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
		defer cancel()
		res, code := act(ctx, r)
		if wantsJSON(r) {
			writeJSON(w, http.StatusOK, res)
			return
		}
		ret := cleanReturn(r.PostFormValue("return"))
		sep := "?"
		if strings.Contains(ret, "?") {
			sep = "&"
		}
		w.Header().Set("Location", "./"+ret+sep+"done="+code)
		w.WriteHeader(http.StatusSeeOther)
	}
}

// wantsJSON reports whether the page's script made the request.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// cleanReturn accepts a page of the console, relative to its root, as the
// place to go back to after a form; anything else is the overview.
func cleanReturn(ret string) string {
	u, err := url.Parse(ret)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(ret, "/") ||
		strings.Contains(ret, `\`) || strings.Contains(u.Path, "..") {
		return ""
	}
	if u.Path != "" && !strings.HasPrefix(u.Path, "sellers/") {
		return ""
	}
	return u.String()
}

// notices are the words for the done= code of a page reached after a
// form posted without script.
var notices = map[string][2]string{
	"refreshed":         {"A new token was minted.", toneOK},
	"refresh_failed":    {"The refresh failed: see the last error.", toneBad},
	"validated":         {"eBay accepts the token.", toneOK},
	"validation_failed": {"The validation failed: see the last validation.", toneBad},
	"consent_needed":    {"The seller must consent again: copy the consent link.", toneBad},
	"unknown_seller":    {"There is no such seller.", toneBad},
}

// doRefresh is Refresh now: it mints a new token for the single token or
// the seller in the account field.
func (c *Console) doRefresh(ctx context.Context, r *http.Request) (actionResult, string) {
	m, res, code := c.target(ctx, r.PostFormValue("account"))
	if m == nil {
		return res, code
	}
	tok, err := m.ForceRefresh(ctx)
	if err != nil {
		c.log.Warn("console: Refresh now failed", slog.String("account", r.PostFormValue("account")), slog.String("error", err.Error()))
		if errors.Is(err, ebayauth.ErrInvalidGrant) {
			return actionResult{Message: "eBay refused the refresh token: the seller must consent again."}, "consent_needed"
		}
		return actionResult{Message: "Refresh failed: " + err.Error()}, "refresh_failed"
	}
	return actionResult{OK: true, Message: "New token minted: " + tok.Fingerprint() + "."}, "refreshed"
}

// doValidate is Validate: it asks eBay whether the token works.
func (c *Console) doValidate(ctx context.Context, r *http.Request) (actionResult, string) {
	m, res, code := c.target(ctx, r.PostFormValue("account"))
	if m == nil {
		return res, code
	}
	if err := m.Validate(ctx); err != nil {
		return actionResult{Message: "Validation failed: " + err.Error()}, "validation_failed"
	}
	return actionResult{OK: true, Message: "eBay accepts the token."}, "validated"
}

// target is the Manager an action is for: the seller's, or the single
// token's if account is empty. If there is none it returns why.
func (c *Console) target(ctx context.Context, account string) (*ebayauth.Manager, actionResult, string) {
	if account == "" {
		if c.m == nil {
			return nil, actionResult{Message: "There is no single token here: pick a seller."}, "unknown_seller"
		}
		return c.m, actionResult{}, ""
	}
	if c.accts == nil {
		return nil, actionResult{Message: "There are no sellers here."}, "unknown_seller"
	}
	m, err := c.accts.Manager(ctx, account)
	switch {
	case errors.Is(err, ebayauth.ErrConsentRequired):
		return nil, actionResult{Message: "The seller must consent again first: copy the consent link."}, "consent_needed"
	case errors.Is(err, ebayauth.ErrNotFound):
		return nil, actionResult{Message: "There is no such seller."}, "unknown_seller"
	case err != nil:
		return nil, actionResult{Message: err.Error()}, "refresh_failed"
	}
	return m, actionResult{}, ""
}

// serveLogin shows the login form (or, logged in, goes to the overview).
func (c *Console) serveLogin(w http.ResponseWriter, r *http.Request) {
	s := c.session(w, r)
	if s.authed {
		w.Header().Set("Location", "./")
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	c.renderLogin(w, r, s, http.StatusOK, "")
}

// doLogin checks the admin secret and starts a logged-in session.
func (c *Console) doLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	s, ok := c.cookieSession(r)
	if why := c.checkMutation(r, s, ok); why != "" {
		http.Error(w, "Forbidden: "+why, http.StatusForbidden)
		return
	}
	if len(c.secret) == 0 {
		w.Header().Set("Location", "./")
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	if !c.logins.AllowN(c.now(), 1) {
		c.renderLogin(w, r, s, http.StatusTooManyRequests, "Too many attempts: wait a few seconds.")
		return
	}
	if !c.secretOK(r.PostFormValue("secret")) {
		c.log.Warn("console: failed login", slog.String("remote", r.RemoteAddr))
		c.renderLogin(w, r, s, http.StatusUnauthorized, "That is not the admin secret.")
		return
	}
	c.setCookie(w, r, c.newSession(true)) // a new id: no session fixation
	w.Header().Set("Location", "./")
	w.WriteHeader(http.StatusSeeOther)
}

// doLogout ends the session.
func (c *Console) doLogout(w http.ResponseWriter, r *http.Request) {
	s, ok := c.cookieSession(r)
	if why := c.checkMutation(r, s, ok); why != "" {
		http.Error(w, "Forbidden: "+why, http.StatusForbidden)
		return
	}
	c.setCookie(w, r, session{})
	w.Header().Set("Location", "login")
	w.WriteHeader(http.StatusSeeOther)
}

// loginData is what the login page is rendered with.
type loginData struct {
	Title, Base, CSRF, Problem string
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, s session, status int, problem string) {
	c.render(w, status, "login", loginData{Title: c.title, Base: base(r), CSRF: c.csrf(s), Problem: problem})
}

// render executes the template name into a buffer, then answers.
func (c *Console) render(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := c.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		c.log.Error("console: rendering a page", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// base is the way from the request's page back to the console's root,
// as a relative URL, so that the console works under any prefix.
func base(r *http.Request) string {
	depth := strings.Count(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if depth == 0 {
		return "./"
	}
	return strings.Repeat("../", depth)
}

// cardData is what the card, actions and consent templates render: a
// token in its page.
type cardData struct {
	P     *pageData
	V     *tokenView
	Scope string // what of the polled JSON updates it: "token" or "seller"
}

func newCardData(p *pageData, v any) cardData {
	d := cardData{P: p, Scope: "token"}
	switch v := v.(type) {
	case *tokenView:
		d.V = v
	case tokenView:
		d.V = &v
	}
	if d.V.Account != "" {
		d.Scope = "seller"
	}
	return d
}

// barData is a bar of the bar template: pct filled in tone, and the
// fields of the polled JSON that update it.
type barData struct {
	Pct          int
	Tone         string
	Key, ToneKey string
}

func newBarData(pct int, tone, key, toneKey string) barData { return barData{pct, tone, key, toneKey} }

// toneClass is the CSS class of a tone.
func toneClass(tone string) string { return "tone-" + tone }
