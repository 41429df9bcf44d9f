// Package filestore is an ebayauth.Store, ebayauth.Locker and
// ebayauth.AccountStore kept in one JSON file, so that the processes of one
// machine (a CLI run from cron, a few workers) share their tokens and mint
// one token per rotation, and a tool with a handful of sellers keeps them
// with no server.
//
// The file maps each key to its record, and each locked key to its holder:
//
//	{
//	  "records": {
//	    "<key>": {"token": {"access_token": "...", "token_type": "User Access Token",
//	                        "expiry": "2025-01-02T15:04:05Z"},
//	              "minted": "2025-01-02T13:04:05Z", "validated": "...", ...}
//	  },
//	  "locks": {"<key>": {"holder": "<random id>", "until": "2025-01-02T14:05:00Z"}}
//	}
//
// It holds credentials in clear, so it is created with mode 0600 (and its
// directory, if filestore creates it, with 0700). Every change reads the
// file, changes it and writes a new file that replaces the old one by
// rename, holding an exclusive lock on a companion file, path+".lock", for
// the duration (github.com/gofrs/flock: flock(2) on Unix, LockFileEx on
// Windows). Readers take no lock: they see the old file or the new one,
// never a mix. A file that does not parse is treated as empty, with a
// warning, and replaced at the next change.
//
// The store judges no expiry: the Manager does, by its own clock. A record
// stays until it is replaced or deleted. Locks lapse by the system clock,
// as they guard against a holder that died, in real time.
//
// The file lock is advisory and local: a file on a network file system
// shared by several machines is not supported.
package filestore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gofrs/flock"

	"github.com/ebayauth/ebayauth"
)

// lockRetry is how often a change waits again for the file lock while
// another process holds it.
const lockRetry = 5 * time.Millisecond

// Store is an ebayauth.Store and ebayauth.Locker kept in a JSON file. Make
// one with New or Default; the zero value is not usable. It is safe for
// concurrent use, and several Stores, in one process or in several, may
// share a file.
type Store struct {
	path string
	log  *slog.Logger
	turn chan struct{} // holds a value while a goroutine of this Store changes the file
}

var (
	_ ebayauth.Store        = (*Store)(nil)
	_ ebayauth.Locker       = (*Store)(nil)
	_ ebayauth.AccountStore = (*Store)(nil)
	_ ebayauth.SecretStore  = (*Store)(nil)
)

// An Option configures a Store. New applies the options in order and
// returns the first error one reports, as redisstore and pgstore do.
type Option func(*Store) error

// WithLogger sets the logger that reports a file that does not parse. By
// default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) error {
		if l != nil {
			s.log = l
		}
		return nil
	}
}

// New returns a Store kept in the file at path. It creates the file's
// directory (mode 0700) if it is missing, but not the file, which the first
// Save creates.
func New(path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("filestore: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	if err := checkDir(filepath.Dir(abs)); err != nil {
		return nil, err
	}
	s := &Store{
		path: abs,
		log:  slog.New(slog.DiscardHandler),
		turn: make(chan struct{}, 1),
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, fmt.Errorf("filestore: %w", err)
		}
	}
	return s, nil
}

// checkDir refuses a directory others could plant a token or a symlink in,
// as ssh refuses loose permissions: one writable by group or others (a
// sticky directory such as /tmp included, since others can still create
// files in it).
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("filestore: directory %s is writable by others (mode %v): anyone could plant a token there; use a private directory (chmod go-w)", dir, fi.Mode().Perm())
	}
	return nil
}

// checkFile refuses path if it exists and is not a regular file (a symlink,
// a FIFO, a device): the store reads and replaces only plain files.
func checkFile(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%v): refusing to use it", path, fi.Mode().Type())
	}
	return nil
}

// DefaultPath returns the file Default uses: ebayauth/tokens.json in the
// user's cache directory (os.UserCacheDir).
func DefaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("filestore: %w", err)
	}
	return filepath.Join(dir, "ebayauth", "tokens.json"), nil
}

// Default returns a Store kept in DefaultPath.
func Default(opts ...Option) (*Store, error) {
	path, err := DefaultPath()
	if err != nil {
		return nil, err
	}
	return New(path, opts...)
}

// Path returns the absolute path of the file.
func (s *Store) Path() string { return s.path }

// String describes the store as "file:" followed by its path.
func (s *Store) String() string { return "file:" + s.path }

