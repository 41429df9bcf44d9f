package ebaytest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/ebayauth/ebayauth"
)

// The user who exists in every new Server and who consents unless
// SetConsentUser or the consent page's login parameter says otherwise.
const (
	DefaultUserID   = "k3vQ8nZp2Ls" // eBay's immutable userId, in its shape
	DefaultUsername = "test_seller"
)

// ScopeIdentity is the scope the Identity API's getUser needs.
const ScopeIdentity = ebayauth.ScopeAPI + "/commerce.identity.readonly"

// identityPath is the Identity API's getUser, which eBay serves on
// apiz.ebay.com and the fake at its one URL.
const identityPath = "/commerce/identity/v1/user/"

// User is an eBay account that can consent to the app. The zero values of
// AccountType, Marketplace and Status stand for "INDIVIDUAL", "EBAY_US" and
// "CONFIRMED"; a zero Username is the ID.
type User struct {
	// ID is the immutable userId: key sellers by it.
	ID string
	// Username is the eBay user name; sellers can change it (RenameUser).
	Username string
	// AccountType is "BUSINESS" or "INDIVIDUAL".
	AccountType string
	// Marketplace is the registrationMarketplaceId, e.g. "EBAY_GB".
	Marketplace string
	// Status is "CONFIRMED", "UNCONFIRMED", "ACCOUNTONHOLD" or
	// "UNDETERMINED".
	Status string
}

// user is what the Server knows of a User.
type user struct {
	User
	eiasToken string // eBay's other user id, sent in deletion notices
}

// identityResponse is getUser's answer, the fields the fake knows in
// eBay's order.
type identityResponse struct {
	UserID                    string `json:"userId"`
	Username                  string `json:"username"`
	AccountType               string `json:"accountType"`
	RegistrationMarketplaceID string `json:"registrationMarketplaceId"`
	Status                    string `json:"status"`
}

func defaultUser() User { return User{ID: DefaultUserID, Username: DefaultUsername} }

// AddUser adds u to the Server's users, or replaces the profile of the user
// with the same ID (its tokens stay valid). It panics if u.ID is empty.
func (s *Server) AddUser(u User) {
	if u.ID == "" {
		panic("ebaytest: AddUser: empty ID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(u)
}

// addUser fills in u's defaults and stores it. s.mu must be held, or s not
// yet shared.
func (s *Server) addUser(u User) {
	if u.Username == "" {
		u.Username = u.ID
	}
	if u.AccountType == "" {
		u.AccountType = "INDIVIDUAL"
	}
	if u.Marketplace == "" {
		u.Marketplace = "EBAY_US"
	}
	if u.Status == "" {
		u.Status = "CONFIRMED"
	}
	if old, ok := s.users[u.ID]; ok {
		old.User = u
		return
	}
	eias := make([]byte, 40)
	rand.Read(eias) // never fails since Go 1.24
	s.users[u.ID] = &user{User: u, eiasToken: base64.StdEncoding.EncodeToString(eias)}
}

// User returns the user with the given userId, with its defaults filled in.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return u.User, true
}

// mustUser returns the user id. It panics if there is none: a test named a
// user it never added. s.mu must be held.
func (s *Server) mustUser(method, id string) *user {
	u, ok := s.users[id]
	if !ok {
		panic(fmt.Sprintf("ebaytest: %s: no user %q (AddUser first)", method, id))
	}
	return u
}

// SetConsentUser makes the user with userId id the one who consents on the
// consent page (unless its login parameter names another) and in IssueCode
// and IssueRefreshToken. It panics if there is no such user.
func (s *Server) SetConsentUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUser("SetConsentUser", id)
	s.consentUser = id
}

// IssueCodeFor is IssueCode as the user with userId id. It panics if there
// is no such user.
func (s *Server) IssueCodeFor(id string, scopes ...string) string {
	if len(scopes) == 0 {
		scopes = []string{ebayauth.ScopeAPI}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUser("IssueCodeFor", id)
	return s.issueCode(id, slices.Clone(scopes), s.now())
}

// IssueRefreshTokenFor is IssueRefreshToken as the user with userId id. It
// panics if there is no such user.
func (s *Server) IssueRefreshTokenFor(id string, scopes ...string) string {
	if len(scopes) == 0 {
		scopes = []string{ebayauth.ScopeAPI}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUser("IssueRefreshTokenFor", id)
	return s.issueRefresh(id, slices.Clone(scopes), s.now())
}

// RevokeUser does what eBay does when the seller changes their password or
// revokes the app: every refresh token and user access token issued for the
// user so far stops working (invalid_grant and 401/1001). A new consent
// works. It panics if there is no such user.
func (s *Server) RevokeUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUser("RevokeUser", id)
	s.revokeUser(id)
}

// revokeUser revokes the user's grants and tokens. s.mu must be held.
func (s *Server) revokeUser(id string) {
	for _, g := range s.refresh {
		if g.userID == id {
			g.revoked = true
		}
	}
	for _, t := range s.access {
		if t.user && t.userID == id {
			t.revoked = true
		}
	}
}

// RenameUser changes the user's user name; the userId stays. As on eBay, a
// new user name revokes the user's refresh tokens and user access tokens,
// like RevokeUser. It panics if there is no such user.
func (s *Server) RenameUser(id, username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mustUser("RenameUser", id)
	u.Username = username
	s.revokeUser(id)
}

// bearer returns a copy of the valid access token r carries, if any.
func (s *Server) bearer(r *http.Request) (accessToken, bool) {
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.lookup(tok)
	if t == nil {
		return accessToken{}, false
	}
	return *t, true
}

// serveIdentity is the Identity API's GET /commerce/identity/v1/user/: who
// the seller is whose user token the request carries. It needs ScopeIdentity;
// an application token is answered 403/1100 like a missing scope.
func (s *Server) serveIdentity(w http.ResponseWriter, r *http.Request, _ []byte, scopes []string) {
	if !slices.Contains(scopes, ScopeIdentity) {
		writeJSON(w, http.StatusForbidden, errAccessDenied)
		return
	}
	t, ok := s.bearer(r)
	if !ok { // revoked since s.api looked
		writeJSON(w, http.StatusUnauthorized, errInvalidToken)
		return
	}
	s.mu.Lock()
	u := s.users[t.userID]
	var resp identityResponse
	if u != nil {
		resp = identityResponse{u.ID, u.Username, u.AccountType, u.Marketplace, u.Status}
	}
	s.mu.Unlock()
	if !t.user || u == nil {
		writeJSON(w, http.StatusForbidden, errAccessDenied)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
