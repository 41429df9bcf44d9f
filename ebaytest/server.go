package ebaytest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/ebayauth/ebayauth"
)

// Credentials the Server accepts until SetCredentials changes them.
const (
	ClientID     = "TestApp-PRD-0a1b2c3d4-5e6f7a8b"       // the App ID
	ClientSecret = "PRD-0a1b2c3d4e5f-6a7b-8c9d-0e1f-2a3b" // the Cert ID
	RuName       = "Test_App-TestApp-PRD-abcdefg"         // the redirect_uri eBay assigns
)

// Grant types, as sent in grant_type.
const (
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantAuthorizationCode = "authorization_code"
)

// Paths the Server answers on, relative to Server.URL.
const (
	tokenPath     = "/identity/v1/oauth2/token"
	authorizePath = "/oauth2/authorize"
	acceptPath    = "/accept"
)

// DefaultTokenLifetime is how long access tokens live unless
// SetTokenLifetime says otherwise, as on eBay.
const DefaultTokenLifetime = 7200 * time.Second

// Lifetimes eBay gives refresh tokens and authorization codes.
const (
	RefreshTokenLifetime = 47304000 * time.Second
	CodeLifetime         = 299 * time.Second
)

// Request is an API request the Server received.
type Request struct {
	Method        string
	Path          string // the URL path, decoded
	Authorization string // the Authorization header, "" if absent
	Body          []byte // the body as received
}

// Server is a fake eBay. Create it with NewServer and Close it when done.
// All its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, "http://127.0.0.1:port", with no
	// trailing slash.
	URL string

	ts        *httptest.Server
	mux       *http.ServeMux
	done      chan struct{} // closed by Close to end latency waits
	closeOnce sync.Once

	mu sync.Mutex
	// configuration
	clientID, clientSecret string
	allowedScopes          []string
	acceptURL              string
	lifetime, latency      time.Duration
	now                    func() time.Time
	failN, failStatus      int
	failBody               string
	quota                  map[string]int // per grant; 0 or absent: unlimited
	browseQuota            int
	// state
	access      map[string]*accessToken
	refresh     map[string]*grant
	codes       map[string]*grant
	lastIssued  string
	nextOffer   int
	quotaUsed   map[string]int
	browseUsed  int
	tokenReqs   map[string]int
	mints       map[string]int
	totalTokens int
	tokenBodies []string
	requests    []Request
	users       map[string]*user // by userId; see users.go
	consentUser string           // the userId who consents unless told otherwise
	notify      notifyState      // the Notification API; see notification.go
	sig         signatures       // signatures.go
}

// accessToken is what the Server remembers of an access token it minted.
type accessToken struct {
	user    bool   // a User Access Token, else an Application Access Token
	userID  string // the seller it acts for; "" for application tokens
	scopes  []string
	expiry  time.Time
	revoked bool
}

// grant is a refresh token or authorization code: who it was issued to, the
// scopes consented and when it stops working.
type grant struct {
	clientID string
	userID   string // the seller who consented
	scopes   []string
	expiry   time.Time
	revoked  bool
}

// NewServer starts a fake eBay on a loopback port. It accepts ClientID and
// ClientSecret and lets the app ask for the default scopes. It panics if it
// cannot listen.
func NewServer() *Server { return newServer(nil) }

// NewServerOn is NewServer on ln, a listener the caller opened, say on a
// fixed port for other processes to use (ebaytoken fake-ebay); Close
// closes it. It panics if ln is not on a TCP loopback address: the fake
// accepts well-known credentials.
func NewServerOn(ln net.Listener) *Server {
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		panic(fmt.Sprintf("ebaytest: NewServerOn: %s is not a TCP loopback address", ln.Addr()))
	}
	return newServer(ln)
}

