package ebayauth

import (
	"context"
	"fmt"
	"sync"
	"time"

	gocache "github.com/patrickmn/go-cache"
)

// A Store keeps tokens where more than one Manager can see them: the
// in-memory default shares tokens between Managers of one process;
// redisstore shares them across a fleet; filestore across the processes of
// one machine.
//
// Keys are opaque hex strings that contain no secret. Implementations are
// safe for concurrent use and honour ctx.
type Store interface {
	// Load returns the token saved under key, or an error matching
	// ErrNotFound if there is none (or it has expired).
	Load(ctx context.Context, key string) (*Token, error)
	// Save stores tok under key until tok.Expiry. It must not replace a
	// token that expires later than tok: the store never goes back in time.
	Save(ctx context.Context, key string, tok *Token) error
	// Delete removes the token under key; deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// A Locker is a Store that can also grant one holder at a time the right to
// mint a token for a key, so that a fleet mints one token per rotation.
//
// Lock returns ErrLocked at once if another holder has the lock; it does not
// wait. A lease that is not positive is an error. The lock lapses by itself after lease, so a holder that dies does not
// block the others for longer than that. unlock releases the lock only if it
// is still the caller's.
type Locker interface {
	Lock(ctx context.Context, key string, lease time.Duration) (unlock func(context.Context) error, err error)
}

// MemoryStore is an in-process Store and Locker built on go-cache. Its zero
// value is not usable; call NewMemoryStore. It is safe for concurrent use.
type MemoryStore struct {
	mu     sync.Mutex // serialises compare-and-save and lock release
	tokens *gocache.Cache
	locks  *gocache.Cache
}

var (
	_ Store  = (*MemoryStore)(nil)
	_ Locker = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore. It starts no goroutine:
// expired entries are never returned and are replaced by the next Save or
// Lock of their key (a Manager uses one key).
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		tokens: gocache.New(gocache.NoExpiration, 0),
		locks:  gocache.New(gocache.NoExpiration, 0),
	}
}

// Load implements Store.
func (s *MemoryStore) Load(ctx context.Context, key string) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, ok := s.tokens.Get(key)
	if !ok {
		return nil, ErrNotFound
	}
	t := *v.(*Token)
	return &t, nil
}

// Save implements Store.
func (s *MemoryStore) Save(ctx context.Context, key string, tok *Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if tok == nil {
		return fmt.Errorf("ebayauth: MemoryStore.Save: nil token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.tokens.Get(key); ok && newerThan(v.(*Token), tok) {
		return nil
	}
	ttl := gocache.NoExpiration
	if !tok.Expiry.IsZero() {
		ttl = time.Until(tok.Expiry)
		if ttl <= 0 {
			return nil
		}
	}
	t := *tok
	s.tokens.Set(key, &t, ttl)
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.tokens.Delete(key)
	return nil
}

type memLock struct{ _ byte } // not zero-size: each lock needs its own address

// Lock implements Locker.
func (s *MemoryStore) Lock(ctx context.Context, key string, lease time.Duration) (func(context.Context) error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if lease <= 0 {
		// go-cache would take a zero or negative duration to mean "never
		// expires", and the key would stay locked for good.
		return nil, fmt.Errorf("ebayauth: lock lease %v is not positive", lease)
	}
	owner := new(memLock)
	s.mu.Lock() // with unlock's check-and-delete, so a lapsed holder cannot delete a new lock
	err := s.locks.Add(key, owner, lease)
	s.mu.Unlock()
	if err != nil {
		return nil, ErrLocked
	}
	return func(context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if v, ok := s.locks.Get(key); ok && v == owner {
			s.locks.Delete(key)
		}
		return nil
	}, nil
}

// newerThan reports whether a expires strictly later than b, treating the
// zero expiry (never) as latest.
func newerThan(a, b *Token) bool {
	switch {
	case a.Expiry.IsZero():
		return !b.Expiry.IsZero()
	case b.Expiry.IsZero():
		return false
	}
	return a.Expiry.After(b.Expiry)
}
