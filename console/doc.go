// Package console is the token console: web pages for the people who run
// ebayauth, served by `ebaytoken serve` at / or mounted by any program as
// an http.Handler.
//
//	rec := console.NewRecorder(console.RecorderConfig{})
//	m, err := ebayauth.New(ebayauth.Config{ /* ... */ OnEvent: ebayauth.TeeEvents(collector.Observe, rec.Observe)})
//	...
//	c, err := console.New(console.Config{Manager: m, Recorder: rec})
//	...
//	mux.Handle("/", c)
//
// # What it shows
//
// For the single token (Config.Manager) and for each seller (Config.Accounts,
// listed from Config.AccountStore): the state (fresh, stale, expired,
// rejected, fallback, needs consent), the time left as a bar that drains,
// the last refresh, the last validation and its verdict, the last error,
// the refresh token's expiry (with a warning 30 days ahead), and the store
// and its health, all read through the Managers' Status. Beside them: the
// mints today against eBay's daily limit for each grant in use (1,000
// application tokens, 50,000 refresh-token mints, 10,000 code exchanges),
// a chart of mints and failed refreshes per hour over the last 24 hours
// drawn on the server as SVG, and the latest events, newest first. The
// Recorder supplies those three: put its Observe in Config.OnEvent.
//
// The page is rendered on the server, so it reads right without
// JavaScript; its small script polls GET api/state (the same data as JSON)
// every Config.PollInterval and updates the page in place, and posts the
// action forms without leaving it. Everything it loads is embedded in the
// binary: no CDN, no web font, nothing from the internet.
//
// # Sellers: paging, filters, search
//
// The sellers table reads AccountStore.ListAccounts one page at a time
// with a cursor (the last id shown), so it works for any number of
// sellers; "Next page" carries the cursor, "First page" starts over (there
// is no "previous": cursors go one way). The filters:
//
//   - needs consent: Account.NeedsConsent in the store;
//   - refresh token expiring: Account.RefreshTokenExpiry within 30 days,
//     or past;
//   - failing: the sellers whose last refresh or validation this process
//     saw fail (the Recorder's list, at most 10,000), loaded one by one.
//
// Search matches the text, case-insensitively, anywhere in the seller's
// id or user name. A filter or search reads ListAccounts from the cursor
// in batches until the page is full or Config.ScanLimit accounts (10,000)
// were read; then the page says how far it got and "Next page" goes on
// from there. So search finds what paging reads: it never needs an index,
// and one request never reads more than ScanLimit accounts.
//
// # Actions
//
// Refresh now (Manager.ForceRefresh) and Validate (Manager.Validate), for
// the token or a seller, and, for a seller who must consent again (or
// whose refresh token is expiring), a consent link to copy
// (Accounts.AuthCodeURL, or Config.ConsentURL). Actions are POSTs that
// need the session's CSRF token and a same-origin request: a cross-origin
// POST (by Sec-Fetch-Site or Origin, net/http's CrossOriginProtection) is
// refused with 403 before anything runs.
//
// # Who may see it
//
// Without Config.AdminSecret the console is open, and answers loopback
// clients only (403 to others); serve refuses to listen beyond loopback
// without a secret. With one, every page, the JSON and every action need a
// session opened with the secret on the login form: the session cookie is
// HttpOnly, SameSite=Strict, and Secure when the request came over TLS or
// with X-Forwarded-Proto: https. Secrets are compared in constant time,
// and login attempts are limited to about one a second. Sessions are
// signed, not stored: nothing grows with visitors, and restarting the
// process ends them all.
//
// No page, JSON answer or chart holds an access token, refresh token or
// client secret: tokens show as fingerprints, the client id masked
// (except inside a consent link, where eBay wants it in full).
//
// # Routes
//
//	GET  /                 the overview: token, mints, sellers, events
//	GET  /sellers/{id}     one seller
//	GET  /api/state        the overview (or ?account=ID) as JSON
//	GET  /chart.svg        the chart
//	POST /refresh          Refresh now (form: csrf, account)
//	POST /validate         Validate (form: csrf, account)
//	GET, POST /login, POST /logout
//	GET  /static/…         the stylesheet, the script, the icon
//
// Links are relative, so the console works under a prefix too
// (http.StripPrefix; set Config.CookiePath to the prefix).
package console
