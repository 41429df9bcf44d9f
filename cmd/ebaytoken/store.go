package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/filestore"
	"github.com/ebayauth/ebayauth/redisstore"
)

// openStore opens the store the settings name: Redis with --redis, none
// (memory only) with --no-store, PostgreSQL with --database, else the file
// store, at --store-file or its default path. close releases it.
func openStore(s *settings, log *slog.Logger) (store ebayauth.Store, close func(), err error) {
	switch {
	case s.NoStore:
		return ebayauth.NewMemoryStore(), func() {}, nil
	case s.RedisURL != "":
		opts := []redisstore.Option{redisstore.WithLogger(log)}
		if s.RedisSealKey != nil {
			opts = append(opts, redisstore.WithSealKey(s.RedisSealKey))
		}
		rs, err := redisstore.Open(s.RedisURL, opts...)
		if err != nil { // its message shows the URL without its password
			return nil, nil, usagef("%s: %v", s.RedisFrom, err)
		}
		return rs, func() { rs.Close() }, nil
	case s.DatabaseURL != "":
		ctx, cancel := context.WithTimeout(context.Background(), databaseOpenTimeout)
		defer cancel()
		db, closeDB, err := openDatabase(ctx, s, log)
		if err != nil {
			return nil, nil, err
		}
		return db, closeDB, nil
	}
	var fsStore *filestore.Store
	if s.StoreFile != "" {
		fsStore, err = filestore.New(s.StoreFile, filestore.WithLogger(log))
	} else {
		fsStore, err = filestore.Default(filestore.WithLogger(log))
	}
	switch {
	case err != nil && s.StoreFileFrom != "":
		return nil, nil, usagef("%s: %v", s.StoreFileFrom, err)
	case err != nil:
		return nil, nil, fmt.Errorf("token file (the default; %s or --store-file names another): %w", envTokenFile, err)
	}
	return fsStore, func() {}, nil
}

var _ io.Writer = (*syncWriter)(nil)

// syncWriter serialises writes to w: the logger, the notes and the library
// may write to stderr from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
