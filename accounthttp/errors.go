package accounthttp

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors for errors.Is. The handlers log them; they never reach
// the browser or eBay as text.
var (
	// ErrSignature: a notice's X-EBAY-SIGNATURE is missing or malformed, or
	// does not verify over the body. The handler answers 412.
	ErrSignature = errors.New("accounthttp: notification signature invalid")
	// ErrUnknownKey: eBay's Notification API does not know the key id a
	// notice names (404), so the notice cannot be eBay's. A *KeyError
	// with StatusCode 404 matches it. The handler answers 412.
	ErrUnknownKey = errors.New("accounthttp: notification key unknown to eBay")
	// ErrState: an onboarding state was refused. The errors below wrap it
	// and say why; the handler answers 400 and does not call Connect.
	ErrState = errors.New("accounthttp: onboarding state invalid")
)

// Why an onboarding state was refused; each matches ErrState.
var (
	ErrStateForged   = fmt.Errorf("%w: forged, or issued to another browser", ErrState)
	ErrStateExpired  = fmt.Errorf("%w: expired", ErrState)
	ErrStateUsed     = fmt.Errorf("%w: already used", ErrState)
	ErrNoStateCookie = fmt.Errorf("%w: no state cookie (another browser, or cookies blocked)", ErrState)
)

// ConfigError is a DeletionConfig or OnboardingConfig that
// NewDeletionHandler or NewOnboardingHandler refused. It never contains the
// value of a secret field.
type ConfigError struct {
	Config  string // "DeletionConfig" or "OnboardingConfig"
	Field   string // e.g. "VerificationToken"
	Problem string // e.g. "is 12 characters long; eBay wants 32 to 80"
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("accounthttp: %s.%s %s", e.Config, e.Field, e.Problem)
}

// KeyError is a failed fetch of a notification public key from eBay's
// Notification API. It carries no credential.
type KeyError struct {
	// KID is the key id the notice named.
	KID string
	// StatusCode is eBay's HTTP status; 0 if no answer came (Err says why).
	StatusCode int
	// Message is eBay's first REST error message, if any.
	Message string
	// Err is the underlying cause, if any.
	Err error
}

func (e *KeyError) Error() string {
	msg := fmt.Sprintf("accounthttp: fetching notification key %q", e.KID)
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(": HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *KeyError) Unwrap() error { return e.Err }

// Is reports whether target is ErrUnknownKey and eBay answered 404.
func (e *KeyError) Is(target error) bool {
	return target == ErrUnknownKey && e.StatusCode == http.StatusNotFound
}

// Temporary reports whether fetching again later may succeed: everything
// but a 404.
func (e *KeyError) Temporary() bool { return e.StatusCode != http.StatusNotFound }
