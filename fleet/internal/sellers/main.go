// Command sellers is one process of the many-sellers fleet that package
// fleet's tests start eight of: an ebayauth.Accounts whose sellers' accounts
// are in PostgreSQL (pgstore) and whose access tokens are shared through
// Redis, against a fake eBay running in the test process.
//
// Protocol, over its standard streams: it writes "ready" once it has listed
// the sellers; for each line "go" on stdin it asks for a token for every
// seller (starting at an offset of its own, so that replicas collide on
// some sellers and not others) and writes "done ERRORS"; when stdin closes
// it closes Accounts and exits 0. It logs warnings as JSON to stderr and
// exits 2 on a setup error.
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/pgstore"
	"github.com/ebayauth/ebayauth/redisstore"
)

func main() {
	var (
		ebayURL  = flag.String("ebay", "", "base URL of the fake eBay")
		redisURL = flag.String("redis", "", "redis:// URL of the token store")
		prefix   = flag.String("prefix", redisstore.DefaultPrefix, "Redis key prefix")
		dsn      = flag.String("database", "", "PostgreSQL DSN of the accounts")
		schema   = flag.String("schema", pgstore.DefaultSchema, "pgstore schema")
		sealHex  = flag.String("seal", "", "pgstore seal key, hex")
		offset   = flag.Int("offset", 0, "index of the first seller asked for")
	)
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "sellers:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	seal, err := hex.DecodeString(*sealHex)
	if err != nil {
		fail(err)
	}
	accounts, err := pgstore.Open(ctx, *dsn, pgstore.WithSealKey(seal), pgstore.WithSchema(*schema))
	if err != nil {
		fail(err)
	}
	defer accounts.Close()
	tokens, err := redisstore.Open(*redisURL, redisstore.WithPrefix(*prefix))
	if err != nil {
		fail(err)
	}
	defer tokens.Close()
	a, err := ebayauth.NewAccounts(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		Endpoint: ebayauth.Endpoint{TokenURL: *ebayURL + "/identity/v1/oauth2/token", APIURL: *ebayURL},
		Store:    tokens, RetryMax: -1, RefreshBefore: time.Second, Logger: log,
	}, accounts)
	if err != nil {
		fail(err)
	}
	var ids []string
	for after := ""; ; {
		page, err := accounts.ListAccounts(ctx, after, 500)
		if err != nil {
			fail(err)
		}
		if len(page) == 0 {
			break
		}
		for _, acct := range page {
			ids = append(ids, acct.ID)
		}
		after = page[len(page)-1].ID
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() != "go" {
			continue
		}
		errs := 0
		for i := range ids {
			id := ids[(i+*offset)%len(ids)]
			if _, err := a.Token(ctx, id); err != nil {
				errs++
				log.Error("token", slog.String("account", id), slog.String("error", err.Error()))
			}
		}
		fmt.Println("done", errs)
	}
	a.Close()
}
