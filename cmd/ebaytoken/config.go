package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ebayauth/ebayauth"
)

// Settings: flags over environment over the --config file. Each setting has
// a new environment name and, where the original Django system had one, its
// name too; when both are set and disagree, the new name wins and a note
// says so. Secrets (client secret, refresh token, fallback token) have no
// flag: a flag shows in ps and in shell history.

// settings is the configuration of one run of the command.
type settings struct {
	ClientID, ClientSecret string
	RefreshToken           string
	RefreshTokenExpiry     time.Time
	Scopes                 []string
	Environment            string // "production" or "sandbox"
	Endpoint               ebayauth.Endpoint
	Custom                 bool // the endpoint was overridden (a fake eBay, a proxy)
	FallbackToken          string
	RuName                 string
	RedisURL               string
	RedisFrom              string // the flag or variable RedisURL came from
	RedisSealKey           []byte
	DatabaseSealKey        []byte // EBAY_DATABASE_SEAL_KEY
	StoreFile              string
	DatabaseURL            string // PostgreSQL (--database): sellers' accounts and tokens
	databaseFrom           string // the flag or variable DatabaseURL came from
	StoreFileFrom          string // the flag or variable StoreFile came from
	NoStore                bool
	RefreshBuffer          time.Duration // 0: the library's default
	RefreshInterval        time.Duration // 0: only at the proactive point
	ValidationInterval     time.Duration // 0: the library's default
	RefreshEnabled         bool

	// notes are remarks for the operator: which of two names won, settings
	// that are accepted but not needed. They hold no value of a secret.
	notes []string
}

// commonFlags are the flags every subcommand that talks to eBay accepts.
type commonFlags struct {
	config, env, clientID, scopes, runame    string
	tokenURL, apiURL, authURL                string
	redis, storeFile, database               string
	noStore                                  bool
	refreshBuffer, refreshInterval, validate string
	refreshTokenExpiry                       string
	verbose                                  bool
	reads                                    settingSet      // the settings the subcommand reads
	set                                      map[string]bool // flags given on the command line
	fs                                       *flag.FlagSet
}

// addCommon registers on fs the flags of the settings in reads.
func addCommon(fs *flag.FlagSet, reads settingSet) *commonFlags {
	c := &commonFlags{fs: fs, reads: reads}
	if reads.has(readsAccount) {
		fs.StringVar(&c.config, "config", "", "eBay SDK config `file` (YAML with api.ebay.com / api.sandbox.ebay.com sections; EBAY_CONFIG)")
		fs.StringVar(&c.env, "env", "", "eBay `environment`: production or sandbox (EBAY_ENVIRONMENT)")
		fs.StringVar(&c.clientID, "client-id", "", "eBay App ID (EBAY_CLIENT_ID)")
	}
	if reads.has(readsScopes) {
		fs.StringVar(&c.scopes, "scopes", "", "space- or comma-separated OAuth `scopes` (EBAY_SCOPES)")
	}
	if reads.has(readsRuName) {
		fs.StringVar(&c.runame, "runame", "", "the app's RuName, eBay's redirect_uri (EBAY_RUNAME)")
	}
	if reads.has(readsTokenURL) {
		fs.StringVar(&c.tokenURL, "token-url", "", "token endpoint `URL` override; needs --api-url too (EBAY_TOKEN_URL)")
	}
	if reads.has(readsTokenURL | readsAuthURL) {
		fs.StringVar(&c.apiURL, "api-url", "", "REST API base `URL` override, e.g. a fake eBay; the token and consent URLs derive from it (EBAY_API_URL)")
	}
	if reads.has(readsAuthURL) {
		fs.StringVar(&c.authURL, "auth-url", "", "consent page `URL` override; needs --api-url too (EBAY_AUTH_URL)")
	}
	if reads.has(readsStore) {
		fs.StringVar(&c.redis, "redis", "", "share tokens through Redis at `URL` (EBAY_REDIS_URL)")
		fs.StringVar(&c.storeFile, "store-file", "", "token file `path` of the file store (EBAY_TOKEN_FILE)")
		fs.StringVar(&c.database, "database", "", "PostgreSQL `URL` (postgres://…) keeping sellers' accounts and tokens ("+envDatabaseURL+"; seal key "+envDatabaseSealKey+")")
		fs.BoolVar(&c.noStore, "no-store", false, "keep tokens in memory only")
	}
	if reads.has(readsManager) {
		fs.StringVar(&c.refreshBuffer, "refresh-buffer", "", "refresh this `duration` before expiry, e.g. 1h or 3600 (EBAY_TOKEN_REFRESH_BUFFER)")
		fs.StringVar(&c.refreshTokenExpiry, "refresh-token-expiry", "", "when the refresh token expires, RFC 3339 `time` (EBAY_REFRESH_TOKEN_EXPIRY)")
	}
	if reads.has(readsSchedule) {
		fs.StringVar(&c.refreshInterval, "refresh-interval", "", "mint at least this often, a `duration` or seconds (EBAY_TOKEN_REFRESH_INTERVAL)")
		fs.StringVar(&c.validate, "validation-interval", "", "validate this often, a `duration` or seconds (EBAY_TOKEN_VALIDATION_INTERVAL)")
	}
	if reads.has(readsLogs) {
		fs.BoolVar(&c.verbose, "v", false, verboseUsage)
	}
	return c
}