// fileData is the content of the file.
type fileData struct {
	Records  map[string]*ebayauth.Record  `json:"records"`
	Accounts map[string]*ebayauth.Account `json:"accounts,omitempty"`
	Secrets  map[string][]byte            `json:"secrets,omitempty"`
	Locks    map[string]fileLock          `json:"locks,omitempty"`
}

type fileLock struct {
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

// Load implements ebayauth.Store.
func (s *Store) Load(ctx context.Context, key string) (*ebayauth.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: load: %w", err)
	}
	d, err := s.read()
	if err != nil {
		return nil, fmt.Errorf("filestore: load: %w", err)
	}
	rec, ok := d.Records[key]
	if !ok || rec == nil || rec.Token == nil || rec.Token.AccessToken == "" {
		return nil, ebayauth.ErrNotFound
	}
	return rec, nil
}

// Save implements ebayauth.Store.
func (s *Store) Save(ctx context.Context, key string, rec *ebayauth.Record) error {
	if rec == nil || rec.Token == nil || rec.Token.AccessToken == "" {
		return errors.New("filestore: save: record has no token")
	}
	if err := s.change(ctx, func(d *fileData, _ time.Time) bool {
		if !rec.CanReplace(d.Records[key]) {
			return false
		}
		d.Records[key] = rec
		return true
	}); err != nil {
		return fmt.Errorf("filestore: save: %w", err)
	}
	return nil
}

// Delete implements ebayauth.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.change(ctx, func(d *fileData, _ time.Time) bool {
		if _, ok := d.Records[key]; !ok {
			return false
		}
		delete(d.Records, key)
		return true
	}); err != nil {
		return fmt.Errorf("filestore: delete: %w", err)
	}
	return nil
}

// LoadAccount implements ebayauth.AccountStore.
func (s *Store) LoadAccount(ctx context.Context, id string) (*ebayauth.Account, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: load account: %w", err)
	}
	d, err := s.read()
	if err != nil {
		return nil, fmt.Errorf("filestore: load account: %w", err)
	}
	a, ok := d.Accounts[id]
	if !ok || a == nil {
		return nil, ebayauth.ErrNotFound
	}
	return a, nil
}

// SaveAccount implements ebayauth.AccountStore. The refresh token is kept
// in clear, like the access tokens: the file is 0600 in a private
// directory.
func (s *Store) SaveAccount(ctx context.Context, a *ebayauth.Account) error {
	if err := ebayauth.CheckAccount(a); err != nil {
		return fmt.Errorf("filestore: save account: %w", err)
	}
	c := *a
	c.Scopes = append([]string(nil), a.Scopes...)
	if err := s.change(ctx, func(d *fileData, _ time.Time) bool {
		if d.Accounts == nil {
			d.Accounts = map[string]*ebayauth.Account{}
		}
		d.Accounts[c.ID] = &c
		return true
	}); err != nil {
		return fmt.Errorf("filestore: save account: %w", err)
	}
	return nil
}

// DeleteAccount implements ebayauth.AccountStore: the account and its
// records go in one write.
func (s *Store) DeleteAccount(ctx context.Context, id string) error {
	if err := s.change(ctx, func(d *fileData, _ time.Time) bool {
		changed := false
		if _, ok := d.Accounts[id]; ok {
			delete(d.Accounts, id)
			changed = true
		}
		for k, rec := range d.Records {
			if rec.Account == id {
				delete(d.Records, k)
				changed = true
			}
		}
		return changed
	}); err != nil {
		return fmt.Errorf("filestore: delete account: %w", err)
	}
	return nil
}

// ListAccounts implements ebayauth.AccountStore. It reads the whole file:
// the file store is for a handful of sellers; use pgstore for thousands.
func (s *Store) ListAccounts(ctx context.Context, after string, limit int) ([]*ebayauth.Account, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: list accounts: %w", err)
	}
	if limit <= 0 {
		return nil, fmt.Errorf("filestore: list accounts: limit %d is not positive", limit)
	}
	d, err := s.read()
	if err != nil {
		return nil, fmt.Errorf("filestore: list accounts: %w", err)
	}
	ids := make([]string, 0, len(d.Accounts))
	for id := range d.Accounts {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]*ebayauth.Account, 0, min(limit, len(ids)))
	for _, id := range ids[:min(limit, len(ids))] {
		out = append(out, d.Accounts[id])
	}
	return out, nil
}

