package ebayauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors for errors.Is.
var (
	// ErrInvalidGrant: eBay refused the refresh token or authorization code
	// (invalid, expired, revoked or issued to another app). It is permanent:
	// retrying burns the daily quota, a new consent is needed.
	ErrInvalidGrant = errors.New("ebayauth: invalid_grant")
	// ErrInvalidClient: eBay refused the client id and secret.
	ErrInvalidClient = errors.New("ebayauth: invalid_client")
	// ErrNoToken: no valid token could be had, and no fallback token is
	// configured. Errors that match it also match the refresh failure that
	// caused it, if any.
	ErrNoToken = errors.New("ebayauth: no valid token")
	// ErrNotFound is returned by a Store's Load when it holds no token
	// under the key.
	ErrNotFound = errors.New("ebayauth: token not in store")
	// ErrLocked is returned by a Locker when another holder has the lock.
	ErrLocked = errors.New("ebayauth: store lock held by another refresher")
	// ErrClosed is returned by a Manager after Close.
	ErrClosed = errors.New("ebayauth: manager closed")
	// ErrTokenRefused: eBay refused a token minted moments ago. The
	// Manager does not replace it (a successor would be refused too, and
	// each mint spends eBay's daily quota); the caller gets eBay's answer.
	ErrTokenRefused = errors.New("ebayauth: eBay refused a freshly minted token")
)

var (
	errNoSource = errors.New("ebayauth: Transport has no Source")
	errNilToken = errors.New("ebayauth: the TokenSource returned no token and no error")
)

// RetrieveError is a failed answer from eBay's token endpoint. It carries
// the HTTP status and eBay's OAuth error code and description; it never
// contains a credential.
type RetrieveError struct {
	// StatusCode is the HTTP status eBay answered with; 0 if the request
	// never got an answer (Err is then the transport error).
	StatusCode int
	// ErrorCode is eBay's "error" field, e.g. "invalid_grant"; for REST-style
	// error bodies (quota exhaustion) the first error's errorId.
	ErrorCode string
	// ErrorDescription is eBay's "error_description" or REST message.
	ErrorDescription string
	// Grant is the grant type that was requested.
	Grant string
	// Err is the underlying cause, if any (a transport or parse error).
	Err error
}

func (e *RetrieveError) Error() string {
	var b strings.Builder
	b.WriteString("ebayauth: token request")
	if e.Grant != "" {
		fmt.Fprintf(&b, " (%s)", e.Grant)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.ErrorCode != "" {
		fmt.Fprintf(&b, ": %s", e.ErrorCode)
	}
	if e.ErrorDescription != "" {
		fmt.Fprintf(&b, ": %s", e.ErrorDescription)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *RetrieveError) Unwrap() error { return e.Err }

// Is matches ErrInvalidGrant and ErrInvalidClient by eBay's error code.
func (e *RetrieveError) Is(target error) bool {
	switch target {
	case ErrInvalidGrant:
		return e.ErrorCode == "invalid_grant"
	case ErrInvalidClient:
		return e.ErrorCode == "invalid_client"
	}
	return false
}

// Temporary reports whether trying again later may succeed: no answer at all,
// 429 (quota or rate limit) or a 5xx. A 4xx is permanent.
func (e *RetrieveError) Temporary() bool {
	return e.StatusCode == 0 || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// APIError is an error answer from an eBay REST API, as Manager.Validate
// reports it.
type APIError struct {
	StatusCode int
	Errors     []APIErrorDetail
}

// APIErrorDetail is one entry of eBay's REST error envelope.
type APIErrorDetail struct {
	ErrorID     int    `json:"errorId"`
	Domain      string `json:"domain"`
	Category    string `json:"category"`
	Message     string `json:"message"`
	LongMessage string `json:"longMessage,omitempty"`
}

// IsInvalidToken reports whether e is eBay's answer to a token it does not
// accept: HTTP 401 or errorId 1001.
func (e *APIError) IsInvalidToken() bool {
	if e == nil {
		return false
	}
	if e.StatusCode == http.StatusUnauthorized {
		return true
	}
	for _, d := range e.Errors {
		if d.ErrorID == 1001 {
			return true
		}
	}
	return false
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ebayauth: eBay API answered HTTP %d", e.StatusCode)
	for i, d := range e.Errors {
		if i == 3 {
			fmt.Fprintf(&b, " (and %d more)", len(e.Errors)-i)
			break
		}
		fmt.Fprintf(&b, "; error %d: %s", d.ErrorID, d.Message)
	}
	return b.String()
}
