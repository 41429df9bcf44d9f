package ebaytest

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
)

// The legacy XML Trading API, as far as authentication goes: eBay takes an
// OAuth user token in X-EBAY-API-IAF-TOKEN and reports a bad one inside an
// HTTP 200 answer. And a Sell API that answers an expired user token with
// 403/1100 instead of 401/1001, as some of eBay's do.

const (
	tradingPath   = "/ws/api.dll"
	privilegePath = "/sell/account/v1/privilege"
)

// Trading API error codes for a token eBay does not accept.
const (
	TradingIAFTokenExpired = 21917053 // "Expired IAF token."
	TradingIAFTokenInvalid = 21916984 // "Invalid IAF token."
)

// serveTrading answers any Trading call (X-EBAY-API-CALL-NAME) with Ack
// Success for a valid user token in X-EBAY-API-IAF-TOKEN, and with an HTTP
// 200 Ack Failure carrying 21917053 (expired or revoked token) or 21916984
// (unknown token) otherwise, as eBay does.
func (s *Server) serveTrading(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	call := r.Header.Get("X-EBAY-API-CALL-NAME")
	if call == "" {
		call = "Unknown"
	}
	tok := r.Header.Get("X-EBAY-API-IAF-TOKEN")
	s.mu.Lock()
	s.requests = append(s.requests, Request{r.Method, r.URL.Path, "IAF " + tok, body})
	t := s.lookup(tok)
	_, known := s.access[tok]
	now := s.now()
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	var ack, errs string
	switch {
	case t != nil && t.user:
		ack = "Success"
	case known:
		ack = "Failure"
		errs = tradingError(TradingIAFTokenExpired, "Expired IAF token.")
	default:
		ack = "Failure"
		errs = tradingError(TradingIAFTokenInvalid, "Invalid IAF token.")
	}
	call = html.EscapeString(call)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<%sResponse xmlns="urn:ebay:apis:eBLBaseComponents"><Timestamp>%s</Timestamp><Ack>%s</Ack>%s<Version>1349</Version><Build>E1349_CORE_API_19146596_R1</Build></%sResponse>`,
		call, now.UTC().Format("2006-01-02T15:04:05.000Z"), ack, errs, call)
}

func tradingError(code int, msg string) string {
	return fmt.Sprintf(`<Errors><ShortMessage>%s</ShortMessage><LongMessage>%s</LongMessage><ErrorCode>%d</ErrorCode><SeverityCode>Error</SeverityCode><ErrorClassification>RequestError</ErrorClassification></Errors>`,
		msg, msg, code)
}

// servePrivilege is Account's getPrivileges, on which the fake answers an
// invalid or expired user token 403/1100 (as some Sell APIs have been seen
// to) and an application token 403/1100 too (the scope is missing).
func (s *Server) servePrivilege(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	_, token, _ := strings.Cut(auth, " ")
	s.mu.Lock()
	s.requests = append(s.requests, Request{r.Method, r.URL.Path, auth, nil})
	t := s.lookup(token)
	s.mu.Unlock()
	if t == nil || !t.user {
		writeJSON(w, http.StatusForbidden, errAccessDenied)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sellingLimit": map[string]any{"amount": map[string]string{"value": "5000.00", "currency": "USD"}, "quantity": 100}})
}