// given reports whether the flag name was set on the command line.
func (c *commonFlags) given(name string) bool {
	if c.set == nil {
		c.set = map[string]bool{}
		c.fs.Visit(func(f *flag.Flag) { c.set[f.Name] = true })
	}
	return c.set[name]
}

// usageError is a mistake in how the command was called or configured:
// exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// value is one setting looked up by its names, in order of precedence.
type value struct {
	v    string
	from string // the flag or variable it came from, "" if unset
}

// lookup returns the first of the flag (if given) and the variables that
// is set, noting when a later name disagrees with the winner. same compares
// two raw values (nil: string equality).
func (s *settings) lookup(c *commonFlags, flagName, flagVal string, same func(a, b string) bool, names ...string) value {
	var got value
	if flagName != "" && c.given(flagName) {
		got = value{flagVal, "--" + flagName}
	}
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			continue
		}
		if got.from == "" {
			got = value{v, n}
			continue
		}
		if strings.HasPrefix(got.from, "--") {
			continue // a flag overrides the environment, as documented
		}
		eq := v == got.v
		if same != nil {
			eq = same(v, got.v)
		}
		if !eq {
			s.notes = append(s.notes, fmt.Sprintf("%s and %s disagree; using %s", got.from, n, got.from))
		}
	}
	return got
}

// Environment variable names: the new ones and those of the original
// Django settings.
const (
	envClientID          = "EBAY_CLIENT_ID"
	envClientSecret      = "EBAY_CLIENT_SECRET"
	envRefreshToken      = "EBAY_REFRESH_TOKEN"
	envRefreshTokenExp   = "EBAY_REFRESH_TOKEN_EXPIRY"
	envScopes            = "EBAY_SCOPES"
	envEnvironment       = "EBAY_ENVIRONMENT"
	envTokenURL          = "EBAY_TOKEN_URL"
	envAPIURL            = "EBAY_API_URL"
	envAuthURL           = "EBAY_AUTH_URL"
	envFallback          = "EBAY_FALLBACK_TOKEN"
	envRuName            = "EBAY_RUNAME"
	envRedisURL          = "EBAY_REDIS_URL"
	envRedisSealKey      = "EBAY_REDIS_SEAL_KEY"
	envTokenFile         = "EBAY_TOKEN_FILE"
	envConfig            = "EBAY_CONFIG"
	envRefreshBuffer     = "EBAY_TOKEN_REFRESH_BUFFER"
	envRefreshInterval   = "EBAY_TOKEN_REFRESH_INTERVAL"
	envValidateInterval  = "EBAY_TOKEN_VALIDATION_INTERVAL"
	envRefreshEnabled    = "EBAY_TOKEN_REFRESH_ENABLED"
	djangoAppID          = "EBAY_PRODUCTION_APP_ID"
	djangoCertID         = "EBAY_PRODUCTION_CERT_ID"
	djangoClientSecret   = "EBAY_PRODUCTION_CLIENT_SECRET"
	djangoRefreshToken   = "EBAY_PRODUCTION_REFRESH_TOKEN"
	djangoUserToken      = "EBAY_PRODUCTION_USER_TOKEN"
	djangoBufferHours    = "EBAY_TOKEN_REFRESH_BUFFER_HOURS"
	djangoCacheTimeout   = "EBAY_TOKEN_CACHE_TIMEOUT"
	djangoRefreshSeconds = envRefreshInterval  // same name, seconds
	djangoValidateSecs   = envValidateInterval // same name, seconds
)