// LoadSecret implements ebayauth.SecretStore.
func (s *Store) LoadSecret(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: load secret: %w", err)
	}
	d, err := s.read()
	if err != nil {
		return nil, fmt.Errorf("filestore: load secret: %w", err)
	}
	v, ok := d.Secrets[name]
	if !ok {
		return nil, ebayauth.ErrNotFound
	}
	return v, nil
}

// SaveSecret implements ebayauth.SecretStore; the secret is kept in clear in
// the 0600 file, like the tokens.
func (s *Store) SaveSecret(ctx context.Context, name string, value []byte) error {
	if name == "" {
		return errors.New("filestore: save secret: empty name")
	}
	if err := s.change(ctx, func(d *fileData, _ time.Time) bool {
		if d.Secrets == nil {
			d.Secrets = map[string][]byte{}
		}
		d.Secrets[name] = slices.Clone(value)
		return true
	}); err != nil {
		return fmt.Errorf("filestore: save secret: %w", err)
	}
	return nil
}

// Lock implements ebayauth.Locker. The lock is an entry in the file, so it
// excludes the other processes that use the file, not only this one. A
// non-positive lease is an error.
func (s *Store) Lock(ctx context.Context, key string, lease time.Duration) (func(context.Context) error, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("filestore: lock: lease %v is not positive", lease)
	}
	holder, err := newHolder()
	if err != nil {
		return nil, fmt.Errorf("filestore: lock: %w", err)
	}
	locked := false
	if err := s.change(ctx, func(d *fileData, now time.Time) bool {
		// A lease more than twice ours and a minute ahead was written
		// under a clock or setting gone wrong: it is treated as dead.
		if l, ok := d.Locks[key]; ok && now.Before(l.Until) && l.Until.Sub(now) <= 2*lease+time.Minute {
			locked = true
			return false
		}
		if d.Locks == nil {
			d.Locks = make(map[string]fileLock)
		}
		d.Locks[key] = fileLock{Holder: holder, Until: now.Add(lease).UTC()}
		return true
	}); err != nil {
		return nil, fmt.Errorf("filestore: lock: %w", err)
	}
	if locked {
		return nil, ebayauth.ErrLocked
	}
	return func(ctx context.Context) error {
		if err := s.change(ctx, func(d *fileData, _ time.Time) bool {
			if l, ok := d.Locks[key]; !ok || l.Holder != holder {
				return false // lapsed, and perhaps taken by another
			}
			delete(d.Locks, key)
			return true
		}); err != nil {
			return fmt.Errorf("filestore: unlock: %w", err)
		}
		return nil
	}, nil
}

func newHolder() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// read returns the content of the file: empty if there is none or if it
// does not parse.
func (s *Store) read() (*fileData, error) {
	if err := checkFile(s.path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &fileData{Records: map[string]*ebayauth.Record{}}, nil
	}
	if err != nil {
		return nil, err
	}
	var d fileData
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &d); err != nil {
			// The message of a json error does not quote the file, which
			// holds credentials; it says at most which character is amiss.
			s.log.Warn("filestore: token file is corrupt; treating it as empty",
				slog.String("path", s.path), slog.String("error", err.Error()))
			d = fileData{}
		}
	}
	if d.Records == nil {
		d.Records = map[string]*ebayauth.Record{}
	}
	return &d, nil
}

// change runs fn on the content of the file and, if fn reports that it
// changed it, writes it back, all while holding the file lock. fn also
// gets the time to judge expiry by.
func (s *Store) change(ctx context.Context, fn func(d *fileData, now time.Time) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Goroutines of this process take turns here rather than poll the
	// file lock.
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.turn }()

	if err := checkFile(s.path + ".lock"); err != nil {
		return err
	}
	fl := flock.New(s.path+".lock", flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, lockRetry)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("could not lock " + fl.Path())
	}
	defer fl.Unlock()

	d, err := s.read()
	if err != nil {
		return err
	}
	now := time.Now()
	if !fn(d, now) {
		return nil
	}
	for k, rec := range d.Records {
		if rec == nil || rec.Token == nil || rec.Token.AccessToken == "" {
			delete(d.Records, k)
		}
	}
	for k, l := range d.Locks {
		if !now.Before(l.Until) {
			delete(d.Locks, k)
		}
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(s.path, append(b, '\n'))
}

// writeFile replaces the file at path with one holding b, atomically: it
// writes a temporary file in the same directory, syncs it and renames it
// over path.
func writeFile(path string, b []byte) (err error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable. Not every platform can sync a
	// directory; the new file is in place either way.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
