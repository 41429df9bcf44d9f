// Package redisstore is an ebayauth.Store and ebayauth.Locker kept in Redis
// (github.com/redis/go-redis/v9), so that a fleet of processes shares its
// tokens and mints one token per rotation.
//
// # Keys and values
//
// The record for key k lives at prefix+"token:"+k and the mint lock at
// prefix+"lock:"+k; the prefix is "ebayauth:" unless WithPrefix says
// otherwise. A record is a string value
//
//	<token expiry in Unix milliseconds, 0 for never>:<payload>
//
// The payload is the ebayauth.Record as JSON, or, with WithSealKey, "s1:"
// followed by the standard base64 of a 12-byte nonce and the AES-GCM seal
// of that JSON, bound to the key name and the expiry.
//
// Redis does not judge expiry: the Manager does, by its own clock. A value
// gets a time to live only as garbage collection, measured from the save:
// the token's lifetime (expiry minus mint time) plus GCHorizon. So a Manager
// whose clock is years off Redis's shares tokens like any other.
//
// Save runs a Lua script that keeps the stored record if its token expires
// later than the new one, so the store never goes back in time however many
// processes save at once. A value this Store cannot read (corrupt, sealed
// with another key, sealed when this Store has no key or the other way
// round) is never destroyed by Load: Load logs a warning and returns an
// error matching ErrUnreadable, which the Manager reports (a warning, an
// event, Status.StoreHealthy false) while it works without the store. Save
// never overwrites a sealed value with an unsealed one (a process started
// without the seal key cannot destroy the fleet's sealed token); it does
// overwrite a corrupt value, or one that does not start with an expiry.
//
// The lock is SET NX PX with a random holder id; unlock deletes it only if
// it still holds that id.
//
// Every error this package returns says "redisstore: " first; the errors
// of the client and of the context are wrapped with %w.
package redisstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/internal/scrub"
)

// DefaultPrefix is the key prefix of a Store made without WithPrefix.
const DefaultPrefix = "ebayauth:"

// ErrUnreadable is matched by the error Load returns for a value it cannot
// read: corrupt, or sealed with another key, or sealed when this Store has
// no key, or the other way round.
var ErrUnreadable = errors.New("redisstore: the stored value cannot be read")

// errSealedValue is Save's error when it would replace a sealed value with
// an unsealed one.
var errSealedValue = errors.New("redisstore: save: the stored value is sealed and this store has no seal key; not overwriting it")

// implausibleExpiry is how much later than a new token's a stored token's
// expiry may lie before Save takes the stored value for corrupt: eBay's
// tokens live two hours.
const implausibleExpiry = 30 * 24 * time.Hour

// GCHorizon is how long past its token's lifetime a record is kept before
// Redis deletes it, counted from the save.
const GCHorizon = 24 * time.Hour

// Store is an ebayauth.Store and ebayauth.Locker kept in Redis. Make one
// with New or Open; the zero value is not usable. It is safe for concurrent
// use.
type Store struct {
	c      redis.UniversalClient
	owned  bool // Open made c; Close closes it
	prefix string
	aead   cipher.AEAD // nil: values are not sealed
	log    *slog.Logger
	desc   string

	closeOnce sync.Once
	closeErr  error
}

var (
	_ ebayauth.Store       = (*Store)(nil)
	_ ebayauth.Locker      = (*Store)(nil)
	_ ebayauth.SecretStore = (*Store)(nil)
)

// An Option configures a Store. Options are checked by New and Open, which
// return an error for an invalid one.
type Option func(*config) error

type config struct {
	prefix string
	key    []byte
	log    *slog.Logger
}

// WithPrefix sets the prefix of every key the Store uses. The default is
// DefaultPrefix. Stores that share tokens must use the same prefix and the
// same seal key.
func WithPrefix(p string) Option {
	return func(c *config) error {
		c.prefix = p
		return nil
	}
}