// Handle registers h for pattern on the Server's mux, beside the fake's
// own routes, for tools that serve paths of their own on the fake's
// address (ebaytoken fake-ebay serves its knobs under /_fake/). Like
// http.ServeMux.Handle, it panics if pattern conflicts with one already
// registered.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// newServer starts the fake on ln, or on a loopback port of its own if ln
// is nil.
func newServer(ln net.Listener) *Server {
	s := &Server{
		done:          make(chan struct{}),
		clientID:      ClientID,
		clientSecret:  ClientSecret,
		allowedScopes: defaultScopes(),
		lifetime:      DefaultTokenLifetime,
		now:           time.Now,
		quota:         map[string]int{},
		access:        map[string]*accessToken{},
		refresh:       map[string]*grant{},
		codes:         map[string]*grant{},
		quotaUsed:     map[string]int{},
		tokenReqs:     map[string]int{},
		mints:         map[string]int{},
		users:         map[string]*user{},
		consentUser:   DefaultUserID,
		notify:        newNotifyState(),
	}
	s.addUser(defaultUser())
	mux := http.NewServeMux()
	mux.HandleFunc(tokenPath, s.serveToken)
	mux.HandleFunc("GET "+authorizePath, s.serveAuthorize)
	mux.HandleFunc("GET "+acceptPath, serveAccept)
	mux.Handle("GET /buy/browse/v1/item_summary/search", s.api(s.browse(s.serveSearch)))
	mux.Handle("GET /buy/browse/v1/item/{item_id}", s.api(s.browse(s.serveItem)))
	mux.Handle("POST /sell/inventory/v1/offer", s.api(s.serveOffer))
	mux.Handle("GET "+identityPath+"{$}", s.api(s.serveIdentity))
	mux.Handle("GET "+publicKeyPath+"{public_key_id}", s.countKeyRequest(s.api(s.servePublicKey)))
	s.handleSignatures(mux)
	mux.HandleFunc("POST "+tradingPath, s.serveTrading)
	mux.HandleFunc("GET "+privilegePath, s.servePrivilege)
	s.mux = mux
	// Fields the handlers read are set before the server starts, so that
	// no request races with them.
	s.ts = httptest.NewUnstartedServer(mux)
	if ln != nil {
		s.ts.Listener.Close()
		s.ts.Listener = ln
	}
	s.URL = "http://" + s.ts.Listener.Addr().String()
	s.acceptURL = s.URL + acceptPath
	s.ts.Start()
	return s
}

// defaultScopes are the scopes the app may ask for unless SetAllowedScopes
// says otherwise.
func defaultScopes() []string {
	return []string{
		ebayauth.ScopeAPI,
		ebayauth.ScopeAPI + "/sell.inventory",
		ebayauth.ScopeAPI + "/sell.account",
		ebayauth.ScopeAPI + "/sell.fulfillment",
		ebayauth.ScopeAPI + "/commerce.identity.readonly",
	}
}

// Endpoint describes the Server as an eBay environment.
func (s *Server) Endpoint() ebayauth.Endpoint {
	return ebayauth.Endpoint{TokenURL: s.URL + tokenPath, AuthURL: s.URL + authorizePath, APIURL: s.URL}
}

// Client returns an HTTP client for the Server. Close closes its idle
// connections.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close ends requests waiting out SetLatency, shuts the Server down and
// waits for in-flight requests to finish. Calling it again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.ts.Close()
	})
}

// SetCredentials makes the Server accept id and secret as the app's client
// id and secret, and only them. Refresh tokens and codes issued to the
// previous id become invalid_grant ("issued to another client").
func (s *Server) SetCredentials(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientID, s.clientSecret = id, secret
}

// SetAllowedScopes sets the scopes the app may ask for in client_credentials
// requests and on the consent page. No scopes restores the default:
// ebayauth.ScopeAPI and its sell.inventory, sell.account, sell.fulfillment
// and commerce.identity.readonly sub-scopes.
func (s *Server) SetAllowedScopes(scopes ...string) {
	if len(scopes) == 0 {
		scopes = defaultScopes()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allowedScopes = slices.Clone(scopes)
}

// SetAcceptURL sets where the consent page redirects to; by default
// URL+"/accept", which answers 200.
func (s *Server) SetAcceptURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acceptURL = u
}

