// Package ebaysig signs eBay API requests with the HTTP message signatures
// (RFC 9421) eBay requires for calls made on behalf of EU- and UK-domiciled
// sellers to the Finances API, Fulfillment's issueRefund, Trading's
// GetAccount and six Post-Order methods. eBay ignores signatures on other
// calls and for other sellers, so signing them is harmless.
//
// A Signer adds four headers to a request: Content-Digest (SHA-256 of the
// body, only when there is one), x-ebay-signature-key (the key's JWE),
// Signature-Input and Signature. The signature covers, in this order,
// "content-digest" (with a body), "x-ebay-signature-key", "@method",
// "@path" (without the query string) and "@authority" (the host, with the
// port only if it is not the scheme's default), and carries exactly one
// parameter, created: eBay's verifier parses "…;created=N" (optionally
// ";keyid=…") and nothing else, which is why generic RFC 9421 libraries that
// add alg, expires or nonce are rejected.
//
// created is the time of signing, read from the Signer's Clock. Sending the
// key's creationTime instead is a classic mistake: eBay answers it with
// errorId 215114 ("The create time of signature parameters is not in right
// range") once the key is a few minutes old.
//
// Keys come from eBay's Key Management API (KeyClient): Ed25519, which eBay
// recommends, or RSA, signed as RSASSA-PKCS1-v1_5 with SHA-256 (never PSS).
// eBay returns the private key only once, when the key is created; keep it
// (MarshalPrivateKey, ParsePrivateKey). Keys expire three years after
// creation.
//
// A Transport signs the requests that need it and composes with
// ebayauth.Transport in either order. Put it below ebayauth's Transport, as
// its Base, so that a request eBay answers 401 is signed anew when
// ebayauth's Transport replays it with a fresh token:
//
//	client := &http.Client{Transport: manager.Transport(&ebaysig.Transport{Signer: signer})}
//
// A Key never shows its private key: it prints and logs its id, cipher, a
// fingerprint of its JWE and its expiry, whatever the fmt verb.
package ebaysig
