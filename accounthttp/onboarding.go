package accounthttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ebayauth/ebayauth"
)

// DefaultCookieName is the onboarding cookie's name unless
// OnboardingConfig.CookieName says otherwise.
const DefaultCookieName = "ebayauth_onboarding"

// MinStateKey is the shortest OnboardingConfig.StateKey accepted, in bytes.
const MinStateKey = 32

// Seller is an eBay account that connected to the app, as Connect found it
// (typically from the Identity API's getUser).
type Seller struct {
	ID          string // eBay's immutable userId: key accounts by it
	Username    string // the eBay user name, which the seller can change
	Marketplace string // registrationMarketplaceId, e.g. "EBAY_GB"
}

// OnboardingConfig configures NewOnboardingHandler. ConsentURL, Connect
// and StateKey are required; the zero value of every other field means
// what its comment says. It is read by NewOnboardingHandler and not
// retained.
type OnboardingConfig struct {
	// ConsentURL returns the URL of eBay's consent page carrying state,
	// for instance ebayauth.Config.AuthCodeURL with scopes that include
	// commerce.identity.readonly, so Connect can learn who consented.
	ConsentURL func(state string) string
	// Connect trades the authorization code eBay sent back for the
	// seller's tokens (ebayauth.Config.Exchange), asks the Identity API
	// who the seller is and stores the account. It is called at most once
	// per state. An error matching ebayauth.ErrInvalidGrant (the code
	// expired or was used) shows the seller a 400 page, any other a 500
	// page; neither shows the error's text.
	Connect func(ctx context.Context, code string) (Seller, error)
	// StateKey signs states with HMAC-SHA256: at least MinStateKey random
	// bytes, the same on every replica, kept secret. Changing it voids the
	// states of onboardings under way.
	StateKey []byte
	// States remembers used states so that each works once. Nil: a
	// MemoryStateStore of DefaultStateLimit states in this process, which
	// a fleet of replicas does not share: there, a state used on one
	// replica could be used once more on another within StateLifetime
	// (still only by the same browser, and eBay accepts each code once).
	// Give a shared StateStore to close that.
	States StateStore
	// CookieName names the cookie that binds a state to the browser.
	// Zero: DefaultCookieName.
	CookieName string
	// CookiePath is the cookie's Path. Zero: the directory of the path
	// the browser asked for, so that the cookie set at /prefix/connect is
	// sent to /prefix/accept (also under http.StripPrefix). Set it if a
	// proxy rewrites paths.
	CookiePath string
	// Pages renders the pages; it must define the templates "connected",
	// "declined" and "failed", executed with a Page. Nil: plain built-in
	// pages.
	Pages *template.Template
	// Clock tells time: states expire StateLifetime after /connect by it.
	// Nil: the system clock.
	Clock ebayauth.Clock
	// Logger receives the handler's logs. Nil: slog.Default().
	Logger *slog.Logger
}

// Page is what the onboarding pages are rendered with.
type Page struct {
	// Seller is who connected ("connected" only).
	Seller Seller
	// Problem says what went wrong in words fit for the seller ("failed"
	// only). It never holds a secret or an error's text.
	Problem string
	// ConnectPath links to the start of onboarding, relative to the
	// page: "connect".
	ConnectPath string
}

// onboardingHandler is the http.Handler NewOnboardingHandler returns.
type onboardingHandler struct {
	consentURL func(string) string
	connect    func(context.Context, string) (Seller, error)
	signer     *stateSigner
	states     StateStore
	cookieName string
	cookiePath string
	pages      *template.Template
	log        *slog.Logger
}

// NewOnboardingHandler returns the handler of the pages a seller passes
// through to connect an eBay account. It answers GET (and HEAD) on the last
// element of the request path, so it can be mounted under any prefix, with
// or without http.StripPrefix:
//
//   - connect: sets a cookie holding a random browser secret (HttpOnly,
//     SameSite=Lax so that it survives eBay's redirect back, Secure when
//     the request came over HTTPS or X-Forwarded-Proto says https, gone
//     after StateLifetime) and redirects (302) to ConsentURL(state). The
//     state is HMAC-signed with StateKey over a nonce, its expiry and the
//     browser secret.
//   - accept: eBay's redirect back, ?code=…&state=…. A state that is
//     forged, from another browser, expired (StateLifetime after connect,
//     by Clock) or used before, or a missing cookie, is answered 400
//     without calling Connect. Otherwise the state is used up, the cookie
//     cleared, and Connect called with the code; the page names the
//     seller.
//   - declined: where eBay sends a seller who declines; the page says so.
//
// Register the absolute URLs of accept and declined at eBay (the RuName's
// "auth accepted" and "auth declined" URLs). Other paths are answered 404,
// other methods 405. The handler is safe for concurrent use.
func NewOnboardingHandler(cfg OnboardingConfig) (http.Handler, error) {
	bad := func(field, problem string) (http.Handler, error) {
		return nil, &ConfigError{Config: "OnboardingConfig", Field: field, Problem: problem}
	}
	switch {
	case cfg.ConsentURL == nil:
		return bad("ConsentURL", "is nil")
	case cfg.Connect == nil:
		return bad("Connect", "is nil")
	case len(cfg.StateKey) < MinStateKey:
		return bad("StateKey", fmt.Sprintf("is %d bytes; at least %d random bytes are needed", len(cfg.StateKey), MinStateKey))
	}
	name := cfg.CookieName
	if name == "" {
		name = DefaultCookieName
	}
	if err := (&http.Cookie{Name: name, Value: "x"}).Valid(); err != nil {
		return bad("CookieName", fmt.Sprintf("%q is not a cookie name", name))
	}
	if cfg.CookiePath != "" && (!strings.HasPrefix(cfg.CookiePath, "/") || strings.ContainsAny(cfg.CookiePath, ";\r\n")) {
		return bad("CookiePath", fmt.Sprintf("%q is not an absolute path", cfg.CookiePath))
	}
	pages := cfg.Pages
	if pages == nil {
		pages = defaultPages
	}
	for _, t := range []string{"connected", "declined", "failed"} {
		if pages.Lookup(t) == nil {
			return bad("Pages", fmt.Sprintf("defines no %q template", t))
		}
	}
	clock := cfg.Clock
	if clock == nil {
		clock = systemClock{}
	}
	states := cfg.States
	if states == nil {
		states = NewMemoryStateStore(clock, DefaultStateLimit)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &onboardingHandler{
		consentURL: cfg.ConsentURL,
		connect:    cfg.Connect,
		signer:     &stateSigner{key: slices.Clone(cfg.StateKey), now: clock.Now},
		states:     states,
		cookieName: name,
		cookiePath: cfg.CookiePath,
		pages:      pages,
		log:        log,
	}, nil
}

func (h *onboardingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed)
		return
	}
	switch path.Base(r.URL.Path) {
	case "connect":
		h.serveConnect(w, r)
	case "accept":
		h.serveAccept(w, r)
	case "declined":
		h.setCookie(w, r, "", -1)
		h.render(w, http.StatusOK, "declined", Page{})
	default:
		http.NotFound(w, r)
	}
}

