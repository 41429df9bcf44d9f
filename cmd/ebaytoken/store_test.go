package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ebayauth/ebayauth/internal/redistest"
)

// TestUnreadableStore: a value the store holds but cannot read (sealed
// with a key not given, a corrupt token file, something else's value) is
// reported without -v: status warns, naming the store and the cause, and
// reports the store unhealthy; the other subcommands warn on stderr.
func TestUnreadableStore(t *testing.T) {
	const sealKey = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"
	tests := []struct {
		name  string
		redis bool
		// spoil makes the stored value unreadable, after a refresh stored
		// one; it returns the store's name as status shows it.
		spoil func(t *testing.T, f *fake, redisURL string) string
		cause string // in the warning
	}{
		{"sealed, no key given", true, func(t *testing.T, f *fake, u string) string {
			t.Setenv(envRedisSealKey, "")
			return "redis:"
		}, "cannot be read"},
		{"sealed with another key", true, func(t *testing.T, f *fake, u string) string {
			t.Setenv(envRedisSealKey, strings.Repeat("ab", 16))
			return "redis:"
		}, "cannot be read"},
		{"foreign value in Redis", true, func(t *testing.T, f *fake, u string) string {
			opt, err := redis.ParseURL(u)
			if err != nil {
				t.Fatal(err)
			}
			c := redis.NewClient(opt)
			defer c.Close()
			ctx := context.Background()
			keys, err := c.Keys(ctx, "ebayauth:token:*").Result()
			if err != nil || len(keys) != 1 {
				t.Fatalf("token keys %q: %v", keys, err)
			}
			if err := c.Set(ctx, keys[0], "written by something else", 0).Err(); err != nil {
				t.Fatal(err)
			}
			return "redis:"
		}, "cannot be read"},
		{"corrupt token file", false, func(t *testing.T, f *fake, _ string) string {
			if err := os.WriteFile(f.tokenFile, []byte(`{"records": {"k": {"token": `), 0o600); err != nil {
				t.Fatal(err)
			}
			return "file:" + f.tokenFile
		}, "corrupt"},
		{"foreign token file", false, func(t *testing.T, f *fake, _ string) string {
			if err := os.WriteFile(f.tokenFile, []byte(`["not", "a", "token", "file"]`), 0o600); err != nil {
				t.Fatal(err)
			}
			return "file:" + f.tokenFile
		}, "corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			var redisURL string
			if tt.redis {
				redisURL = "redis://" + redistest.NewPrivate(t).Addr + "/0"
				t.Setenv(envRedisURL, redisURL)
				t.Setenv(envRedisSealKey, sealKey)
			}
			runCLI(t, "refresh").want(t, 0)
			store := tt.spoil(t, f, redisURL)

			r := runCLI(t, "status").want(t, 1)
			var warning string
			for _, line := range strings.Split(r.stdout, "\n") {
				if strings.HasPrefix(line, "WARNING: ") && strings.Contains(line, store) {
					warning = line
				}
			}
			if warning == "" || !strings.Contains(warning, tt.cause) {
				t.Errorf("status shows no warning naming the store %s and the cause %q:\n%s", store, tt.cause, r)
			}
			if !strings.Contains(r.stdout, "UNAVAILABLE") {
				t.Errorf("status does not report the store unhealthy:\n%s", r)
			}
			var d statusDoc
			rj := runCLI(t, "status", "--json").want(t, 1)
			if err := json.Unmarshal([]byte(rj.stdout), &d); err != nil {
				t.Fatal(err)
			}
			if d.StoreHealthy || !strings.Contains(strings.Join(d.Warnings, "\n"), tt.cause) {
				t.Errorf("status --json: store_healthy %v, warnings %q; want false and the cause", d.StoreHealthy, d.Warnings)
			}

			// A subcommand that works without the store says so on stderr;
			// token's stdout stays the token alone.
			tok := runCLI(t, "token").want(t, 0)
			if strings.Count(tok.stdout, "\n") != 1 || !strings.Contains(tok.stderr, store) || !strings.Contains(tok.stderr, tt.cause) {
				t.Errorf("token over an unreadable store:\n%s", tok)
			}
			f.assertNoSecrets(t, r.stdout, r.stderr, rj.stdout, tok.stderr)
		})
	}
}
