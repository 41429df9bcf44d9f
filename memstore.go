package ebayauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MemoryStore is an in-process Store, Locker and AccountStore: the default of a Manager
// without Config.Store, and a way for several Managers of one process to
// share tokens. It keeps each record until it is replaced or deleted; it
// starts no goroutine and judges no expiry. Lock leases run on the system
// clock, as they guard against a holder that died, in real time.
//
// Its zero value is not usable; call NewMemoryStore. It is safe for
// concurrent use.
type MemoryStore struct {
	mu       sync.Mutex
	records  map[string]*Record
	locks    map[string]memLock
	accounts map[string]*Account
	secrets  map[string][]byte
}

type memLock struct {
	owner *byte // identity of the holder
	until time.Time
}

var (
	_ Store        = (*MemoryStore)(nil)
	_ Locker       = (*MemoryStore)(nil)
	_ AccountStore = (*MemoryStore)(nil)
	_ SecretStore  = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{records: map[string]*Record{}, locks: map[string]memLock{}, accounts: map[string]*Account{}, secrets: map[string][]byte{}}
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

// LoadAccount implements AccountStore.
func (s *MemoryStore) LoadAccount(ctx context.Context, id string) (*Account, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return nil, ErrNotFound
	}
	return a.clone(), nil
}

// SaveAccount implements AccountStore.
func (s *MemoryStore) SaveAccount(ctx context.Context, a *Account) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckAccount(a); err != nil {
		return fmt.Errorf("ebayauth: MemoryStore.SaveAccount: %w", err)
	}
	s.mu.Lock()
	s.accounts[a.ID] = a.clone()
	s.mu.Unlock()
	return nil
}

// DeleteAccount implements AccountStore.
func (s *MemoryStore) DeleteAccount(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.accounts, id)
	for k, rec := range s.records {
		if rec.Account == id {
			delete(s.records, k)
		}
	}
	return nil
}

// ListAccounts implements AccountStore.
func (s *MemoryStore) ListAccounts(ctx context.Context, after string, limit int) ([]*Account, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("ebayauth: MemoryStore.ListAccounts: limit %d is not positive", limit)
	}
	s.mu.Lock()
	ids := make([]string, 0, len(s.accounts))
	for id := range s.accounts {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = ids[:min(limit, len(ids))]
	out := make([]*Account, len(ids))
	for i, id := range ids {
		out[i] = s.accounts[id].clone()
	}
	s.mu.Unlock()
	return out, nil
}

// CheckAccount is what every AccountStore refuses to save: no account, no
// ID, or no refresh token.
func CheckAccount(a *Account) error {
	switch {
	case a == nil:
		return errors.New("nil account")
	case a.ID == "":
		return errors.New("account has no ID")
	case a.RefreshToken == "":
		return errors.New("account has no refresh token")
	}
	return nil
}

// LoadSecret implements SecretStore.
func (s *MemoryStore) LoadSecret(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.secrets[name]
	if !ok {
		return nil, ErrNotFound
	}
	return slices.Clone(v), nil
}

// SaveSecret implements SecretStore.
func (s *MemoryStore) SaveSecret(ctx context.Context, name string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if name == "" {
		return errors.New("ebayauth: MemoryStore.SaveSecret: empty name")
	}
	s.mu.Lock()
	s.secrets[name] = slices.Clone(value)
	s.mu.Unlock()
	return nil
}
