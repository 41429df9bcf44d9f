package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ebayauth/ebayauth"
)

// The sellers the app acts for ("Many sellers"): the accounts subcommand,
// --account on the token subcommands, and what serve --accounts shares
// with them. Accounts live in the account store (openAccountStore); their
// access tokens in the same store, or in Redis when it is configured.

// defaultPageSize is how many accounts one ListAccounts call asks for.
const defaultPageSize = 100

// refreshTokenWarning is how long before a seller's refresh token expires
// list and show warn, as Status.RefreshTokenExpiring does.
const refreshTokenWarning = 30 * 24 * time.Hour

// accountsOptions are the accounts subcommand's flags, and the sellers
// that --account opened for the token subcommands.
type accountsOptions struct {
	limit    int    // list: at most this many accounts; 0: all
	state    string // connect-url: the state eBay hands back
	pageSize int    // accounts per ListAccounts call; 0: defaultPageSize (no flag: tests set it)
	// seller is the session of the seller --account names, which c.open
	// returns instead of the single token's.
	seller *session
	// serving is serve --accounts' sellers, for /status.
	serving *sellers
}

// page is the page size of ListAccounts calls.
func (o *accountsOptions) page() int {
	if o.pageSize > 0 {
		return o.pageSize
	}
	return defaultPageSize
}

// accountFlag registers --account on the token subcommands.
func accountFlag(fs *flag.FlagSet, c *call) {
	fs.StringVar(&c.account, "account", "", "act for the seller with this eBay user `id` (ebaytoken accounts list shows them)")
}

// accountsFlags registers the accounts subcommand's flags.
func accountsFlags(fs *flag.FlagSet, c *call) {
	fs.IntVar(&c.accounts.limit, "limit", 0, "list: show at most `n` accounts (default all)")
	fs.StringVar(&c.accounts.state, "state", "", "connect-url: opaque `value` eBay hands back with the code")
}

// forSellers reports whether the call is about sellers' accounts rather
// than the single configured token.
func (c *call) forSellers() bool {
	return c.account != "" || (c.cmd != nil && c.cmd.name == "accounts") || c.serve.accounts.on
}

// consentSteps says how to get a new consent from the seller.
func (c *call) consentSteps() string {
	if c.forSellers() {
		return "run ebaytoken accounts connect-url, have the seller open the URL and consent, then ebaytoken accounts add CODE|URL"
	}
	return "ebaytoken consent-url, then ebaytoken exchange"
}

// sellers is an Accounts over the account store, for one subcommand.
type sellers struct {
	c           *call
	store       sellerStore
	a           *ebayauth.Accounts
	closeStore  func()
	closeTokens func()
}

// sellersConfig is the library configuration of Accounts: the app's keyset
// without the single token's refresh and fallback tokens (each seller has
// their own refresh token; one fallback token cannot stand for every
// seller). The scopes are those sellers are asked to consent to.
func (c *call) sellersConfig() ebayauth.Config {
	cfg := c.s.config()
	cfg.RefreshToken, cfg.RefreshTokenExpiry, cfg.FallbackToken = "", time.Time{}, ""
	cfg.Logger = c.log
	cfg.OnEvent = func(e ebayauth.Event) { // serve sets where they go
		if h := c.sellerEvents.Load(); h != nil {
			(*h)(e)
		}
	}
	return cfg
}

// ignoredForSellers is a note naming the single-token settings that
// sellersConfig leaves out, "" if none is set.
func (s *settings) ignoredForSellers() string {
	var names []string
	if s.RefreshToken != "" {
		names = append(names, "the refresh token ("+envRefreshToken+")")
	}
	if s.FallbackToken != "" {
		names = append(names, "the fallback token ("+envFallback+")")
	}
	if len(names) == 0 {
		return ""
	}
	return strings.Join(names, " and ") + " of the single token are ignored for sellers: each seller's refresh token is in the account store"
}