// credentialEnv lists every variable that carries a credential, so that
// demo can tell whether real credentials are configured and tests can
// clear them.
var credentialEnv = []string{
	envClientID, envClientSecret, envRefreshToken, envFallback,
	djangoAppID, djangoCertID, djangoClientSecret, djangoRefreshToken, djangoUserToken,
}

// allEnv lists every variable the command reads.
var allEnv = append(slices.Clone(credentialEnv),
	envRefreshTokenExp, envScopes, envEnvironment, envTokenURL, envAPIURL, envAuthURL, envRuName,
	envRedisURL, envRedisSealKey, envTokenFile, envDatabaseURL, envConfig, envRefreshBuffer, envRefreshInterval,
	envValidateInterval, envRefreshEnabled, djangoBufferHours, djangoCacheTimeout)

// sdkConfig is one environment's section of eBay's SDK config file.
type sdkConfig struct {
	AppID       string `yaml:"appid"`
	CertID      string `yaml:"certid"`
	DevID       string `yaml:"devid"`
	RedirectURI string `yaml:"redirecturi"`
}

// sdkSection is the key of env's section in eBay's SDK config file.
func sdkSection(env string) string {
	if env == "sandbox" {
		return "api.sandbox.ebay.com"
	}
	return "api.ebay.com"
}

// readSDKConfig reads the section for env of the YAML file eBay's official
// SDKs use:
//
//	api.ebay.com:
//	  appid: …
//	  certid: …
//	  devid: …
//	  redirecturi: …   # the RuName
//
// from is the setting that named the file (--config or EBAY_CONFIG).
func readSDKConfig(path, from, env string) (*sdkConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("%s: %v", from, err)
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		// yaml's messages quote line numbers, not values.
		return nil, usagef("%s %s: not an eBay SDK YAML file: %v", from, path, err)
	}
	section := sdkSection(env)
	node, ok := doc[section]
	if !ok {
		return nil, usagef("%s %s: no %q section for the %s environment", from, path, section+":", env)
	}
	var keys map[string]yaml.Node
	if err := node.Decode(&keys); err != nil {
		return nil, usagef("%s %s: section %s: %v", from, path, section, err)
	}
	var unknown []string
	for k := range keys {
		if !slices.Contains(sdkKeys, k) && !slices.Contains(otherSDKKeys, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		noun := "key"
		if len(unknown) > 1 {
			noun = "keys"
		}
		return nil, usagef("%s %s: section %s: unknown %s %s (an eBay SDK config has %s)",
			from, path, section, noun, strings.Join(unknown, ", "), strings.Join(sdkKeys, ", "))
	}
	var c sdkConfig
	if err := node.Decode(&c); err != nil {
		return nil, usagef("%s %s: section %s: %v", from, path, section, err)
	}
	return &c, nil
}

// sdkKeys are the keys of an environment's section that the command
// reads, as eBay's OAuth client SDKs write them.
var sdkKeys = []string{"appid", "certid", "devid", "redirecturi"}

// otherSDKKeys are keys the same sections hold in the config files of
// eBay's older SDKs (the Trading API's ebay.yaml): not mistakes, and not
// read. Its token is an Auth'n'Auth token, no fallback for the REST APIs.
var otherSDKKeys = []string{"compatability", "compatibility", "siteid", "token", "version", "domain", "uri", "https", "timeout", "warnings"}

