package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ebayauth/ebayauth"
)

// statusDoc is the document `status --json` prints and serve's /status
// answers: the library's Status and what the command adds. It holds no
// credential.
type statusDoc struct {
	ebayauth.Status
	// Source says whose view this is: "store" (status loaded the shared
	// record, minting nothing) or "process" (the Manager of this process,
	// with its counters).
	Source string `json:"source"`
	// Account is the seller's eBay user id (--account).
	Account string `json:"account,omitempty"`
	// Endpoint is the host of the token endpoint when it is not eBay's
	// (EBAY_TOKEN_URL, EBAY_API_URL: a fake eBay or a proxy).
	Endpoint string   `json:"endpoint,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Webhooks are serve's alert receivers and their deliveries (serve's
	// /status only).
	Webhooks []webhookDoc `json:"webhooks,omitempty"`
	// Accounts counts the sellers' accounts (serve --accounts' /status
	// only).
	Accounts *accountsSummary `json:"accounts,omitempty"`
}

// session is a Manager over the settings' store, for one subcommand.
type session struct {
	c          *call
	m          *ebayauth.Manager
	tokens     ebayauth.Store // the store; also where the signing key is kept
	closeStore func()
	// store collects the store's troubles; Close shows them on stderr
	// unless storeShown (status shows them in its output, serve logs them).
	store      *storeWatch
	storeShown bool
}

// open builds the Manager of the settings, over their store. hooks get the
// Manager's events.
func (c *call) open(hooks ...func(ebayauth.Event)) (*session, error) {
	if c.accounts.seller != nil { // --account: forSeller opened the seller's Manager
		return c.accounts.seller, nil
	}
	if err := c.s.needCredentials(); err != nil {
		return nil, err
	}
	watch := &storeWatch{}
	store, closeStore, err := openStore(c.s, watch.logger(c.log.Handler()))
	if err != nil {
		return nil, err
	}
	cfg := c.s.config()
	cfg.Store = store
	cfg.Logger = c.log
	cfg.OnEvent = ebayauth.TeeEvents(append([]func(ebayauth.Event){watch.observe}, hooks...)...)
	m, err := ebayauth.New(cfg)
	if err != nil {
		closeStore()
		return nil, usagef("%s", strings.TrimPrefix(err.Error(), "ebayauth: "))
	}
	return &session{c: c, m: m, tokens: store, closeStore: closeStore, store: watch, storeShown: c.cmd.name == "serve"}, nil
}

// Close stops the Manager (which finishes its writes to the store) and
// closes the store; then it warns of the store's troubles, if any.
func (ss *session) Close() {
	ss.m.Close()
	ss.closeStore()
	if ss.storeShown {
		return
	}
	for _, cause := range ss.store.causes() {
		ss.c.notef("warning: token store %s: %s", ss.m.Status().Store, cause)
	}
}

// storeWarnings adds the store's troubles to d, a status of the store:
// warnings naming it and the cause, and the store unhealthy.
func (ss *session) storeWarnings(d *statusDoc) {
	ss.storeShown = true
	for _, cause := range ss.store.causes() {
		d.Warnings = append(d.Warnings, fmt.Sprintf("cannot read the store %s: %s", d.Store, cause))
		d.StoreHealthy = false
	}
}

// status is the Manager's status as seen by source ("store" or "process").
func (ss *session) status(source string) *statusDoc {
	d := &statusDoc{Status: ss.m.Status(), Source: source}
	ss.finish(d)
	return d
}

// finish adds the warnings every status document carries.
func (ss *session) finish(d *statusDoc) {
	d.Account = ss.c.account
	if ss.c.s.Custom { // d.Environment says "custom", as the library does
		d.Endpoint = hostOf(ss.c.s.Endpoint.TokenURL)
	}
	if d.RefreshTokenExpiring {
		days := int(time.Until(d.RefreshTokenExpiry).Hours() / 24)
		msg := fmt.Sprintf("the refresh token expires in %d days (%s): have the seller consent again (%s)",
			days, d.RefreshTokenExpiry.UTC().Format(time.DateOnly), ss.c.consentSteps())
		if days < 0 {
			msg = "the refresh token has expired: have the seller consent again (" + ss.c.consentSteps() + ")"
		}
		d.Warnings = append(d.Warnings, msg)
	}
	if d.State == ebayauth.StateFallback {
		d.Warnings = append(d.Warnings, "the static fallback token is in use: no token could be minted")
	}
	if d.State == ebayauth.StateRejected {
		why := "eBay refused the token"
		if d.ValidationError != "" {
			why += " (" + d.ValidationError + ")"
		}
		d.Warnings = append(d.Warnings, why+": run `ebaytoken refresh` to replace it")
	}
	if d.State == ebayauth.StateNeedsConsent {
		d.Warnings = append(d.Warnings, "eBay refused the seller's refresh token: the seller must consent again ("+ss.c.consentSteps()+")")
	}
	if d.Kind == "user" && d.RefreshTokenExpiry.IsZero() && !ss.c.forSellers() {
		d.Warnings = append(d.Warnings, "the refresh token's expiry is unknown: set "+envRefreshTokenExp+" (exchange prints it)")
	}
}

// printStatus writes d for humans.
func printStatus(w io.Writer, d *statusDoc) {
	now := time.Now()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s:\t%s\n", k, fmt.Sprintf(format, args...)) }
	health := "healthy"
	if !d.Healthy {
		health = "UNHEALTHY"
	}
	if d.Account != "" {
		row("account", "%s", d.Account)
	}
	row("state", "%s (%s)", d.State, health)
	if d.Fingerprint != "" {
		tt := d.TokenType
		if tt == "" {
			tt = "token"
		}
		row("token", "%s, fingerprint %s", tt, d.Fingerprint)
	}
	if !d.Expiry.IsZero() {
		when := "expires in " + human(d.Expiry.Sub(now))
		if !now.Before(d.Expiry) {
			when = "expired " + human(now.Sub(d.Expiry)) + " ago"
		}
		row("expiry", "%s (%s)", when, d.Expiry.UTC().Format(time.RFC3339))
		if !d.RefreshAt.IsZero() && now.Before(d.RefreshAt) {
			row("refresh due", "in %s (%s)", human(d.RefreshAt.Sub(now)), d.RefreshAt.UTC().Format(time.RFC3339))
		}
	}
	row("kind", "%s", d.Kind)
	if d.Endpoint != "" {
		row("environment", "%s (%s)", d.Environment, d.Endpoint)
	} else {
		row("environment", "%s", d.Environment)
	}
	row("client id", "%s", d.ClientID)
	scopes := strings.Join(d.Scopes, " ")
	if scopes == "" {
		scopes = "(all consented)"
	}
	row("scopes", "%s", scopes)
	row("last refresh", "%s", ago(d.LastRefresh, now))
	if d.LastError != "" {
		row("last error", "%s (%s)", d.LastError, ago(d.LastErrorTime, now))
	} else {
		row("last error", "none")
	}
	if !d.LastValidation.IsZero() {
		v := "accepted by eBay"
		if d.ValidationError != "" {
			v = "INVALID: " + d.ValidationError
		}
		row("last validation", "%s (%s)", v, ago(d.LastValidation, now))
	}
	switch {
	case d.Kind != "user":
		row("refresh token", "none (application token)")
	case d.RefreshTokenExpiry.IsZero():
		row("refresh token", "expiry unknown")
	default:
		rt := fmt.Sprintf("expires %s (in %s)", d.RefreshTokenExpiry.UTC().Format(time.DateOnly), human(d.RefreshTokenExpiry.Sub(now)))
		if d.RefreshTokenExpiring {
			rt += "  WARNING: within 30 days"
		}
		row("refresh token", "%s", rt)
	}
	fb := "not configured"
	if d.FallbackConfigured {
		fb = "configured, not in use"
		if d.State == ebayauth.StateFallback {
			fb = "IN USE"
		}
	}
	row("fallback", "%s", fb)
	store := d.Store
	if !d.StoreHealthy {
		store += " (UNAVAILABLE)"
	}
	row("stored in", "%s", store)
	if d.Source == "process" {
		c := d.Counters
		row("counters", "mints %d, from store %d, refresh failures %d, 401 retries %d, fallback uses %d, validations %d/%d failed",
			c.Mints, c.StoreHits, c.RefreshFailures, c.Retries401, c.FallbackUses, c.Validations, c.ValidationFailures)
	}
	tw.Flush()
	for _, warn := range d.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", warn)
	}
}

// human renders a duration to the second, or in days beyond two days.
func human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return d.Round(time.Second).String()
}

func ago(t, now time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), human(now.Sub(t)))
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
