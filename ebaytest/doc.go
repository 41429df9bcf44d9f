// Package ebaytest provides a fake of eBay's OAuth identity endpoint, its
// user-consent page and a few REST APIs, for tests that must run offline.
// It is shaped like net/http/httptest: NewServer starts it on a loopback
// port, Server.Endpoint describes it as an ebayauth.Endpoint, and methods on
// the Server inject faults and report what it saw. All methods are safe for
// concurrent use.
//
// The fake speaks eBay's protocol as documented and observed: the token
// endpoint's grants, error codes and response shapes, token shapes (with
// '^', '#', '+', '/' and '=' inside), the 299-second single-use
// authorization code, non-rotating refresh tokens and the REST error
// envelope with errorIds 1001, 1002, 1003, 1100 and 2001.
//
// It knows several sellers (AddUser; one, DefaultUserID, exists from the
// start). Codes, refresh tokens and user access tokens remember the seller
// who consented; the Identity API tells who that is, and RevokeUser and
// RenameUser do what a password or user-name change does on eBay.
//
// Where it differs from real eBay:
//
//   - One plain-HTTP host serves the token endpoint, the consent page and the
//     REST APIs; eBay uses HTTPS on api.ebay.com, auth.ebay.com and
//     apiz.ebay.com.
//   - The consent page shows no login form: a well-formed GET of
//     /oauth2/authorize consents at once and redirects (prompt is ignored).
//     The seller who consents is the one SetConsentUser names, or the one a
//     fake-only query parameter login=<userId> names; an unknown login is
//     answered 400.
//   - Tokens are random and mean nothing outside the Server that issued them.
//   - The app may ask for the scopes set with SetAllowedScopes (by default
//     ebayauth.ScopeAPI and a few sell scopes); eBay's per-keyset scope lists
//     are longer. A scope it may not have is answered 400 invalid_scope; eBay
//     documents no status for this.
//   - A client_credentials request without scope is answered 400
//     invalid_request; eBay documents no behaviour for it.
//   - Quotas (SetDailyQuota, SetBrowseQuota) are off by default and count
//     until ResetQuota, not per calendar day. The 429 body's longMessage is
//     guessed, and no Retry-After header is sent.
//   - A REST request without an Authorization header is answered 400 (eBay has
//     been seen answering 400 and 403); the auth scheme is compared
//     case-insensitively.
//   - Only Browse search, Browse item, Inventory's createOffer and Identity's
//     getUser are served. Browse has a fixed three-item catalogue; search
//     matches q as a substring of titles, and an absent q matches
//     everything. Any valid token may create an offer; a body that is not
//     JSON gets errorId 2004, a guess.
//   - getUser answers only userId, username, accountType,
//     registrationMarketplaceId and status, whatever PII scopes the token
//     has. An application token gets 403/1100, as a user token without
//     ScopeIdentity does; eBay documents no answer for application tokens.
//   - The texts of the 1002, 2001, 2004 and 11001 errors are plausible
//     guesses.
//   - X-EBAY-C-MARKETPLACE-ID is accepted and ignored, and the legacy
//     X-EBAY-API-IAF-TOKEN header is not understood.
//   - Revoking a refresh token leaves the access tokens minted from it valid
//     until they expire. RevokeUser and RenameUser revoke the seller's user
//     access tokens at once as well; how soon eBay kills them is not
//     documented.
package ebaytest