// loadSettings resolves the configuration: flags over environment over the
// --config file. It checks every value it reads and returns a *usageError
// naming the setting for a bad one. It does not require credentials:
// needCredentials does.
func loadSettings(c *commonFlags) (*settings, error) {
	s := &settings{RefreshEnabled: true}

	env := s.lookup(c, "env", c.env, nil, envEnvironment)
	s.Environment = "production"
	if env.from != "" {
		switch e := strings.ToLower(strings.TrimSpace(env.v)); e {
		case "production", "prod":
			s.Environment = "production"
		case "sandbox":
			s.Environment = "sandbox"
		default:
			return nil, usagef("%s: unknown environment %q (want production or sandbox)", env.from, env.v)
		}
	}
	s.Endpoint = ebayauth.Production
	if s.Environment == "sandbox" {
		s.Endpoint = ebayauth.Sandbox
	}

	var file *sdkConfig
	cfgPath := s.lookup(c, "config", c.config, nil, envConfig)
	if cfgPath.from != "" {
		f, err := readSDKConfig(cfgPath.v, cfgPath.from, s.Environment)
		if err != nil {
			return nil, err
		}
		file = f
	}

	s.ClientID = s.lookup(c, "client-id", c.clientID, nil, envClientID, djangoAppID).v
	s.ClientSecret = s.lookup(c, "", "", nil, envClientSecret, djangoClientSecret, djangoCertID).v
	if c.reads.has(readsManager) {
		s.RefreshToken = s.lookup(c, "", "", nil, envRefreshToken, djangoRefreshToken).v
		fb := s.lookup(c, "", "", nil, envFallback, djangoUserToken)
		if err := checkFallback(fb); err != nil {
			return nil, err
		}
		s.FallbackToken = fb.v
	}
	if c.reads.has(readsRuName) {
		s.RuName = s.lookup(c, "runame", c.runame, nil, envRuName).v
	}
	if file != nil {
		if s.ClientID == "" {
			s.ClientID = file.AppID
		}
		if s.ClientSecret == "" {
			s.ClientSecret = file.CertID
		}
		if s.RuName == "" && c.reads.has(readsRuName) {
			s.RuName = file.RedirectURI
		}
	}

	if !c.reads.has(readsScopes) {
		// not read
	} else if v := s.lookup(c, "scopes", c.scopes, nil, envScopes); v.from != "" {
		s.Scopes = strings.FieldsFunc(v.v, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' || r == '\r' })
		if len(s.Scopes) == 0 {
			return nil, usagef("%s: %q holds no scope: give one or more, e.g. %s, or unset it for the default", v.from, v.v, ebayauth.ScopeAPI)
		}
		if err := libraryCheck(ebayauth.Config{Scopes: s.Scopes}); err != nil {
			return nil, usagef("%s: %s", v.from, libraryReason(err, "Scopes"))
		}
	}

	if c.reads.has(readsManager) {
		if v := s.lookup(c, "refresh-token-expiry", c.refreshTokenExpiry, nil, envRefreshTokenExp); v.from != "" {
			t, err := parseTime(v.v)
			if err != nil {
				return nil, usagef("%s: %v", v.from, err)
			}
			s.RefreshTokenExpiry = t
		}
	}

	if err := s.loadEndpoint(c); err != nil {
		return nil, err
	}
	if c.reads.has(readsStore) {
		if err := s.loadStore(c); err != nil {
			return nil, err
		}
	}
	if err := s.loadTimes(c); err != nil {
		return nil, err
	}
	// Whatever else the library would refuse, it refuses here, before a
	// subcommand starts.
	if err := libraryCheck(s.config()); err != nil {
		return nil, usagef("%s", libraryReason(err, ""))
	}
	return s, nil
}

// libraryCheck is ebayauth.Config.Check, the one judge of scopes, fallback
// tokens and endpoints, on cfg with stand-in credentials where it has
// none: so that a check of one field judges that field alone, and the
// command can name the setting behind it.
func libraryCheck(cfg ebayauth.Config) error {
	if cfg.ClientID == "" {
		cfg.ClientID = "client-id"
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = "client-secret"
	}
	return cfg.Check()
}

// libraryReason is the message of an error of Config.Check without its
// prefix, "ebayauth: Config.<field>": the command names the setting.
func libraryReason(err error, field string) string {
	msg := strings.TrimPrefix(err.Error(), "ebayauth: ")
	if field != "" {
		msg = strings.TrimPrefix(msg, "Config."+field)
	}
	return strings.TrimLeft(msg, ": ")
}

// checkFallback refuses a fallback token the library refuses, naming the
// variable it came from and the variable that takes an OAuth token. The
// original Django EBAY_PRODUCTION_USER_TOKEN often held the Trading API's
// Auth'n'Auth token, which eBay's REST APIs refuse.
func checkFallback(fb value) error {
	if fb.from == "" {
		return nil
	}
	err := libraryCheck(ebayauth.Config{FallbackToken: fb.v})
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("%s: the fallback token %s", fb.from, libraryReason(err, "FallbackToken"))
	if fb.from != envFallback {
		msg += fmt.Sprintf("; put an OAuth token in %s and unset %s", envFallback, fb.from)
	}
	return &usageError{msg}
}

// loadEndpoint applies the URL overrides. Custom endpoints are all or
// nothing: the token endpoint, the REST APIs and the consent page (those
// the subcommand uses) are either all the environment's on eBay or all
// elsewhere, a fake eBay or a proxy. A mix would send one side's tokens to
// the other: a fake's token to api.ebay.com, or eBay's token to a fake.
// The API URL alone sets all three: the token endpoint and consent page
// are taken to live on the same host, as on a fake eBay (ebaytest).
func (s *settings) loadEndpoint(c *commonFlags) error {
	var tokenURL, apiURL, authURL value
	if c.reads.has(readsTokenURL) {
		tokenURL = s.lookup(c, "token-url", c.tokenURL, nil, envTokenURL)
	}
	if c.reads.has(readsTokenURL | readsAuthURL) {
		apiURL = s.lookup(c, "api-url", c.apiURL, nil, envAPIURL)
	}
	if c.reads.has(readsAuthURL) {
		authURL = s.lookup(c, "auth-url", c.authURL, nil, envAuthURL)
	}
	def := s.Endpoint
	if tokenURL.from != "" {
		if err := libraryCheck(ebayauth.Config{Endpoint: ebayauth.Endpoint{TokenURL: tokenURL.v, APIURL: def.APIURL}}); err != nil {
			return usagef("%s: %s", tokenURL.from, libraryReason(err, "Endpoint.TokenURL"))
		}
	}
	if apiURL.from != "" {
		if err := libraryCheck(ebayauth.Config{Endpoint: ebayauth.Endpoint{TokenURL: def.TokenURL, APIURL: apiURL.v}}); err != nil {
			return usagef("%s: %s", apiURL.from, libraryReason(err, "Endpoint.APIURL"))
		}
	}
	if authURL.from != "" {
		// The library does not judge the consent page: it only builds a
		// link to it.
		if err := checkURL(authURL.v); err != nil {
			return usagef("%s: %v", authURL.from, err)
		}
	}
	e := def
	if base := strings.TrimSuffix(apiURL.v, "/"); apiURL.from != "" && base != def.APIURL {
		e = ebayauth.Endpoint{TokenURL: base + "/identity/v1/oauth2/token", AuthURL: base + "/oauth2/authorize", APIURL: base, APIZURL: base}
	}
	if tokenURL.from != "" {
		e.TokenURL = tokenURL.v
	}
	if authURL.from != "" {
		e.AuthURL = authURL.v
	}
	var custom, ebay []endpointPart
	for _, p := range []endpointPart{
		{"the token endpoint", e.TokenURL, def.TokenURL, tokenURL.from, c.reads.has(readsTokenURL)},
		{"the REST APIs", e.APIURL, def.APIURL, apiURL.from, true},
		{"the consent page", e.AuthURL, def.AuthURL, authURL.from, c.reads.has(readsAuthURL)},
	} {
		switch {
		case !p.used:
		case p.url != p.def:
			custom = append(custom, p)
		default:
			ebay = append(ebay, p)
		}
	}
	if len(custom) > 0 && len(ebay) > 0 {
		return mixedEndpoints(custom, ebay, apiURL, tokenURL, authURL)
	}
	s.Endpoint, s.Custom = e, len(custom) > 0
	return nil
}

// endpointPart is one of an environment's URLs, as the settings make it.
type endpointPart struct {
	what     string // "the token endpoint"
	url, def string // the URL, and the environment's
	from     string // the setting that set it; "" if it is derived or the default
	used     bool   // by the subcommand
}

// mixedEndpoints is the error for custom and eBay's endpoints together.
func mixedEndpoints(custom, ebay []endpointPart, apiURL, tokenURL, authURL value) error {
	describe := func(ps []endpointPart, ebays bool) string {
		var out []string
		for _, p := range ps {
			from := p.from
			switch {
			case from == "" && apiURL.from != "" && ebays:
				from = "the default"
			case from == "" && apiURL.from != "":
				from = "from " + apiURL.from
			case from == "":
				from = "the default"
			}
			where := hostOf(p.url)
			if ebays {
				where = "eBay's " + p.url
			}
			out = append(out, fmt.Sprintf("%s at %s (%s)", p.what, where, from))
		}
		return strings.Join(out, " and ")
	}
	api := envAPIURL
	var set []string
	for _, v := range []value{tokenURL, authURL} {
		if v.from != "" {
			set = append(set, v.from)
			if strings.HasPrefix(v.from, "--") {
				api = "--api-url"
			}
		}
	}
	fix := "set " + api + " alone: the token endpoint and consent page derive from it"
	if len(set) > 0 {
		fix += "; unset " + strings.Join(set, " and ")
	}
	return usagef("custom and eBay's endpoints mixed: %s, but %s; what one issues would go to the other. Custom endpoints are all or nothing: %s",
		describe(custom, false), describe(ebay, true), fix)
}

func (s *settings) loadStore(c *commonFlags) error {
	s.NoStore = c.noStore
	if v := s.lookup(c, "redis", c.redis, nil, envRedisURL); v.from != "" {
		u, err := url.Parse(v.v)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			return usagef("%s: not a redis:// or rediss:// URL", v.from)
		}
		s.RedisURL, s.RedisFrom = v.v, v.from
	}
	if v := os.Getenv(envRedisSealKey); v != "" {
		k, err := decodeKey(v)
		if err != nil {
			return usagef("%s: %v", envRedisSealKey, err)
		}
		s.RedisSealKey = k
	}
	if v := s.lookup(c, "store-file", c.storeFile, nil, envTokenFile); v.from != "" {
		s.StoreFile, s.StoreFileFrom = v.v, v.from
	}
	if s.NoStore && (c.given("redis") || c.given("store-file")) {
		return usagef("--no-store: cannot be combined with --redis or --store-file")
	}
	if c.given("redis") && c.given("store-file") {
		return usagef("--redis and --store-file: choose one store")
	}
	return s.loadDatabase(c)
}

