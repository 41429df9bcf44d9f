package pgstore_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/pgstore"
)

// exampleSchema is where the examples keep their tables; TestMain drops it.
const exampleSchema = "ebayauth_example"

// A fleet keeps its sellers and their access tokens in PostgreSQL. The seal
// key comes from a secret manager; the DSN from the environment.
func Example() {
	ctx := context.Background()
	sealKey := bytes.Repeat([]byte{7}, 32) // in production: 32 random bytes from your secret manager
	s, err := pgstore.Open(ctx, "postgres://postgres@127.0.0.1:5432/test",
		pgstore.WithSealKey(sealKey), pgstore.WithSchema(exampleSchema))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fmt.Println(s)

	// Accounts.Connect saves sellers as they consent; here, one by hand.
	err = s.SaveAccount(ctx, &ebayauth.Account{
		ID:           "k3vQ8nZp2Ls", // eBay's immutable user id
		Username:     "camera_seller",
		RefreshToken: "v^1.1#i^1#r^1#f^0#p^3#I^3#t^Ul4xMF8...", // sealed at rest
		Marketplace:  "EBAY_GB",
		Created:      time.Now(),
	})
	if err != nil {
		log.Fatal(err)
	}
	// Page through the sellers, 1,000 at a time.
	for after := ""; ; {
		page, err := s.ListAccounts(ctx, after, 1000)
		if err != nil {
			log.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			fmt.Println(a.ID, a.Username, a.Marketplace)
		}
		after = page[len(page)-1].ID
	}

	// The same Store is the AccountStore and the token Store of Accounts.
	accounts, err := ebayauth.NewAccounts(ebayauth.Config{
		ClientID: "YourApp-PRD-...", ClientSecret: "PRD-...", RuName: "Your_RuName",
	}, s)
	if err != nil {
		log.Fatal(err)
	}
	defer accounts.Close()

	// eBay's account-deletion notice for the seller:
	if err := accounts.Remove(ctx, "k3vQ8nZp2Ls"); err != nil {
		log.Fatal(err)
	}
	_, err = s.LoadAccount(ctx, "k3vQ8nZp2Ls")
	fmt.Println(err)
	// Output:
	// postgres:127.0.0.1/test
	// k3vQ8nZp2Ls camera_seller EBAY_GB
	// ebayauth: token not in store
}

// dropExampleSchema drops the examples' schema, if the database answers.
func dropExampleSchema() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, testDSN())
	if err != nil {
		return
	}
	defer pool.Close()
	_, _ = pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+exampleSchema+" CASCADE")
}
