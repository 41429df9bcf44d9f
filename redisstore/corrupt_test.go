package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ebayauth/ebayauth/internal/redistest"
	"github.com/ebayauth/ebayauth/storetest"
)

// TestCorruptValueDoesNotBlockSaves: a corrupt value whose prefix claims an
// expiry far ahead used to make every later Save a no-op, leaving the key
// unreadable for good. Save now replaces it.
func TestCorruptValueDoesNotBlockSaves(t *testing.T) {
	srv := redistest.New(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { c.Close() })
	s, err := New(c, WithPrefix(srv.Prefix(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, raw := range map[string]string{
		"truncated JSON":    `99999999999999:{"token": {"access_token": "v^1.1#sec`,
		"far future, valid": `99999999999999:{"token":{"access_token":"v^1.1#x","expiry":"2286-11-20T17:46:39Z"}}`,
		"never, corrupt":    `0:not json`,
	} {
		t.Run(name, func(t *testing.T) {
			key := storetest.Key(t)
			if err := c.Set(ctx, s.tokenKey(key), raw, 0).Err(); err != nil {
				t.Fatal(err)
			}
			rec := storetest.NewRecord(time.Now().Add(time.Hour))
			if err := s.Save(ctx, key, rec); err != nil {
				t.Fatalf("Save over a corrupt value: %v", err)
			}
			got, err := s.Load(ctx, key)
			if err != nil || got.Token.AccessToken != rec.Token.AccessToken {
				t.Errorf("Load after Save over a corrupt value: %v; want the new record", err)
			}
		})
	}
	// A valid record that expires later is still kept.
	key := storetest.Key(t)
	later := storetest.NewRecord(time.Now().Add(3 * time.Hour))
	if err := s.Save(ctx, key, later); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, key, storetest.NewRecord(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, key); err != nil || got.Token.AccessToken != later.Token.AccessToken {
		t.Errorf("a later record was replaced by an earlier one: %v", err)
	}
}
