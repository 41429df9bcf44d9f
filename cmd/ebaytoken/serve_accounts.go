package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/accounthttp"
	"github.com/ebayauth/ebayauth/console"
	"github.com/ebayauth/ebayauth/webhook"
)

// Environment variables of serve --accounts. The state key and the
// verification token are secrets: they come from the environment or a
// file, never from a flag (flags show in ps).
const (
	envStateKey         = "EBAY_STATE_KEY"                   // hex, at least 32 bytes
	envDeletionToken    = "EBAY_DELETION_VERIFICATION_TOKEN" // as entered at eBay
	envDeletionEndpoint = "EBAY_DELETION_ENDPOINT"           // the URL registered at eBay, byte for byte
)

// Where serve --accounts mounts the library's handlers.
var onboardingPaths = []string{"/connect", "/accept", "/declined"}

const deletionPath = "/ebay/account-deletion"

// summaryTimeout bounds the paging of /status's account count.
const summaryTimeout = 5 * time.Second

// serveAccountsOptions are serve's flags for --accounts.
type serveAccountsOptions struct {
	on                bool
	stateKeyFile      string
	deletionTokenFile string
	deletionEndpoint  string
}

func serveAccountsFlags(fs *flag.FlagSet, o *serveAccountsOptions) {
	fs.BoolVar(&o.on, "accounts", false, "onboard sellers at /connect, /accept and /declined, and honour eBay's account-deletion notices at "+deletionPath)
	fs.StringVar(&o.stateKeyFile, "state-key-file", "", "--accounts: the onboarding state key, hex, in this `file` (or "+envStateKey+")")
	fs.StringVar(&o.deletionTokenFile, "deletion-verification-token-file", "", "--accounts: the account-deletion verification token in this `file` (or "+envDeletionToken+")")
	fs.StringVar(&o.deletionEndpoint, "deletion-endpoint", "", "--accounts: the account-deletion endpoint `URL` exactly as registered at eBay ("+envDeletionEndpoint+")")
}

// servedSellers is what serve --accounts adds to serve: the sellers'
// Accounts and the settings of the handlers mount adds.
type servedSellers struct {
	*sellers
	public       atomic.Pointer[string] // serve's base URL, for consent links
	log          *slog.Logger
	stateKey     []byte
	stateKeyFrom string // "" when generated
	token        secretSetting
	endpoint     secretSetting // not a secret; read the same way
}

// secretSetting is a setting's value and the flag or variable it came
// from.
type secretSetting struct{ v, from string }

// serveSellers prepares serve --accounts, before serve's own Manager is
// made: it reads the state key and the deletion settings, opens the
// account store and Accounts (asking sellers for the configured scopes),
// and turns serve's own token into the application token that fetches
// eBay's notification keys (client credentials, ScopeAPI). Without
// --accounts it returns nil, and an error if one of its flags was given.
func (c *call) serveSellers(ctx context.Context, log *slog.Logger) (*servedSellers, error) {
	o := c.serve.accounts
	if !o.on {
		for _, f := range []struct{ name, v string }{
			{"--state-key-file", o.stateKeyFile}, {"--deletion-verification-token-file", o.deletionTokenFile}, {"--deletion-endpoint", o.deletionEndpoint},
		} {
			if f.v != "" {
				return nil, usagef("%s: only with --accounts", f.name)
			}
		}
		return nil, nil
	}
	s := &servedSellers{log: log}
	var err error
	if s.stateKey, s.stateKeyFrom, err = o.readStateKey(log); err != nil {
		return nil, err
	}
	if s.token, s.endpoint, err = o.readDeletion(log); err != nil {
		return nil, err
	}
	if n := c.s.ignoredForSellers(); n != "" {
		log.Warn("ebaytoken: " + n + "; serve --accounts keeps an application token for itself")
	}
	if s.sellers, err = c.openSellers(ctx); err != nil {
		return nil, err
	}
	app := *c.s
	app.RefreshToken, app.RefreshTokenExpiry, app.FallbackToken = "", time.Time{}, ""
	app.Scopes = []string{ebayauth.ScopeAPI}
	c.s = &app
	c.accounts.serving = s.sellers
	return s, nil
}

// Close closes the sellers' Managers and the account store.
func (s *servedSellers) Close() {
	if s != nil {
		s.sellers.Close()
	}
}