// WithSealKey seals the tokens at rest with AES-GCM under key, which must
// be 16, 24 or 32 bytes long (AES-128, -192 or -256). A Store with a seal
// key neither reads records saved without one nor the other way round: Load
// reports them as ErrUnreadable, the Managers work without the store, and a
// Store without a key never overwrites a sealed value. During a change of
// key, Stores with the old key and the new one overwrite each other's
// records; change the prefix with the key to avoid that.
func WithSealKey(key []byte) Option {
	key = slices.Clone(key)
	return func(c *config) error {
		switch len(key) {
		case 16, 24, 32:
		default:
			return fmt.Errorf("seal key is %d bytes; want 16, 24 or 32", len(key))
		}
		c.key = key
		return nil
	}
}

// WithLogger sets the logger that reports values the Store cannot read. By
// default nothing is logged. Nothing the Store logs holds a credential.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.log = l
		return nil
	}
}

// New returns a Store that uses client, which the caller keeps and closes.
// It returns an error if client is nil or an option is invalid, e.g. a seal
// key of the wrong length. New does not talk to Redis.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	var cfg config
	if err := cfg.apply(opts); err != nil {
		return nil, err
	}
	return newStore(client, false, &cfg)
}

// Open returns a Store that uses a new client for rawURL, a redis:// or
// rediss:// URL as redis.ParseURL reads it, e.g.
// "rediss://user:password@host:6380/2?dial_timeout=3s". The client honours
// the deadlines of the contexts the Store is given (ContextTimeoutEnabled).
// Close closes it. Open does not talk to Redis. Its errors name the URL
// without its password.
func Open(rawURL string, opts ...Option) (*Store, error) {
	opt, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	opt.ContextTimeoutEnabled = true
	var cfg config
	if err := cfg.apply(opts); err != nil {
		return nil, err
	}
	return newStore(redis.NewClient(opt), true, &cfg)
}

// parseURL is redis.ParseURL for redis:// and rediss:// URLs, with errors
// that name the URL but not its password.
func parseURL(rawURL string) (*redis.Options, error) {
	var err error
	shown := ""
	if u, perr := url.Parse(rawURL); perr != nil {
		shown, err = redactRaw(rawURL), unwrapURLError(perr)
	} else if shown = strconv.Quote(u.Redacted()); u.Scheme != "redis" && u.Scheme != "rediss" {
		err = errors.New("scheme must be redis or rediss")
	}
	var opt *redis.Options
	if err == nil {
		opt, err = redis.ParseURL(rawURL)
	}
	if err != nil {
		return nil, scrub.Error(fmt.Errorf("redisstore: invalid Redis URL %s: %w", shown, err), passwordsOf(rawURL)...)
	}
	return opt, nil
}

func (c *config) apply(opts []Option) error {
	c.prefix = DefaultPrefix
	for _, o := range opts {
		if err := o(c); err != nil {
			return fmt.Errorf("redisstore: %w", err)
		}
	}
	return nil
}

// newStore returns a Store on client with the options in cfg, which have
// been checked.
func newStore(client redis.UniversalClient, owned bool, cfg *config) (*Store, error) {
	s := &Store{
		c:      client,
		owned:  owned,
		prefix: cfg.prefix,
		log:    cfg.log,
		desc:   "redis:" + addrOf(client),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.key != nil {
		block, err := aes.NewCipher(cfg.key)
		if err == nil {
			s.aead, err = cipher.NewGCM(block)
		}
		if err != nil {
			if owned {
				_ = client.Close()
			}
			return nil, fmt.Errorf("redisstore: seal key: %w", err)
		}
	}
	return s, nil
}

// addrOf returns the address(es) client talks to, without credentials.
func addrOf(client redis.UniversalClient) string {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().Addr
	case *redis.ClusterClient:
		return strings.Join(c.Options().Addrs, ",")
	case *redis.Ring:
		return strings.Join(slices.Sorted(maps.Values(c.Options().Addrs)), ",")
	}
	return fmt.Sprintf("%T", client)
}

// redactRaw quotes a URL that url.Parse refused, with what follows the
// first ":" of its userinfo (the password) replaced by xxxxx.
func redactRaw(raw string) string {
	rest, scheme := raw, ""
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	at := strings.LastIndex(host, "@")
	if at < 0 {
		return strconv.Quote(raw)
	}
	user := host[:at]
	if i := strings.Index(user, ":"); i >= 0 {
		user = user[:i] + ":xxxxx"
	}
	return strconv.Quote(scheme + user + rest[at:])
}

