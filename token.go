package ebayauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"
)

// Token is an eBay OAuth access token, and for the authorization-code
// exchange also the refresh token that came with it.
//
// A Token's String, GoString and LogValue methods show a fingerprint, never
// the token itself, so a Token printed with fmt or logged with log/slog does
// not leak a credential. Its JSON form, the one the stores keep, does hold
// the credentials: treat it as a secret.
type Token struct {
	// AccessToken is the bearer credential sent to eBay's REST APIs.
	AccessToken string `json:"access_token"`
	// TokenType is the type as eBay said it, e.g. "Application Access Token"
	// or "User Access Token". It is informational: the Transport always sends
	// the token with the Bearer scheme, which is what eBay's REST APIs expect.
	TokenType string `json:"token_type,omitempty"`
	// Expiry is when the access token stops working. The zero time means the
	// token does not expire (a static token whose lifetime is unknown).
	Expiry time.Time `json:"expiry,omitzero"`
	// RefreshToken is set only by Config.Exchange: eBay does not rotate
	// refresh tokens, so the refresh_token grant never returns one.
	RefreshToken string `json:"refresh_token,omitempty"`
	// RefreshTokenExpiry is when RefreshToken stops working, if known.
	RefreshTokenExpiry time.Time `json:"refresh_token_expiry,omitzero"`
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
	return Fingerprint(t.AccessToken)
}

// Fingerprint returns the first 12 hex digits of the SHA-256 of secret, the
// form in which this package shows tokens and secrets in logs, errors and
// status output.
func Fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:6])
}

// String describes t without revealing its credentials.
func (t *Token) String() string {
	if t == nil {
		return "<nil>"
	}
	exp := "never"
	if !t.Expiry.IsZero() {
		exp = t.Expiry.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("ebayauth.Token{type=%q fingerprint=%s expiry=%s}", t.TokenType, t.Fingerprint(), exp)
}

// GoString is String, so that %#v does not print the credential either.
func (t *Token) GoString() string { return t.String() }

// LogValue implements slog.LogValuer: a logged Token shows its type,
// fingerprint and expiry, never the credential.
func (t *Token) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(
		slog.String("type", t.TokenType),
		slog.String("fingerprint", t.Fingerprint()),
		slog.Time("expiry", t.Expiry),
	)
}

// A TokenSource returns a token. Implementations are safe for concurrent
// use; ctx bounds only the caller's wait.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// A Refresher is a TokenSource that can replace a token a server rejected.
// The Transport uses it to heal a 401: Refresh returns a token other than
// rejected, refreshing only if rejected is still the source's current token,
// so that many requests rejected with the same token cause one refresh.
type Refresher interface {
	TokenSource
	Refresh(ctx context.Context, rejected *Token) (*Token, error)
}

// StaticTokenSource returns a TokenSource that always returns t. It is meant
// for tests and for migrating code that holds a token pasted from eBay's
// developer portal; it never refreshes.
func StaticTokenSource(t *Token) TokenSource { return staticSource{t} }

type staticSource struct{ t *Token }

func (s staticSource) Token(context.Context) (*Token, error) {
	if s.t == nil || s.t.AccessToken == "" {
		return nil, ErrNoToken
	}
	return s.t, nil
}
