package ebaytest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Token prefixes in the shape of eBay's: 'p' is 1 for application and 3 for
// user credentials, 'r' is 1 for refresh tokens and codes.
const (
	appTokenPrefix  = "v^1.1#i^1#p^1#r^0#I^3#f^0#t^"
	userTokenPrefix = "v^1.1#i^1#p^3#r^0#I^3#f^0#t^"
	refreshPrefix   = "v^1.1#i^1#p^3#r^1#I^3#f^0#t^"
	codePrefix      = "v^1.1#i^1#f^0#p^3#I^3#r^1#t^"
)

// Random bytes after the prefix. Neither is a multiple of 3, so the base64
// always ends in '='; access tokens come to 1,000 characters.
const (
	accessTokenBytes = 728
	grantBytes       = 98
)

// maxBody bounds the request bodies the Server reads.
const maxBody = 1 << 20

// oauthError is the token endpoint's error body.
type oauthError struct {
	status      int
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// The token endpoint's answers, word for word as eBay gives them.
var (
	errInvalidClient  = &oauthError{http.StatusUnauthorized, "invalid_client", "client authentication failed"}
	errInvalidRequest = &oauthError{http.StatusBadRequest, "invalid_request", "request is missing a required parameter or malformed."}
	errInvalidScope   = &oauthError{http.StatusBadRequest, "invalid_scope", "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client"}
	errBadRefresh     = &oauthError{http.StatusBadRequest, "invalid_grant", "the provided authorization refresh token is invalid or was issued to another client"}
	errBadCode        = &oauthError{http.StatusBadRequest, "invalid_grant", "the provided authorization grant code is invalid or was issued to another client"}
	errUnsupported    = &oauthError{http.StatusBadRequest, "unsupported_grant_type", "grant type in request is not supported by the authorization server"}
)

// tokenResponse is the token endpoint's success body, fields in eBay's order.
type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in,omitempty"`
	TokenType             string `json:"token_type"`
}

// serveToken is POST /identity/v1/oauth2/token.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.mu.Lock()
		s.totalTokens++
		s.mu.Unlock()
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "ebaytest: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	isForm := false
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil {
		isForm = mt == "application/x-www-form-urlencoded"
	}
	form, formErr := url.Values{}, readErr
	if isForm && readErr == nil {
		form, formErr = url.ParseQuery(string(body))
	}

	s.mu.Lock()
	s.totalTokens++
	s.tokenReqs[form.Get("grant_type")]++
	s.tokenBodies = append(s.tokenBodies, string(body))
	latency := s.latency
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			http.Error(w, "ebaytest: server closed", http.StatusServiceUnavailable)
			return
		}
	}

	s.mu.Lock()
	if s.failN != 0 {
		if s.failN > 0 {
			s.failN--
		}
		status, body := s.failStatus, s.failBody
		s.mu.Unlock()
		ct := "text/plain; charset=utf-8"
		if strings.HasPrefix(body, "{") {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		io.WriteString(w, body)
		return
	}
	id, secret, ok := r.BasicAuth()
	var status int
	var resp any
	switch {
	case !ok || id != s.clientID || secret != s.clientSecret:
		status, resp = errInvalidClient.status, errInvalidClient
	case !isForm:
		status, resp = errUnsupported.status, errUnsupported
	case formErr != nil:
		status, resp = errInvalidRequest.status, errInvalidRequest
	default:
		status, resp = s.mint(form)
	}
	s.mu.Unlock()
	writeJSON(w, status, resp)
}