// decodeKey reads a seal key written in hex or standard base64.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil {
		return checkKeyLen(b)
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return checkKeyLen(b)
	}
	return nil, errors.New("not hex or base64")
}

func checkKeyLen(b []byte) ([]byte, error) {
	switch len(b) {
	case 16, 24, 32:
		return b, nil
	}
	return nil, fmt.Errorf("key is %d bytes; want 16, 24 or 32", len(b))
}

func (s *settings) loadTimes(c *commonFlags) error {
	if c.reads.has(readsManager) {
		if err := s.loadBuffer(c); err != nil {
			return err
		}
	}
	if c.reads.has(readsSchedule) {
		return s.loadSchedule(c)
	}
	return nil
}

// loadBuffer reads the refresh buffer, and the original cache timeout,
// which it replaces.
func (s *settings) loadBuffer(c *commonFlags) error {
	sameSecs := func(a, b string) bool {
		da, ea := parseSeconds(a)
		db, eb := parseSeconds(b)
		return ea == nil && eb == nil && da == db
	}
	bufFrom := ""
	if v := s.lookup(c, "refresh-buffer", c.refreshBuffer, sameSecs, envRefreshBuffer); v.from != "" {
		d, err := parseSeconds(v.v)
		if err != nil {
			return usagef("%s: %v", v.from, err)
		}
		s.RefreshBuffer, bufFrom = d, v.from
		if h := os.Getenv(djangoBufferHours); h != "" {
			if dh, err := parseHours(h); err != nil || dh != d {
				s.notes = append(s.notes, fmt.Sprintf("%s and %s disagree; using %s", v.from, djangoBufferHours, v.from))
			}
		}
	} else if h := os.Getenv(djangoBufferHours); h != "" {
		d, err := parseHours(h)
		if err != nil {
			return usagef("%s: %v", djangoBufferHours, err)
		}
		s.RefreshBuffer, bufFrom = d, djangoBufferHours
	}
	if s.RefreshBuffer < 0 {
		return usagef("%s: negative refresh buffer (%v); it is how long before expiry to refresh", bufFrom, s.RefreshBuffer)
	}
	if v := os.Getenv(djangoCacheTimeout); v != "" {
		if _, err := parseSeconds(v); err != nil {
			return usagef("%s: %v", djangoCacheTimeout, err)
		}
		s.notes = append(s.notes, djangoCacheTimeout+" is not needed and is ignored: tokens are cached until their expiry less the refresh buffer")
	}
	return nil
}

