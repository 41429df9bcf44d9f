package ebayauth

import (
	"fmt"
	"log/slog"
)

// The fallback chain when no refresh succeeds: the current token while it
// is still valid, then Config.FallbackToken, then an error matching
// ErrNoToken and the refresh failure.
//
// The fallback token is served as it is, with no expiry of its own: eBay
// decides whether it still works. It must be an OAuth access token; eBay's
// REST APIs answer 401 (errorId 1001) to a legacy Auth'n'Auth token.

// newFallbackEntry builds the entry served when the fallback is in use; nil
// if none is configured.
func newFallbackEntry(token string) *entry {
	if token == "" {
		return nil
	}
	return &entry{tok: &Token{AccessToken: token, TokenType: "Fallback Token"}, header: "Bearer " + token}
}

// degraded serves what it can after a refresh failed with err.
func (m *Manager) degraded(err error) (*entry, error) {
	if e := m.cur.Load(); e != nil && !e.rejected && e.tok.valid(m.now()) {
		return e, nil
	}
	if m.fallbackEntry != nil {
		m.useFallback(err)
		return m.fallbackEntry, nil
	}
	return nil, fmt.Errorf("%w (last refresh: %w)", ErrNoToken, err)
}

// useFallback counts a use of the fallback token after err, and reports
// the first use in a row.
func (m *Manager) useFallback(err error) {
	m.fallbackUses.Add(1)
	m.mu.Lock()
	first := !m.inFallback
	m.inFallback = true
	m.mu.Unlock()
	if first {
		fp := m.fallbackEntry.tok.Fingerprint()
		m.log.Warn("ebayauth: serving the static fallback token: no valid token could be minted",
			slog.String("fingerprint", fp), slog.String("error", err.Error()))
		m.emit(Event{Kind: EventFallbackUsed, Fingerprint: fp, Err: err})
	}
}
