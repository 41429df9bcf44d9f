package ebayauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// A Store keeps token records where more than one Manager can see them: the
// in-memory default shares them between the Managers of one process;
// redisstore across a fleet; filestore across the processes of one machine.
//
// # Who judges expiry
//
// The Manager does, by its Config.Clock, and nothing else. A Store keeps a
// record as it was given and returns it as it was saved, expired or not: it
// never drops, hides or refuses a record by a clock of its own. (A store may
// forget a record for garbage collection, but only after a horizon well past
// the token's life, measured as a duration from the save — never by
// comparing the token's expiry with its own clock — so that Managers on a
// clock years behind or ahead of the store's share tokens as well as any.)
// storetest.Run checks this with records from 2020 and from 2040.
//
// Keys are opaque hex strings that contain no secret. Implementations are
// safe for concurrent use and honour ctx.
type Store interface {
	// Load returns the record saved under key, or an error matching
	// ErrNotFound if there is none.
	Load(ctx context.Context, key string) (*Record, error)
	// Save stores rec under key, unless the record already there holds a
	// token that expires strictly later (the zero expiry, never, being
	// latest): the store never goes back in time, however many processes
	// save at once. A record for the same expiry replaces the old one, so
	// that a validation's verdict reaches every process.
	Save(ctx context.Context, key string, rec *Record) error
	// Delete removes the record under key; deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// Record is what a Store keeps for one key: the token, and what every
// process that looks at it needs to report on it the way the Manager that
// minted it would. Times are by the clock of the Manager that wrote them.
//
// Its JSON form holds the access token: treat it as a secret.
type Record struct {
	// Token is the access token and its expiry. Required.
	Token *Token
	// Minted is when the token was requested from eBay: with Token.Expiry
	// it gives the lifetime eBay granted, and it is the "last refresh"
	// every process reports.
	Minted time.Time
	// RefreshTokenExpiry is when the refresh token behind a user token
	// stops working, if known.
	RefreshTokenExpiry time.Time
	// Validated is when the token was last checked against eBay
	// (Manager.Validate); ValidationError is the verdict, empty if eBay
	// accepted the token.
	Validated       time.Time
	ValidationError string
	// Rejected is when eBay refused the token as invalid (HTTP 401,
	// errorId 1001), by a validation or a request; zero if it has not. A
	// rejected token is never served again: Managers replace it.
	Rejected time.Time
	// Account is the eBay user id of the seller the token acts for, for
	// the Managers of Accounts; empty otherwise. AccountStore.DeleteAccount
	// deletes the records of the account.
	Account string
}

// recordWire is the JSON form of a Record, credentials included.
type recordWire struct {
	Token              *tokenWire `json:"token"`
	Minted             time.Time  `json:"minted,omitzero"`
	RefreshTokenExpiry time.Time  `json:"refresh_token_expiry,omitzero"`
	Validated          time.Time  `json:"validated,omitzero"`
	ValidationError    string     `json:"validation_error,omitempty"`
	Rejected           time.Time  `json:"rejected,omitzero"`
	Account            string     `json:"account,omitempty"`
}

// MarshalJSON writes r with its token's credentials: the form stores keep.
func (r Record) MarshalJSON() ([]byte, error) {
	w := recordWire{Minted: r.Minted, RefreshTokenExpiry: r.RefreshTokenExpiry, Validated: r.Validated,
		ValidationError: r.ValidationError, Rejected: r.Rejected, Account: r.Account}
	if t := r.Token; t != nil {
		w.Token = &tokenWire{t.AccessToken, t.TokenType, t.Expiry, t.RefreshToken, t.RefreshTokenExpiry}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *Record) UnmarshalJSON(b []byte) error {
	var w recordWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Record{Minted: w.Minted, RefreshTokenExpiry: w.RefreshTokenExpiry, Validated: w.Validated,
		ValidationError: w.ValidationError, Rejected: w.Rejected, Account: w.Account}
	if t := w.Token; t != nil {
		r.Token = &Token{t.AccessToken, t.TokenType, t.Expiry, t.RefreshToken, t.RefreshTokenExpiry}
	}
	return nil
}

// clone returns a deep copy of r.
func (r *Record) clone() *Record {
	c := *r
	if r.Token != nil {
		t := *r.Token
		c.Token = &t
	}
	return &c
}

// CanReplace reports whether saving r may replace old under the Store
// contract: old is nil or has no token, or r's token does not expire
// before old's. Store implementations call it to decide a Save.
func (r *Record) CanReplace(old *Record) bool {
	if old == nil || old.Token == nil || r.Token == nil {
		return true
	}
	return !newerThan(old.Token, r.Token)
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

// A Locker is a Store that can also grant one holder at a time the right to
// mint a token for a key, so that a fleet mints one token per rotation.
//
// Lock returns ErrLocked at once if another holder has the lock; it does not
// wait. A lease that is not positive is an error. The lock lapses by itself
// after lease of real time, so a holder that dies does not block the others
// for longer than that. unlock releases the lock only if it is still the
// caller's.
type Locker interface {
	Lock(ctx context.Context, key string, lease time.Duration) (unlock func(context.Context) error, err error)
}

// The Manager's side of the store: every operation goes through storeOp,
// which tracks whether the store works. A failed store never fails a
// refresh: the Manager works alone until the store is back.

// errStoreDown is what a store operation returns, without calling the
// store, while the store is known to be down and not yet due for a probe.
var errStoreDown = errors.New("ebayauth: token store unavailable")

// storeProbeEvery is how often a Manager tries a store it knows is down:
// every 5 s, or a twentieth of the token lifetime if less (short-lived
// tokens rotate before 5 s are up).
const storeProbeEvery = 5 * time.Second

func (m *Manager) probeEvery() time.Duration {
	return max(min(storeProbeEvery, time.Duration(m.lifetime.Load())/20), 50*time.Millisecond)
}

// storeOp runs a Store operation, bounded by Config.StoreTimeout even if
// the store ignores its context (the call is then abandoned, and returns
// on its own), and tracks whether the store works: the first failure logs
// one warning and an event, the first success after failures logs the
// recovery. While the store is down, operations fail at once, except one
// every few seconds that probes it.
func (m *Manager) storeOp(ctx context.Context, op string, f func(context.Context) error) error {
	if !m.storeUp.Load() {
		now := m.now().UnixNano()
		next := m.storeProbe.Load()
		if now < next || !m.storeProbe.CompareAndSwap(next, now+int64(m.probeEvery())) {
			return errStoreDown
		}
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.StoreTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("ebayauth: token store: %s took longer than %v: %w", op, m.cfg.StoreTimeout, ctx.Err())
	}
	switch {
	case err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrLocked):
		m.storeOK()
	case errors.Is(err, context.Canceled) && m.ctx.Err() != nil:
		// Closing: not the store's fault.
	default:
		m.storeFailed(op, err)
	}
	return err
}

func (m *Manager) storeFailed(op string, err error) {
	m.storeErrors.Add(1)
	if m.storeUp.CompareAndSwap(true, false) {
		m.storeProbe.Store(m.now().Add(m.probeEvery()).UnixNano())
		m.log.Warn("ebayauth: token store unavailable; minting without it until it is back",
			slog.String("op", op), slog.String("store", storeName(m.store)), slog.String("error", err.Error()))
		m.emit(Event{Kind: EventStoreUnavailable, Err: err})
	}
}

func (m *Manager) storeOK() {
	if m.storeUp.CompareAndSwap(false, true) {
		m.log.Info("ebayauth: token store available again", slog.String("store", storeName(m.store)))
		m.emit(Event{Kind: EventStoreRecovered})
	}
}

func storeName(s Store) string {
	if sn, ok := s.(interface{ String() string }); ok {
		return sn.String()
	}
	return "custom"
}

// load reads the store's record for the Manager's key and adopts it (see
// adoptRecord). It returns the record, nil if there is none or the store
// failed.
func (m *Manager) load(ctx context.Context) *Record {
	var rec *Record
	_ = m.storeOp(ctx, "load", func(ctx context.Context) error {
		var err error
		rec, err = m.store.Load(ctx, m.key)
		return err
	})
	if rec == nil || rec.Token == nil || rec.Token.AccessToken == "" {
		return nil
	}
	m.adoptRecord(rec)
	return rec
}

// save writes the record of e, the current entry, to the store.
func (m *Manager) save(ctx context.Context, e *entry) {
	rec := m.recordOf(e)
	_ = m.storeOp(ctx, "save", func(ctx context.Context) error { return m.store.Save(ctx, m.key, rec) })
}

// Sync loads the Store's record and adopts it if it is newer than what the
// Manager holds, or the same token with news (a validation's verdict, a
// rejection), without contacting eBay. A process that only reports on a
// token others keep fresh (ebaytoken status) calls it before Status.
func (m *Manager) Sync(ctx context.Context) error {
	var rec *Record
	m.storeProbe.Store(0) // asked for: try the store even if it was down
	err := m.storeOp(ctx, "load", func(ctx context.Context) error {
		var err error
		rec, err = m.store.Load(ctx, m.key)
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	if rec.Token != nil && rec.Token.AccessToken != "" {
		m.adoptRecord(rec)
	}
	return nil
}

// A SecretStore keeps a few named secrets beside the tokens, such as the
// private key eBay's digital signatures need (ebaysig.SaveKey), with the
// same care as the tokens: sealed where the store seals (redisstore,
// pgstore), 0600 in filestore. Names are short and hold no secret.
// MemoryStore, filestore, redisstore and pgstore implement it.
type SecretStore interface {
	// LoadSecret returns the secret saved under name, or an error matching
	// ErrNotFound.
	LoadSecret(ctx context.Context, name string) ([]byte, error)
	// SaveSecret stores value under name, replacing what was there.
	SaveSecret(ctx context.Context, name string, value []byte) error
}