// mount adds the onboarding handler and, if configured, the deletion
// handler to mux; keys is the application token's client, which fetches
// eBay's notification keys. A setting the handlers refuse is a usage error
// naming it.
func (s *servedSellers) mount(mux *http.ServeMux, keys *http.Client, rec *console.Recorder) error {
	if s == nil {
		return nil
	}
	onboard, err := accounthttp.NewOnboardingHandler(accounthttp.OnboardingConfig{
		ConsentURL: s.a.AuthCodeURL,
		Connect: func(ctx context.Context, code string) (accounthttp.Seller, error) {
			a, err := s.a.Connect(ctx, code)
			if err != nil {
				return accounthttp.Seller{}, err
			}
			if rec != nil {
				rec.ObserveExchange(time.Now()) // the console's code-grant gauge
			}
			return accounthttp.Seller{ID: a.ID, Username: a.Username, Marketplace: a.Marketplace}, nil
		},
		StateKey: s.stateKey,
		Logger:   s.log,
	})
	if err != nil {
		return s.configError(err)
	}
	for _, p := range onboardingPaths {
		mux.Handle(p, onboard)
	}
	if s.stateKeyFrom == "" {
		s.log.Warn("ebaytoken: no onboarding state key (" + envStateKey + " or --state-key-file): using a random one made at startup, " +
			"so onboarding states won't survive a restart (a seller between /connect and /accept must start again) and replicas cannot share them; " +
			"make one with: openssl rand -hex 32")
	}
	s.log.Info("ebaytoken: onboarding sellers", slog.Any("paths", onboardingPaths), slog.String("accounts", fmt.Sprint(s.store)),
		slog.String("consent_scopes", strings.Join(scopesOf(s.a.AuthCodeURL("")), " ")))

	if s.token.v == "" {
		s.log.Warn("ebaytoken: eBay's account-deletion notices are not served at " + deletionPath + ": set " + envDeletionToken +
			" (or --deletion-verification-token-file) and " + envDeletionEndpoint + "; eBay requires every app that keeps sellers' data to accept them")
		return nil
	}
	del, err := accounthttp.NewDeletionHandler(accounthttp.DeletionConfig{
		VerificationToken: s.token.v,
		Endpoint:          s.endpoint.v,
		Keys:              keys,
		APIURL:            s.c.s.Endpoint.APIURL,
		Delete:            s.a.Remove, // nil for a user the app does not know
		Logger:            s.log,
	})
	if err != nil {
		return s.configError(err)
	}
	mux.Handle(deletionPath, del)
	s.log.Info("ebaytoken: serving eBay's account-deletion notices", slog.String("path", deletionPath),
		slog.String("registered_endpoint", webhook.RedactURL(s.endpoint.v)))
	return nil
}

// configError names the setting behind a field the handlers refused.
func (s *servedSellers) configError(err error) error {
	var ce *accounthttp.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	name := map[string]string{
		"VerificationToken": s.token.from,
		"Endpoint":          s.endpoint.from,
		"StateKey":          s.stateKeyFrom,
	}[ce.Field]
	if name == "" {
		return err
	}
	return usagef("%s %s", name, ce.Problem) // a ConfigError never holds a secret
}

// readStateKey returns the onboarding state key and where it came from:
// --state-key-file, else EBAY_STATE_KEY, both hex; or a random key and ""
// if neither is set.
func (o *serveAccountsOptions) readStateKey(log *slog.Logger) ([]byte, string, error) {
	raw, from := os.Getenv(envStateKey), envStateKey
	if o.stateKeyFile != "" {
		v, err := readSecretFile("--state-key-file", o.stateKeyFile)
		if err != nil {
			return nil, "", err
		}
		if raw != "" && strings.TrimSpace(raw) != v {
			log.Warn("ebaytoken: --state-key-file and " + envStateKey + " disagree; using --state-key-file")
		}
		raw, from = v, "--state-key-file"
	}
	if raw == "" {
		key := make([]byte, accounthttp.MinStateKey)
		rand.Read(key) // never fails since Go 1.24
		return key, "", nil
	}
	key, err := hex.DecodeString(strings.TrimSpace(raw))
	switch {
	case err != nil: // the error quotes a character of the key: not shown
		return nil, from, usagef("%s: not hex; make a key with: openssl rand -hex 32", from)
	case len(key) < accounthttp.MinStateKey:
		return nil, from, usagef("%s: %d bytes; at least %d random bytes are needed (openssl rand -hex 32)", from, len(key), accounthttp.MinStateKey)
	}
	return key, from, nil
}

