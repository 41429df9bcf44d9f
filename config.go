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
	DefaultRefreshBefore  = time.Hour
	DefaultValidateEvery  = 30 * time.Minute
	DefaultRefreshTimeout = 30 * time.Second
	DefaultLockLease      = 45 * time.Second
	DefaultValidatePath   = "/buy/browse/v1/item_summary/search?q=ebay&limit=1"
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
	// dies. Zero: 45 s (longer than a slow token request with retries).
	LockLease time.Duration
	// AllowedHosts are the hosts that receive the token: "host" matches any
	// port, "host:port" that port only, "*.example.com" any subdomain. Nil:
	// the host of Endpoint.APIURL and "*.ebay.com".
	AllowedHosts []string
	// ValidateURL is the probe Validate calls with the token. Zero: a
	// one-item Browse search on Endpoint.APIURL (needs ScopeAPI).
	ValidateURL string
	// ValidateEvery is how often Run validates the token. Zero: 30 minutes;
	// negative: never.
	ValidateEvery time.Duration
	// RefreshEvery makes Run mint a new token at least this often even if
	// the current one is not yet due. Zero: only at the proactive point.
	RefreshEvery time.Duration
	// Logger receives the Manager's logs. Nil: slog.Default().
	Logger *slog.Logger
	// OnEvent is called synchronously for each Event; it must not block.
	// Nil: none.
	OnEvent func(Event)
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
		"LockLease": c.LockLease, "RefreshEvery": c.RefreshEvery,
	} {
		if d < 0 {
			return c, fmt.Errorf("ebayauth: Config.%s is negative (%v)", name, d)
		}
	}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\n") {
			return c, fmt.Errorf("ebayauth: Config.Scopes: %q is not a single scope", s)
		}
	}
	for _, h := range c.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/ ") || strings.Contains(strings.TrimPrefix(h, "*."), "*") {
			return c, fmt.Errorf("ebayauth: Config.AllowedHosts: %q is not a host, host:port or *.domain", h)
		}
	}
	if len(c.Scopes) == 0 && c.RefreshToken == "" {
		c.Scopes = []string{ScopeAPI}
	}
	c.Scopes = slices.Clone(c.Scopes)
	if c.RefreshBefore == 0 {
		c.RefreshBefore = DefaultRefreshBefore
	}
	if c.RefreshTimeout == 0 {
		c.RefreshTimeout = DefaultRefreshTimeout
	}
	if c.LockLease == 0 {
		c.LockLease = DefaultLockLease
	}
	if c.ValidateEvery == 0 {
		c.ValidateEvery = DefaultValidateEvery
	}
	if c.ValidateURL == "" {
		c.ValidateURL = strings.TrimSuffix(c.Endpoint.APIURL, "/") + DefaultValidatePath
	}
	if c.AllowedHosts == nil {
		c.AllowedHosts = DefaultAllowedHosts(c.Endpoint)
	}
	c.AllowedHosts = slices.Clone(c.AllowedHosts)
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

// DefaultAllowedHosts is the AllowedHosts used when Config leaves it nil:
// the host of e.APIURL and every host under ebay.com.
func DefaultAllowedHosts(e Endpoint) []string {
	hosts := []string{"*.ebay.com"}
	if u, err := url.Parse(e.APIURL); err == nil && u.Host != "" && !hostAllowed(hosts, u.Host) {
		hosts = append(hosts, u.Host)
	}
	return hosts
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
		strings.Join(scopes, " "), Fingerprint(c.RefreshToken)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// MaskID shows the start and end of an id such as the client id, enough to
// tell keysets apart without spelling it out.
func MaskID(id string) string {
	if len(id) <= 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + "…" + id[len(id)-4:]
}
