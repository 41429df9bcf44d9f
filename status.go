package ebayauth

import (
	"time"
)

// State is the condition of a Manager's token.
type State string

// The States of a Manager's token.
const (
	StateNone     State = "none"     // no token yet, or none could be had
	StateFresh    State = "fresh"    // valid and not yet due for refresh
	StateStale    State = "stale"    // valid, inside the refresh window: being refreshed
	StateExpired  State = "expired"  // expired (or about to) and no new one yet
	StateRejected State = "rejected" // eBay refused the token (HTTP 401) and no new one yet
	StateFallback State = "fallback" // the static fallback token is in use
	// StateNeedsConsent: eBay refused the seller's refresh token; only a
	// new consent helps (Accounts only).
	StateNeedsConsent State = "needs_consent"
)

// refreshTokenWarning is how long before the refresh token's expiry
// Status.RefreshTokenExpiring turns true.
const refreshTokenWarning = 30 * 24 * time.Hour

// Status is a snapshot of a Manager for humans and health checks. It holds
// no credential: tokens appear only as fingerprints, the client id masked.
//
// What it says of the token (state, expiry, last refresh, last validation,
// health) comes from the token's record, so a process that only loaded the
// record from a shared Store (Manager.Sync) reports the same as the
// process that minted the token. Counters are this process's own.
type Status struct {
	State       State     `json:"state"`
	Healthy     bool      `json:"healthy"` // a valid token (or the fallback) can be served
	Kind        string    `json:"kind"`    // "application" or "user"
	Environment string    `json:"environment"`
	ClientID    string    `json:"client_id"` // masked
	Scopes      []string  `json:"scopes,omitempty"`
	TokenType   string    `json:"token_type,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	ExpiresIn   int64     `json:"expires_in"` // seconds until Expiry; negative once past
	RefreshAt   time.Time `json:"refresh_at,omitzero"`
	// FallbackConfigured says a fallback token is set; State says whether
	// it is in use.
	FallbackConfigured bool `json:"fallback_configured"`
	// LastRefresh is when the current token was minted, by whichever
	// process minted it.
	LastRefresh   time.Time `json:"last_refresh,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`
	NextAttempt   time.Time `json:"next_attempt,omitzero"` // earliest retry after failures
	// LastValidation is when the current token was last checked against
	// eBay, by any process; ValidationError is the verdict, empty if eBay
	// accepted it.
	LastValidation  time.Time `json:"last_validation,omitzero"`
	ValidationError string    `json:"validation_error,omitempty"`
	// RefreshTokenExpiry is known from Config.RefreshTokenExpiry, from the
	// Store's record, or from the exchange that created the refresh token.
	RefreshTokenExpiry   time.Time `json:"refresh_token_expiry,omitzero"`
	RefreshTokenExpiring bool      `json:"refresh_token_expiring"` // within 30 days
	Store                string    `json:"store"`
	StoreHealthy         bool      `json:"store_healthy"`
	Counters             Counters  `json:"counters"`
}

// Counters count what a Manager did since New.
type Counters struct {
	Mints              int64 `json:"mints"`               // tokens minted by this Manager
	StoreHits          int64 `json:"store_hits"`          // tokens taken from the Store instead of minting
	RefreshFailures    int64 `json:"refresh_failures"`    // failed refreshes
	Retries401         int64 `json:"retries_401"`         // requests retried after a 401
	FallbackUses       int64 `json:"fallback_uses"`       // times the fallback token was served
	Validations        int64 `json:"validations"`         // Validate calls that found the token working
	ValidationFailures int64 `json:"validation_failures"` // Validate calls that did not
	StoreErrors        int64 `json:"store_errors"`        // failed Store operations
}

// Status reports the Manager's state. It never blocks on I/O.
func (m *Manager) Status() Status {
	now := m.now()
	e := m.cur.Load()
	m.mu.Lock()
	s := Status{
		Kind:               m.cfg.kind(),
		Environment:        m.cfg.Endpoint.environment(),
		ClientID:           maskID(m.cfg.ClientID),
		Scopes:             append([]string(nil), m.cfg.Scopes...),
		FallbackConfigured: m.fallbackEntry != nil,
		LastErrorTime:      m.lastErrTime,
		RefreshTokenExpiry: m.rtExpiry,
		Store:              storeName(m.store),
		StoreHealthy:       m.storeUp.Load(),
		LastValidation:     m.validated,
		ValidationError:    m.validErr,
	}
	inFallback := m.inFallback
	if m.lastErr != nil {
		s.LastError = m.lastErr.Error()
	}
	if m.failures > 0 {
		s.NextAttempt = time.Unix(0, m.nextTry.Load())
	}
	m.mu.Unlock()
	s.RefreshTokenExpiring = !s.RefreshTokenExpiry.IsZero() && s.RefreshTokenExpiry.Sub(now) < refreshTokenWarning
	s.Counters = Counters{
		Mints: m.mints.Load(), StoreHits: m.storeHits.Load(), RefreshFailures: m.refreshFailures.Load(),
		Retries401: m.retries401.Load(), FallbackUses: m.fallbackUses.Load(), Validations: m.validations.Load(),
		ValidationFailures: m.validationFailures.Load(), StoreErrors: m.storeErrors.Load(),
	}
	switch {
	case e != nil && !e.rejected && e.tok.valid(now):
		s.State = StateFresh
		if !e.refreshAt.IsZero() && !now.Before(e.refreshAt) {
			s.State = StateStale
		}
		if !e.dueAt.IsZero() && !now.Before(e.dueAt) {
			s.State = StateExpired
		}
	case inFallback && m.fallbackEntry != nil:
		s.State = StateFallback
	case e != nil && e.rejected:
		s.State = StateRejected
	case e != nil:
		s.State = StateExpired
	default:
		s.State = StateNone
	}
	if e != nil {
		s.TokenType, s.Fingerprint, s.Expiry, s.RefreshAt = e.tok.TokenType, e.tok.Fingerprint(), e.tok.Expiry, e.refreshAt
		s.LastRefresh = e.minted
		if !e.tok.Expiry.IsZero() {
			s.ExpiresIn = int64(e.tok.Expiry.Sub(now) / time.Second)
		}
	}
	s.Healthy = s.State == StateFresh || s.State == StateStale || s.State == StateFallback ||
		(s.State == StateExpired && e.tok.valid(now))
	return s
}
