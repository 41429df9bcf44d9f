package filestore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/filestore"
)

func Example() {
	dir, err := os.MkdirTemp("", "ebayauth-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Most programs use filestore.Default(), in the user's cache directory.
	s, err := filestore.New(filepath.Join(dir, "tokens.json"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	key := "3f1c0b5e" // ebayauth derives keys from the app and grant
	minted := time.Now()
	err = s.Save(ctx, key, &ebayauth.Record{
		Token: &ebayauth.Token{
			AccessToken: "v^1.1#i^1#p^3#r^0#I^3#f^0#t^H4sI...",
			TokenType:   "User Access Token",
			Expiry:      minted.Add(2 * time.Hour),
		},
		Minted: minted,
	})
	if err != nil {
		log.Fatal(err)
	}
	// A token that expires sooner does not replace it.
	err = s.Save(ctx, key, &ebayauth.Record{
		Token:  &ebayauth.Token{AccessToken: "older", Expiry: minted.Add(time.Hour)},
		Minted: minted.Add(-time.Hour),
	})
	if err != nil {
		log.Fatal(err)
	}
	rec, err := s.Load(ctx, key)
	if err != nil {
		log.Fatal(err)
	}
	fi, err := os.Stat(s.Path())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Token.TokenType, rec.Token.AccessToken[:10], fi.Mode().Perm())
	// Output: User Access Token v^1.1#i^1# -rw-------
}
