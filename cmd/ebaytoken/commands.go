package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/ebayauth/ebayauth"
)

// status: report the token in the store, minting nothing.
func cmdStatus(ctx context.Context, c *call) error {
	c.printNotes()
	ss, err := c.open()
	if err != nil {
		return err
	}
	defer ss.Close()
	if err := ss.m.Sync(ctx); err != nil {
		ss.store.failed(err)
	}
	d := ss.status("store")
	ss.storeWarnings(d)
	if ss.tokens != nil {
		if w := signingKeyWarning(ctx, ss.tokens); w != "" {
			d.Warnings = append(d.Warnings, w)
		}
	}
	if err := c.output(d, func(w io.Writer) { printStatus(w, d) }); err != nil {
		return err
	}
	if !d.Healthy {
		return failed
	}
	return nil
}

// output prints v as JSON with --json, else as text.
func (c *call) output(v any, text func(w io.Writer)) error {
	if c.json {
		return writeJSON(c.stdout, v)
	}
	text(c.stdout)
	return nil
}

// refreshResult is what refresh and force-refresh print with --json.
type refreshResult struct {
	// Action is "refreshed" (a token was minted), "none" (the token was
	// fresh), "from_store" (another process minted one while this one
	// waited for the store's lock) or "failed".
	Action string `json:"action"`
	statusDoc
}

// refresh: refresh only if the token is due (inside its refresh window,
// expired, refused by eBay, or missing).
func cmdRefresh(ctx context.Context, c *call) error {
	c.printNotes()
	ss, err := c.open()
	if err != nil {
		return err
	}
	defer ss.Close()
	tok, refreshed, err := ss.m.RefreshIfDue(ctx)
	d := ss.status("process")
	if err != nil {
		return ss.refreshFailed(err, d)
	}
	r := refreshResult{Action: "none", statusDoc: *d}
	switch {
	case refreshed && d.Counters.Mints > 0:
		r.Action = "refreshed"
	case refreshed:
		r.Action = "from_store"
	}
	return c.output(r, func(w io.Writer) {
		switch r.Action {
		case "none":
			fmt.Fprintf(w, "no refresh needed: token %s is fresh, expires in %s; refresh due in %s\n",
				tok.Fingerprint(), human(time.Until(tok.Expiry)), human(time.Until(d.RefreshAt)))
		case "from_store":
			fmt.Fprintf(w, "refreshed by another process: token %s, expires in %s (%s)\n", tok.Fingerprint(), human(time.Until(tok.Expiry)), tok.Expiry.UTC().Format(time.RFC3339))
		default:
			fmt.Fprintf(w, "refreshed: new token %s, expires in %s (%s)\n", tok.Fingerprint(), human(time.Until(tok.Expiry)), tok.Expiry.UTC().Format(time.RFC3339))
		}
	})
}

// refreshFailed reports a refresh that failed, saying whether the current
// token still works.
func (ss *session) refreshFailed(err error, d *statusDoc) error {
	msg := "refresh failed: " + err.Error()
	if d.Healthy && d.State != ebayauth.StateFallback && d.Fingerprint != "" {
		msg += fmt.Sprintf("; the current token %s is still valid for %s", d.Fingerprint, human(time.Until(d.Expiry)))
	}
	if d.FallbackConfigured && !d.Healthy {
		msg += "; only the static fallback token is available"
	}
	if errors.Is(err, ebayauth.ErrInvalidGrant) {
		msg += "; eBay refused the refresh token: have the seller consent again (" + ss.c.consentSteps() + ")"
	}
	if errors.Is(err, ebayauth.ErrInvalidClient) {
		msg += "; eBay refused the client id and secret: check " + envClientID + " and " + envClientSecret
	}
	if ss.c.json {
		_ = writeJSON(ss.c.stdout, refreshResult{Action: "failed", statusDoc: *d})
	}
	return &exitError{code: exitFailure, msg: msg}
}

// force-refresh: mint now.
func cmdForceRefresh(ctx context.Context, c *call) error {
	c.printNotes()
	ss, err := c.open()
	if err != nil {
		return err
	}
	defer ss.Close()
	tok, err := ss.m.ForceRefresh(ctx)
	d := ss.status("process")
	if err != nil {
		return ss.refreshFailed(err, d)
	}
	action := "refreshed"
	if d.Counters.Mints == 0 {
		action = "from_store" // another process minted while we waited for the lock
	}
	return c.output(refreshResult{Action: action, statusDoc: *d}, func(w io.Writer) {
		fmt.Fprintf(w, "minted new token %s, expires in %s (%s)\n", tok.Fingerprint(), human(time.Until(tok.Expiry)), tok.Expiry.UTC().Format(time.RFC3339))
	})
}

