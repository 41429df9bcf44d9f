// Package ebayauth keeps eBay OAuth access tokens valid for any
// http.Client.
//
// A Manager mints the token (an application token by client credentials,
// or a user token from a seller's refresh token), caches it, and refreshes
// it in the background before it expires, so that no request waits for a
// refresh. Concurrent refreshes collapse into one, in one process and,
// through a shared Store (redisstore, filestore), across a fleet. Its
// Transport puts "Authorization: Bearer <token>" on every request to eBay
// and on nothing else, and heals a 401 once by replacing the token and
// replaying the request. When no refresh succeeds, the still-valid token
// keeps being served, then Config.FallbackToken, then an error matching
// ErrNoToken that says what eBay answered.
//
//	m, err := ebayauth.New(ebayauth.Config{
//		ClientID:     os.Getenv("EBAY_CLIENT_ID"),     // eBay "App ID"
//		ClientSecret: os.Getenv("EBAY_CLIENT_SECRET"), // eBay "Cert ID"
//	})
//	if err != nil {
//		return err
//	}
//	defer m.Close()
//	resp, err := m.Client().Get("https://api.ebay.com/buy/browse/v1/item_summary/search?q=drone")
//
// The Manager, by its Config.Clock, is the only judge of a token's state.
// Stores keep a Record per token (the token, when it was minted, the last
// validation's verdict, whether eBay refused it) and never expire it by a
// clock of their own, so every process sharing a store reports the same
// state through Manager.Status.
//
// Accounts keeps a Manager per seller for apps that act for many sellers,
// over an AccountStore (MemoryStore, filestore, pgstore); package
// accounthttp onboards sellers and honours eBay's account-deletion notices.
// The Transport also speaks the XML Trading API's token header, and
// package ebaysig adds the digital signatures eBay requires for EU and UK
// sellers.
//
// Package ebaytest is a fake eBay for testing all of this, and your own
// code, offline; the command ebaytoken drives it all from the shell.
package ebayauth