// serveConnect starts onboarding: cookie, state, off to eBay.
func (h *onboardingHandler) serveConnect(w http.ResponseWriter, r *http.Request) {
	state, secret, _ := h.signer.issue()
	h.setCookie(w, r, secret, int(StateLifetime/time.Second))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.consentURL(state), http.StatusFound)
}

// Problems shown to the seller, by cause.
const (
	problemState   = "This sign-in link is not valid in this browser, has expired or was already used. Please start again."
	problemNoCode  = "eBay sent no authorization code. Please start again."
	problemGrant   = "eBay did not accept the authorization: it may have expired or been used already. Please start again."
	problemConnect = "Your eBay account could not be connected just now. Please try again later."
	problemBusy    = "Sign-in is unavailable just now. Please try again later."
)

// serveAccept finishes onboarding: checks the state, calls Connect.
func (h *onboardingHandler) serveAccept(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var secret string
	if c, err := r.Cookie(h.cookieName); err == nil {
		secret = c.Value
	}
	id, expires, err := h.signer.check(q.Get("state"), secret)
	if err != nil {
		h.log.Warn("accounthttp: onboarding refused", "err", err)
		h.fail(w, http.StatusBadRequest, problemState)
		return
	}
	code := q.Get("code")
	if code == "" {
		h.log.Warn("accounthttp: onboarding refused", "reason", "accept without code")
		h.fail(w, http.StatusBadRequest, problemNoCode)
		return
	}
	first, err := h.states.Use(r.Context(), id, expires)
	if err != nil {
		h.log.Error("accounthttp: StateStore failed", "err", err)
		h.fail(w, http.StatusServiceUnavailable, problemBusy)
		return
	}
	if !first {
		h.log.Warn("accounthttp: onboarding refused", "err", ErrStateUsed)
		h.fail(w, http.StatusBadRequest, problemState)
		return
	}
	h.setCookie(w, r, "", -1)
	seller, err := h.connect(r.Context(), code)
	if err != nil {
		if errors.Is(err, ebayauth.ErrInvalidGrant) {
			h.log.Warn("accounthttp: eBay refused the authorization code", "err", err)
			h.fail(w, http.StatusBadRequest, problemGrant)
			return
		}
		h.log.Error("accounthttp: Connect failed", "err", err)
		h.fail(w, http.StatusInternalServerError, problemConnect)
		return
	}
	h.log.Info("accounthttp: seller connected", "user_id", seller.ID, "marketplace", seller.Marketplace)
	h.render(w, http.StatusOK, "connected", Page{Seller: seller})
}

func (h *onboardingHandler) fail(w http.ResponseWriter, status int, problem string) {
	h.render(w, status, "failed", Page{Problem: problem})
}

// setCookie sets the onboarding cookie to value for maxAge seconds, or
// clears it if maxAge < 0.
func (h *onboardingHandler) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	p := h.cookiePath
	if p == "" {
		p = r.URL.Path
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
			p = u.Path // what the browser asked for, before any StripPrefix
		}
		p = path.Dir(p)
	}
	http.SetCookie(w, &http.Cookie{
		Name:     h.cookieName,
		Value:    value,
		Path:     p,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   isHTTPS(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// isHTTPS reports whether the browser's request came over HTTPS: directly,
// or through a proxy that says so. A client that lies about it only gets a
// cookie it will not send back over plain HTTP.
func isHTTPS(r *http.Request) bool {
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return r.TLS != nil || strings.EqualFold(strings.TrimSpace(proto), "https")
}

// render answers status with the page name. The page holds a code and a
// state in its URL, so it is not cached and sends no Referer.
func (h *onboardingHandler) render(w http.ResponseWriter, status int, name string, p Page) {
	p.ConnectPath = "connect"
	var b bytes.Buffer
	if err := h.pages.ExecuteTemplate(&b, name, p); err != nil {
		h.log.Error("accounthttp: rendering a page", "page", name, "err", err)
		httpError(w, http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
