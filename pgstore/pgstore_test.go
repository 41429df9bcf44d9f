package pgstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/internal/logtest"
	"github.com/ebayauth/ebayauth/pgstore"
	"github.com/ebayauth/ebayauth/storetest"
)

// The tests run against a real PostgreSQL: the local one, where the
// postgres user may connect without a password, unless EBAYAUTH_PG_DSN
// names another. Each test works in a schema of its own, dropped when it
// ends. If the server is not there the tests fail, saying how to start it.
const (
	defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	startHint  = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start " +
		"(or set EBAYAUTH_PG_DSN to a database where tests may create schemas)"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dropExampleSchema()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testDSN is the database the tests use.
func testDSN() string {
	if dsn := os.Getenv("EBAYAUTH_PG_DSN"); dsn != "" {
		return dsn
	}
	return defaultDSN
}

var (
	keyA = bytes.Repeat([]byte{0xA1}, 32)
	keyB = bytes.Repeat([]byte{0xB2}, 16)
	keyC = bytes.Repeat([]byte{0xC3}, 24)
)

// newPool returns a pool on the test database, closed when tb ends. It
// fails tb if the database does not answer.
func newPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), testDSN())
	if err != nil {
		tb.Fatalf("pgstore tests need PostgreSQL: %v; %s", err, startHint)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		tb.Fatalf("pgstore tests need PostgreSQL, which does not answer: %v; %s", err, startHint)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// newSchema returns a fresh schema name, whose schema is dropped (through
// pool) when tb ends.
func newSchema(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "ebayauth_test_" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("dropping schema %s: %v", name, err)
		}
	})
	return name
}

// env is a test's pool and schema.
type env struct {
	pool   *pgxpool.Pool
	schema string
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	pool := newPool(tb)
	return &env{pool, newSchema(tb, pool)}
}

// store returns a Store on e's pool and schema: sealed with keyA unless
// opts say otherwise.
func (e *env) store(tb testing.TB, opts ...pgstore.Option) *pgstore.Store {
	tb.Helper()
	opts = append([]pgstore.Option{pgstore.WithSealKey(keyA), pgstore.WithSchema(e.schema)}, opts...)
	s, err := pgstore.New(context.Background(), e.pool, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// open returns a Store made by Open on e's schema, with a pool of its own,
// closed when tb ends.
func (e *env) open(tb testing.TB, opts ...pgstore.Option) *pgstore.Store {
	tb.Helper()
	opts = append([]pgstore.Option{pgstore.WithSealKey(keyA), pgstore.WithSchema(e.schema)}, opts...)
	s, err := pgstore.Open(context.Background(), testDSN(), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// table is the schema-qualified name of e's table.
func (e *env) table(name string) string { return pgx.Identifier{e.schema, name}.Sanitize() }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ebayauth.Store { return newEnv(t).store(t) })
}

// TestConformanceOpen runs the suite on Stores made by Open, each on a pool
// of its own, sealing with an AES-128 key.
func TestConformanceOpen(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ebayauth.Store { return newEnv(t).open(t, pgstore.WithSealKey(keyB)) })
}

func TestOpen(t *testing.T) {
	e := newEnv(t)
	s := e.open(t)
	if got, want := s.String(), "postgres:127.0.0.1/test"; testDSN() == defaultDSN && got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	ctx := context.Background()
	key := storetest.Key(t)
	rec := storetest.NewRecord(time.Now().Add(time.Hour))
	if err := s.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	// A Store on another pool (New) sees it.
	got, err := e.store(t).Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if d := storetest.Diff(rec, got); d != "" {
		t.Errorf("Load (-want +got):\n%s", d)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Load(ctx, key); err == nil || !strings.HasPrefix(err.Error(), "pgstore: ") {
		t.Errorf("Load after Close: %v; want a pgstore error", err)
	}
}

// TestNewLeavesPool checks that Close of a Store made by New leaves the
// caller's pool open.
func TestNewLeavesPool(t *testing.T) {
	e := newEnv(t)
	s := e.store(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.pool.Ping(context.Background()); err != nil {
		t.Errorf("the caller's pool after Store.Close: %v", err)
	}
}

func TestOptions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name string
		opts []pgstore.Option
		want string // in the error
	}{
		{"NoSealKey", []pgstore.Option{pgstore.WithSchema(e.schema)}, "WithSealKey is required"},
		{"NoSealKeyOnlyOld", []pgstore.Option{pgstore.WithSchema(e.schema), pgstore.WithOldSealKeys(keyA)}, "WithSealKey is required"},
		{"EmptySealKey", []pgstore.Option{pgstore.WithSealKey(nil)}, "seal key is 0 bytes"},
		{"ShortSealKey", []pgstore.Option{pgstore.WithSealKey(make([]byte, 15))}, "seal key is 15 bytes"},
		{"LongSealKey", []pgstore.Option{pgstore.WithSealKey(make([]byte, 33))}, "seal key is 33 bytes"},
		{"BadOldKey", []pgstore.Option{pgstore.WithSealKey(keyA), pgstore.WithOldSealKeys(keyB, make([]byte, 8))}, "key 2: seal key is 8 bytes"},
		{"EmptySchema", []pgstore.Option{pgstore.WithSealKey(keyA), pgstore.WithSchema("")}, "empty schema name"},
		{"LongSchema", []pgstore.Option{pgstore.WithSealKey(keyA), pgstore.WithSchema(strings.Repeat("s", 64))}, "63"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pgstore.New(ctx, e.pool, tt.opts...)
			if err == nil || !strings.HasPrefix(err.Error(), "pgstore: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v; want a pgstore error saying %q", err, tt.want)
			}
			// Open checks the options before it connects: to a port where
			// nothing listens, it still reports the option.
			_, err = pgstore.Open(ctx, "postgres://postgres:pw@127.0.0.1:1/test", tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v; want an error saying %q", err, tt.want)
			}
		})
	}
	// Refusing made nothing.
	var n int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", e.schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("a refused New created the schema %s", e.schema)
	}
	if _, err := pgstore.New(ctx, nil, pgstore.WithSealKey(keyA)); err == nil {
		t.Error("New(nil pool) = nil error; want one")
	}
}