// validateResult is what validate prints with --json.
type validateResult struct {
	Valid       bool                      `json:"valid"`
	Fingerprint string                    `json:"fingerprint,omitempty"`
	Fallback    bool                      `json:"fallback,omitempty"`
	Rejected    bool                      `json:"rejected,omitempty"` // eBay refused the token: run refresh
	StatusCode  int                       `json:"status_code,omitempty"`
	Errors      []ebayauth.APIErrorDetail `json:"errors,omitempty"`
	Error       string                    `json:"error,omitempty"`
}

// validate: ask eBay's probe.
func cmdValidate(ctx context.Context, c *call) error {
	c.printNotes()
	ss, err := c.open()
	if err != nil {
		return err
	}
	defer ss.Close()
	if err := ss.m.Sync(ctx); err == nil {
		if d := ss.status("store"); d.State == ebayauth.StateRejected {
			// Validating again would mint a replacement: say what to do.
			msg := fmt.Sprintf("token %s was refused by eBay (%s)", d.Fingerprint, firstNonEmpty(d.ValidationError, "HTTP 401"))
			if err := c.output(validateResult{Fingerprint: d.Fingerprint, Rejected: true, Error: msg}, func(w io.Writer) {
				fmt.Fprintf(w, "invalid: %s; run `ebaytoken refresh` to replace it\n", msg)
			}); err != nil {
				return err
			}
			return failed
		}
	}
	verr := ss.m.Validate(ctx)
	d := ss.status("process")
	r := validateResult{Valid: verr == nil, Fingerprint: d.Fingerprint, Fallback: d.State == ebayauth.StateFallback}
	if r.Fallback {
		// Status fingerprints the Manager's own token, which it has none of.
		r.Fingerprint = (&ebayauth.Token{AccessToken: c.s.FallbackToken}).Fingerprint()
	}
	var ae *ebayauth.APIError
	switch {
	case verr == nil:
	case errors.As(verr, &ae):
		r.StatusCode, r.Errors, r.Error = ae.StatusCode, ae.Errors, verr.Error()
	default:
		r.Error = "no token to validate: " + verr.Error()
	}
	r.Rejected = d.State == ebayauth.StateRejected
	if err := c.output(r, func(w io.Writer) {
		which := "token " + r.Fingerprint
		if r.Fallback {
			which = "the static fallback token " + r.Fingerprint
		}
		switch {
		case r.Valid:
			fmt.Fprintf(w, "valid: eBay accepted %s\n", which)
		case r.StatusCode != 0:
			fmt.Fprintf(w, "invalid: eBay answered %s with HTTP %d\n", which, r.StatusCode)
			for _, e := range r.Errors {
				fmt.Fprintf(w, "  error %d (%s): %s\n", e.ErrorID, e.Domain, firstNonEmpty(e.LongMessage, e.Message))
			}
			if r.Rejected {
				fmt.Fprintln(w, "the token is marked rejected in the store; run `ebaytoken refresh` to replace it")
			}
		default:
			fmt.Fprintf(w, "cannot validate: %s\n", r.Error)
		}
	}); err != nil {
		return err
	}
	if !r.Valid {
		return failed
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// tokenResult is what token prints with --json.
type tokenResult struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	ExpiresIn   int64     `json:"expires_in,omitempty"`
	Fallback    bool      `json:"fallback,omitempty"`
}

// token: print the access token alone.
func cmdToken(ctx context.Context, c *call) error {
	c.printNotes()
	ss, err := c.open()
	if err != nil {
		return err
	}
	defer ss.Close()
	tok, err := ss.m.Token(ctx)
	st := ss.m.Status()
	fallback := err == nil && st.State == ebayauth.StateFallback
	if err != nil {
		msg := "no token: " + err.Error()
		if errors.Is(err, ebayauth.ErrInvalidGrant) {
			msg += "; eBay refused the refresh token: have the seller consent again (" + c.consentSteps() + ")"
		}
		return &exitError{code: exitFailure, msg: msg}
	}
	switch {
	case fallback:
		c.notef("warning: no token could be minted (%s); printing the static fallback token", st.LastError)
	case st.LastError != "" && st.State == ebayauth.StateStale:
		c.notef("warning: refresh failed (%s); printing the current token %s, valid for %s", st.LastError, tok.Fingerprint(), human(time.Until(tok.Expiry)))
	}
	if c.json {
		r := tokenResult{AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: tok.Expiry, Fallback: fallback}
		if !tok.Expiry.IsZero() {
			r.ExpiresIn = int64(time.Until(tok.Expiry) / time.Second)
		}
		return writeJSON(c.stdout, r)
	}
	_, err = fmt.Fprintln(c.stdout, tok.AccessToken)
	return err
}

func consentFlags(fs *flag.FlagSet, c *call) {
	fs.StringVar(&c.state, "state", "", "opaque `value` eBay hands back with the code (guards against CSRF)")
	fs.BoolVar(&c.promptLogin, "prompt-login", false, "make eBay ask the seller to sign in even if already signed in")
}

// consent-url: the URL a seller opens to consent.
func cmdConsentURL(_ context.Context, c *call) error {
	c.printNotes()
	if err := c.s.needConsentSettings(); err != nil {
		return err
	}
	cfg := c.s.config()
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{ebayauth.ScopeAPI}
	}
	u := cfg.AuthCodeURL(c.state)
	if c.promptLogin {
		u += "&prompt=login"
	}
	if c.json {
		return writeJSON(c.stdout, map[string]any{"url": u, "state": c.state, "scopes": cfg.Scopes, "runame": c.s.RuName})
	}
	fmt.Fprintln(c.stdout, u)
	c.notef("open the URL as the seller and consent; eBay then redirects to the app's accept URL with ?code=…, valid 299 s; run: ebaytoken exchange 'REDIRECT-URL'")
	return nil
}

