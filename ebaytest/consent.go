package ebaytest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// serveAuthorize is GET /oauth2/authorize, eBay's consent page. It consents
// at once: a well-formed request is redirected to the accept URL with a new
// code. The seller who consents is the one the fake-only query parameter
// login names, else the consent user (SetConsentUser).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	scopes := strings.Fields(q.Get("scope"))
	s.mu.Lock()
	userID := s.consentUser
	if l := q.Get("login"); l != "" {
		userID = l
	}
	var msg string
	switch {
	case q.Get("client_id") != s.clientID:
		msg = "ebaytest: unknown client_id"
	case q.Get("redirect_uri") != RuName:
		msg = "ebaytest: redirect_uri is not the app's RuName"
	case q.Get("response_type") != "code":
		msg = `ebaytest: response_type must be "code"`
	case len(scopes) == 0:
		msg = "ebaytest: scope is missing"
	case !subset(scopes, s.allowedScopes):
		msg = "ebaytest: scope is invalid or not granted to the app"
	case s.users[userID] == nil:
		msg = "ebaytest: login names no user of this Server"
	}
	if msg != "" {
		s.mu.Unlock()
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	code := s.issueCode(userID, scopes, s.now())
	accept := s.acceptURL
	s.mu.Unlock()

	u, err := url.Parse(accept)
	if err != nil {
		http.Error(w, "ebaytest: bad accept URL: "+err.Error(), http.StatusInternalServerError)
		return
	}
	v := u.Query()
	v.Set("code", code)
	v.Set("expires_in", strconv.Itoa(int(CodeLifetime/time.Second)))
	if state := q.Get("state"); state != "" {
		v.Set("state", state)
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// serveAccept is the default accept URL: it only says that consent was
// given, as an app's page would.
func serveAccept(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ebaytest: consent granted\n"))
}

// IssueCode mints an authorization code for the current client id, as if the
// consent user (SetConsentUser; DefaultUserID unless changed) had consented
// to scopes (ebayauth.ScopeAPI if none), so a test can exchange it without
// visiting the consent page. Like codes from the consent page, it is single
// use and lives CodeLifetime by the Server's clock. IssueCodeFor names the
// seller.
func (s *Server) IssueCode(scopes ...string) string {
	s.mu.Lock()
	u := s.consentUser
	s.mu.Unlock()
	return s.IssueCodeFor(u, scopes...)
}

// issueCode mints an authorization code for the seller userID. s.mu must be
// held.
func (s *Server) issueCode(userID string, scopes []string, now time.Time) string {
	code := newToken(s.codes, codePrefix, grantBytes)
	s.codes[code] = &grant{clientID: s.clientID, userID: userID, scopes: scopes, expiry: now.Add(CodeLifetime)}
	return code
}