// TestOpenHidesPassword checks that no error of Open shows the DSN's
// password, whether the DSN parses or not and whether the server answers
// or not.
func TestOpenHidesPassword(t *testing.T) {
	const pw = "S3cr3t-Pa55w0rd"
	tests := []struct{ name, dsn string }{
		{"URLNoServer", "postgres://postgres:" + pw + "@127.0.0.1:1/test?connect_timeout=5"},
		{"URLBadPort", "postgres://postgres:" + pw + "@127.0.0.1:notaport/test"},
		{"URLBadEscape", "postgres://postgres:" + pw + "%zz@127.0.0.1/test"},
		{"URLQueryPassword", "postgres://postgres@127.0.0.1:1/test?password=" + pw + "&connect_timeout=5"},
		{"KeywordNoServer", "host=127.0.0.1 port=1 user=postgres password=" + pw + " dbname=test connect_timeout=5"},
		{"KeywordQuoted", "host=127.0.0.1 port=1 user=postgres password='" + pw + " x' dbname=test connect_timeout=5"},
		{"KeywordBad", "host=127.0.0.1 port=notaport user=postgres password=" + pw},
		{"KeywordUnterminated", "host=127.0.0.1 user=postgres password='" + pw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := pgstore.Open(context.Background(), tt.dsn, pgstore.WithSealKey(keyA))
			if err == nil {
				s.Close()
				t.Fatal("Open = nil error; want one")
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("Open's error shows the password: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "pgstore: ") {
				t.Errorf("Open's error %q does not start with pgstore: ", err)
			}
		})
	}
	// With trust authentication the server takes any password: the Store
	// works, and its String does not show it.
	dsn := strings.Replace(testDSN(), "postgres@", "postgres:"+pw+"@", 1)
	if !strings.Contains(dsn, pw) {
		return // EBAYAUTH_PG_DSN has its own credentials
	}
	e := newEnv(t)
	s, err := pgstore.Open(context.Background(), dsn, pgstore.WithSealKey(keyA), pgstore.WithSchema(e.schema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if strings.Contains(s.String(), pw) {
		t.Errorf("String() = %q shows the password", s)
	}
}

// TestSealedAtRest checks that neither the access token nor the refresh
// token reaches the database in clear, in any form.
func TestSealedAtRest(t *testing.T) {
	e := newEnv(t)
	s := e.store(t)
	ctx := context.Background()
	acct := storetest.NewAccount(t)
	key := storetest.Key(t)
	rec := storetest.NewRecord(time.Now().Add(time.Hour))
	rec.Account = acct.ID
	if err := s.SaveAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"access token":                   rec.Token.AccessToken,
		"user token's refresh token":     rec.Token.RefreshToken,
		"account's refresh token":        acct.RefreshToken,
		"random part of the access one":  rec.Token.AccessToken[len(rec.Token.AccessToken)-40:],
		"random part of the refresh one": acct.RefreshToken[len(acct.RefreshToken)-40:],
	}
	// Every column of every row, as bytes and as text (bytea shows as hex).
	for _, table := range []string{"tokens", "accounts", "locks"} {
		rows, err := e.pool.Query(ctx, "SELECT t::text, t.* FROM "+e.table(table)+" t")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				raw := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					raw = string(b)
					if b[0] != 1 {
						t.Errorf("%s: a sealed column starts with %d; want the format byte 1", table, b[0])
					}
				}
				for what, secret := range secrets {
					if strings.Contains(raw, secret) || strings.Contains(raw, hex.EncodeToString([]byte(secret))) {
						t.Errorf("table %s holds the %s in clear", table, what)
					}
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	// And they come back.
	got, err := s.Load(ctx, key)
	if err != nil || got.Token.AccessToken != rec.Token.AccessToken {
		t.Errorf("Load: %v, %v; want the saved token", got, err)
	}
	a, err := s.LoadAccount(ctx, acct.ID)
	if err != nil || a.RefreshToken != acct.RefreshToken {
		t.Errorf("LoadAccount: %v, %v; want the saved refresh token", a, err)
	}
}

// TestKeyRotation saves with key A, opens with a Store whose current key
// is B and old key A, which re-seals on save, after which a Store with
// only B opens the values.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	onlyA := e.store(t)
	bOldA := e.store(t, pgstore.WithSealKey(keyB), pgstore.WithOldSealKeys(keyC, keyA))
	onlyB := e.store(t, pgstore.WithSealKey(keyB))

	key := storetest.Key(t)
	rec := storetest.NewRecord(time.Now().Add(time.Hour))
	acct := storetest.NewAccount(t)
	if err := onlyA.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	if err := onlyA.SaveAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	wantUnreadable(t, onlyB, key, acct.ID)

	// The rotating Store opens A's values…
	got, err := bOldA.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load with A as an old key: %v", err)
	}
	if d := storetest.Diff(rec, got); d != "" {
		t.Errorf("Load with A as an old key (-want +got):\n%s", d)
	}
	gotAcct, err := bOldA.LoadAccount(ctx, acct.ID)
	if err != nil {
		t.Fatalf("LoadAccount with A as an old key: %v", err)
	}
	if d := storetest.DiffAccounts(acct, gotAcct); d != "" {
		t.Errorf("LoadAccount with A as an old key (-want +got):\n%s", d)
	}
	// …without re-sealing them on load.
	wantUnreadable(t, onlyB, key, acct.ID)

	// Saving re-seals with B.
	if err := bOldA.Save(ctx, key, got); err != nil {
		t.Fatal(err)
	}
	if err := bOldA.SaveAccount(ctx, gotAcct); err != nil {
		t.Fatal(err)
	}
	got, err = onlyB.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load with only B after the rotating Store saved: %v", err)
	}
	if d := storetest.Diff(rec, got); d != "" {
		t.Errorf("Load with only B (-want +got):\n%s", d)
	}
	gotAcct, err = onlyB.LoadAccount(ctx, acct.ID)
	if err != nil {
		t.Fatalf("LoadAccount with only B after the rotating Store saved: %v", err)
	}
	if d := storetest.DiffAccounts(acct, gotAcct); d != "" {
		t.Errorf("LoadAccount with only B (-want +got):\n%s", d)
	}
	wantUnreadable(t, onlyA, key, acct.ID)
}