// openSellers opens the account store and Accounts over it. Tokens go to
// Redis when it is configured, else to the account store.
func (c *call) openSellers(ctx context.Context) (*sellers, error) {
	if err := c.s.needCredentials(); err != nil {
		return nil, err
	}
	if n := c.s.ignoredForSellers(); n != "" {
		c.s.notes = append(c.s.notes, n)
	}
	store, closeStore, err := openAccountStore(ctx, c.s, c.log)
	if err != nil {
		return nil, err
	}
	sl := &sellers{c: c, store: store, closeStore: closeStore, closeTokens: func() {}}
	cfg := c.sellersConfig()
	if c.s.RedisURL != "" {
		tokens, closeTokens, err := openStore(c.s, c.log) // Redis comes first there
		if err != nil {
			sl.Close()
			return nil, err
		}
		cfg.Store, sl.closeTokens = tokens, closeTokens
	}
	a, err := ebayauth.NewAccounts(cfg, store)
	if err != nil {
		sl.Close()
		return nil, usagef("%s", strings.TrimPrefix(err.Error(), "ebayauth: "))
	}
	sl.a = a
	return sl, nil
}

// Close closes the sellers' Managers, then the stores.
func (sl *sellers) Close() {
	if sl.a != nil {
		sl.a.Close()
	}
	sl.closeTokens()
	sl.closeStore()
}

// accountError explains err, an error about the account id: exit 1 with
// what to do for an unknown account or one whose seller must consent again.
func (sl *sellers) accountError(id string, err error) error {
	switch {
	case errors.Is(err, ebayauth.ErrConsentRequired):
		return &exitError{code: exitFailure, msg: fmt.Sprintf("account %s needs consent: eBay refused the seller's refresh token (revoked, or a new password or user name); %s",
			id, sl.c.consentSteps())}
	case errors.Is(err, ebayauth.ErrNotFound):
		return &exitError{code: exitFailure, msg: fmt.Sprintf("no account %s in %s; ebaytoken accounts list shows the accounts", id, sl.store)}
	}
	return err
}

// forSeller makes run act for the seller --account names, if any: it opens
// the seller's Manager, which c.open then hands run, so that run takes the
// same path as for the single token.
func forSeller(run func(context.Context, *call) error) func(context.Context, *call) error {
	return func(ctx context.Context, c *call) error {
		if c.account == "" {
			return run(ctx, c)
		}
		sl, err := c.openSellers(ctx)
		c.printNotes()
		if err != nil {
			return err
		}
		defer sl.Close()
		m, err := sl.a.Manager(ctx, c.account)
		if err != nil {
			return sl.accountError(c.account, err)
		}
		// The Manager belongs to Accounts: closing it twice is harmless.
		c.accounts.seller = &session{c: c, m: m, closeStore: func() {}}
		return run(ctx, c)
	}
}

// cmdStatusFor is status: of the single token, or with --account of the
// seller's token as Accounts.Status reports it (needs_consent included).
func cmdStatusFor(ctx context.Context, c *call) error {
	if c.account == "" {
		return cmdStatus(ctx, c)
	}
	sl, err := c.openSellers(ctx)
	c.printNotes()
	if err != nil {
		return err
	}
	defer sl.Close()
	st, err := sl.a.Status(ctx, c.account)
	if err != nil {
		return sl.accountError(c.account, err)
	}
	d := &statusDoc{Status: st, Source: "store"}
	(&session{c: c}).finish(d)
	if err := c.output(d, func(w io.Writer) { printStatus(w, d) }); err != nil {
		return err
	}
	if d.State == ebayauth.StateNeedsConsent {
		return sl.accountError(c.account, ebayauth.ErrConsentRequired)
	}
	if !d.Healthy {
		return failed
	}
	return nil
}

// accountActions are the accounts subcommand's actions and the arguments
// each takes.
var accountActions = []struct{ name, args string }{
	{"list", ""},
	{"show", "ID"},
	{"remove", "ID"},
	{"connect-url", ""},
	{"add", "CODE|URL|-"},
}

