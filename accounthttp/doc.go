// Package accounthttp provides HTTP handlers for onboarding eBay sellers and
// honouring eBay's account-deletion notices.
//
// NewDeletionHandler serves the endpoint registered at eBay for
// Marketplace Account Deletion notices: it answers eBay's endpoint
// challenge, verifies each notice's ECDSA signature over the raw body with
// eBay's public key (fetched with an application token and cached), and
// calls a Delete hook with the seller's immutable userId.
//
// The handler does not know how accounts are stored: it calls a func field
// (DeletionConfig.Delete), so any account store plugs in. It is safe for
// concurrent use, never logs a secret (verification token, tokens) and
// takes its time from an ebayauth.Clock, so tests can move it.
package accounthttp
