package redisstore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/ebayauth/ebayauth"
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

// recorder is a slog.Handler that keeps the records it is given.
type recorder struct {
	mu      sync.Mutex
	records []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, b.String())
	return nil
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.records)
}

func mustLoad(t *testing.T, s *Store, key string, want *ebayauth.Token) {
	t.Helper()
	got, err := s.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if d := storetest.Diff(want, got); d != "" {
		t.Errorf("Load: diff (-want +got):\n%s", d)
	}
}

func mustSave(t *testing.T, s *Store, key string, tok *ebayauth.Token) {
	t.Helper()
	if err := s.Save(context.Background(), key, tok); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

func wantNotFound(t *testing.T, s *Store, key string) {
	t.Helper()
	if tok, err := s.Load(context.Background(), key); !errors.Is(err, ebayauth.ErrNotFound) {
		t.Fatalf("Load = %v, %v; want ErrNotFound", tok, err)
	}
}

// TestKeys checks where the Store keeps tokens and locks, and their TTLs.
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
	tok := storetest.NewToken(time.Now().Add(time.Hour))
	mustSave(t, s, key, tok)
	raw, err := c.Get(ctx, prefix+"token:"+key).Result()
	if err != nil {
		t.Fatalf("GET %stoken:%s: %v", prefix, key, err)
	}
	if !strings.Contains(raw, tok.AccessToken) || !strings.HasPrefix(raw, strings.Split(raw, ":")[0]+":{") {
		t.Errorf("unsealed value %.40q...; want <expiry>:{JSON} with the access token", raw)
	}
	if ttl := c.PTTL(ctx, prefix+"token:"+key).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("PTTL of the token = %v; want about an hour", ttl)
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

	never := &ebayauth.Token{AccessToken: "static", TokenType: "User Access Token"}
	mustSave(t, s, key, never)
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
	tok := storetest.NewToken(time.Now().Add(time.Hour))
	mustSave(t, s, key, tok)
	mustLoad(t, s, key, tok)
	raw, err := c.Get(ctx, prefix+"token:"+key).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken, tok.AccessToken[28:60], "access_token"} {
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
	wantNotFound(t, s, other)
	// And to the expiry: a value whose expiry was moved does not open.
	exp, rest, _ := strings.Cut(raw, ":")
	moved := "9" + exp + ":" + rest
	if err := c.Set(ctx, prefix+"token:"+other, moved, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, other)
}

// TestUnreadable checks values the Store cannot read: Load reports none and
// warns once, and Save overwrites them even with a token that expires
// earlier than they claim to.
func TestUnreadable(t *testing.T) {
	srv := redistest.New(t)
	c := srv.Client(t)
	future := "99999999999999:"
	tests := []struct {
		name  string
		plant planter  // puts the value in Redis
		opts  []Option // of the Store that reads it
		// formed: the value starts with an expiry, so that only a Load
		// finds it unreadable; Save alone overwrites the others.
		formed bool
	}{
		{"WrongSealKey", saveWith(WithSealKey(otherKey)), []Option{WithSealKey(sealKey)}, true},
		{"SealedNoKey", saveWith(WithSealKey(otherKey)), nil, true},
		{"PlainWhenSealed", saveWith(), []Option{WithSealKey(sealKey)}, true},
		{"BadJSON", set(future + `{"access_token": "v^1.1#secret`), nil, true},
		{"NoAccessToken", set(future + `{"token_type": "x"}`), nil, true},
		{"BadBase64", set(future + "s1:!!!not base64!!!"), []Option{WithSealKey(sealKey)}, true},
		{"ShortSeal", set(future + "s1:AAAA"), []Option{WithSealKey(sealKey)}, true},
		{"Garbage", set("garbage \x00\xff"), nil, false},
		{"Empty", set(""), nil, false},
		{"NegativeExpiry", set("-5:{}"), nil, false},
		{"Hash", hset, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix, key := srv.Prefix(t), storetest.Key(t)
			tt.plant(t, c, prefix, key)
			rec := &recorder{}
			s := newStoreOn(t, c, append(tt.opts, WithPrefix(prefix), WithLogger(slog.New(rec)))...)
			wantNotFound(t, s, key)
			wantNotFound(t, s, key)
			lines := rec.lines()
			if len(lines) != 1 {
				t.Errorf("logged %d lines; want 1 warning:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			for _, l := range lines {
				if !strings.HasPrefix(l, "WARN ") || strings.Contains(l, "secret") {
					t.Errorf("logged %q; want a warning that quotes no value", l)
				}
			}
			tok := storetest.NewToken(time.Now().Add(time.Hour))
			mustSave(t, s, key, tok)
			mustLoad(t, s, key, tok)
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
			tok := storetest.NewToken(time.Now().Add(time.Hour))
			mustSave(t, s, key, tok)
			mustLoad(t, s, key, tok)
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

// saveWith plants a token that expires in two hours, saved by a Store with
// opts.
func saveWith(opts ...Option) planter {
	return func(t *testing.T, c *redis.Client, prefix, key string) {
		t.Helper()
		s := newStoreOn(t, c, append(opts, WithPrefix(prefix))...)
		mustSave(t, s, key, storetest.NewToken(time.Now().Add(2*time.Hour)))
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
	if err := s.Save(context.Background(), storetest.Key(t), storetest.NewToken(time.Now().Add(time.Hour))); err == nil {
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
	tok := storetest.NewToken(time.Now().Add(time.Hour))
	k := storetest.Key(t)
	mustSave(t, s, k, tok)
	mustLoad(t, newStoreOn(t, c, WithPrefix(prefix), WithSealKey(sealKey)), k, tok)

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
	tok := storetest.NewToken(time.Now().Add(time.Hour))
	mustSave(t, s, key, tok)
	unlock, err := s.Lock(context.Background(), key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	// The client's timeouts are a second; this bounds a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Save(ctx, key, tok); err == nil || !strings.HasPrefix(err.Error(), "redisstore: save: ") {
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
		err := s.Save(ctx, key, tok)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Save after Restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Redis came back empty; the scripts had to be loaded again.
	mustLoad(t, s, key, tok)
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
	tok, err := s.Load(ctx, storetest.Key(t))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Load from a server that never answers = %v, %v; want an error matching context.DeadlineExceeded", tok, err)
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