// TestReseal checks that Reseal moves every value sealed with an old key to
// the current one, and only those.
func TestReseal(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	onlyA := e.store(t)
	onlyC := e.store(t, pgstore.WithSealKey(keyC))
	bOldAC := e.store(t, pgstore.WithSealKey(keyB), pgstore.WithOldSealKeys(keyA, keyC))
	onlyB := e.store(t, pgstore.WithSealKey(keyB))

	const n = 7 // per kind and key: more than one page would take too long to set up
	var keys, ids []string
	for i := range 2 * n {
		s := onlyA
		if i%2 == 1 {
			s = onlyC
		}
		key, acct := storetest.Key(t), storetest.NewAccount(t)
		rec := storetest.NewRecord(time.Now().Add(time.Hour))
		rec.Account = acct.ID
		if err := s.Save(ctx, key, rec); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
		keys, ids = append(keys, key), append(ids, acct.ID)
	}
	// One already sealed with B: left alone.
	if err := onlyB.Save(ctx, storetest.Key(t), storetest.NewRecord(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	got, err := bOldAC.Reseal(ctx)
	if err != nil {
		t.Fatalf("Reseal: %v", err)
	}
	if want := 4 * n; got != want {
		t.Errorf("Reseal re-sealed %d values; want %d", got, want)
	}
	for i := range keys {
		if _, err := onlyB.Load(ctx, keys[i]); err != nil {
			t.Errorf("Load after Reseal: %v", err)
		}
		if _, err := onlyB.LoadAccount(ctx, ids[i]); err != nil {
			t.Errorf("LoadAccount after Reseal: %v", err)
		}
	}
	if got, err := bOldAC.Reseal(ctx); err != nil || got != 0 {
		t.Errorf("second Reseal = %d, %v; want 0, nil", got, err)
	}

	// A value no key opens is left, and reported.
	if _, err := e.pool.Exec(ctx, "UPDATE "+e.table("tokens")+" SET payload = $2 WHERE key = $1",
		keys[0], bytes.Repeat([]byte{1}, 40)); err != nil {
		t.Fatal(err)
	}
	if got, err := bOldAC.Reseal(ctx); !errors.Is(err, pgstore.ErrUnreadable) || got != 0 {
		t.Errorf("Reseal with an unreadable row = %d, %v; want 0 and ErrUnreadable", got, err)
	}
}

// wantUnreadable checks that s can read neither the record under key nor
// the account id.
func wantUnreadable(t *testing.T, s *pgstore.Store, key, id string) {
	t.Helper()
	if rec, err := s.Load(context.Background(), key); !errors.Is(err, pgstore.ErrUnreadable) {
		t.Errorf("Load = %v, %v; want an error matching ErrUnreadable", rec, err)
	}
	if a, err := s.LoadAccount(context.Background(), id); !errors.Is(err, pgstore.ErrUnreadable) {
		t.Errorf("LoadAccount = %v, %v; want an error matching ErrUnreadable", a, err)
	}
}

// TestUnreadable checks that a token record or an account that does not
// open is an error matching ErrUnreadable, that shows no credential, and
// that reading leaves the row as it was.
func TestUnreadable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var log logtest.Recorder
	s := e.store(t, pgstore.WithLogger(slog.New(&log)))
	tokens, accounts := e.table("tokens"), e.table("accounts")

	tests := []struct {
		name  string
		spoil func(t *testing.T, key, id string) // spoils the row under key, or the account id
	}{
		{"FlippedBit", func(t *testing.T, key, _ string) {
			exec(t, e, "UPDATE "+tokens+" SET payload = set_byte(payload, 30, get_byte(payload, 30) # 1) WHERE key = $1", key)
		}},
		{"Truncated", func(t *testing.T, key, _ string) {
			exec(t, e, "UPDATE "+tokens+" SET payload = substring(payload FROM 1 FOR 20) WHERE key = $1", key)
		}},
		{"UnknownFormat", func(t *testing.T, key, _ string) {
			exec(t, e, "UPDATE "+tokens+" SET payload = set_byte(payload, 0, 9) WHERE key = $1", key)
		}},
		{"Cleartext", func(t *testing.T, key, _ string) {
			exec(t, e, "UPDATE "+tokens+` SET payload = convert_to('{"token":{"access_token":"x"}}', 'UTF8') WHERE key = $1`, key)
		}},
		{"MovedFromAnotherRow", func(t *testing.T, key, _ string) {
			other := storetest.Key(t)
			if err := s.Save(ctx, other, storetest.NewRecord(time.Now().Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
			exec(t, e, "UPDATE "+tokens+" SET payload = (SELECT payload FROM "+tokens+" WHERE key = $2) WHERE key = $1", key, other)
		}},
		{"ExpiryChanged", func(t *testing.T, key, _ string) {
			exec(t, e, "UPDATE "+tokens+" SET expiry_ms = 0 WHERE key = $1", key)
		}},
		{"TokenAccountChanged", func(t *testing.T, key, _ string) {
			exec(t, e, "UPDATE "+tokens+" SET account = 'someone-else' WHERE key = $1", key)
		}},
		{"OtherKey", func(t *testing.T, key, id string) {
			other := e.store(t, pgstore.WithSealKey(keyC))
			rec := storetest.NewRecord(time.Now().Add(3 * time.Hour))
			if err := other.Save(ctx, key, rec); err != nil {
				t.Fatal(err)
			}
		}},
		{"AccountFlippedBit", func(t *testing.T, _, id string) {
			exec(t, e, "UPDATE "+accounts+" SET refresh_token = set_byte(refresh_token, 20, get_byte(refresh_token, 20) # 1) WHERE id = $1", id)
		}},
		{"AccountMovedFromAnother", func(t *testing.T, _, id string) {
			other := storetest.NewAccount(t)
			if err := s.SaveAccount(ctx, other); err != nil {
				t.Fatal(err)
			}
			exec(t, e, "UPDATE "+accounts+" SET refresh_token = (SELECT refresh_token FROM "+accounts+" WHERE id = $2) WHERE id = $1", id, other.ID)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, acct := storetest.Key(t), storetest.NewAccount(t)
			rec := storetest.NewRecord(time.Now().Add(time.Hour))
			if err := s.Save(ctx, key, rec); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveAccount(ctx, acct); err != nil {
				t.Fatal(err)
			}
			tt.spoil(t, key, acct.ID)
			before := rowText(t, e, key, acct.ID)

			_, errLoad := s.Load(ctx, key)
			_, errAcct := s.LoadAccount(ctx, acct.ID)
			_, errList := s.ListAccounts(ctx, acct.ID[:len(acct.ID)-1], 1) // a page that starts with acct
			if strings.HasPrefix(tt.name, "Account") {
				if errLoad != nil {
					t.Errorf("Load of an unspoilt record: %v", errLoad)
				}
				for name, err := range map[string]error{"LoadAccount": errAcct, "ListAccounts": errList} {
					if !errors.Is(err, pgstore.ErrUnreadable) || !strings.Contains(err.Error(), acct.ID) {
						t.Errorf("%s: %v; want an error matching ErrUnreadable naming %s", name, err, acct.ID)
					}
				}
			} else {
				if !errors.Is(errLoad, pgstore.ErrUnreadable) {
					t.Errorf("Load: %v; want an error matching ErrUnreadable", errLoad)
				}
				if errAcct != nil {
					t.Errorf("LoadAccount of an unspoilt account: %v", errAcct)
				}
			}
			for _, err := range []error{errLoad, errAcct, errList} {
				if err == nil {
					continue
				}
				if !strings.HasPrefix(err.Error(), "pgstore: ") {
					t.Errorf("error %q does not start with pgstore: ", err)
				}
				if strings.Contains(err.Error(), rec.Token.AccessToken[40:80]) || strings.Contains(err.Error(), acct.RefreshToken[30:]) {
					t.Errorf("error shows a credential: %v", err)
				}
			}
			if after := rowText(t, e, key, acct.ID); after != before {
				t.Errorf("reading changed the rows:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	lines := log.Lines()
	if len(lines) == 0 {
		t.Error("nothing logged about unreadable values")
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "WARN") && !strings.Contains(l, "cannot read") {
			t.Errorf("unexpected log line %q", l)
		}
		if strings.Contains(l, "v^1.1#") {
			t.Errorf("log line shows a credential: %q", l)
		}
	}
}

func exec(t *testing.T, e *env, sql string, args ...any) {
	t.Helper()
	tag, err := e.pool.Exec(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() != 1 {
		t.Fatalf("%s changed %d rows; want 1", sql, tag.RowsAffected())
	}
}

// rowText is the token row under key and the account id, as text.
func rowText(t *testing.T, e *env, key, id string) string {
	t.Helper()
	var tok, acct string
	if err := e.pool.QueryRow(context.Background(), "SELECT t::text FROM "+e.table("tokens")+" t WHERE key = $1", key).Scan(&tok); err != nil {
		t.Fatal(err)
	}
	if err := e.pool.QueryRow(context.Background(), "SELECT a::text FROM "+e.table("accounts")+" a WHERE id = $1", id).Scan(&acct); err != nil {
		t.Fatal(err)
	}
	return tok + " " + acct
}

// TestSaveOverUnreadable checks that Save replaces a record this Store
// cannot read when the new token is later, as the Store contract says.
func TestSaveOverUnreadable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s, other := e.store(t), e.store(t, pgstore.WithSealKey(keyB))
	key := storetest.Key(t)
	if err := other.Save(ctx, key, storetest.NewRecord(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	rec := storetest.NewRecord(time.Now().Add(2 * time.Hour))
	if err := s.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if d := storetest.Diff(rec, got); d != "" {
		t.Errorf("Load (-want +got):\n%s", d)
	}
}

// TestLockImplausibleLease checks that a lock whose lease ends implausibly
// far ahead (more than twice the lease asked for and a minute) is broken,
// with a warning, and that a plausible one is not.
func TestLockImplausibleLease(t *testing.T) {
	e := newEnv(t)
	var log logtest.Recorder
	s := e.store(t, pgstore.WithLogger(slog.New(&log)))
	ctx := context.Background()
	tests := []struct {
		name   string
		ahead  string // the planted lock's lease, from now, as an SQL interval
		lease  time.Duration
		broken bool
	}{
		{"FarAhead", "1 hour", time.Second, true},
		{"Years", "10 years", 45 * time.Second, true},
		{"JustPlausible", "2 minutes", 45 * time.Second, false}, // 2×45 s + 1 min = 2.5 min
		{"Plausible", "30 seconds", time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := storetest.Key(t)
			_, err := e.pool.Exec(ctx, "INSERT INTO "+e.table("locks")+" (key, holder, until) VALUES ($1, 'a dead holder', now() + $2::interval)", key, tt.ahead)
			if err != nil {
				t.Fatal(err)
			}
			n := len(log.Lines())
			unlock, err := s.Lock(ctx, key, tt.lease)
			if !tt.broken {
				if !errors.Is(err, ebayauth.ErrLocked) {
					t.Errorf("Lock(%v) over a lease %s ahead: %v; want ErrLocked", tt.lease, tt.ahead, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Lock(%v) over a lease %s ahead: %v; want the lock", tt.lease, tt.ahead, err)
			}
			if lines := log.Lines(); len(lines) != n+1 || !strings.Contains(lines[n], "implausible") {
				t.Errorf("log after breaking a lock: %q; want one warning about an implausible lease", lines[n:])
			}
			// The broken lock is ours now, with our lease.
			if _, err := s.Lock(ctx, key, tt.lease); !errors.Is(err, ebayauth.ErrLocked) {
				t.Errorf("second Lock: %v; want ErrLocked", err)
			}
			if err := unlock(ctx); err != nil {
				t.Fatal(err)
			}
			var left int
			if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM "+e.table("locks")+" WHERE key = $1", key).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Errorf("unlock left %d lock rows; want 0", left)
			}
		})
	}
}

// TestLockUsesDatabaseClock checks that the lease is set by the database's
// clock: the lock row's until is now() plus the lease.
func TestLockUsesDatabaseClock(t *testing.T) {
	e := newEnv(t)
	s := e.store(t)
	ctx := context.Background()
	key := storetest.Key(t)
	unlock, err := s.Lock(ctx, key, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(ctx)
	var micros int64
	if err := e.pool.QueryRow(ctx, "SELECT (extract(epoch FROM until - now()) * 1e6)::bigint FROM "+e.table("locks")+" WHERE key = $1", key).Scan(&micros); err != nil {
		t.Fatal(err)
	}
	left := time.Duration(micros) * time.Microsecond
	if left <= 80*time.Second || left > 90*time.Second {
		t.Errorf("the lock's until is now() + %v; want about 90s", left)
	}
}

// TestConcurrentOpen opens one fresh schema from several goroutines, each
// with a pool of its own: every Open succeeds and each migration is applied
// once.
func TestConcurrentOpen(t *testing.T) {
	e := newEnv(t)
	const n = 8
	ctx := context.Background()
	stores := make([]*pgstore.Store, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = pgstore.Open(ctx, testDSN(), pgstore.WithSealKey(keyA), pgstore.WithSchema(e.schema))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	var versions, distinct, first int
	err := e.pool.QueryRow(ctx, "SELECT count(*), count(DISTINCT version), min(version) FROM "+e.table("schema_migrations")).Scan(&versions, &distinct, &first)
	if err != nil {
		t.Fatal(err)
	}
	if versions == 0 || versions != distinct || first != 1 {
		t.Errorf("schema_migrations has %d rows, %d versions from %d; want each version from 1 once", versions, distinct, first)
	}
	// They all work on the one schema.
	key := storetest.Key(t)
	for i, s := range stores {
		if s == nil {
			continue
		}
		if err := s.Save(ctx, key, storetest.NewRecord(time.Now().Add(time.Duration(i+1)*time.Minute))); err != nil {
			t.Errorf("Save through store #%d: %v", i, err)
		}
	}
}

// TestNewerSchema checks that a schema migrated by a newer pgstore is used
// as it is, with a warning.
func TestNewerSchema(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.store(t)
	if _, err := e.pool.Exec(ctx, "INSERT INTO "+e.table("schema_migrations")+" (version, name) VALUES (9999, '9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	var log logtest.Recorder
	s := e.store(t, pgstore.WithLogger(slog.New(&log)))
	if err := s.Save(ctx, storetest.Key(t), storetest.NewRecord(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if lines := log.Lines(); len(lines) != 1 || !strings.Contains(lines[0], "newer") {
		t.Errorf("log = %q; want one warning that the schema is newer", lines)
	}
}

// TestContextDeadline checks that a call whose context ends while it waits
// for the database returns an error matching the context's.
func TestContextDeadline(t *testing.T) {
	e := newEnv(t)
	s := e.store(t)
	ctx := context.Background()
	key := storetest.Key(t)
	if err := s.Save(ctx, key, storetest.NewRecord(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	// Hold the row's lock in a transaction, so that a Save waits.
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM "+e.table("tokens")+" WHERE key = $1 FOR UPDATE", key); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err = s.Save(short, key, storetest.NewRecord(time.Now().Add(2*time.Hour)))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "pgstore: save: ") {
		t.Errorf("Save blocked past its deadline: %v; want a pgstore: save: error matching context.DeadlineExceeded", err)
	}
}
