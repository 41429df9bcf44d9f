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
func (m *Manager) Validate(ctx context.Context) error {
	start := m.now()
	err := m.validate(ctx)
	if err == nil {
		m.validations.Add(1)
		m.log.Info("ebayauth: token validated")
		m.emit(Event{Kind: EventValidated, Duration: m.now().Sub(start)})
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	m.validationFailures.Add(1)
	m.log.Error("ebayauth: token validation failed", slog.String("error", err.Error()))
	m.emit(Event{Kind: EventValidationFailed, Err: err, Duration: m.now().Sub(start)})
	return err
}

func (m *Manager) validate(ctx context.Context) error {
	e, err := m.current(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.cfg.ValidateURL, nil)
	if err != nil {
		return fmt.Errorf("ebayauth: validate: %w", err)
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
	return parseAPIError(resp.StatusCode, body)
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

// IsInvalidToken reports whether err is eBay's answer to a token it does not
// accept: HTTP 401 or errorId 1001.
func IsInvalidToken(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	if ae.StatusCode == http.StatusUnauthorized {
		return true
	}
	for _, d := range ae.Errors {
		if d.ErrorID == 1001 {
			return true
		}
	}
	return false
}

// Run keeps the token fresh without traffic: it refreshes at each token's
// proactive point (and at least every Config.RefreshEvery, if set),
// validates every Config.ValidateEvery, and replaces a token that
// validation finds revoked. Failures are logged and reported as events, and
// retried with the Manager's backoff. Run returns nil when ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	clock := m.cfg.Clock
	nextValidate := time.Time{}
	if m.cfg.ValidateEvery > 0 {
		nextValidate = clock.Now().Add(m.cfg.ValidateEvery)
	}
	for {
		now := clock.Now()
		if due := m.nextRefresh(); !now.Before(due) {
			m.runRefresh(ctx)
			now = clock.Now()
		}
		if !nextValidate.IsZero() && !now.Before(nextValidate) {
			if err := m.Validate(ctx); IsInvalidToken(err) {
				if _, err := m.ForceRefresh(ctx); err != nil && ctx.Err() == nil {
					m.log.Error("ebayauth: replacing the token validation rejected failed", slog.String("error", err.Error()))
				}
			}
			now = clock.Now()
			nextValidate = now.Add(m.cfg.ValidateEvery)
		}
		wake := m.nextRefresh()
		if !nextValidate.IsZero() && nextValidate.Before(wake) {
			wake = nextValidate
		}
		d := max(wake.Sub(now), 0)
		if d == 0 {
			d = time.Millisecond // let a failed refresh's backoff show in nextRefresh
		}
		select {
		case <-ctx.Done():
			return nil
		case <-clock.After(d):
		}
	}
}

// nextRefresh is when Run should refresh next: the current token's
// proactive point, RefreshEvery after the last refresh if sooner, and not
// before the backoff after a failure ends.
func (m *Manager) nextRefresh() time.Time {
	var due time.Time
	if e := m.cur.Load(); e != nil {
		due = e.refreshAt
		if due.IsZero() {
			due = maxTime
		}
	}
	if m.cfg.RefreshEvery > 0 {
		m.mu.Lock()
		last := m.lastRefresh
		m.mu.Unlock()
		if every := last.Add(m.cfg.RefreshEvery); !last.IsZero() && every.Before(due) {
			due = every
		}
	}
	if next := time.Unix(0, m.nextTry.Load()); m.nextTry.Load() != 0 && next.After(due) {
		due = next
	}
	return due
}

var maxTime = time.Unix(1<<62, 0)

// runRefresh is Run's refresh: at the proactive point a scheduled refresh;
// when RefreshEvery fell due first, a forced one.
func (m *Manager) runRefresh(ctx context.Context) {
	e := m.cur.Load()
	var err error
	if e != nil && !e.refreshAt.IsZero() && m.now().Before(e.refreshAt) {
		_, err = m.ForceRefresh(ctx)
	} else {
		_, err = m.await(ctx, m.startRefresh(false, ""))
	}
	if err != nil && ctx.Err() == nil {
		m.log.Debug("ebayauth: scheduled refresh failed; will retry", slog.String("error", err.Error()))
	}
}
