// Package pgstore is an ebayauth.Store, ebayauth.Locker and
// ebayauth.AccountStore kept in PostgreSQL (through
// github.com/jackc/pgx/v5), so that a fleet of processes shares its tokens,
// mints one token per rotation, and keeps many sellers' accounts in one
// place.
//
// # Schema
//
// Open and New bring the schema (WithSchema; "ebayauth" by default) up to
// date with the migrations embedded in this package, in one transaction
// under a transaction-level advisory lock (pg_advisory_xact_lock), so
// processes that start together are safe: one migrates, the others wait
// and find the work done. The applied versions are listed in the table
// schema_migrations. A process whose schema is already current takes no
// lock and needs no privilege beyond reading and writing the tables below.
//
//	tokens   (key text PK, expiry_ms bigint, account text NULL, payload bytea, updated_at timestamptz)
//	locks    (key text PK, holder text, until timestamptz)
//	accounts (id text PK, refresh_token bytea, username text, marketplace text, scopes text[],
//	          needs_consent bool, refresh_token_expiry, created, updated timestamptz)
//
// # Sealing
//
// Credentials never reach the database in clear. A token record (the whole
// ebayauth.Record as JSON: the access token and the refresh token are both
// in it) and an account's refresh token are sealed with AES-GCM under the
// key WithSealKey gives, which New and Open require. A sealed value is
//
//	0x01 | key id (4 bytes) | nonce (12 bytes) | ciphertext and tag
//
// The key id is the first 4 bytes of a SHA-256 of the key: it says which
// key sealed a value, without revealing the key. The seal is bound (as
// additional data) to the format byte and key id, the table and the row's
// key or account id, so that a value copied to another row does not open.
// The other columns of a token row (expiry_ms, account) are checked
// against the sealed record when it is loaded.
//
// # Key rotation
//
// WithOldSealKeys gives keys that still open values but seal nothing. Save
// and SaveAccount always seal with the current key, so a value sealed with
// an old key is re-sealed the next time it is saved: token records at
// every rotation (two hours), accounts when the seller consents again or
// needs to. Load and LoadAccount never write: a value sealed with an old
// key is returned as is and stays so until saved. Reseal re-seals every
// value that is not sealed with the current key, after which the old key
// can be dropped.
//
// # Expiry and locks
//
// The database judges no token's expiry: the Manager does, by its own
// clock. Save is a single INSERT … ON CONFLICT DO UPDATE that replaces the
// stored record only if its expiry_ms is not later than the new one's (0,
// never, being latest), so the store never goes back in time however many
// processes save at once. No row is ever deleted by a clock.
//
// Mint locks are leases on the database's clock (now()), the one real time
// every process sees. A lease that lapsed is free; so is one implausibly far
// ahead (more than twice the asked lease plus a minute), which a holder
// with a setting gone wrong left. Unlock deletes the lock only if it still
// has the caller's random holder id.
//
// # Errors
//
// Every error this package returns says "pgstore: " first and wraps the
// driver's and the context's errors with %w. No error or log line holds a
// credential or the DSN's password. A value that does not open (corrupt,
// sealed with a key this Store does not have) is never deleted or
// overwritten by a read: Load and LoadAccount return an error matching
// ErrUnreadable and log a warning. Save does overwrite such a token record
// when its token is later, as it would any other.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/internal/scrub"
)

// DefaultSchema is the schema of a Store made without WithSchema.
const DefaultSchema = "ebayauth"

// ErrUnreadable is matched by the error Load, LoadAccount and ListAccounts
// return for a stored value they cannot read: corrupt, sealed with a key
// this Store does not have, or with columns that disagree with what is
// sealed. The value is left as it is.
var ErrUnreadable = errors.New("pgstore: the stored value cannot be read")

// Store is an ebayauth.Store, ebayauth.Locker and ebayauth.AccountStore kept
// in PostgreSQL. Make one with Open or New; the zero value is not usable.
// It is safe for concurrent use, and any number of Stores, in one process
// or many, may share a schema if they share the seal key.
type Store struct {
	pool    *pgxpool.Pool
	owned   bool // Open made pool; Close closes it
	schema  string
	seal    *sealer
	log     *slog.Logger
	desc    string
	secrets []string // the DSN's passwords, scrubbed from errors
	q       statements
}

