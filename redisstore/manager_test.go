package redisstore_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/internal/syncbuf"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/internal/redistest"
	"github.com/ebayauth/ebayauth/redisstore"
)

type replica struct {
	m      *ebayauth.Manager
	logs   *syncbuf.Buffer
	events chan ebayauth.Event
}

// newReplica is one process's Manager: its own Redis connection pool.
func newReplica(t *testing.T, ebay *ebaytest.Server, clock *ebaytest.Clock, redisURL string) *replica {
	t.Helper()
	store, err := redisstore.Open(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r := &replica{logs: new(syncbuf.Buffer), events: make(chan ebayauth.Event, 100)}
	r.m, err = ebayauth.New(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret, Endpoint: ebay.Endpoint(),
		Store: store, Clock: clock, RetryMax: -1,
		Logger: slog.New(slog.NewTextHandler(r.logs, nil)),
		OnEvent: func(e ebayauth.Event) {
			select {
			case r.events <- e:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.m.Close() })
	return r
}

func (r *replica) token(t *testing.T) *ebayauth.Token {
	t.Helper()
	tok, err := r.m.Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

func (r *replica) sawEvent(kind ebayauth.EventKind) bool {
	for {
		select {
		case e := <-r.events:
			if e.Kind == kind {
				return true
			}
		default:
			return false
		}
	}
}

// TestManagersDegradeWhenRedisDies: two replicas share a token through Redis;
// Redis dies, both keep serving and mint for themselves with one warning
// each; Redis returns, and they share again. The replicas' clock is years
// behind Redis's, or years ahead: Redis judges no expiry, so neither
// matters, and the test passes on any day.
func TestManagersDegradeWhenRedisDies(t *testing.T) {
	for _, start := range []time.Time{
		time.Date(2020, 3, 1, 9, 0, 0, 0, time.UTC),
		time.Date(2040, 3, 1, 9, 0, 0, 0, time.UTC),
	} {
		t.Run(start.Format("2006"), func(t *testing.T) { testManagersDegradeWhenRedisDies(t, start) })
	}
}

func testManagersDegradeWhenRedisDies(t *testing.T, start time.Time) {
	rs := redistest.NewPrivate(t)
	ebay := ebaytest.NewServer()
	t.Cleanup(ebay.Close)
	clock := ebaytest.NewClock(start)
	ebay.SetNow(clock.Now)
	url := "redis://" + rs.Addr + "?dial_timeout=500ms&read_timeout=500ms&write_timeout=500ms&max_retries=0"
	a, b := newReplica(t, ebay, clock, url), newReplica(t, ebay, clock, url)

	// a writes its record just after returning the token, but holds the
	// store's mint lock until then, so b, which waits on the lock, needs no
	// wait of its own here (nor for ta and tb below).
	first := a.token(t)
	if got := b.token(t); got.AccessToken != first.AccessToken {
		t.Fatal("second replica minted instead of taking the shared token")
	}
	if n := ebay.Mints(ebaytest.GrantClientCredentials); n != 1 {
		t.Fatalf("mints = %d; want 1", n)
	}

	rs.Kill()
	clock.Set(first.Expiry.Add(-30 * time.Second)) // due: callers wait for a refresh
	for _, r := range []*replica{a, b} {
		if tok := r.token(t); tok.AccessToken == first.AccessToken || !ebay.ValidToken(tok.AccessToken) {
			t.Fatal("no new token with Redis down")
		}
		for range 2 { // more refreshes while Redis is down: still one warning
			if _, err := r.m.ForceRefresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			clock.Advance(3 * time.Second) // stay under the mint rate limit
		}
		if n := strings.Count(r.logs.String(), "token store unavailable"); n != 1 {
			t.Errorf("store-unavailable warnings = %d; want 1", n)
		}
		if s := r.m.Status(); s.StoreHealthy || s.Counters.StoreErrors == 0 || !s.Healthy {
			t.Errorf("status with Redis down: store healthy %v, store errors %d, healthy %v", s.StoreHealthy, s.Counters.StoreErrors, s.Healthy)
		}
		if !r.sawEvent(ebayauth.EventStoreUnavailable) {
			t.Error("no store_unavailable event")
		}
	}

	rs.Restart()
	cur := a.token(t)
	clock.Set(cur.Expiry.Add(-30 * time.Second))
	// The first refresh after the restart may still meet a dead pooled
	// connection; the one after it must find Redis.
	deadline := time.Now().Add(10 * time.Second)
	for !a.m.Status().StoreHealthy {
		if time.Now().After(deadline) {
			t.Fatal("replica a never saw Redis come back")
		}
		if _, err := a.m.ForceRefresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(3 * time.Second)
	}
	shared := a.token(t)
	clock.Set(shared.Expiry.Add(-30 * time.Second)) // the next rotation, for both
	before := ebay.Mints(ebaytest.GrantClientCredentials)
	ta := a.token(t)
	tb := b.token(t)
	if ta.AccessToken != tb.AccessToken {
		t.Error("replicas did not share the token after Redis came back")
	}
	if n := ebay.Mints(ebaytest.GrantClientCredentials) - before; n != 1 {
		t.Errorf("mints for the rotation after Redis came back = %d; want 1", n)
	}
	if !a.sawEvent(ebayauth.EventStoreRecovered) {
		t.Error("no store_recovered event")
	}
}

// TestManagerWithRedisDownFromStart: a replica whose Redis is unreachable
// from the start works alone.
func TestManagerWithRedisDownFromStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ebay := ebaytest.NewServer()
	t.Cleanup(ebay.Close)
	r := newReplica(t, ebay, ebaytest.NewClock(time.Now()), "redis://"+addr+"?dial_timeout=200ms&max_retries=0")
	tok := r.token(t)
	if !ebay.ValidToken(tok.AccessToken) {
		t.Fatal("no valid token with Redis down")
	}
	if s := r.m.Status(); s.StoreHealthy || !s.Healthy {
		t.Errorf("store healthy %v, healthy %v; want false, true", s.StoreHealthy, s.Healthy)
	}
}
