package ebayauth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Config and Manager hold credentials (client secret, refresh token,
// fallback token): they show themselves without them however they are
// printed. Token does the same in token.go.

// String describes c without its secrets: the client id masked, secrets
// as fingerprints.
func (c Config) String() string {
	return fmt.Sprintf("ebayauth.Config{client_id=%s client_secret=%s refresh_token=%s fallback_token=%s scopes=%q environment=%s}",
		maskID(c.ClientID), redacted(c.ClientSecret), redacted(c.RefreshToken), redacted(c.FallbackToken),
		c.Scopes, c.endpoint().environment())
}

// GoString is String.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Config) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer without the secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_id", maskID(c.ClientID)),
		slog.String("client_secret", redacted(c.ClientSecret)),
		slog.String("refresh_token", redacted(c.RefreshToken)),
		slog.String("fallback_token", redacted(c.FallbackToken)),
		slog.Any("scopes", c.Scopes),
		slog.String("environment", c.endpoint().environment()),
	)
}

// MarshalJSON writes what String shows.
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"client_id": maskID(c.ClientID), "client_secret": redacted(c.ClientSecret),
		"refresh_token": redacted(c.RefreshToken), "fallback_token": redacted(c.FallbackToken),
		"scopes": c.Scopes, "environment": c.endpoint().environment(),
	})
}

// String describes m without its secrets or its token.
func (m *Manager) String() string {
	if m == nil {
		return "<nil>"
	}
	return fmt.Sprintf("ebayauth.Manager{kind=%s environment=%s client_id=%s store=%s}",
		m.cfg.kind(), m.cfg.Endpoint.environment(), maskID(m.cfg.ClientID), storeName(m.store))
}

// GoString is String.
func (m *Manager) GoString() string { return m.String() }

// Format prints String for every verb.
func (m *Manager) Format(f fmt.State, _ rune) { io.WriteString(f, m.String()) }

// LogValue implements slog.LogValuer: the Manager's Status.
func (m *Manager) LogValue() slog.Value { return slog.StringValue(m.String()) }

// redacted shows a secret as "set (fingerprint …)", or "" if empty.
func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "fingerprint:" + fingerprint(secret)
}

// maxErrorText bounds the text of eBay's that goes into errors, Status and
// logs.
const maxErrorText = 300

// scrubber removes credentials from text a server sent back: a server that
// echoes its request would otherwise put them in logs.
type scrubber []string

// newScrubber scrubs each secret as written, URL-encoded both ways, and
// the Basic credentials made of id and secret.
func newScrubber(id string, secrets ...string) scrubber {
	var s scrubber
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		s = append(s, sec, url.QueryEscape(sec), url.PathEscape(sec))
	}
	if len(secrets) > 0 && secrets[0] != "" {
		s = append(s, base64.StdEncoding.EncodeToString([]byte(id+":"+secrets[0])))
	}
	return s
}

// clean returns text without the secrets, cut to maxErrorText bytes.
func (s scrubber) clean(text string) string {
	for _, sec := range s {
		if sec != "" {
			text = strings.ReplaceAll(text, sec, "[redacted]")
		}
	}
	if len(text) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return text
}
