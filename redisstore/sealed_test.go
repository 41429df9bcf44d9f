package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/internal/redistest"
)

// TestUnsealedManagerLeavesSealedTokenAlone: a process started without the
// seal key (ebaytoken token --redis … without EBAY_REDIS_SEAL_KEY) reports
// the value it cannot open and works alone; it neither deletes nor
// overwrites the fleet's sealed token. Before the fix it deleted it and
// saved an unsealed one.
func TestUnsealedManagerLeavesSealedTokenAlone(t *testing.T) {
	srv := redistest.New(t)
	prefix := srv.Prefix(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { c.Close() })
	fake := ebaytest.NewServer()
	t.Cleanup(fake.Close)
	newManager := func(opts ...Option) (*ebayauth.Manager, chan ebayauth.Event) {
		t.Helper()
		store, err := New(c, append(opts, WithPrefix(prefix))...)
		if err != nil {
			t.Fatal(err)
		}
		events := make(chan ebayauth.Event, 100)
		m, err := ebayauth.New(ebayauth.Config{ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
			Endpoint: fake.Endpoint(), Store: store, RetryMax: -1, Logger: slog.New(slog.DiscardHandler),
			OnEvent: func(e ebayauth.Event) {
				select {
				case events <- e:
				default:
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m, events
	}
	sealed, _ := newManager(WithSealKey([]byte(strings.Repeat("k", 32))))
	tok, err := sealed.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sealed.Close() // waits for the save
	keys, err := c.Keys(context.Background(), prefix+"token:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v, %v; want the one sealed record", keys, err)
	}
	before, _ := c.Get(context.Background(), keys[0]).Result()

	plain, events := newManager()
	got, err := plain.Token(context.Background())
	if err != nil {
		t.Fatalf("Token without the seal key: %v; want the Manager to work alone", err)
	}
	if got.AccessToken == tok.AccessToken {
		t.Error("the unsealed Manager read the sealed token")
	}
	plain.Close()
	if st := plain.Status(); st.StoreHealthy {
		t.Error("status says the store is healthy though its value cannot be read")
	}
	sawUnavailable := false
	for len(events) > 0 {
		if e := <-events; e.Kind == ebayauth.EventStoreUnavailable && errors.Is(e.Err, ErrUnreadable) {
			sawUnavailable = true
		}
	}
	if !sawUnavailable {
		t.Error("no store_unavailable event naming the unreadable value")
	}
	after, err := c.Get(context.Background(), keys[0]).Result()
	if err != nil || after != before {
		t.Errorf("the sealed value changed (err %v); want it left as it was", err)
	}
}