// unwrapURLError drops the *url.Error around err, which quotes the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// passwordsOf returns the password in rawURL as written and unescaped.
func passwordsOf(rawURL string) []string {
	rest := rawURL
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return nil
	}
	_, pw, ok := strings.Cut(rest[:at], ":")
	if !ok || pw == "" {
		return nil
	}
	pws := []string{pw}
	if p, err := url.PathUnescape(pw); err == nil && p != pw && p != "" {
		pws = append(pws, p)
	}
	return pws
}

// Close closes the client if Open made it; a Store made by New leaves its
// client to the caller. Close is idempotent.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	s.closeOnce.Do(func() {
		if err := s.c.Close(); err != nil {
			s.closeErr = fmt.Errorf("redisstore: close: %w", err)
		}
	})
	return s.closeErr
}

// String describes the store as "redis:" followed by its address, with no
// credentials.
func (s *Store) String() string { return s.desc }

func (s *Store) tokenKey(key string) string   { return s.prefix + "token:" + key }
func (s *Store) secretKey(name string) string { return s.prefix + "secret:" + name }
func (s *Store) lockKey(key string) string    { return s.prefix + "lock:" + key }

// saveScript stores ARGV[2] at KEYS[1] for ARGV[3] milliseconds (0:
// forever), unless KEYS[1] holds a value of ours whose token expires later
// than ARGV[1] (Unix ms, 0 for never) (it returns 0), or a sealed value of
// ours while ARGV[4] is not "1", the new value being unsealed (it returns
// -1). A value that is not a string or does not start with an expiry is not
// ours; neither is an unsealed one whose payload is not JSON, nor one whose
// expiry lies more than ARGV[5] milliseconds past the new one (no token
// lives that long: it is corrupt).
var saveScript = redis.NewScript(`
local new = tonumber(ARGV[1])
if redis.call('TYPE', KEYS[1])['ok'] == 'string' then
  local val = redis.call('GET', KEYS[1])
  local old = tonumber(string.match(val, '^(%d+):'))
  local sealed = string.match(val, '^%d+:s1:') ~= nil
  if old ~= nil and ARGV[4] ~= '1' and sealed then
    return -1
  end
  -- An unsealed payload that is not JSON is corrupt: its expiry means
  -- nothing. So does one implausibly far past the new token's.
  if old ~= nil and not sealed then
    local ok = pcall(cjson.decode, string.sub(val, #tostring(old) + 2))
    if not ok then old = nil end
  end
  if old ~= nil and new ~= 0 and old > new + tonumber(ARGV[5]) then
    old = nil
  end
  if old ~= nil and ((old == 0 and new ~= 0) or (new ~= 0 and old > new)) then
    return 0
  end
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
`)