// loadSchedule reads serve's schedule: how often to refresh and validate.
func (s *settings) loadSchedule(c *commonFlags) error {
	if v := s.lookup(c, "refresh-interval", c.refreshInterval, nil, djangoRefreshSeconds); v.from != "" {
		d, err := parseSeconds(v.v)
		if err != nil {
			return usagef("%s: %v", v.from, err)
		}
		if d < 0 {
			return usagef("%s: negative interval %v", v.from, d)
		}
		s.RefreshInterval = d
	}
	if v := s.lookup(c, "validation-interval", c.validate, nil, djangoValidateSecs); v.from != "" {
		d, err := parseSeconds(v.v)
		if err != nil {
			return usagef("%s: %v", v.from, err)
		}
		if d < 0 {
			return usagef("%s: negative interval %v", v.from, d)
		}
		s.ValidationInterval = d
	}
	if v := os.Getenv(envRefreshEnabled); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return usagef("%s: %v", envRefreshEnabled, err)
		}
		s.RefreshEnabled = b
	}
	return nil
}

// parseSeconds reads a Go duration ("90m", "1h") or a whole number of
// seconds, the unit of the original settings.
func parseSeconds(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > int64(100*365*24*3600) || n < -int64(100*365*24*3600) {
			return 0, fmt.Errorf("%q seconds is out of range", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. 1h, 90m) or a number of seconds", s)
	}
	return d, nil
}

