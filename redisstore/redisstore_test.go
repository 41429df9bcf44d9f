package redisstore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/internal/logtest"
	"github.com/ebayauth/ebayauth/internal/redistest"
	"github.com/ebayauth/ebayauth/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	sealKey  = bytes.Repeat([]byte{0x42}, 32)
	otherKey = bytes.Repeat([]byte{0x17}, 16)
)

// newStore returns a Store on srv under a fresh prefix, with its own
// client, both closed when t ends.
func testStore(t *testing.T, srv *redistest.Server, opts ...Option) *Store {
	t.Helper()
	opts = append([]Option{WithPrefix(srv.Prefix(t))}, opts...)
	s, err := New(srv.Client(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	srv := redistest.New(t)
	storetest.Run(t, func(t *testing.T) ebayauth.Store { return testStore(t, srv) })
}

func TestConformanceSealed(t *testing.T) {
	srv := redistest.New(t)
	storetest.Run(t, func(t *testing.T) ebayauth.Store { return testStore(t, srv, WithSealKey(sealKey)) })
}

// TestConformanceOpen runs the suite on Stores made by Open, whose client
// honours context deadlines.
func TestConformanceOpen(t *testing.T) {
	srv := redistest.New(t)
	storetest.Run(t, func(t *testing.T) ebayauth.Store {
		s, err := Open("redis://"+srv.Addr+"/0?max_retries=-1", WithPrefix(srv.Prefix(t)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		return s
	})
}

func mustLoad(t *testing.T, s *Store, key string, want *ebayauth.Record) {
	t.Helper()
	got, err := s.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if d := storetest.Diff(want, got); d != "" {
		t.Errorf("Load: diff (-want +got):\n%s", d)
	}
}

func mustSave(t *testing.T, s *Store, key string, rec *ebayauth.Record) {
	t.Helper()
	if err := s.Save(context.Background(), key, rec); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

// wantUnreadable checks that Load reports the value under key as
// unreadable: an error matching ErrUnreadable, not ErrNotFound.
func wantUnreadable(t *testing.T, s *Store, key string) {
	t.Helper()
	rec, err := s.Load(context.Background(), key)
	if !errors.Is(err, ErrUnreadable) || errors.Is(err, ebayauth.ErrNotFound) {
		t.Fatalf("Load = %v, %v; want an error matching ErrUnreadable and not ErrNotFound", rec, err)
	}
	if !strings.HasPrefix(err.Error(), "redisstore: ") {
		t.Errorf("Load: %q; want an error that starts with %q", err, "redisstore: ")
	}
}

// dump returns Redis's serialization of the value at k, whatever its type,
// so that a test can tell whether it changed.
func dump(t *testing.T, c *redis.Client, k string) string {
	t.Helper()
	v, err := c.Dump(context.Background(), k).Result()
	if err != nil {
		t.Fatalf("DUMP %s: %v", k, err)
	}
	return v
}

// TestKeys checks where the Store keeps records and locks, and their TTLs: a
// record lives for its token's lifetime (expiry minus mint time) plus
// GCHorizon, counted from the save, whatever its expiry says by Redis's
// clock; a record that never expires lives for good.
func TestKeys(t *testing.T) {
	ctx := context.Background()
	srv := redistest.New(t)
	c := srv.Client(t)
	prefix := srv.Prefix(t)
	s, err := New(c, WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	key := storetest.Key(t)
	rec := storetest.NewRecord(time.Now().Add(time.Hour)) // minted two hours before its expiry
	mustSave(t, s, key, rec)
	raw, err := c.Get(ctx, prefix+"token:"+key).Result()
	if err != nil {
		t.Fatalf("GET %stoken:%s: %v", prefix, key, err)
	}
	exp, payload, _ := strings.Cut(raw, ":")
	if exp != strconv.FormatInt(rec.Token.Expiry.UnixMilli(), 10) || !strings.HasPrefix(payload, "{") || !strings.Contains(payload, rec.Token.AccessToken) {
		t.Errorf("unsealed value %.40q...; want <expiry in Unix ms>:{JSON} with the access token", raw)
	}
	wantTTL(t, c, prefix+"token:"+key, 2*time.Hour+GCHorizon)

	// The TTL does not depend on the expiry's distance from Redis's clock:
	// records from 2020 and 2040 are kept as long as today's, and a record
	// whose token has already expired is kept, not dropped.
	for _, tt := range []struct {
		name string
		rec  *ebayauth.Record
		ttl  time.Duration
	}{
		{"2020", storetest.NewRecord(time.Date(2020, 3, 1, 9, 0, 0, 0, time.UTC)), 2*time.Hour + GCHorizon},
		{"2040", storetest.NewRecord(time.Date(2040, 3, 1, 9, 0, 0, 0, time.UTC)), 2*time.Hour + GCHorizon},
		{"ExpiredAMomentAgo", storetest.NewRecord(time.Now().Add(-time.Second)), 2*time.Hour + GCHorizon},
		// No mint time: the lifetime is unknown, the horizon alone counts.
		{"NoMintTime", &ebayauth.Record{Token: &ebayauth.Token{AccessToken: "unminted", Expiry: time.Now().Add(time.Hour)}}, GCHorizon},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := storetest.Key(t)
			mustSave(t, s, k, tt.rec)
			wantTTL(t, c, prefix+"token:"+k, tt.ttl)
			mustLoad(t, s, k, tt.rec)
		})
	}

	unlock, err := s.Lock(ctx, key, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ttl := c.PTTL(ctx, prefix+"lock:"+key).Val(); ttl <= 0 || ttl > 30*time.Second {
		t.Errorf("PTTL of the lock = %v; want about 30s", ttl)
	}
	if err := unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, prefix+"lock:"+key).Val(); n != 0 {
		t.Errorf("lock key still exists after unlock")
	}

	// A record that never expires replaces the one with a TTL, and has none.
	never := &ebayauth.Record{Token: &ebayauth.Token{AccessToken: "static", TokenType: "User Access Token"}}
	mustSave(t, s, key, never)
	mustLoad(t, s, key, never)
	if ttl := c.PTTL(ctx, prefix+"token:"+key).Val(); ttl != -1 {
		t.Errorf("PTTL of a token that never expires = %v; want -1 (no TTL)", ttl)
	}

	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.tokenKey("k"); got != "ebayauth:token:k" {
		t.Errorf("default token key %q; want %q", got, "ebayauth:token:k")
	}
}

// wantTTL checks that the PTTL of k is want, less the moments since it was
// set.
func wantTTL(t *testing.T, c *redis.Client, k string, want time.Duration) {
	t.Helper()
	ttl, err := c.PTTL(context.Background(), k).Result()
	if err != nil {
		t.Fatalf("PTTL %s: %v", k, err)
	}
	if ttl > want || ttl < want-time.Minute {
		t.Errorf("PTTL of the record = %v; want about %v", ttl, want)
	}
}

func TestSealedAtRest(t *testing.T) {
	ctx := context.Background()
	srv := redistest.New(t)
	c := srv.Client(t)
	prefix := srv.Prefix(t)
	s, err := New(c, WithPrefix(prefix), WithSealKey(sealKey))
	if err != nil {
		t.Fatal(err)
	}
	key := storetest.Key(t)
	rec := storetest.NewRecord(time.Now().Add(time.Hour))
	mustSave(t, s, key, rec)
	mustLoad(t, s, key, rec)
	raw, err := c.Get(ctx, prefix+"token:"+key).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{rec.Token.AccessToken, rec.Token.RefreshToken, rec.Token.AccessToken[28:60], "access_token"} {
		if strings.Contains(raw, secret) {
			t.Errorf("sealed value %.60q... contains %.20q...", raw, secret)
		}
	}
	if !strings.Contains(raw, ":s1:") {
		t.Errorf("sealed value %.40q...; want <expiry>:s1:<base64>", raw)
	}

	// The seal is bound to the key: a value copied to another key does
	// not open.
	other := storetest.Key(t)
	if err := c.Set(ctx, prefix+"token:"+other, raw, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	wantUnreadable(t, s, other)
	// And to the expiry: a value whose expiry was moved does not open.
	exp, rest, _ := strings.Cut(raw, ":")
	moved := "9" + exp + ":" + rest
	if err := c.Set(ctx, prefix+"token:"+other, moved, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	wantUnreadable(t, s, other)
}

// TestUnreadable checks values the Store cannot read. Load reports each with
// an error matching ErrUnreadable (not ErrNotFound) and a warning that
// quotes no value, and leaves it in place: it may be another process's.
// Save overwrites a value that does not start with an expiry, whatever it
// claims; one that does start with an expiry it replaces with a record that
// expires later, as it would a readable one; and a sealed value it never
// replaces with an unsealed one.
func TestUnreadable(t *testing.T) {
	srv := redistest.New(t)
	c := srv.Client(t)
	// The values planted with an expiry claim one in two hours.
	head := strconv.FormatInt(time.Now().Add(2*time.Hour).UnixMilli(), 10) + ":"
	tests := []struct {
		name  string
		plant planter  // puts the value in Redis
		opts  []Option // of the Store that reads it
		// formed: the value starts with an expiry, so that a Save replaces
		// it only with a later record; Save overwrites the others.
		formed bool
		// sealed: the value is sealed and the Store has no seal key, so
		// that Save refuses to replace it.
		sealed bool
	}{
		{"WrongSealKey", saveWith(WithSealKey(otherKey)), []Option{WithSealKey(sealKey)}, true, false},
		{"SealedNoKey", saveWith(WithSealKey(otherKey)), nil, true, true},
		{"PlainWhenSealed", saveWith(), []Option{WithSealKey(sealKey)}, true, false},
		{"BadJSON", set(head + `{"token": {"access_token": "v^1.1#secret`), nil, true, false},
		{"NoAccessToken", set(head + `{"token": {"token_type": "x"}, "minted": "2020-01-01T00:00:00Z"}`), nil, true, false},
		// A token as the Store kept it before records.
		{"BareToken", set(head + `{"access_token": "v^1.1#secret", "token_type": "User Access Token"}`), nil, true, false},
		{"BadBase64", set(head + "s1:!!!not base64!!!"), []Option{WithSealKey(sealKey)}, true, false},
		{"ShortSeal", set(head + "s1:AAAA"), []Option{WithSealKey(sealKey)}, true, false},
		{"Garbage", set("garbage \x00\xff"), nil, false, false},
		{"Empty", set(""), nil, false, false},
		{"NegativeExpiry", set("-5:{}"), nil, false, false},
		{"Hash", hset, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			prefix, key := srv.Prefix(t), storetest.Key(t)
			tt.plant(t, c, prefix, key)
			planted := dump(t, c, prefix+"token:"+key)
			rec := &logtest.Recorder{}
			s := newStoreOn(t, c, append(tt.opts, WithPrefix(prefix), WithLogger(slog.New(rec)))...)
			wantUnreadable(t, s, key)
			if lines := rec.Lines(); len(lines) != 1 {
				t.Errorf("the first Load logged %d lines; want 1 warning:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			wantUnreadable(t, s, key) // the value is still there
			for _, l := range rec.Lines() {
				if !strings.HasPrefix(l, "WARN ") || strings.Contains(l, "secret") {
					t.Errorf("logged %q; want a warning that quotes no value", l)
				}
			}
			if dump(t, c, prefix+"token:"+key) != planted {
				t.Fatal("Load changed or deleted the value it cannot read; want it left in place")
			}

			switch {
			case tt.sealed:
				later := storetest.NewRecord(time.Now().Add(3 * time.Hour))
				err := s.Save(ctx, key, later)
				if err == nil || !strings.HasPrefix(err.Error(), "redisstore: save: ") {
					t.Errorf("Save over a sealed value without the seal key: %v; want a redisstore: save: error", err)
				}
				if dump(t, c, prefix+"token:"+key) != planted {
					t.Error("Save replaced a sealed value with an unsealed one")
				}
				wantUnreadable(t, s, key)
			case tt.formed:
				later := storetest.NewRecord(time.Now().Add(3 * time.Hour))
				mustSave(t, s, key, later)
				mustLoad(t, s, key, later)
			default:
				rec := storetest.NewRecord(time.Now().Add(time.Hour))
				mustSave(t, s, key, rec)
				mustLoad(t, s, key, rec)
			}
		})
	}

	// A Save that comes before any Load overwrites a value that is not of
	// the Store's form, however late it claims to expire.
	for _, tt := range tests {
		if tt.formed {
			continue
		}
		t.Run("SaveFirst/"+tt.name, func(t *testing.T) {
			prefix, key := srv.Prefix(t), storetest.Key(t)
			tt.plant(t, c, prefix, key)
			s := newStoreOn(t, c, append(tt.opts, WithPrefix(prefix))...)
			rec := storetest.NewRecord(time.Now().Add(time.Hour))
			mustSave(t, s, key, rec)
			mustLoad(t, s, key, rec)
		})
	}
}

func newStoreOn(t *testing.T, c redis.UniversalClient, opts ...Option) *Store {
	t.Helper()
	s, err := New(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type planter func(t *testing.T, c *redis.Client, prefix, key string)

// saveWith plants a record whose token expires in two hours, saved by a
// Store with opts.
func saveWith(opts ...Option) planter {
	return func(t *testing.T, c *redis.Client, prefix, key string) {
		t.Helper()
		s := newStoreOn(t, c, append(opts, WithPrefix(prefix))...)
		mustSave(t, s, key, storetest.NewRecord(time.Now().Add(2*time.Hour)))
	}
}

// set plants raw.
func set(raw string) planter {
	return func(t *testing.T, c *redis.Client, prefix, key string) {
		t.Helper()
		if err := c.Set(context.Background(), prefix+"token:"+key, raw, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// hset plants a hash.
func hset(t *testing.T, c *redis.Client, prefix, key string) {
	t.Helper()
	if err := c.HSet(context.Background(), prefix+"token:"+key, "v", "secret", "exp", "99999999999999").Err(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenBadURL(t *testing.T) {
	tests := []struct {
		name, url string
		show      string // a part of the URL the error names
	}{
		{"Scheme", "http://user:s3cret@localhost:6379", "http://user:xxxxx@localhost:6379"},
		{"Unix", "unix://user:s3cret@/tmp/redis.sock", "/tmp/redis.sock"},
		{"NoScheme", "localhost:6379", "localhost"},
		{"Port", "redis://user:s3cret@localhost:port", "localhost:port"},
		{"DB", "redis://user:s3cret@localhost:6379/notadb", "localhost:6379/notadb"},
		{"Path", "redis://user:s3cret@localhost:6379/1/2", "localhost"},
		{"Option", "rediss://user:s3cret@localhost:6379/0?bogus=1", "bogus"},
		{"PasswordInQuery", "redis://:s3cret@localhost:6379?dial_timeout=s3cret", "localhost"},
		{"Unparsable", "redis://user:s3cret@local host:6379", "local host"},
		{"ControlChar", "redis://user:s3cret@localhost\x7f:6379", "localhost"},
		{"EscapedPassword", "redis://user:s3%63ret@localhost:6379/x", "localhost"},
		{"Empty", "", `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.url)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded; want an error", tt.url)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "redisstore: invalid Redis URL ") || !strings.Contains(msg, tt.show) {
				t.Errorf("Open(%q): %q; want an error that starts with %q and shows %q",
					tt.url, msg, "redisstore: invalid Redis URL", tt.show)
			}
			if strings.Contains(msg, "s3cret") {
				t.Errorf("Open(%q): %q shows the password", tt.url, msg)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	srv := redistest.New(t)
	s, err := Open("redis://:s3cret@"+srv.Addr+"/0", WithPrefix(srv.Prefix(t)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "redis:"+srv.Addr; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The client is closed.
	if err := s.Save(context.Background(), storetest.Key(t), storetest.NewRecord(time.Now().Add(time.Hour))); err == nil {
		t.Error("Save after Close succeeded; want an error")
	}
}

func TestOptions(t *testing.T) {
	srv := redistest.New(t)
	c := srv.Client(t)
	if _, err := New(nil); err == nil || !strings.HasPrefix(err.Error(), "redisstore: ") {
		t.Errorf("New(nil): %v; want a redisstore error", err)
	}
	for _, n := range []int{0, 15, 31, 33, 64} {
		_, err := New(c, WithSealKey(make([]byte, n)))
		if err == nil || !strings.HasPrefix(err.Error(), "redisstore: ") || !strings.Contains(err.Error(), "16, 24 or 32") {
			t.Errorf("New with a %d-byte seal key: %v; want an error that says 16, 24 or 32", n, err)
		}
		s, err := Open("redis://"+srv.Addr, WithSealKey(make([]byte, n)))
		if err == nil {
			s.Close()
			t.Errorf("Open with a %d-byte seal key succeeded; want an error", n)
		}
	}
	for _, n := range []int{16, 24, 32} {
		if _, err := New(c, WithSealKey(make([]byte, n))); err != nil {
			t.Errorf("New with a %d-byte seal key: %v", n, err)
		}
	}

	// WithSealKey keeps its own copy of the key.
	key := bytes.Clone(sealKey)
	prefix := srv.Prefix(t)
	s := newStoreOn(t, c, WithPrefix(prefix), WithSealKey(key))
	clear(key)
	rec := storetest.NewRecord(time.Now().Add(time.Hour))
	k := storetest.Key(t)
	mustSave(t, s, k, rec)
	mustLoad(t, newStoreOn(t, c, WithPrefix(prefix), WithSealKey(sealKey)), k, rec)

	s = newStoreOn(t, c)
	if got, want := s.String(), "redis:"+srv.Addr; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	// A Store made by New leaves the client open.
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Errorf("client after Store.Close: %v", err)
	}
	if err := s.Save(context.Background(), storetest.Key(t), nil); err == nil {
		t.Error("Save(nil) succeeded; want an error")
	}
}

// TestServerDown checks that with Redis gone every call fails, promptly and
// without claiming the token is missing or the lock held, and that the
// Store works again once Redis is back.
func TestServerDown(t *testing.T) {
	srv := redistest.NewPrivate(t)
	s := testStore(t, srv)
	key := storetest.Key(t)
	rec := storetest.NewRecord(time.Now().Add(time.Hour))
	mustSave(t, s, key, rec)
	unlock, err := s.Lock(context.Background(), key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	// The client's timeouts are a second; this bounds a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Save(ctx, key, rec); err == nil || !strings.HasPrefix(err.Error(), "redisstore: save: ") {
		t.Errorf("Save with Redis down: %v; want a redisstore: save: error", err)
	}
	if got, err := s.Load(ctx, key); err == nil || errors.Is(err, ebayauth.ErrNotFound) {
		t.Errorf("Load with Redis down = %v, %v; want an error other than ErrNotFound", got, err)
	}
	if err := s.Delete(ctx, key); err == nil {
		t.Error("Delete with Redis down succeeded; want an error")
	}
	if _, err := s.Lock(ctx, storetest.Key(t), time.Minute); err == nil || errors.Is(err, ebayauth.ErrLocked) {
		t.Errorf("Lock with Redis down: %v; want an error other than ErrLocked", err)
	}
	if err := unlock(ctx); err == nil {
		t.Error("unlock with Redis down succeeded; want an error")
	}
	if ctx.Err() != nil {
		t.Fatal("calls with Redis down hung until the test's deadline")
	}

	srv.Restart()
	// The client may first use connections that died with the old server;
	// poll until they are replaced.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Save(ctx, key, rec)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Save after Restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Redis came back empty; the scripts had to be loaded again.
	mustLoad(t, s, key, rec)
	unlock, err = s.Lock(ctx, key, time.Minute)
	if err != nil {
		t.Fatalf("Lock after Restart: %v", err)
	}
	if err := unlock(ctx); err != nil {
		t.Fatalf("unlock after Restart: %v", err)
	}
}

// TestContextDeadline checks that a Store made by Open gives up when the
// caller's context does, even if Redis never answers.
func TestContextDeadline(t *testing.T) {
	addr := blackHole(t)
	s, err := Open("redis://" + addr + "?dial_timeout=1m&read_timeout=1m&write_timeout=1m&max_retries=-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	rec, err := s.Load(ctx, storetest.Key(t))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Load from a server that never answers = %v, %v; want an error matching context.DeadlineExceeded", rec, err)
	}
	// Far less than the client's own timeouts.
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("Load took %v with a 200ms deadline", took)
	}
}

// blackHole listens on a loopback port, accepts connections and never
// answers, until t ends. It returns the address.
func blackHole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
