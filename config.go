package ebayauth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Defaults of Config's zero values.
const (
	defaultRefreshBefore  = time.Hour
	defaultValidateEvery  = 30 * time.Minute
	defaultRefreshTimeout = 30 * time.Second
	defaultLockLease      = 45 * time.Second
	maxLockLease          = 10 * time.Minute
	defaultStoreTimeout   = 2 * time.Second
	defaultValidatePath   = "/buy/browse/v1/item_summary/search?q=ebay&limit=1"
)

// Config says which eBay token a Manager keeps fresh and how. The zero value
// of each field means what its comment says; ClientID and ClientSecret are
// required. A Config is read by New and not retained: changing it afterwards
// does not affect the Manager.
type Config struct {
	// ClientID and ClientSecret are the eBay keyset's "App ID" and "Cert ID".
	ClientID, ClientSecret string
	// RefreshToken selects the grant: empty mints application tokens
	// (client_credentials); set, it mints user tokens (refresh_token grant).
	RefreshToken string
	// RefreshTokenExpiry is when RefreshToken stops working (Exchange
	// reports it as Token.RefreshTokenExpiry; eBay never repeats it), so
	// that Status can warn 30 days ahead. Zero: unknown, unless the Store's
	// record knows it.
	RefreshTokenExpiry time.Time
	// Scopes to request. Zero: []string{ScopeAPI} for application tokens;
	// for user tokens every scope the seller consented to.
	Scopes []string
	// Endpoint is the eBay environment. Zero: Production.
	Endpoint Endpoint
	// RuName is the app's redirect name, eBay's redirect_uri for the
	// authorization-code grant (AuthCodeURL, Exchange).
	RuName string
	// FallbackToken is a static OAuth access token (for instance a user token
	// from the developer portal) used when no valid token can be minted and
	// the last one has expired. It must be an OAuth token: eBay's REST APIs
	// reject legacy Auth'n'Auth tokens. Empty: no fallback.
	FallbackToken string
	// RefreshBefore is how long before expiry a token is refreshed in the
	// background, plus up to 10 % jitter so a fleet does not refresh in the
	// same second. It is capped at half the token's lifetime. Zero: 1 hour.
	RefreshBefore time.Duration
	// RefreshTimeout bounds one refresh, retries included. It runs apart
	// from any caller's context. Zero: 30 s.
	RefreshTimeout time.Duration
	// RetryMax is how often a token request is retried after a network
	// error, 429 or 5xx. Zero: 3; negative: never. Ignored if HTTPClient is set.
	RetryMax int
	// HTTPClient calls the token endpoint. Nil: NewRetryingClient(RetryMax).
	HTTPClient *http.Client
	// Store shares tokens with other Managers: redisstore for a fleet,
	// filestore for the processes of one machine. Nil: a private MemoryStore.
	Store Store
	// LockLease is how long a store lock taken to mint lasts if its holder
	// dies. Zero: 45 s; at most 10 minutes. Managers wait for another's
	// lock at most half of RefreshTimeout, then mint without it.
	LockLease time.Duration
	// StoreTimeout bounds each call to the Store, even one whose client
	// ignores contexts. Zero: 2 s.
	StoreTimeout time.Duration
	// AllowedHosts are the hosts that receive the token: "host" matches any
	// port, "host:port" that port only, "*.example.com" any subdomain. Nil:
	// the host of Endpoint.APIURL and "*.ebay.com".
	AllowedHosts []string
	// AllowHTTPHosts are allowed hosts that may get the token over plain
	// http. The token goes over https only, except to a loopback host (so
	// that ebaytest works) or to these. Nil: none.
	AllowHTTPHosts []string
	// ValidateURL is the probe Validate calls with the token. It must be on
	// an allowed host, over https (or as AllowHTTPHosts permits). Zero: a
	// one-item Browse search on Endpoint.APIURL (needs ScopeAPI).
	ValidateURL string
	// ValidateEvery is how often Run validates the token. Zero: 30 minutes;
	// negative: never.
	ValidateEvery time.Duration
	// RefreshEvery makes Run mint a new token at least this often even if
	// the current one is not yet due. Zero: only at the proactive point.
	// Negative: Run does not refresh at all, only validates (the token is
	// still refreshed on demand, by Token and the Transport).
	RefreshEvery time.Duration
	// Logger receives the Manager's logs. Nil: slog.Default().
	Logger *slog.Logger
	// OnEvent is called synchronously for each Event; it must not block.
	// Nil: none.
	OnEvent func(Event)
	// account is the eBay user id a Manager of Accounts acts for.
	account string

	// Clock tells time. Nil: the system clock. Tests inject a fake one
	// (ebaytest.Clock) to move through a token's life without sleeping.
	Clock Clock
}