// SetTokenLifetime sets how long access tokens minted from now on live;
// expires_in reports it in whole seconds, at least 1. d <= 0 restores
// DefaultTokenLifetime.
func (s *Server) SetTokenLifetime(d time.Duration) {
	if d <= 0 {
		d = DefaultTokenLifetime
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

// SetLatency delays every token-endpoint answer by d of real time. A delayed
// request ends early, unanswered, if its client goes away, and with 503 if
// the Server closes. Zero means no delay.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetNow sets the Server's clock, which decides when tokens and codes
// expire; nil restores time.Now. Moving a fake clock expires tokens
// server-side without waiting.
func (s *Server) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// FailNext makes the next n token-endpoint requests (of any grant, after
// SetLatency's delay) answer status with body, which is sent as
// application/json if it starts with '{' and as text/plain otherwise. n < 0
// fails every request until ClearFailures; n == 0 is ClearFailures.
// Requests that fail so are counted by TokenRequests but mint nothing.
func (s *Server) FailNext(n, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus, s.failBody = n, status, body
}

// ClearFailures cancels what FailNext set up.
func (s *Server) ClearFailures() { s.FailNext(0, 0, "") }

// RevokeToken makes accessToken invalid: REST APIs answer it with 401/1001.
func (s *Server) RevokeToken(accessToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.access[accessToken]; ok {
		t.revoked = true
	}
}

// RevokeAll revokes every access token issued so far; tokens minted later
// work.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.access {
		t.revoked = true
	}
}

// RevokeRefreshToken makes rt invalid: the refresh_token grant answers it
// with invalid_grant.
func (s *Server) RevokeRefreshToken(rt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.refresh[rt]; ok {
		g.revoked = true
	}
}

// SetDailyQuota limits how many tokens the given grant type may mint until
// ResetQuota; requests beyond it are answered 429 with errorId 2001. n <= 0
// means unlimited, the default.
func (s *Server) SetDailyQuota(grantType string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota[grantType] = n
}

// SetBrowseQuota limits how many authorized Browse calls are answered until
// ResetQuota; calls beyond it get 429 with errorId 2001. n <= 0 means
// unlimited, the default.
func (s *Server) SetBrowseQuota(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.browseQuota = n
}

// ResetQuota starts a new "day": it zeroes what SetDailyQuota and
// SetBrowseQuota count, but not Mints or APIRequests.
func (s *Server) ResetQuota() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.quotaUsed)
	s.browseUsed = 0
}

// TokenRequests reports how many POST requests reached the token endpoint
// with the given grant_type, whatever their answer. Requests whose body is not
// a form count under "".
func (s *Server) TokenRequests(grantType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenReqs[grantType]
}

// Mints reports how many tokens the given grant type has minted.
func (s *Server) Mints(grantType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mints[grantType]
}

// TotalTokenRequests reports how many requests reached the token endpoint,
// whatever their method, grant or answer.
func (s *Server) TotalTokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.totalTokens
}

// TokenRequestBodies returns the raw body of every token-endpoint request,
// in order of arrival, so that tests can check how a client encoded it.
// Bodies hold credentials: do not log them outside tests.
func (s *Server) TokenRequestBodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tokenBodies)
}

// APIRequests reports how many REST API requests the Server received.
func (s *Server) APIRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// AuthHeaders returns the Authorization header of every REST API request, in
// order of arrival, "" where there was none.
func (s *Server) AuthHeaders() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := make([]string, len(s.requests))
	for i, r := range s.requests {
		h[i] = r.Authorization
	}
	return h
}

// Requests returns a copy of every REST API request, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := slices.Clone(s.requests)
	for i := range rs {
		rs[i].Body = slices.Clone(rs[i].Body)
	}
	return rs
}

// ValidToken reports whether access is an access token the Server issued
// that has not expired by the Server's clock and was not revoked.
func (s *Server) ValidToken(access string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookup(access) != nil
}

// LastIssued returns the last access token the Server minted, "" if none.
func (s *Server) LastIssued() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastIssued
}

// lookup returns the valid access token access, or nil. s.mu must be held.
func (s *Server) lookup(access string) *accessToken {
	t, ok := s.access[access]
	if !ok || t.revoked || !s.now().Before(t.expiry) {
		return nil
	}
	return t
}
