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
	StateFallback State = "fallback" // the static fallback token is in use
)

// RefreshTokenWarning is how long before the refresh token's expiry
// Status.RefreshTokenExpiring turns true.
const RefreshTokenWarning = 30 * 24 * time.Hour

// Status is a snapshot of a Manager for humans and health checks. It holds
// no credential: tokens appear only as fingerprints, the client id masked.
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
	FallbackConfigured bool      `json:"fallback_configured"`
	LastRefresh        time.Time `json:"last_refresh,omitzero"`
	LastError          string    `json:"last_error,omitempty"`
	LastErrorTime      time.Time `json:"last_error_time,omitzero"`
	NextAttempt        time.Time `json:"next_attempt,omitzero"` // earliest retry after failures
	// RefreshTokenExpiry is known only if the Manager was given it
	// (Manager.SetRefreshTokenExpiry) or made the exchange itself.
	RefreshTokenExpiry   time.Time `json:"refresh_token_expiry,omitzero"`
	RefreshTokenExpiring bool      `json:"refresh_token_expiring"` // within RefreshTokenWarning
	Store                string    `json:"store"`
	StoreHealthy         bool      `json:"store_healthy"`
	Counters             Counters  `json:"counters"`
}

// Counters count what a Manager did since New.
type Counters struct {
	Mints             int64 `json:"mints"`               // tokens minted by this Manager
	StoreHits         int64 `json:"store_hits"`          // tokens taken from the Store instead of minting
	RefreshFailures   int64 `json:"refresh_failures"`    // failed refreshes
	Retries401        int64 `json:"retries_401"`         // requests retried after a 401
	FallbackUses      int64 `json:"fallback_uses"`       // times the fallback token was served
	Validations       int64 `json:"validations"`         // Validate calls that found the token working
	ValidationFailure int64 `json:"validation_failures"` // Validate calls that did not
	StoreErrors       int64 `json:"store_errors"`        // failed Store operations
}