// exchangeResult is what exchange prints with --json.
type exchangeResult struct {
	RefreshToken       string    `json:"refresh_token"`
	RefreshTokenExpiry time.Time `json:"refresh_token_expiry,omitzero"`
	AccessToken        string    `json:"access_token"`
	TokenType          string    `json:"token_type,omitempty"`
	Expiry             time.Time `json:"expiry"`
}

// exchange: trade a consent code for a user token and refresh token.
func cmdExchange(ctx context.Context, c *call) error {
	c.printNotes()
	if err := c.s.needCredentials(); err != nil {
		return err
	}
	if c.s.RuName == "" {
		return usagef("missing %s (or --runame, or redirecturi in --config): eBay wants the RuName as redirect_uri", envRuName)
	}
	code := c.args[0]
	if code == "-" {
		line, err := bufio.NewReader(c.stdin).ReadString('\n')
		if err != nil && line == "" {
			return usagef("reading the code from standard input: %v", err)
		}
		code = strings.TrimSpace(line)
	}
	if u, err := url.Parse(code); err == nil && u.Scheme != "" {
		q := u.Query()
		if e := q.Get("error"); e != "" {
			return &exitError{code: exitFailure, msg: fmt.Sprintf("the redirect carries no code: eBay said %s (the seller may have declined)", e)}
		}
		if q.Get("code") == "" {
			return usagef("the URL has no code parameter")
		}
	}
	if code == "" {
		return usagef("empty authorization code")
	}
	cfg := c.s.config()
	cfg.Logger = c.log
	tok, err := cfg.Exchange(ctx, code)
	if err != nil {
		msg := "exchange failed: " + err.Error()
		if errors.Is(err, ebayauth.ErrInvalidGrant) {
			msg += "; codes live 299 s and work once: run ebaytoken consent-url and consent again"
		}
		return &exitError{code: exitFailure, msg: msg}
	}
	if tok.RefreshToken == "" {
		return &exitError{code: exitFailure, msg: "exchange: eBay answered without a refresh token"}
	}
	if c.json {
		return writeJSON(c.stdout, exchangeResult{RefreshToken: tok.RefreshToken, RefreshTokenExpiry: tok.RefreshTokenExpiry,
			AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: tok.Expiry})
	}
	w := c.stdout
	fmt.Fprint(w, "The seller's refresh token (shown this once; keep it secret)")
	if !tok.RefreshTokenExpiry.IsZero() {
		fmt.Fprintf(w, ", valid until %s (%s)", tok.RefreshTokenExpiry.UTC().Format(time.RFC3339), human(time.Until(tok.RefreshTokenExpiry)))
	}
	fmt.Fprint(w, ".\nStore it in your secret manager or environment; ebaytoken and the library read these:\n\n")
	fmt.Fprintf(w, "  export %s=%s\n", envRefreshToken, shellQuote(tok.RefreshToken))
	if !tok.RefreshTokenExpiry.IsZero() {
		fmt.Fprintf(w, "  export %s=%s\n", envRefreshTokenExp, tok.RefreshTokenExpiry.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "\nUser access token %s (%s), expires in %s\n", tok.Fingerprint(), tok.TokenType, human(time.Until(tok.Expiry)))
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// needConsentSettings is the usage error for a consent URL without the
// client id or the RuName it is made of; nil if both are set.
func (s *settings) needConsentSettings() error {
	var missing []string
	if s.ClientID == "" {
		missing = append(missing, envClientID+" (or "+djangoAppID+")")
	}
	if s.RuName == "" {
		missing = append(missing, envRuName+" (or --runame, or redirecturi in --config)")
	}
	if len(missing) > 0 {
		return usagef("missing %s", strings.Join(missing, " and "))
	}
	return nil
}
