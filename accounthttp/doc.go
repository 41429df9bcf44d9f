// Package accounthttp provides HTTP handlers for onboarding eBay sellers and
// honouring eBay's account-deletion notices.
//
// NewOnboardingHandler serves the pages a seller passes through to connect
// an eBay account to the app: connect (off to eBay's consent page with a
// signed, single-use state bound to the browser by a cookie), accept (where
// eBay sends the seller back with an authorization code) and declined.
//
// NewDeletionHandler serves the endpoint registered at eBay for
// Marketplace Account Deletion notices: it answers eBay's endpoint
// challenge, verifies each notice's ECDSA signature over the raw body with
// eBay's public key (fetched with an application token and cached), and
// calls a Delete hook with the seller's immutable userId.
//
// Neither handler knows how accounts are stored: they call func fields
// (OnboardingConfig.Connect, DeletionConfig.Delete), so any account store
// plugs in. Both are safe for concurrent use, never log or show a secret
// (verification token, state key, authorization code, tokens) and take
// their time from an ebayauth.Clock, so tests can move it.
package accounthttp