// readDeletion returns the account-deletion verification token and
// endpoint. Neither: the endpoint is not served. One without the other is
// a usage error.
func (o *serveAccountsOptions) readDeletion(log *slog.Logger) (token, endpoint secretSetting, err error) {
	token = secretSetting{os.Getenv(envDeletionToken), envDeletionToken}
	if o.deletionTokenFile != "" {
		v, err := readSecretFile("--deletion-verification-token-file", o.deletionTokenFile)
		if err != nil {
			return token, endpoint, err
		}
		if token.v != "" && token.v != v {
			log.Warn("ebaytoken: --deletion-verification-token-file and " + envDeletionToken + " disagree; using --deletion-verification-token-file")
		}
		token = secretSetting{v, "--deletion-verification-token-file"}
	}
	endpoint = secretSetting{os.Getenv(envDeletionEndpoint), envDeletionEndpoint}
	if o.deletionEndpoint != "" {
		endpoint = secretSetting{o.deletionEndpoint, "--deletion-endpoint"}
	}
	switch {
	case token.v == "" && endpoint.v != "":
		return token, endpoint, usagef("%s is set but not %s (or --deletion-verification-token-file): eBay's account-deletion endpoint needs both",
			endpoint.from, envDeletionToken)
	case token.v != "" && endpoint.v == "":
		return token, endpoint, usagef("%s is set but not %s (or --deletion-endpoint), the endpoint URL exactly as registered at eBay: the challenge hashes it",
			token.from, envDeletionEndpoint)
	}
	return token, endpoint, nil
}

// readSecretFile reads a secret kept alone in a file, the end of its last
// line aside.
func readSecretFile(flagName, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", usagef("%s: %v", flagName, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		return "", usagef("%s: %v", flagName, err)
	case len(b) > maxSecretFile:
		return "", usagef("%s %s: larger than %d KiB: not a secret", flagName, path, maxSecretFile>>10)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if strings.TrimSpace(v) == "" {
		return "", usagef("%s: the file is empty", flagName)
	}
	return v, nil
}

// accountsSummary is what serve --accounts' /status says of the accounts.
type accountsSummary struct {
	Count        int    `json:"count"`
	NeedsConsent int    `json:"needs_consent"`
	Error        string `json:"error,omitempty"`
}

// accountsSummary counts the stored accounts, page by page; nil without
// --accounts.
func (c *call) accountsSummary(ctx context.Context) *accountsSummary {
	sl := c.accounts.serving
	if sl == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, summaryTimeout)
	defer cancel()
	sum := &accountsSummary{}
	for after := ""; ; {
		page, err := sl.store.ListAccounts(ctx, after, c.accounts.page())
		if err != nil {
			sum.Error = "listing the accounts: " + err.Error()
			return sum
		}
		if len(page) == 0 {
			return sum
		}
		for _, a := range page {
			sum.Count++
			if a.NeedsConsent {
				sum.NeedsConsent++
			}
		}
		if last := page[len(page)-1].ID; last > after {
			after = last
		} else {
			sum.Error = "listing the accounts: the store answered out of order"
			return sum
		}
	}
}

// consentPage is the link a seller who must consent again opens: serve's
// own /connect, which sets the browser-bound state and sends them to eBay.
// Its base is EBAY_DELETION_ENDPOINT's origin when set (serve's public
// URL), else the address serve listens on.
func (s *servedSellers) consentPage() string {
	if p := s.public.Load(); p != nil {
		return *p + "/connect"
	}
	return "/connect"
}

// setPublic records serve's base URL: the deletion endpoint's origin if
// known, else addr.
func (s *servedSellers) setPublic(addr string) {
	if s == nil {
		return
	}
	base := "http://" + addr
	if u, err := url.Parse(s.endpoint.v); err == nil && s.endpoint.v != "" && u.Host != "" {
		base = u.Scheme + "://" + u.Host
	}
	s.public.Store(&base)
}