// Clock is the time source of a Manager.
type Clock interface {
	Now() time.Time
	// After is time.After on this clock.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (c *Config) checkCredentials() error {
	var missing []string
	if c.ClientID == "" {
		missing = append(missing, "ClientID (App ID)")
	}
	if c.ClientSecret == "" {
		missing = append(missing, "ClientSecret (Cert ID)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("ebayauth: Config: missing %s", strings.Join(missing, " and "))
	}
	return nil
}

// Check reports what New would refuse in c, with an error that names the
// field; nil if New would accept it. It does not contact eBay.
func (c Config) Check() error {
	_, err := c.normalize()
	return err
}

// checkScopes accepts eBay scopes: https URLs such as ScopeAPI and its
// sub-scopes, one per element.
func checkScopes(scopes []string) error {
	for _, s := range scopes {
		u, err := url.Parse(s)
		if s == "" || strings.ContainsAny(s, " \t\r\n,") || err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("ebayauth: Config.Scopes: %q is not an eBay scope (one https URL per scope, e.g. %s)", s, ScopeAPI)
		}
	}
	return nil
}

// checkFallback refuses a fallback token eBay's REST APIs would refuse: a
// legacy Auth'n'Auth token (the 18-month Trading API token, "AgAAAA…"), or
// one a header cannot carry.
func checkFallback(tok string) error {
	switch {
	case tok == "":
		return nil
	case strings.HasPrefix(tok, "AgAAAA"):
		return errors.New("ebayauth: Config.FallbackToken is a legacy Auth'n'Auth token (it starts AgAAAA), which eBay's REST APIs refuse with 401/1001: " +
			"give an OAuth user or application token (they start v^1.1#), e.g. a user token from the developer portal")
	case !validHeaderToken(tok):
		return errors.New("ebayauth: Config.FallbackToken holds a space, control or non-ASCII byte: it is not a token")
	}
	return nil
}

// normalize checks c and fills in its defaults.
func (c Config) normalize() (Config, error) {
	if err := c.checkCredentials(); err != nil {
		return c, err
	}
	c.Endpoint = c.endpoint()
	for name, u := range map[string]string{"TokenURL": c.Endpoint.TokenURL, "APIURL": c.Endpoint.APIURL} {
		if err := checkURL(u); err != nil {
			return c, fmt.Errorf("ebayauth: Config.Endpoint.%s: %w", name, err)
		}
	}
	if c.ValidateURL != "" {
		if err := checkURL(c.ValidateURL); err != nil {
			return c, fmt.Errorf("ebayauth: Config.ValidateURL: %w", err)
		}
	}
	for name, d := range map[string]time.Duration{
		"RefreshBefore": c.RefreshBefore, "RefreshTimeout": c.RefreshTimeout,
		"LockLease": c.LockLease, "StoreTimeout": c.StoreTimeout,
	} {
		if d < 0 {
			return c, fmt.Errorf("ebayauth: Config.%s is negative (%v)", name, d)
		}
	}
	if err := checkScopes(c.Scopes); err != nil {
		return c, err
	}
	if err := checkFallback(c.FallbackToken); err != nil {
		return c, err
	}
	if _, err := parseHosts(c.AllowedHosts); err != nil {
		return c, fmt.Errorf("ebayauth: Config.%s", strings.TrimPrefix(err.Error(), "ebayauth: "))
	}
	if len(c.Scopes) == 0 && c.RefreshToken == "" {
		c.Scopes = []string{ScopeAPI}
	}
	c.Scopes = slices.Clone(c.Scopes)
	if c.RefreshBefore == 0 {
		c.RefreshBefore = defaultRefreshBefore
	}
	if c.RefreshTimeout == 0 {
		c.RefreshTimeout = defaultRefreshTimeout
	}
	if c.LockLease == 0 {
		c.LockLease = defaultLockLease
	}
	if c.LockLease > maxLockLease {
		return c, fmt.Errorf("ebayauth: Config.LockLease %v is longer than %v", c.LockLease, maxLockLease)
	}
	if c.StoreTimeout == 0 {
		c.StoreTimeout = defaultStoreTimeout
	}
	if c.ValidateEvery == 0 {
		c.ValidateEvery = defaultValidateEvery
	}
	if c.ValidateURL == "" {
		c.ValidateURL = strings.TrimSuffix(c.Endpoint.APIURL, "/") + defaultValidatePath
	}
	if c.AllowedHosts == nil {
		c.AllowedHosts = DefaultAllowedHosts(c.Endpoint)
	}
	c.AllowedHosts = slices.Clone(c.AllowedHosts)
	c.AllowHTTPHosts = slices.Clone(c.AllowHTTPHosts)
	if c.HTTPClient == nil {
		c.HTTPClient = NewRetryingClient(c.retryMax())
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	return c, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", u.Redacted())
	}
	return nil
}

// kind is "application" or "user".
func (c *Config) kind() string {
	if c.RefreshToken == "" {
		return "application"
	}
	return "user"
}

// cacheKey names the token c mints in a Store: a hash over everything that
// changes the token (environment, client id, grant, scopes, refresh token),
// so it holds no secret and two configurations never share a token.
func (c *Config) cacheKey() string {
	scopes := slices.Clone(c.Scopes)
	slices.Sort(scopes)
	h := sha256.New()
	for _, s := range []string{"ebayauth/v1", c.Endpoint.TokenURL, c.ClientID, c.grantValues().Get("grant_type"),
		strings.Join(scopes, " "), fingerprint(c.RefreshToken), c.account} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// maskID shows the start and end of an id such as the client id, enough to
// tell keysets apart without spelling it out.
func maskID(id string) string {
	if len(id) <= 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + "…" + id[len(id)-4:]
}