var (
	_ ebayauth.Store        = (*Store)(nil)
	_ ebayauth.Locker       = (*Store)(nil)
	_ ebayauth.AccountStore = (*Store)(nil)
	_ ebayauth.SecretStore  = (*Store)(nil)
)

// An Option configures a Store. New and Open check the options and return
// an error for an invalid one.
type Option func(*config) error

type config struct {
	key    []byte
	old    [][]byte
	schema string
	log    *slog.Logger
}

// WithSealKey sets the key that seals credentials at rest (AES-GCM): 16, 24
// or 32 bytes (AES-128, -192 or -256), from a secret manager, never from
// source code. It is required. Stores that share a schema must share it
// (or hold it as an old key: see WithOldSealKeys).
func WithSealKey(key []byte) Option {
	key = slices.Clone(key)
	return func(c *config) error {
		if err := checkKey(key); err != nil {
			return fmt.Errorf("WithSealKey: %w", err)
		}
		c.key = key
		return nil
	}
}

// WithOldSealKeys sets keys that were the seal key before, during a
// rotation: values they sealed still open, and are sealed with the current
// key (WithSealKey) when next saved, or by Reseal. Each is 16, 24 or 32
// bytes long.
func WithOldSealKeys(keys ...[]byte) Option {
	old := make([][]byte, len(keys))
	for i, k := range keys {
		old[i] = slices.Clone(k)
	}
	return func(c *config) error {
		for i, k := range old {
			if err := checkKey(k); err != nil {
				return fmt.Errorf("WithOldSealKeys: key %d: %w", i+1, err)
			}
		}
		c.old = old
		return nil
	}
}

func checkKey(key []byte) error {
	switch len(key) {
	case 16, 24, 32:
		return nil
	}
	return fmt.Errorf("seal key is %d bytes; want 16, 24 or 32", len(key))
}

// WithSchema sets the PostgreSQL schema that holds the Store's tables,
// created if need be. The default is DefaultSchema. The name is used as
// given, quoted: "Tokens" and "tokens" are two schemas.
func WithSchema(name string) Option {
	return func(c *config) error {
		switch {
		case name == "":
			return errors.New("WithSchema: empty schema name")
		case len(name) > 63:
			return fmt.Errorf("WithSchema: schema name is %d bytes; PostgreSQL allows 63", len(name))
		case strings.ContainsRune(name, 0):
			return errors.New("WithSchema: schema name contains a NUL byte")
		}
		c.schema = name
		return nil
	}
}

// WithLogger sets the logger that reports values the Store cannot read,
// broken locks and migrations. By default nothing is logged. Nothing the
// Store logs holds a credential.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.log = l
		return nil
	}
}

func (c *config) apply(opts []Option) error {
	c.schema = DefaultSchema
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return fmt.Errorf("pgstore: %w", err)
		}
	}
	if c.key == nil {
		return errors.New("pgstore: no seal key: credentials are sealed at rest, so WithSealKey is required")
	}
	return nil
}

// Open connects to the database dsn names (a URL or keyword/value string
// as pgxpool.ParseConfig reads it, e.g.
// "postgres://ebayauth:password@db.internal:5432/app?sslmode=verify-full"),
// brings the schema up to date, and returns a Store on a pool of its own,
// which Close closes. ctx bounds the connection and the migration. Its
// errors name no password.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	var cfg config
	if err := cfg.apply(opts); err != nil {
		return nil, err
	}
	secrets := dsnPasswords(dsn)
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, scrub.Error(fmt.Errorf("pgstore: invalid DSN: %w", err), secrets...)
	}
	if pw := pcfg.ConnConfig.Password; pw != "" {
		secrets = append(secrets, pw)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, scrub.Error(fmt.Errorf("pgstore: open: %w", err), secrets...)
	}
	s, err := newStore(ctx, pool, true, &cfg, secrets)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// New returns a Store on pool, which the caller keeps and closes, and
// brings the schema up to date. ctx bounds the migration.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: nil pool")
	}
	var cfg config
	if err := cfg.apply(opts); err != nil {
		return nil, err
	}
	var secrets []string
	if pw := pool.Config().ConnConfig.Password; pw != "" {
		secrets = []string{pw}
	}
	return newStore(ctx, pool, false, &cfg, secrets)
}