// cmdAccounts runs an action of the accounts subcommand.
func cmdAccounts(ctx context.Context, c *call) error {
	action, rest := c.args[0], c.args[1:]
	var names []string
	known := false
	for _, a := range accountActions {
		names = append(names, strings.TrimSpace(a.name+" "+a.args))
		if a.name != action {
			continue
		}
		known = true
		if (a.args == "") != (len(rest) == 0) {
			if a.args == "" {
				return usagef("accounts %s takes no arguments", action)
			}
			return usagef("accounts %s takes %s", action, a.args)
		}
	}
	switch {
	case !known:
		return usagef("unknown action %q; want one of: %s", action, strings.Join(names, ", "))
	case c.accounts.limit < 0:
		return usagef("--limit: must not be negative")
	case c.accounts.limit != 0 && action != "list":
		return usagef("--limit: only for accounts list")
	case c.accounts.state != "" && action != "connect-url":
		return usagef("--state: only for accounts connect-url")
	}
	switch action {
	case "list":
		return accountsList(ctx, c)
	case "connect-url":
		return accountsConnectURL(c)
	case "add":
		// A usage mistake needs no store.
		if c.s.RuName == "" {
			return usagef("missing %s (or --runame, or redirecturi in --config): eBay wants the RuName as redirect_uri", envRuName)
		}
		code, err := readAuthCode(c, rest[0])
		if err != nil {
			return err
		}
		return withSellers(ctx, c, func(sl *sellers) error { return sl.add(ctx, code) })
	case "show":
		return withSellers(ctx, c, func(sl *sellers) error { return sl.show(ctx, rest[0]) })
	default: // remove
		return withSellers(ctx, c, func(sl *sellers) error { return sl.remove(ctx, rest[0]) })
	}
}

// withSellers runs fn on the sellers of c's settings.
func withSellers(ctx context.Context, c *call, fn func(*sellers) error) error {
	sl, err := c.openSellers(ctx)
	c.printNotes()
	if err != nil {
		return err
	}
	defer sl.Close()
	return fn(sl)
}

// accountDoc is what the command shows of an account: never its refresh
// token.
type accountDoc struct {
	ID                   string    `json:"id"`
	Username             string    `json:"username,omitempty"`
	Marketplace          string    `json:"marketplace,omitempty"`
	NeedsConsent         bool      `json:"needs_consent"`
	RefreshTokenExpiry   time.Time `json:"refresh_token_expiry,omitzero"`
	RefreshTokenExpiring bool      `json:"refresh_token_expiring"` // within 30 days, or past
	Scopes               []string  `json:"scopes,omitempty"`
	Created              time.Time `json:"created,omitzero"`
	Updated              time.Time `json:"updated,omitzero"`
}

func newAccountDoc(a *ebayauth.Account, now time.Time) accountDoc {
	return accountDoc{
		ID: a.ID, Username: a.Username, Marketplace: a.Marketplace, NeedsConsent: a.NeedsConsent,
		RefreshTokenExpiry:   a.RefreshTokenExpiry,
		RefreshTokenExpiring: !a.RefreshTokenExpiry.IsZero() && a.RefreshTokenExpiry.Sub(now) < refreshTokenWarning,
		Scopes:               a.Scopes, Created: a.Created, Updated: a.Updated,
	}
}

