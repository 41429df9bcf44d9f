package ebayauth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Token is an eBay OAuth access token, and for the authorization-code
// exchange also the refresh token that came with it.
//
// A Token shows a fingerprint, never its credentials, however it is printed
// (fmt, log/slog, encoding/json), by value or by pointer.
type Token struct {
	// AccessToken is the bearer credential sent to eBay's REST APIs.
	AccessToken string
	// TokenType is the type as eBay said it, e.g. "Application Access Token"
	// or "User Access Token". It is informational: the Transport always sends
	// the token with the Bearer scheme, which is what eBay's REST APIs expect.
	TokenType string
	// Expiry is when the access token stops working. The zero time means the
	// token does not expire (a static token whose lifetime is unknown).
	Expiry time.Time
	// RefreshToken is set only by Config.Exchange: eBay does not rotate
	// refresh tokens, so the refresh_token grant never returns one.
	RefreshToken string
	// RefreshTokenExpiry is when RefreshToken stops working, if known.
	RefreshTokenExpiry time.Time
}

// Valid reports whether t is non-nil, has an access token and has not
// expired at now.
func (t *Token) valid(now time.Time) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || now.Before(t.Expiry))
}

// Valid reports whether t is non-nil, has an access token and has not expired
// by the system clock.
func (t *Token) Valid() bool { return t.valid(time.Now()) }

// Fingerprint returns a short, stable identifier of the access token: the
// first 12 hex digits of its SHA-256. It is safe to log and lets two log
// lines be matched to the same token without revealing it.
func (t *Token) Fingerprint() string {
	if t == nil || t.AccessToken == "" {
		return ""
	}
	return fingerprint(t.AccessToken)
}

// fingerprint returns the first 12 hex digits of the SHA-256 of secret, the
// form in which this package shows tokens and secrets in logs, errors and
// status output.
func fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:6])
}

// String describes t without revealing its credentials. Token's String,
// GoString, Format, LogValue and MarshalJSON have value receivers, so a
// Token, a *Token, a []Token and a dereferenced token all redact
// themselves, with fmt, log/slog and encoding/json alike.
func (t Token) String() string {
	exp := "never"
	if !t.Expiry.IsZero() {
		exp = t.Expiry.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("ebayauth.Token{type=%q fingerprint=%s expiry=%s}", t.TokenType, t.Fingerprint(), exp)
}

// GoString is String, so that %#v does not print the credential either.
func (t Token) GoString() string { return t.String() }

// Format prints String for every verb, so that no verb (%v, %+v, %#v, %s,
// %q, %x) prints the credential.
func (t Token) Format(f fmt.State, verb rune) { io.WriteString(f, t.String()) }

// LogValue implements slog.LogValuer: a logged Token shows its type,
// fingerprint and expiry, never the credential.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", t.TokenType),
		slog.String("fingerprint", t.Fingerprint()),
		slog.Time("expiry", t.Expiry),
	)
}

// MarshalJSON writes the token's type, fingerprint and expiry, never the
// credentials. (A Store keeps the credentials: a Record's JSON form holds
// them, for that purpose only.)
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TokenType   string `json:"token_type,omitempty"`
		Fingerprint string `json:"fingerprint,omitempty"`
		Expiry      time.Time
	}{t.TokenType, t.Fingerprint(), t.Expiry})
}

// tokenWire is the JSON form of a Token with its credentials, as a Record
// keeps it.
type tokenWire struct {
	AccessToken        string    `json:"access_token"`
	TokenType          string    `json:"token_type,omitempty"`
	Expiry             time.Time `json:"expiry,omitzero"`
	RefreshToken       string    `json:"refresh_token,omitempty"`
	RefreshTokenExpiry time.Time `json:"refresh_token_expiry,omitzero"`
}

// validHeaderToken reports whether s can be sent as a bearer token: visible
// ASCII only, no space, CR, LF or other control byte, at most 16 KiB.
func validHeaderToken(s string) bool {
	if s == "" || len(s) > 16<<10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}