// newStore makes the Store and migrates its schema.
func newStore(ctx context.Context, pool *pgxpool.Pool, owned bool, cfg *config, secrets []string) (*Store, error) {
	seal, err := newSealer(cfg.key, cfg.old)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s := &Store{
		pool:    pool,
		owned:   owned,
		schema:  cfg.schema,
		seal:    seal,
		log:     cfg.log,
		desc:    describe(pool.Config().ConnConfig),
		secrets: secrets,
		q:       newStatements(cfg.schema),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// describe is "postgres:host/db" (with ":port" after host unless 5432).
func describe(c *pgx.ConnConfig) string {
	host := c.Host
	if c.Port != 0 && c.Port != 5432 {
		host += ":" + strconv.Itoa(int(c.Port))
	}
	return "postgres:" + host + "/" + c.Database
}

// String describes the store as "postgres:host/db", without credentials.
func (s *Store) String() string { return s.desc }

// Close closes the pool if Open made it, waiting for connections in use to
// be returned; a Store made by New leaves its pool to the caller. Close is
// idempotent and returns nil.
func (s *Store) Close() error {
	if s.owned {
		s.pool.Close()
	}
	return nil
}

// fail wraps err, the driver's error in op. If ctx is done, the error also
// matches ctx.Err(), however the driver reported it.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(dl) {
		cerr = context.DeadlineExceeded
	}
	if cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("pgstore: %s: %w: %w", op, cerr, err)
	} else {
		err = fmt.Errorf("pgstore: %s: %w", op, err)
	}
	return scrub.Error(err, s.secrets...)
}

// unreadable logs that the value of what (a table's row) cannot be read,
// and returns the error that says so. The value stays as it is.
func (s *Store) unreadable(ctx context.Context, op, what, key string, why error) error {
	s.log.WarnContext(ctx, "pgstore: cannot read a stored value; leaving it in place",
		slog.String("store", s.desc), slog.String("schema", s.schema), slog.String("row", what+" "+key),
		slog.String("reason", why.Error()))
	return &unreadableError{op, what + " " + key, why}
}

// unreadableError says that a stored value cannot be read, and why. It
// matches ErrUnreadable.
type unreadableError struct {
	op, what string
	why      error
}

func (e *unreadableError) Error() string {
	return "pgstore: " + e.op + ": " + e.what + " cannot be read: " + e.why.Error()
}

func (e *unreadableError) Is(target error) bool { return target == ErrUnreadable }
func (e *unreadableError) Unwrap() error        { return e.why }

// ctxErr is ctx.Err() as this package's error, nil if ctx is not done.
func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	return nil
}

// kvPassword finds password and sslpassword settings in a keyword/value
// DSN, quoted or not.
var kvPassword = regexp.MustCompile(`(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s]+)`)

// dsnPasswords returns the passwords dsn holds, as written and unescaped,
// whether or not it parses, so that they can be scrubbed from errors.
func dsnPasswords(dsn string) []string {
	var pws []string
	add := func(pw string) {
		if pw != "" && !slices.Contains(pws, pw) {
			pws = append(pws, pw)
		}
	}
	if rest, ok := cutScheme(dsn); ok {
		authority, query := rest, ""
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			authority = rest[:i]
		}
		if i := strings.IndexByte(rest, '?'); i >= 0 {
			query = rest[i+1:]
		}
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(authority[:at], ":"); ok {
				add(pw)
				if u, err := url.PathUnescape(pw); err == nil {
					add(u)
				}
			}
		}
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "password" || k == "sslpassword" {
				add(v)
				if u, err := url.QueryUnescape(v); err == nil {
					add(u)
				}
			}
		}
		return pws
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		v := m[1]
		add(v)
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			add(strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(v[1 : len(v)-1]))
		}
	}
	return pws
}

func cutScheme(dsn string) (string, bool) {
	for _, p := range []string{"postgres://", "postgresql://"} {
		if rest, ok := strings.CutPrefix(dsn, p); ok {
			return rest, true
		}
	}
	return "", false
}
