package ebayauth

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Run keeps the token fresh without traffic: it refreshes at each token's
// proactive point (and at least every Config.RefreshEvery, if set),
// validates every Config.ValidateEvery, and replaces a token that
// validation finds revoked. Failures are logged and reported as events, and
// retried with the Manager's backoff. Run returns nil when ctx ends, and
// ErrClosed when the Manager is closed (at once if it already is).
func (m *Manager) Run(ctx context.Context) error {
	if m.ctx.Err() != nil {
		return ErrClosed
	}
	clock := m.cfg.Clock
	nextValidate := time.Time{}
	if m.cfg.ValidateEvery > 0 {
		nextValidate = clock.Now().Add(m.cfg.ValidateEvery)
	}
	for {
		now := clock.Now()
		if due := m.nextRefresh(); m.cfg.RefreshEvery >= 0 && !now.Before(due) {
			m.runRefresh(ctx)
			now = clock.Now()
		}
		if !nextValidate.IsZero() && !now.Before(nextValidate) {
			_ = m.Sync(ctx) // validate the token the fleet shares
			var ae *APIError
			if err := m.Validate(ctx); errors.As(err, &ae) && ae.IsInvalidToken() && m.cfg.RefreshEvery >= 0 {
				if _, err := m.ForceRefresh(ctx); err != nil && ctx.Err() == nil {
					m.log.Error("ebayauth: replacing the token validation rejected failed", slog.String("error", err.Error()))
				}
			}
			now = clock.Now()
			nextValidate = now.Add(m.cfg.ValidateEvery)
		}
		wake := m.nextRefresh()
		if m.cfg.RefreshEvery < 0 {
			wake = maxTime
		}
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
		case <-m.ctx.Done():
			return ErrClosed
		case <-clock.After(d):
		}
	}
}

// nextRefresh is when Run should refresh next: the current token's
// proactive point, RefreshEvery after the last refresh if sooner, and not
// before the backoff after a failure ends.
func (m *Manager) nextRefresh() time.Time {
	var due time.Time
	if e := m.cur.Load(); e != nil && !e.rejected {
		due = e.refreshAt
		if due.IsZero() {
			due = maxTime
		}
	}
	if m.cfg.RefreshEvery > 0 {
		var last time.Time
		if e := m.cur.Load(); e != nil {
			last = e.minted
		}
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
	if e != nil && !e.rejected && !e.refreshAt.IsZero() && m.now().Before(e.refreshAt) {
		_, err = m.ForceRefresh(ctx)
	} else {
		_, err = m.await(ctx, m.startRefresh(false, ""))
	}
	if err != nil && ctx.Err() == nil {
		m.log.Debug("ebayauth: scheduled refresh failed; will retry", slog.String("error", err.Error()))
	}
}
