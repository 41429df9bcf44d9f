// Package ebaytest provides a fake of eBay's OAuth identity endpoint, its
// user-consent page, a few REST APIs and Marketplace Account Deletion
// notices, for tests that must run offline.
// It is shaped like net/http/httptest: NewServer starts it on a loopback
// port (NewServerOn on a loopback listener of the caller's), Server.Endpoint
// describes it as an ebayauth.Endpoint, and methods on the Server inject
// faults and report what it saw. All methods are safe for
// concurrent use.
//
// The fake speaks eBay's protocol as documented and observed: the token
// endpoint's grants, error codes and response shapes, token shapes (with
// '^', '#', '+', '/' and '=' inside), the 299-second single-use
// authorization code, non-rotating refresh tokens and the REST error
// envelope with errorIds 1001, 1002, 1003, 1100 and 2001, and the digital
// signatures eBay requires of EU and UK sellers (errorIds 215001, 215114,
// 215120 and 215122) with the Key Management API that issues their keys.
//
// It knows several sellers (AddUser; one, DefaultUserID, exists from the
// start). Codes, refresh tokens and user access tokens remember the seller
// who consented; the Identity API tells who that is, and RevokeUser and
// RenameUser do what a password or user-name change does on eBay. It signs
// deletion notices with its own ECDSA key, serves that key through the
// Notification API, and plays eBay's side of an endpoint's challenge
// (VerifyChallenge).
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
//   - Only Browse search, Browse item, Inventory's createOffer, Identity's
//     getUser, Notification's getPublicKey, the Key Management API
//     (createSigningKey, getSigningKeys, getSigningKey), Finances'
//     getTransactions and Fulfillment's issueRefund are served.
//     Browse has a fixed three-item catalogue; search matches q as a substring
//     of titles, and an absent q matches everything. Any valid token may create
//     an offer; a body that is not JSON gets errorId 2004, a guess.
//     getTransactions always answers one sale, issueRefund a PENDING refund.
//   - The Key Management API wants an application token and the two signed
//     methods a user token, of any scope (eBay wants sell.finances and
//     sell.fulfillment); the wrong kind gets 403/1100. An unknown cipher gets
//     400/2004 and an unknown key id 404/2002, both guesses. Keys are real
//     Ed25519 or RSA-2048 pairs, but a JWE is an opaque random string in the
//     shape of eBay's that the Server maps back to the public key; eBay's
//     JWEs encrypt the public key for eBay. IssueSigningKey makes one
//     without an API call.
//   - getTransactions and issueRefund verify the signature of every request,
//     as eBay does only for EU and UK sellers (it ignores signatures of
//     others). The checks, in order: no x-ebay-signature-key is 215001;
//     Signature-Input not exactly label=("…" …);created=N[;keyid=…] or
//     Signature not label=:base64: (the same label) is 215122; created further
//     than the signature window from the Server's clock either way
//     (SetSignatureWindow, default 5 minutes; eBay's window is undocumented)
//     is 215114; covered components other than the header names, @method,
//     @path and @authority, or missing any of x-ebay-signature-key, @method,
//     @path, @authority and (with a body) content-digest, is 215122;
//     Content-Digest missing with a body or not sha-256=:…: is 215122; a body
//     not matching it is 215120; a key the Server did not issue, an expired
//     one, or a signature that does not verify (Ed25519, or RSASSA-PKCS1-v1_5
//     with SHA-256; PSS fails) is 215120. eBay answers both 215120 and 215122
//     without documenting the difference, so the split is the fake's. @path
//     is the escaped path without the query; @authority is the Host header in
//     lower case without ":80".
//   - getUser answers only userId, username, accountType,
//     registrationMarketplaceId and status, whatever PII scopes the token
//     has. An application token gets 403/1100, as a user token without
//     ScopeIdentity does; eBay documents no answer for application tokens.
//   - getPublicKey answers a user token 403/1100 and an unknown key id 404
//     with errorId 195001; both are guesses (eBay documents only that the
//     call needs an application token). Its key is generated by NewServer,
//     so signatures mean nothing to other Servers.
//   - Notices are sent only when a test asks (SendDeletionNotice), once, to
//     loopback URLs only: eBay retries failed deliveries for a while and
//     then marks the endpoint down. A notice changes nothing about the user,
//     and its eventDate equals its publishDate.
//   - The texts of the 1002, 2001, 2004 and 11001 errors are plausible
//     guesses.
//   - X-EBAY-C-MARKETPLACE-ID is accepted and ignored, and the legacy
//     X-EBAY-API-IAF-TOKEN header is not understood.
//   - Revoking a refresh token leaves the access tokens minted from it valid
//     until they expire. RevokeUser and RenameUser revoke the seller's user
//     access tokens at once as well; how soon eBay kills them is not
//     documented.
package ebaytest
