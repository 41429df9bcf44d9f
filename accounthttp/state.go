package accounthttp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"

	"github.com/ebayauth/ebayauth"
)

// StateLifetime is how long a seller has from /connect to /accept.
const StateLifetime = 10 * time.Minute

// DefaultStateLimit is how many used states a MemoryStateStore made by
// NewOnboardingHandler remembers at most.
const DefaultStateLimit = 100_000

// The parts of a state: nonce ‖ expiry (Unix milliseconds, big-endian) ‖ MAC.
const (
	nonceLen   = 16
	expiryLen  = 8
	macLen     = sha256.Size
	stateLen   = nonceLen + expiryLen + macLen
	secretLen  = 32 // the browser secret the cookie carries
	stateLabel = "ebayauth/accounthttp state v1\x00"
)

// A StateStore remembers which onboarding states were used, so that each
// works once. Across a fleet of replicas it must be shared (a Redis
// SET key NX PXAT expires does it), or a state used on one replica could
// be used again on another until it expires. Implementations are safe for
// concurrent use.
type StateStore interface {
	// Use records id as used until expires and reports whether it was
	// unused until now. An error makes the handler answer 503 without
	// calling Connect.
	Use(ctx context.Context, id string, expires time.Time) (first bool, err error)
}

// MemoryStateStore is a StateStore in one process's memory. It forgets
// each id once it expires, and holds at most a limit of ids: when full it
// forgets the oldest. A state forgotten early could be used twice; that
// would still need the browser's cookie and an unused eBay authorization
// code, which eBay accepts once. It is not shared between processes: see
// StateStore. Safe for concurrent use.
type MemoryStateStore struct {
	clock ebayauth.Clock
	limit int

	mu    sync.Mutex
	used  map[string]time.Time
	queue []usedState // in order of Use; expiries come in nearly that order
}

type usedState struct {
	id      string
	expires time.Time
}

// NewMemoryStateStore returns an empty MemoryStateStore that remembers at
// most limit ids (DefaultStateLimit if limit <= 0) by clock (nil: the
// system clock).
func NewMemoryStateStore(clock ebayauth.Clock, limit int) *MemoryStateStore {
	if clock == nil {
		clock = systemClock{}
	}
	if limit <= 0 {
		limit = DefaultStateLimit
	}
	return &MemoryStateStore{clock: clock, limit: limit, used: map[string]time.Time{}}
}

// Use implements StateStore.
func (m *MemoryStateStore) Use(_ context.Context, id string, expires time.Time) (bool, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forget(now)
	if exp, ok := m.used[id]; ok && now.Before(exp) {
		return false, nil
	}
	for len(m.used) >= m.limit && len(m.queue) > 0 {
		m.drop()
	}
	m.used[id] = expires
	m.queue = append(m.queue, usedState{id, expires})
	return true, nil
}

// Len reports how many ids m remembers.
func (m *MemoryStateStore) Len() int {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forget(now)
	return len(m.used)
}

// forget drops the expired ids at the front of the queue. m.mu must be
// held.
func (m *MemoryStateStore) forget(now time.Time) {
	for len(m.queue) > 0 && !now.Before(m.queue[0].expires) {
		m.drop()
	}
}

// drop forgets the oldest id. m.mu must be held.
func (m *MemoryStateStore) drop() {
	old := m.queue[0]
	m.queue[0] = usedState{}
	m.queue = m.queue[1:]
	if exp, ok := m.used[old.id]; ok && exp.Equal(old.expires) {
		delete(m.used, old.id)
	}
	if len(m.queue) == 0 {
		m.queue = nil // let the backing array go
	}
}

// stateSigner makes and checks states: HMAC-signed, expiring, and bound to
// a browser secret that only the browser's cookie carries, so a state seen
// in a URL (logs, Referer) is useless without the cookie.
type stateSigner struct {
	key []byte
	now func() time.Time
}

// issue returns a new state, the browser secret for its cookie (both
// base64url) and when the state expires.
func (s *stateSigner) issue() (state, secret string, expires time.Time) {
	var sec [secretLen]byte
	var st [stateLen]byte
	rand.Read(sec[:]) // never fails since Go 1.24
	rand.Read(st[:nonceLen])
	expires = time.UnixMilli(s.now().Add(StateLifetime).UnixMilli())
	binary.BigEndian.PutUint64(st[nonceLen:], uint64(expires.UnixMilli()))
	copy(st[nonceLen+expiryLen:], s.mac(st[:nonceLen+expiryLen], sec[:]))
	return base64.RawURLEncoding.EncodeToString(st[:]), base64.RawURLEncoding.EncodeToString(sec[:]), expires
}

// mac signs the nonce and expiry together with the browser secret.
func (s *stateSigner) mac(nonceAndExpiry, secret []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(stateLabel))
	h.Write(nonceAndExpiry)
	h.Write(secret)
	return h.Sum(nil)
}

// check verifies state against the cookie's secret ("" if the browser sent
// none) and returns the state's id (for StateStore.Use) and expiry. Its
// errors match ErrState.
func (s *stateSigner) check(state, secret string) (id string, expires time.Time, err error) {
	st, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil || len(st) != stateLen {
		return "", time.Time{}, ErrStateForged
	}
	if secret == "" {
		return "", time.Time{}, ErrNoStateCookie
	}
	sec, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(sec) != secretLen || !hmac.Equal(st[nonceLen+expiryLen:], s.mac(st[:nonceLen+expiryLen], sec)) {
		return "", time.Time{}, ErrStateForged
	}
	expires = time.UnixMilli(int64(binary.BigEndian.Uint64(st[nonceLen:])))
	if !s.now().Before(expires) {
		return "", time.Time{}, ErrStateExpired
	}
	return hex.EncodeToString(st[:nonceLen]), expires, nil
}