// parseHours reads a number of hours, as EBAY_TOKEN_REFRESH_BUFFER_HOURS.
func parseHours(s string) (time.Duration, error) {
	h, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || h != h || h > 100*365*24 || h < -100*365*24 {
		return 0, fmt.Errorf("%q is not a number of hours", s)
	}
	return time.Duration(h * float64(time.Hour)), nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on", "t", "y":
		return true, nil
	case "0", "false", "no", "off", "f", "n":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// parseTime reads an RFC 3339 time or a date.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (2026-07-01T00:00:00Z) or a date (2026-07-01)", s)
}

// checkURL accepts an absolute http or https URL.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("malformed URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", u.Redacted())
	}
	return nil
}

// needCredentials fails with the names of the variables to set when the
// client id or secret is missing.
func (s *settings) needCredentials() error {
	var missing []string
	if s.ClientID == "" {
		missing = append(missing, envClientID+" (or "+djangoAppID+")")
	}
	if s.ClientSecret == "" {
		missing = append(missing, envClientSecret+" (or "+djangoCertID+" / "+djangoClientSecret+")")
	}
	if len(missing) == 0 {
		return nil
	}
	return usagef("missing credentials: set %s, or pass --config with an eBay SDK config file", strings.Join(missing, " and "))
}

// config is the library configuration for s.
func (s *settings) config() ebayauth.Config {
	return ebayauth.Config{
		ClientID:           s.ClientID,
		ClientSecret:       s.ClientSecret,
		RefreshToken:       s.RefreshToken,
		RefreshTokenExpiry: s.RefreshTokenExpiry,
		Scopes:             s.Scopes,
		Endpoint:           s.Endpoint,
		RuName:             s.RuName,
		FallbackToken:      s.FallbackToken,
		RefreshBefore:      s.RefreshBuffer,
		RefreshEvery:       s.refreshEvery(),
		ValidateEvery:      s.ValidationInterval,
	}
}

// refreshEvery is Config.RefreshEvery: negative when scheduled refresh is
// off, so that serve's Manager.Run only validates.
func (s *settings) refreshEvery() time.Duration {
	if !s.RefreshEnabled {
		return -1
	}
	return s.RefreshInterval
}

// environmentName says which eBay the settings point at, as the library's
// Status.Environment does, with the host of a custom token endpoint.
func (s *settings) environmentName() string {
	if s.Custom {
		return "custom (" + hostOf(s.Endpoint.TokenURL) + ")"
	}
	return s.Environment
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return "?"
}
