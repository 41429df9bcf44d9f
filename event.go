package ebayauth

import (
	"log/slog"
	"time"
)

// EventKind names what happened.
type EventKind string

// The kinds of Event a Manager reports through Config.OnEvent.
const (
	EventRefreshed        EventKind = "refreshed"         // a token was minted
	EventTokenFromStore   EventKind = "token_from_store"  // a token minted elsewhere was taken from the Store
	EventRefreshFailed    EventKind = "refresh_failed"    // a refresh failed; Err says why
	EventInvalidGrant     EventKind = "invalid_grant"     // eBay refused the refresh token: a new consent is needed
	EventRecovered        EventKind = "recovered"         // a refresh succeeded after failures
	EventFallbackUsed     EventKind = "fallback_used"     // the static fallback token went into use
	EventRetried401       EventKind = "retried_401"       // a request got 401 and was retried with a new token
	EventValidated        EventKind = "validated"         // Validate found the token working
	EventValidationFailed EventKind = "validation_failed" // Validate found it not working; Err says why
	EventStoreUnavailable EventKind = "store_unavailable" // the Store failed; the Manager works alone
	EventStoreRecovered   EventKind = "store_recovered"   // the Store works again
	// EventRefreshTokenExpiring: the refresh token expires within 30 days;
	// the seller should consent again before it does.
	EventRefreshTokenExpiring EventKind = "refresh_token_expiring"
)

// Event is something a Manager did or saw. It holds no credential.
type Event struct {
	Kind EventKind
	Time time.Time
	// Account is the eBay user id of the seller concerned, for the
	// Managers of Accounts; empty otherwise.
	Account string
	// Fingerprint identifies the token concerned (see Token.Fingerprint).
	Fingerprint string
	// Expiry is the expiry of the token concerned, if any.
	Expiry time.Time
	// Duration is how long a refresh or validation took.
	Duration time.Duration
	// Err is the failure for the *_failed kinds, invalid_grant and
	// store_unavailable.
	Err error
}

// LogValue implements slog.LogValuer.
func (e Event) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", string(e.Kind)), slog.Time("time", e.Time)}
	if e.Account != "" {
		attrs = append(attrs, slog.String("account", e.Account))
	}
	if e.Fingerprint != "" {
		attrs = append(attrs, slog.String("fingerprint", e.Fingerprint))
	}
	if !e.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", e.Expiry))
	}
	if e.Duration != 0 {
		attrs = append(attrs, slog.Duration("duration", e.Duration))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

func (m *Manager) emit(e Event) {
	if m.cfg.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = m.now()
	}
	e.Account = m.cfg.account
	m.cfg.OnEvent(e)
}

// TeeEvents returns an OnEvent hook that calls each non-nil hook in turn,
// for a Manager that reports to several places (logs, metrics, alerts).
func TeeEvents(hooks ...func(Event)) func(Event) {
	return func(e Event) {
		for _, h := range hooks {
			if h != nil {
				h(e)
			}
		}
	}
}
