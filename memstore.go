package ebayauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// MemoryStore is an in-process Store and Locker: the default of a Manager
// without Config.Store, and a way for several Managers of one process to
// share tokens. It keeps each record until it is replaced or deleted; it
// starts no goroutine and judges no expiry. Lock leases run on the system
// clock, as they guard against a holder that died, in real time.
//
// Its zero value is not usable; call NewMemoryStore. It is safe for
// concurrent use.
type MemoryStore struct {
	mu      sync.Mutex
	records map[string]*Record
	locks   map[string]memLock
}

type memLock struct {
	owner *byte // identity of the holder
	until time.Time
}

var (
	_ Store  = (*MemoryStore)(nil)
	_ Locker = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{records: map[string]*Record{}, locks: map[string]memLock{}}
}

// String is "memory".
func (s *MemoryStore) String() string { return "memory" }

// Load implements Store.
func (s *MemoryStore) Load(ctx context.Context, key string) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[key]
	if !ok {
		return nil, ErrNotFound
	}
	return rec.clone(), nil
}

// Save implements Store.
func (s *MemoryStore) Save(ctx context.Context, key string, rec *Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkRecord(rec); err != nil {
		return fmt.Errorf("ebayauth: MemoryStore.Save: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.CanReplace(s.records[key]) {
		s.records[key] = rec.clone()
	}
	return nil
}

// checkRecord is what every store refuses to save.
func checkRecord(rec *Record) error {
	if rec == nil || rec.Token == nil || rec.Token.AccessToken == "" {
		return errors.New("record has no token")
	}
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.records, key)
	s.mu.Unlock()
	return nil
}

// Lock implements Locker.
func (s *MemoryStore) Lock(ctx context.Context, key string, lease time.Duration) (func(context.Context) error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if lease <= 0 {
		return nil, fmt.Errorf("ebayauth: lock lease %v is not positive", lease)
	}
	owner := new(byte)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.locks[key]; ok && now.Before(l.until) {
		return nil, ErrLocked
	}
	s.locks[key] = memLock{owner: owner, until: now.Add(lease)}
	return func(context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if l, ok := s.locks[key]; ok && l.owner == owner {
			delete(s.locks, key)
		}
		return nil
	}, nil
}
