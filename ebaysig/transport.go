package ebaysig

import (
	"errors"
	"net/http"
	"strings"
)

// Transport is an http.RoundTripper that signs the requests Match selects
// and passes every request on to Base.
//
// It never modifies the caller's request: it signs a clone. It closes the
// request body if signing fails. It composes with ebayauth.Transport in
// either order; as the Base of ebayauth's Transport it signs a request
// replayed after a 401 anew, with a fresh created, and the body that
// ebayauth replays through GetBody.
//
// A Transport is safe for concurrent use if its Signer is. Do not change its
// fields after first use.
type Transport struct {
	// Signer signs. Required.
	Signer *Signer
	// Base makes the requests. Nil: http.DefaultTransport.
	Base http.RoundTripper
	// Match selects the requests to sign. Nil: RequiresSignature, the calls
	// eBay requires signatures for. Use func(*http.Request) bool { return
	// true } to sign everything, which eBay tolerates.
	Match func(*http.Request) bool
}

var _ http.RoundTripper = (*Transport)(nil)

// errNoSigner is returned by a Transport without a Signer.
var errNoSigner = errors.New("ebaysig: Transport.Signer is nil")

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	match := t.Match
	if match == nil {
		match = RequiresSignature
	}
	if !match(req) {
		return t.base().RoundTrip(req)
	}
	if t.Signer == nil {
		closeBody(req)
		return nil, errNoSigner
	}
	r2 := req.Clone(req.Context())
	if err := t.Signer.Sign(r2); err != nil {
		closeBody(req)
		return nil, err
	}
	return t.base().RoundTrip(r2)
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// closeBody closes the body of a request RoundTrip will not send, as the
// RoundTripper contract asks.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// RequiresSignature reports whether eBay requires a signature on req when it
// is made on behalf of an EU or UK seller. It looks at the method, the path
// and, for the Trading API, the call name, never at the host, so that it
// selects the same calls in production, in the sandbox and against a fake:
//
//   - every Finances API method: /sell/finances/v1/…
//   - Fulfillment issueRefund: POST /sell/fulfillment/v1/order/{orderId}/issue_refund
//   - Trading GetAccount: POST /ws/api.dll with X-EBAY-API-CALL-NAME: GetAccount
//   - Post-Order, all POST under /post-order/v2/: inquiry/{inquiryId}/issue_refund,
//     casemanagement/{caseId}/issue_refund, return/{returnId}/issue_refund,
//     return/{returnId}/decide (process return request),
//     cancellation/{cancelId}/approve and cancellation (create).
//
// A trailing slash is ignored.
func RequiresSignature(req *http.Request) bool {
	path := strings.TrimSuffix(req.URL.Path, "/")
	if strings.HasPrefix(path, "/sell/finances/v1/") {
		return true
	}
	if req.Method != http.MethodPost {
		return false
	}
	if rest, ok := strings.CutPrefix(path, "/post-order/v2/"); ok {
		return matchPostOrder(rest)
	}
	if rest, ok := strings.CutPrefix(path, "/sell/fulfillment/v1/order/"); ok {
		id, action, ok := strings.Cut(rest, "/")
		return ok && id != "" && action == "issue_refund"
	}
	if path == "/ws/api.dll" {
		return strings.EqualFold(req.Header.Get("X-EBAY-API-CALL-NAME"), "GetAccount")
	}
	return false
}

// matchPostOrder reports whether rest, a Post-Order path after
// "/post-order/v2/", is one of the methods that need a signature.
func matchPostOrder(rest string) bool {
	if rest == "cancellation" {
		return true
	}
	resource, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	id, action, ok := strings.Cut(rest, "/")
	if !ok || id == "" {
		return false
	}
	switch resource {
	case "inquiry", "casemanagement":
		return action == "issue_refund"
	case "return":
		return action == "issue_refund" || action == "decide"
	case "cancellation":
		return action == "approve"
	}
	return false
}
