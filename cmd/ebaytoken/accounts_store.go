package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/filestore"
	"github.com/ebayauth/ebayauth/pgstore"
)

// envDatabaseURL names the PostgreSQL database that keeps sellers' accounts
// (and their tokens) for a fleet.
const envDatabaseURL = "EBAY_DATABASE_URL"

// envDatabaseSealKey is the AES key (hex or base64, 16, 24 or 32 bytes)
// that seals tokens and refresh tokens in the database.
const envDatabaseSealKey = "EBAY_DATABASE_SEAL_KEY"

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
	if k := os.Getenv(envDatabaseSealKey); k != "" {
		key, err := decodeKey(k)
		if err != nil {
			return usagef("%s: %v", envDatabaseSealKey, err)
		}
		s.DatabaseSealKey = key
	}
	return nil
}

// sellerStore keeps sellers' accounts and, unless Redis keeps tokens, their
// access tokens too: the file store and pgstore are both.
type sellerStore interface {
	ebayauth.AccountStore
	ebayauth.Store
}

// openDatabase opens the PostgreSQL store --database names, sealed with
// EBAY_DATABASE_SEAL_KEY (required: pgstore refuses to keep refresh tokens
// in clear). close releases it. Every command reaches PostgreSQL through
// here: the accounts subcommand, --account, serve --accounts
// (openAccountStore) and the single token (openStore).
func openDatabase(ctx context.Context, s *settings, log *slog.Logger) (sellerStore, func(), error) {
	if s.DatabaseSealKey == nil {
		return nil, nil, usagef("%s: set %s to the seal key of the database's refresh tokens (32 random bytes, hex: openssl rand -hex 32)",
			s.databaseFrom, envDatabaseSealKey)
	}
	db, err := pgstore.Open(ctx, s.DatabaseURL, pgstore.WithSealKey(s.DatabaseSealKey), pgstore.WithLogger(log))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.databaseFrom, err) // pgstore's errors name no password
	}
	return db, func() { db.Close() }, nil
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