// expiryText says when a refresh token expires, with a warning within 30
// days.
func (d accountDoc) expiryText(now time.Time) string {
	switch {
	case d.RefreshTokenExpiry.IsZero():
		return "unknown"
	case !now.Before(d.RefreshTokenExpiry):
		return d.RefreshTokenExpiry.UTC().Format(time.DateOnly) + " EXPIRED"
	}
	s := fmt.Sprintf("%s (in %s)", d.RefreshTokenExpiry.UTC().Format(time.DateOnly), human(d.RefreshTokenExpiry.Sub(now)))
	if d.RefreshTokenExpiring {
		s += " WARNING: within 30 days"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "no"
}

// accountLister prints accounts as they come, page by page: a table, or
// with --json one JSON array written element by element.
type accountLister struct {
	c       *call
	tw      *tabwriter.Writer
	now     time.Time
	n       int // accounts printed
	expiry  int // of which the refresh token expires within 30 days
	consent int // of which need consent
}

func (l *accountLister) print(a *ebayauth.Account) error {
	d := newAccountDoc(a, l.now)
	l.n++
	if d.NeedsConsent {
		l.consent++
	}
	if d.RefreshTokenExpiring {
		l.expiry++
	}
	if l.c.json {
		b, err := json.MarshalIndent(d, "  ", "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if l.n == 1 {
			sep = "[\n  "
		}
		_, err = fmt.Fprintf(l.c.stdout, "%s%s", sep, b)
		return err
	}
	if l.n == 1 {
		fmt.Fprintln(l.tw, "ID\tUSERNAME\tMARKETPLACE\tNEEDS CONSENT\tREFRESH TOKEN EXPIRES")
	}
	_, err := fmt.Fprintf(l.tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, firstNonEmpty(d.Username, "-"), firstNonEmpty(d.Marketplace, "-"),
		yesNo(d.NeedsConsent), d.expiryText(l.now))
	return err
}

// flush ends a page: the table's columns are aligned page by page.
func (l *accountLister) flush() error {
	if l.c.json {
		return nil
	}
	return l.tw.Flush()
}

// end closes the JSON array.
func (l *accountLister) end() error {
	if !l.c.json {
		return nil
	}
	end := "\n]\n"
	if l.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(l.c.stdout, end)
	return err
}

// accountsList prints the accounts, asking the store for one page at a
// time and printing each before asking for the next, so any number of
// accounts takes the memory of one page. It needs no credentials.
func accountsList(ctx context.Context, c *call) error {
	c.printNotes()
	store, closeStore, err := openAccountStore(ctx, c.s, c.log)
	if err != nil {
		return err
	}
	defer closeStore()
	l := &accountLister{c: c, tw: tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0), now: time.Now()}
	limit, after, more := c.accounts.limit, "", false
	for {
		size := c.accounts.page()
		if limit > 0 {
			size = min(size, limit-l.n)
		}
		page, err := store.ListAccounts(ctx, after, size)
		if err != nil {
			l.flush()
			return fmt.Errorf("listing the accounts in %s: %w", store, err)
		}
		for _, a := range page {
			if a.ID <= after {
				return fmt.Errorf("listing the accounts in %s: the store answered account %s after %s, out of order", store, a.ID, after)
			}
			if err := l.print(a); err != nil {
				return err
			}
			after = a.ID
		}
		if err := l.flush(); err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		if limit > 0 && l.n >= limit {
			next, err := store.ListAccounts(ctx, after, 1)
			more = err == nil && len(next) > 0
			break
		}
	}
	if err := l.end(); err != nil {
		return err
	}
	if c.json {
		return nil
	}
	switch {
	case l.n == 0:
		c.notef("no accounts in %s: have a seller consent (ebaytoken accounts connect-url, then ebaytoken accounts add), or run serve --accounts and send sellers to /connect", store)
	case more:
		c.notef("%s shown; more follow (raise --limit)", plural(l.n, "account"))
	default:
		c.notef("%s, %d need consent, %d with a refresh token expiring within 30 days", plural(l.n, "account"), l.consent, l.expiry)
	}
	return nil
}

// showResult is what accounts show prints with --json.
type showResult struct {
	Account accountDoc `json:"account"`
	Status  *statusDoc `json:"status"`
}

// show prints the account and its token's state.
func (sl *sellers) show(ctx context.Context, id string) error {
	acct, err := sl.store.LoadAccount(ctx, id)
	if err != nil {
		return sl.accountError(id, err)
	}
	st, err := sl.a.Status(ctx, id)
	if err != nil {
		return sl.accountError(id, err)
	}
	now := time.Now()
	d := &statusDoc{Status: st, Source: "store"}
	(&session{c: sl.c}).finish(d)
	r := showResult{Account: newAccountDoc(acct, now), Status: d}
	return sl.c.output(r, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s:\t%s\n", k, fmt.Sprintf(format, args...)) }
		a := r.Account
		row("account", "%s", a.ID)
		row("username", "%s", firstNonEmpty(a.Username, "-"))
		row("marketplace", "%s", firstNonEmpty(a.Marketplace, "-"))
		row("needs consent", "%s", yesNo(a.NeedsConsent))
		row("consented to", "%s", firstNonEmpty(strings.Join(a.Scopes, " "), "-"))
		row("connected", "%s", ago(a.Created, now))
		row("updated", "%s", ago(a.Updated, now))
		row("refresh token expires", "%s", a.expiryText(now))
		tw.Flush()
		fmt.Fprintln(w, "\naccess token:")
		printStatus(w, d)
	})
}