// delIfScript deletes KEYS[1] if it holds the string ARGV[1].
var delIfScript = redis.NewScript(`
if redis.call('TYPE', KEYS[1])['ok'] == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Load implements ebayauth.Store.
func (s *Store) Load(ctx context.Context, key string) (*ebayauth.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: load: %w", err)
	}
	k := s.tokenKey(key)
	raw, err := s.c.Get(ctx, k).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, ebayauth.ErrNotFound
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		return nil, s.unreadable(ctx, key, "the key holds a value that is not a string")
	case err != nil:
		return nil, fail(ctx, "load", err)
	}
	rec, err := s.decode(k, raw)
	if err != nil {
		return nil, s.unreadable(ctx, key, err.Error())
	}
	return rec, nil
}

// unreadable logs that the value under key cannot be read, and returns the
// error that says so. The value stays: it may be another process's.
func (s *Store) unreadable(ctx context.Context, key, why string) error {
	s.log.WarnContext(ctx, "redisstore: cannot read the stored record; leaving it in place",
		slog.String("store", s.desc), slog.String("key", key), slog.String("reason", why))
	return fmt.Errorf("%w (%s at %s): %s", ErrUnreadable, s.desc, key, why)
}

// Save implements ebayauth.Store.
func (s *Store) Save(ctx context.Context, key string, rec *ebayauth.Record) error {
	if rec == nil || rec.Token == nil || rec.Token.AccessToken == "" {
		return errors.New("redisstore: save: record has no token")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	var exp, ttl int64 // 0: never
	if t := rec.Token; !t.Expiry.IsZero() {
		exp = t.Expiry.UnixMilli()
		lifetime := time.Duration(0)
		if !rec.Minted.IsZero() && t.Expiry.After(rec.Minted) {
			lifetime = t.Expiry.Sub(rec.Minted)
		}
		ttl = (lifetime + GCHorizon).Milliseconds()
	}
	k := s.tokenKey(key)
	val, err := s.encode(k, exp, rec)
	if err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	sealed := "0"
	if s.aead != nil {
		sealed = "1"
	}
	n, err := saveScript.Run(ctx, s.c, []string{k}, exp, val, ttl, sealed, implausibleExpiry.Milliseconds()).Int()
	if err != nil {
		return fail(ctx, "save", err)
	}
	if n < 0 {
		return errSealedValue
	}
	return nil
}

// Delete implements ebayauth.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: delete: %w", err)
	}
	if err := s.c.Del(ctx, s.tokenKey(key)).Err(); err != nil {
		return fail(ctx, "delete", err)
	}
	return nil
}

// fail wraps the error err of the client in op. If ctx is done, the error
// also matches ctx.Err(): the client reports a deadline that passed while
// it waited for Redis as a network timeout (which may come a moment before
// ctx's own timer fires).
func fail(ctx context.Context, op string, err error) error {
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(dl) {
		cerr = context.DeadlineExceeded
	}
	if cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("redisstore: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// LoadSecret implements ebayauth.SecretStore. A secret saved sealed opens
// only with the seal key; one saved without a key is refused by a Store
// that has one, and the other way round (ErrUnreadable).
func (s *Store) LoadSecret(ctx context.Context, name string) ([]byte, error) {
	k := s.secretKey(name)
	raw, err := s.c.Get(ctx, k).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, ebayauth.ErrNotFound
	case err != nil:
		return nil, fail(ctx, "load secret", err)
	}
	payload, isSealed := strings.CutPrefix(raw, sealedMark)
	switch {
	case isSealed != (s.aead != nil):
		return nil, fmt.Errorf("%w (%s at secret %s): sealed with a key this store does not have, or not sealed while this store seals", ErrUnreadable, s.desc, name)
	case !isSealed:
		return base64.StdEncoding.DecodeString(payload)
	}
	b, err := base64.StdEncoding.DecodeString(payload)
	if err != nil || len(b) < s.aead.NonceSize() {
		return nil, fmt.Errorf("%w (%s at secret %s): malformed", ErrUnreadable, s.desc, name)
	}
	n := s.aead.NonceSize()
	v, err := s.aead.Open(nil, b[:n], b[n:], []byte(k))
	if err != nil {
		return nil, fmt.Errorf("%w (%s at secret %s): does not open with this store's seal key", ErrUnreadable, s.desc, name)
	}
	return v, nil
}

// SaveSecret implements ebayauth.SecretStore: sealed with the seal key,
// bound to its Redis key, if the Store has one. Secrets have no TTL.
func (s *Store) SaveSecret(ctx context.Context, name string, value []byte) error {
	if name == "" {
		return errors.New("redisstore: save secret: empty name")
	}
	k := s.secretKey(name)
	val := base64.StdEncoding.EncodeToString(value)
	if s.aead != nil {
		nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(value)+s.aead.Overhead())
		_, _ = rand.Read(nonce)
		val = sealedMark + base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, value, []byte(k)))
	}
	if err := s.c.Set(ctx, k, val, 0).Err(); err != nil {
		return fail(ctx, "save secret", err)
	}
	return nil
}

// unlockScript deletes the lock KEYS[1] if its holder is still ARGV[1].
var unlockScript = delIfScript

// Lock implements ebayauth.Locker. The lease is rounded up to a whole
// millisecond; a non-positive lease is an error.
func (s *Store) Lock(ctx context.Context, key string, lease time.Duration) (func(context.Context) error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: lock: %w", err)
	}
	if lease <= 0 {
		return nil, fmt.Errorf("redisstore: lock: lease %v is not positive", lease)
	}
	lease = (lease + time.Millisecond - 1).Truncate(time.Millisecond)
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails
	holder := hex.EncodeToString(b)
	k := s.lockKey(key)
	ok, err := s.c.SetNX(ctx, k, holder, lease).Result()
	if err == nil && !ok && s.breakImplausible(ctx, k, lease) {
		ok, err = s.c.SetNX(ctx, k, holder, lease).Result()
	}
	if err != nil {
		return nil, fail(ctx, "lock", err)
	}
	if !ok {
		return nil, ebayauth.ErrLocked
	}
	return func(ctx context.Context) error {
		if err := unlockScript.Run(ctx, s.c, []string{k}, holder).Err(); err != nil {
			return fail(ctx, "unlock", err)
		}
		return nil
	}, nil
}

// breakImplausible deletes the lock at k if its lease is implausible: no
// time to live at all, or more than twice lease and a minute ahead (a
// holder with a clock or setting gone wrong), so that it cannot block
// minting for good. It reports whether it deleted it.
func (s *Store) breakImplausible(ctx context.Context, k string, lease time.Duration) bool {
	holder, err := s.c.Get(ctx, k).Result()
	if err != nil {
		return false
	}
	ttl, err := s.c.PTTL(ctx, k).Result()
	if err != nil || (ttl != -1 && ttl <= 2*lease+time.Minute) {
		return false
	}
	n, err := delIfScript.Run(ctx, s.c, []string{k}, holder).Int()
	if err == nil && n == 1 {
		s.log.WarnContext(ctx, "redisstore: broke a mint lock with an implausible lease", slog.String("store", s.desc), slog.Duration("ttl", ttl))
		return true
	}
	return false
}

const sealedMark = "s1:"

// encode returns the value that stores rec at the Redis key k.
func (s *Store) encode(k string, exp int64, rec *ebayauth.Record) (string, error) {
	js, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	head := strconv.FormatInt(exp, 10) + ":"
	if s.aead == nil {
		return head + string(js), nil
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(js)+s.aead.Overhead())
	_, _ = rand.Read(nonce) // never fails
	sealed := s.aead.Seal(nonce, nonce, js, []byte(k+"\x00"+head))
	return head + sealedMark + base64.StdEncoding.EncodeToString(sealed), nil
}

// decode reads a value stored at the Redis key k. Its errors say what is
// wrong without quoting the value.
func (s *Store) decode(k, raw string) (*ebayauth.Record, error) {
	expText, payload, ok := strings.Cut(raw, ":")
	exp, err := strconv.ParseInt(expText, 10, 64)
	if !ok || err != nil || exp < 0 {
		return nil, errors.New("the value does not start with an expiry")
	}
	var js []byte
	switch sealed, isSealed := strings.CutPrefix(payload, sealedMark); {
	case isSealed && s.aead == nil:
		return nil, errors.New("the token is sealed and this store has no seal key")
	case !isSealed && s.aead != nil:
		return nil, errors.New("the token is not sealed and this store requires it to be")
	case isSealed:
		b, err := base64.StdEncoding.DecodeString(sealed)
		if err != nil || len(b) < s.aead.NonceSize() {
			return nil, errors.New("the sealed token is malformed")
		}
		n := s.aead.NonceSize()
		js, err = s.aead.Open(nil, b[:n], b[n:], []byte(k+"\x00"+expText+":"))
		if err != nil {
			return nil, errors.New("the sealed token does not open with this store's seal key")
		}
	default:
		js = []byte(payload)
	}
	var rec ebayauth.Record
	if err := json.Unmarshal(js, &rec); err != nil || rec.Token == nil || rec.Token.AccessToken == "" {
		return nil, errors.New("the value is not a JSON record with an access token")
	}
	return &rec, nil
}
