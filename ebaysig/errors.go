package ebaysig

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ebayauth/ebayauth"
)

// Sentinel errors for errors.Is.
var (
	// ErrNoKey: the Signer has no private key or no JWE.
	ErrNoKey = errors.New("ebaysig: signer has no key")
	// ErrUnsupportedKey: the key is neither Ed25519 nor RSA, the only
	// algorithms eBay accepts.
	ErrUnsupportedKey = errors.New("ebaysig: key is neither Ed25519 nor RSA")
)

// The errorIds eBay answers, with HTTP 403, to a request whose signature it
// refuses.
const (
	// ErrorMissingKey: no x-ebay-signature-key header.
	ErrorMissingKey = 215001
	// ErrorCreatedOutOfRange: "The create time of signature parameters is
	// not in right range" — created is not the time of signing, or the
	// clock is off. Sending the key's creationTime as created causes it.
	ErrorCreatedOutOfRange = 215114
	// ErrorValidationFailed and ErrorValidationFailed2: "Signature
	// validation failed". eBay does not document how the two differ.
	ErrorValidationFailed  = 215120
	ErrorValidationFailed2 = 215122
)

// APIError is an error answer from eBay's Key Management API: the HTTP
// status and eBay's REST error envelope. It never holds a key.
type APIError struct {
	// Op is the method called: "createSigningKey", "getSigningKeys" or
	// "getSigningKey".
	Op string
	// StatusCode is the HTTP status eBay answered with.
	StatusCode int
	// Errors is the envelope's errors, empty if the body held none.
	Errors []ebayauth.APIErrorDetail
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ebaysig: %s: HTTP %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	for i, d := range e.Errors {
		if i == 3 {
			fmt.Fprintf(&b, " (and %d more)", len(e.Errors)-i)
			break
		}
		fmt.Fprintf(&b, "; error %d: %s", d.ErrorID, d.Message)
	}
	return b.String()
}

// Temporary reports whether trying again later may succeed: 429 or a 5xx.
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// ErrorID returns the first errorId of the envelope, 0 if there is none.
func (e *APIError) ErrorID() int {
	if len(e.Errors) == 0 {
		return 0
	}
	return e.Errors[0].ErrorID
}
