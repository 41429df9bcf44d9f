package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// testDatabase creates a database of its own on the local PostgreSQL and
// returns its URL; it is dropped when the test ends. PostgreSQL must be
// running (CI starts it): the test fails, never skips, without it.
func testDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("EBAYAUTH_PG_DSN")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL at %s: %v (start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)", admin, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "ebaytoken_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, admin)
		if err == nil {
			c.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	return strings.Replace(admin, "/test?", "/"+name+"?", 1)
}

// TestAccountsInPostgres runs the sellers' commands over PostgreSQL: add,
// list, a token for a seller, remove; the database holds no refresh or
// access token in clear.
func TestAccountsInPostgres(t *testing.T) {
	f := newSellersFake(t)
	t.Setenv(envDatabaseURL, testDatabase(t))
	t.Setenv(envDatabaseSealKey, strings.Repeat("5e", 32))
	r := runCLI(t, "accounts", "add", f.sellerCode(t, "u-pg", "pg_seller", "EBAY_GB")).want(t, 0)
	if !strings.HasPrefix(r.stdout, "connected account u-pg (pg_seller, EBAY_GB)") {
		t.Errorf("add:\n%s", r)
	}
	if ids, r := listIDs(t, nil); strings.Join(ids, " ") != "u-pg" || !strings.Contains(r.stderr, "1 account,") {
		t.Errorf("list over PostgreSQL: %v\n%s", ids, r)
	}
	tok := runCLI(t, "token", "--account", "u-pg").want(t, 0)
	if got := strings.TrimSpace(tok.stdout); got != f.LastIssued() || !f.ValidToken(got) {
		t.Errorf("token --account printed %.12q…; want the seller's valid token", got)
	}
	runCLI(t, "token", "--account", "u-pg").want(t, 0)
	if n := f.TokenRequests("refresh_token"); n != 1 {
		t.Errorf("%d refresh_token requests for two token commands; want 1 (the second read the database)", n)
	}
	// Without the seal key the database is refused, not read in clear.
	t.Setenv(envDatabaseSealKey, "")
	runCLI(t, "accounts", "list").want(t, 2)
	t.Setenv(envDatabaseSealKey, strings.Repeat("5e", 32))
	runCLI(t, "accounts", "remove", "u-pg").want(t, 0)
	if ids, _ := listIDs(t, nil); len(ids) != 0 {
		t.Errorf("after remove: %v", ids)
	}
	f.assertNoSecrets(t, r.stdout, r.stderr)
}