// mint answers a well-formed, authenticated token request. s.mu must be
// held.
func (s *Server) mint(form url.Values) (status int, body any) {
	fail := func(e *oauthError) (int, any) { return e.status, e }
	now := s.now()
	grantType := form.Get("grant_type")
	var scopes []string
	var userID string // the seller a user token acts for
	switch grantType {
	case GrantClientCredentials:
		scopes = strings.Fields(form.Get("scope"))
		if len(scopes) == 0 {
			return fail(errInvalidRequest)
		}
		if !subset(scopes, s.allowedScopes) {
			return fail(errInvalidScope)
		}
	case GrantRefreshToken:
		rt := form.Get("refresh_token")
		if rt == "" {
			return fail(errInvalidRequest)
		}
		g := s.refresh[rt]
		if !s.usable(g, now) {
			return fail(errBadRefresh)
		}
		scopes, userID = g.scopes, g.userID
		if asked := strings.Fields(form.Get("scope")); len(asked) > 0 {
			if !subset(asked, g.scopes) {
				return fail(errInvalidScope)
			}
			scopes = asked
		}
	case GrantAuthorizationCode:
		code, ru := form.Get("code"), form.Get("redirect_uri")
		if code == "" || ru == "" {
			return fail(errInvalidRequest)
		}
		g := s.codes[code]
		if ru != RuName || !s.usable(g, now) {
			return fail(errBadCode)
		}
		scopes, userID = g.scopes, g.userID
	default:
		return fail(errUnsupported)
	}
	if q := s.quota[grantType]; q > 0 && s.quotaUsed[grantType] >= q {
		return http.StatusTooManyRequests, errTooManyRequests
	}
	s.quotaUsed[grantType]++
	s.mints[grantType]++

	resp := tokenResponse{
		AccessToken: s.issueAccess(grantType != GrantClientCredentials, userID, scopes, now),
		ExpiresIn:   max(1, int64(s.lifetime/time.Second)),
		TokenType:   "User Access Token",
	}
	switch grantType {
	case GrantClientCredentials:
		resp.TokenType = "Application Access Token"
	case GrantAuthorizationCode:
		delete(s.codes, form.Get("code"))
		resp.RefreshToken = s.issueRefresh(userID, scopes, now)
		resp.RefreshTokenExpiresIn = int64(RefreshTokenLifetime / time.Second)
	}
	return http.StatusOK, resp
}

// IssueRefreshToken mints a refresh token for the current client id, as if
// the consent user (SetConsentUser; DefaultUserID unless changed) had
// consented to scopes (ebayauth.ScopeAPI if none), so a test can start from
// the refresh_token grant. It counts as no mint. IssueRefreshTokenFor names
// the seller.
func (s *Server) IssueRefreshToken(scopes ...string) string {
	s.mu.Lock()
	u := s.consentUser
	s.mu.Unlock()
	return s.IssueRefreshTokenFor(u, scopes...)
}

// issueAccess mints an access token; userID is the seller a user token acts
// for. s.mu must be held.
func (s *Server) issueAccess(user bool, userID string, scopes []string, now time.Time) string {
	prefix := appTokenPrefix
	if user {
		prefix = userTokenPrefix
	}
	tok := newToken(s.access, prefix, accessTokenBytes)
	s.access[tok] = &accessToken{user: user, userID: userID, scopes: scopes, expiry: now.Add(s.lifetime)}
	s.lastIssued = tok
	return tok
}

// issueRefresh mints a refresh token for the seller userID. s.mu must be
// held.
func (s *Server) issueRefresh(userID string, scopes []string, now time.Time) string {
	tok := newToken(s.refresh, refreshPrefix, grantBytes)
	s.refresh[tok] = &grant{clientID: s.clientID, userID: userID, scopes: scopes, expiry: now.Add(RefreshTokenLifetime)}
	return tok
}

// usable reports whether g exists, was issued to the current client id, is
// unrevoked and unexpired at now. s.mu must be held.
func (s *Server) usable(g *grant, now time.Time) bool {
	return g != nil && !g.revoked && g.clientID == s.clientID && now.Before(g.expiry)
}

// newToken returns prefix followed by the standard base64 of n random bytes,
// a string not yet a key of m.
func newToken[V any](m map[string]V, prefix string, n int) string {
	b := make([]byte, n)
	for {
		rand.Read(b) // never fails since Go 1.24
		tok := prefix + base64.StdEncoding.EncodeToString(b)
		if _, dup := m[tok]; !dup {
			return tok
		}
	}
}

// subset reports whether every element of sub is in set.
func subset(sub, set []string) bool {
	for _, x := range sub {
		if !slices.Contains(set, x) {
			return false
		}
	}
	return true
}

// writeJSON answers status with v as JSON. It does not escape HTML, so
// tokens and messages go out as eBay writes them.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
