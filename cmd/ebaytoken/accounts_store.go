package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/filestore"
)

// envDatabaseURL names the PostgreSQL database that keeps sellers' accounts
// (and their tokens) for a fleet.
const envDatabaseURL = "EBAY_DATABASE_URL"

// databaseOpenTimeout bounds connecting to the database and bringing its
// schema up to date where no context of the caller's does.
const databaseOpenTimeout = 30 * time.Second

// loadDatabase reads --database / EBAY_DATABASE_URL. Its errors never
// repeat the URL: it may hold a password.
func (s *settings) loadDatabase(c *commonFlags) error {
	v := s.lookup(c, "database", c.database, nil, envDatabaseURL)
	if v.from == "" {
		return nil
	}
	u, err := url.Parse(v.v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || (u.Host == "" && u.Query().Get("host") == "") {
		return usagef("%s: not a postgres:// or postgresql:// URL (postgres://user@host:5432/db?sslmode=verify-full)", v.from)
	}
	switch {
	case c.given("database") && s.NoStore:
		return usagef("--database and --no-store: choose one store")
	case c.given("database") && c.given("store-file"):
		return usagef("--database and --store-file: choose one store")
	}
	s.DatabaseURL, s.databaseFrom = v.v, v.from
	return nil
}

// sellerStore keeps sellers' accounts and, unless Redis keeps tokens, their
// access tokens too: the file store and pgstore are both.
type sellerStore interface {
	ebayauth.AccountStore
	ebayauth.Store
}

// openDatabase opens the PostgreSQL store --database names. close releases
// it.
//
// pgstore is not part of this build yet. To wire it in: import
// "github.com/ebayauth/ebayauth/pgstore", read a seal key (say
// EBAY_DATABASE_SEAL_KEY, with decodeKey, in loadDatabase), and return
//
//	db, err := pgstore.Open(ctx, s.DatabaseURL, pgstore.WithSealKey(key), pgstore.WithLogger(log))
//	if err != nil {
//		return nil, nil, fmt.Errorf("%s: %w", s.databaseFrom, err) // pgstore's errors name no password
//	}
//	return db, func() { db.Close() }, nil
//
// Every command reaches PostgreSQL through here: the accounts subcommand,
// --account, serve --accounts (openAccountStore) and the single token
// (openStore).
func openDatabase(ctx context.Context, s *settings, log *slog.Logger) (sellerStore, func(), error) {
	return nil, nil, usagef("%s: PostgreSQL is not available in this build yet; keep accounts in the file store (--store-file, %s)",
		s.databaseFrom, envTokenFile)
}

// openAccountStore opens the store of sellers' accounts: PostgreSQL with
// --database, else the file store, the same file as the token store
// (--store-file, or filestore's default path). close releases it.
func openAccountStore(ctx context.Context, s *settings, log *slog.Logger) (sellerStore, func(), error) {
	switch {
	case s.DatabaseURL != "":
		return openDatabase(ctx, s, log)
	case s.NoStore:
		return nil, nil, usagef("--no-store: sellers' accounts must be kept somewhere: use the file store (--store-file) or --database")
	}
	var fsStore *filestore.Store
	var err error
	if s.StoreFile != "" {
		fsStore, err = filestore.New(s.StoreFile, filestore.WithLogger(log))
	} else {
		fsStore, err = filestore.Default(filestore.WithLogger(log))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("account file: %w", err)
	}
	return fsStore, func() {}, nil
}
