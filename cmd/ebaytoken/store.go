package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/filestore"
	"github.com/ebayauth/ebayauth/redisstore"
)

// openStore opens the store the settings name: Redis with --redis, none
// (memory only) with --no-store, else the file store, at --store-file or
// its default path. close releases it.
func openStore(s *settings, log *slog.Logger) (store ebayauth.Store, path string, close func(), err error) {
	switch {
	case s.NoStore:
		return ebayauth.NewMemoryStore(), "", func() {}, nil
	case s.RedisURL != "":
		opts := []redisstore.Option{redisstore.WithLogger(log)}
		if s.RedisSealKey != nil {
			opts = append(opts, redisstore.WithSealKey(s.RedisSealKey))
		}
		rs, err := redisstore.Open(s.RedisURL, opts...)
		if err != nil {
			return nil, "", nil, usagef("%s: %v", envRedisURL, err)
		}
		return rs, "", func() { rs.Close() }, nil
	}
	var fsStore *filestore.Store
	if s.StoreFile != "" {
		fsStore, err = filestore.New(s.StoreFile, filestore.WithLogger(log))
	} else {
		fsStore, err = filestore.Default(filestore.WithLogger(log))
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("token file: %w", err)
	}
	return fsStore, fsStore.Path(), func() {}, nil
}

// history is what the command remembers of a token between runs, beside the
// file store: when it was last minted or validated and the last errors. The
// library's Status knows this only for its own process; `status` in another
// shell reads it here. It holds no credential.
type history struct {
	LastRefresh        time.Time `json:"last_refresh,omitzero"`
	LastError          string    `json:"last_error,omitempty"`
	LastErrorTime      time.Time `json:"last_error_time,omitzero"`
	LastValidation     time.Time `json:"last_validation,omitzero"`
	ValidationError    string    `json:"validation_error,omitempty"`
	RefreshTokenExpiry time.Time `json:"refresh_token_expiry,omitzero"`
}

// historyFile keeps histories by store key in path (the token file's path
// plus ".status.json"). An empty path keeps nothing. Its Observe method is
// an OnEvent hook that never blocks; Flush writes what it saw.
type historyFile struct {
	path, key string
	log       *slog.Logger

	mu      sync.Mutex
	h       history
	changed bool
	kick    chan struct{}
}

func newHistory(storePath, key string, log *slog.Logger) *historyFile {
	hf := &historyFile{key: key, log: log, kick: make(chan struct{}, 1)}
	if storePath != "" {
		hf.path = storePath + ".status.json"
	}
	return hf
}

// Observe records e. It has the signature of Config.OnEvent.
func (hf *historyFile) Observe(e ebayauth.Event) {
	hf.mu.Lock()
	switch e.Kind {
	case ebayauth.EventRefreshed:
		hf.h.LastRefresh = e.Time
	case ebayauth.EventRefreshFailed:
		hf.h.LastError, hf.h.LastErrorTime = errText(e.Err), e.Time
	case ebayauth.EventValidated:
		hf.h.LastValidation, hf.h.ValidationError = e.Time, ""
	case ebayauth.EventValidationFailed:
		hf.h.LastValidation, hf.h.ValidationError = e.Time, errText(e.Err)
	default:
		hf.mu.Unlock()
		return
	}
	hf.changed = true
	hf.mu.Unlock()
	select {
	case hf.kick <- struct{}{}:
	default:
	}
}

// setRefreshTokenExpiry records when the refresh token expires (exchange).
func (hf *historyFile) setRefreshTokenExpiry(t time.Time) {
	hf.mu.Lock()
	hf.h.RefreshTokenExpiry, hf.changed = t, true
	hf.mu.Unlock()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Load returns the history of the key.
func (hf *historyFile) Load() history {
	if hf.path == "" {
		return history{}
	}
	all, _ := hf.read()
	return all[hf.key]
}

func (hf *historyFile) read() (map[string]history, error) {
	all := map[string]history{}
	b, err := os.ReadFile(hf.path)
	if errors.Is(err, fs.ErrNotExist) {
		return all, nil
	}
	if err != nil {
		return all, err
	}
	if json.Unmarshal(b, &all) != nil {
		return map[string]history{}, nil // rewritten at the next Flush
	}
	return all, nil
}

// Flush merges what Observe saw into the file. Two processes flushing at
// once may lose one's update: the file is advisory, never corrupt (it is
// replaced by rename).
func (hf *historyFile) Flush() {
	hf.mu.Lock()
	if !hf.changed || hf.path == "" {
		hf.mu.Unlock()
		return
	}
	mine := hf.h
	hf.changed = false
	hf.mu.Unlock()

	all, err := hf.read()
	if err != nil {
		hf.log.Warn("ebaytoken: cannot read the status file", slog.String("path", hf.path), slog.String("error", err.Error()))
		return
	}
	h := all[hf.key]
	merge(&h, mine)
	all[hf.key] = h
	b, _ := json.MarshalIndent(all, "", "  ")
	if err := writeFileAtomic(hf.path, append(b, '\n')); err != nil {
		hf.log.Warn("ebaytoken: cannot write the status file", slog.String("path", hf.path), slog.String("error", err.Error()))
	}
}

// merge copies the newer facts of src into dst.
func merge(dst *history, src history) {
	if src.LastRefresh.After(dst.LastRefresh) {
		dst.LastRefresh = src.LastRefresh
	}
	if src.LastErrorTime.After(dst.LastErrorTime) {
		dst.LastError, dst.LastErrorTime = src.LastError, src.LastErrorTime
	}
	if src.LastValidation.After(dst.LastValidation) {
		dst.LastValidation, dst.ValidationError = src.LastValidation, src.ValidationError
	}
	if !src.RefreshTokenExpiry.IsZero() {
		dst.RefreshTokenExpiry = src.RefreshTokenExpiry
	}
}

// run flushes whenever Observe saw something, until ctx ends, then once
// more. serve runs it so that `status` elsewhere sees the daemon's work.
func (hf *historyFile) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			hf.Flush()
			return
		case <-hf.kick:
			hf.Flush()
		}
	}
}

func writeFileAtomic(path string, b []byte) error {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
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
