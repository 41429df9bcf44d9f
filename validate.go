package ebayauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// probeClient makes Validate's requests; it follows no redirect, so the
// token goes nowhere but the probe URL.
var probeClient = &http.Client{
	Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// Validate checks that eBay accepts the current token by calling the probe
// (Config.ValidateURL, by default a one-item Browse search). It returns nil
// if eBay answered 2xx, an *APIError with eBay's error if it answered
// otherwise, or the error that kept it from asking.
//
// eBay's verdict is written to the token's record in the Store, so every
// process reports it. A token eBay refuses as invalid (HTTP 401, errorId
// 1001) is marked rejected: Token no longer serves it but waits for its
// replacement, and Status reports StateRejected until then. Validate does
// not replace it itself; Run does, and so does the next Token call.
func (m *Manager) Validate(ctx context.Context) error {
	start := m.now()
	e, err := m.current(ctx)
	if err == nil {
		err = m.probe(ctx, e)
	}
	var ae *APIError
	answered := err == nil || errors.As(err, &ae)
	if answered && e != nil && e != m.fallbackEntry {
		m.verdict(e, err)
		if ae.IsInvalidToken() {
			_ = m.reject(e, "validation got HTTP 401", true)
		}
	}
	if err == nil {
		m.validations.Add(1)
		m.log.Info("ebayauth: token validated", slog.String("fingerprint", e.tok.Fingerprint()))
		m.emit(Event{Kind: EventValidated, Fingerprint: e.tok.Fingerprint(), Duration: m.now().Sub(start)})
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	m.validationFailures.Add(1)
	m.log.Error("ebayauth: token validation failed", slog.String("error", err.Error()))
	ev := Event{Kind: EventValidationFailed, Err: err, Duration: m.now().Sub(start)}
	if e != nil {
		ev.Fingerprint = e.tok.Fingerprint()
	}
	m.emit(ev)
	return err
}

// verdict records eBay's answer about e (nil: accepted) and writes it to
// the Store, if e is still the current token.
func (m *Manager) verdict(e *entry, err error) {
	text := ""
	if err != nil {
		text = err.Error()
	}
	m.mu.Lock()
	if m.curToken() != e.tok.AccessToken {
		m.mu.Unlock()
		return
	}
	m.validated, m.validErr = m.now(), text
	m.mu.Unlock()
	m.save(m.ctx, e)
}

// probe calls the validation URL with e's token.
func (m *Manager) probe(ctx context.Context, e *entry) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.cfg.ValidateURL, nil)
	if err != nil {
		return fmt.Errorf("ebayauth: validate: %w", err)
	}
	if ok, err := m.policy.check(req.URL); !ok { // New checked it; this is the Transport's rule, kept here too
		if err == nil {
			err = errors.New("ebayauth: validate: the probe's host is not allowed to get the token")
		}
		return err
	}
	req.Header.Set("Authorization", e.header)
	req.Header.Set("Accept", "application/json")
	resp, err := probeClient.Do(req)
	if err != nil {
		return fmt.Errorf("ebayauth: validate: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	ae := parseAPIError(resp.StatusCode, body)
	sc := newScrubber(m.cfg.ClientID, m.cfg.ClientSecret, m.cfg.RefreshToken, e.tok.AccessToken, m.cfg.FallbackToken)
	for i := range ae.Errors {
		d := &ae.Errors[i]
		d.Domain, d.Category, d.Message, d.LongMessage = sc.clean(d.Domain), sc.clean(d.Category), sc.clean(d.Message), sc.clean(d.LongMessage)
	}
	if len(ae.Errors) > 10 {
		ae.Errors = ae.Errors[:10]
	}
	return ae
}

// parseAPIError reads eBay's REST error envelope; a body that is not one
// still gives an *APIError with the status.
func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	var env struct {
		Errors []APIErrorDetail `json:"errors"`
	}
	if json.Unmarshal(body, &env) == nil {
		e.Errors = env.Errors
	}
	return e
}