// remove deletes the account and its tokens.
func (sl *sellers) remove(ctx context.Context, id string) error {
	acct, err := sl.store.LoadAccount(ctx, id)
	if err != nil {
		return sl.accountError(id, err)
	}
	if err := sl.a.Remove(ctx, id); err != nil {
		return err
	}
	return sl.c.output(map[string]any{"id": id, "username": acct.Username, "removed": true}, func(w io.Writer) {
		fmt.Fprintf(w, "removed account %s (%s): its refresh token and cached access tokens are gone from %s\n",
			id, firstNonEmpty(acct.Username, "no username"), sl.store)
	})
}

// accountsConnectURL prints the consent page URL for a seller: the
// configured scopes and the Identity API's, which add needs to learn who
// consented.
func accountsConnectURL(c *call) error {
	c.printNotes()
	if err := c.s.needConsentSettings(); err != nil {
		return err
	}
	if err := c.s.needCredentials(); err != nil {
		return err
	}
	// The URL needs no store: Accounts only builds it.
	a, err := ebayauth.NewAccounts(c.sellersConfig(), ebayauth.NewMemoryStore())
	if err != nil {
		return usagef("%s", strings.TrimPrefix(err.Error(), "ebayauth: "))
	}
	defer a.Close()
	link := a.AuthCodeURL(c.accounts.state)
	if c.json {
		return writeJSON(c.stdout, map[string]any{"url": link, "state": c.accounts.state, "scopes": scopesOf(link), "runame": c.s.RuName})
	}
	fmt.Fprintln(c.stdout, link)
	c.notef("have the seller open the URL and consent; eBay then redirects to the app's accept URL with ?code=…, valid 299 s; run: ebaytoken accounts add 'REDIRECT-URL'")
	return nil
}

// scopesOf returns the scopes a consent URL asks for.
func scopesOf(link string) []string {
	u, err := url.Parse(link)
	if err != nil {
		return nil
	}
	return strings.Fields(u.Query().Get("scope"))
}

// add connects a seller: the code for tokens, the Identity API for who
// they are, the account saved under eBay's user id.
func (sl *sellers) add(ctx context.Context, code string) error {
	c := sl.c
	acct, err := sl.a.Connect(ctx, code)
	if err != nil {
		msg := "connecting the seller failed: " + err.Error()
		var ae *ebayauth.APIError
		switch {
		case errors.Is(err, ebayauth.ErrInvalidGrant):
			msg += "; codes live 299 s and work once: run ebaytoken accounts connect-url and have the seller consent again"
		case errors.As(err, &ae) && ae.StatusCode == 403:
			msg += "; eBay's Identity API refused the token: the consent must include " + ebayauth.ScopeIdentity + ", which ebaytoken accounts connect-url asks for"
		}
		return &exitError{code: exitFailure, msg: msg}
	}
	d := newAccountDoc(acct, time.Now())
	return c.output(d, func(w io.Writer) {
		fmt.Fprintf(w, "connected account %s (%s, %s); refresh token expires %s; kept in %s\n",
			d.ID, firstNonEmpty(d.Username, "no username"), firstNonEmpty(d.Marketplace, "no marketplace"), d.expiryText(time.Now()), sl.store)
	})
}

// readAuthCode reads add's argument: an authorization code, the whole URL
// eBay redirected the seller to, or "-" for a line of standard input.
func readAuthCode(c *call, arg string) (string, error) {
	code := arg
	if code == "-" {
		line, err := bufio.NewReader(c.stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", usagef("reading the code from standard input: %v", err)
		}
		code = strings.TrimSpace(line)
	}
	if u, err := url.Parse(code); err == nil && u.Scheme != "" {
		q := u.Query()
		if e := q.Get("error"); e != "" {
			return "", &exitError{code: exitFailure, msg: fmt.Sprintf("the redirect carries no code: eBay said %s (the seller may have declined)", e)}
		}
		if q.Get("code") == "" {
			return "", usagef("the URL has no code parameter")
		}
	}
	if code == "" {
		return "", usagef("empty authorization code")
	}
	return code, nil
}
