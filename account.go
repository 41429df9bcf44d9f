package ebayauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Account is one eBay seller the app acts for: the refresh token the
// seller's consent gave, and what eBay's Identity API said of the seller.
//
// An Account shows itself without its refresh token however it is printed
// (fmt, log/slog); its JSON form is what account stores keep, refresh token
// included.
type Account struct {
	// ID is eBay's immutable user id (Identity API getUser "userId"): the
	// key. Usernames can change; ids do not.
	ID string `json:"id"`
	// Username is the seller's eBay user name at the last consent.
	Username string `json:"username,omitempty"`
	// RefreshToken is a secret: never logged, sealed at rest by stores
	// that leave the process.
	RefreshToken       string    `json:"refresh_token"`
	RefreshTokenExpiry time.Time `json:"refresh_token_expiry,omitzero"`
	// Scopes are the scopes the seller consented to.
	Scopes []string `json:"scopes,omitempty"`
	// Marketplace is the seller's registrationMarketplaceId, e.g.
	// "EBAY_GB" (EU and UK sellers need digital signatures on some calls).
	Marketplace string `json:"marketplace,omitempty"`
	// NeedsConsent is set when eBay refused the refresh token
	// (invalid_grant): only a new consent helps. Connect clears it.
	NeedsConsent bool      `json:"needs_consent,omitempty"`
	Created      time.Time `json:"created,omitzero"`
	Updated      time.Time `json:"updated,omitzero"`
}

// String describes a without its refresh token.
func (a Account) String() string {
	return fmt.Sprintf("ebayauth.Account{id=%s username=%q marketplace=%s refresh_token=%s needs_consent=%v}",
		a.ID, a.Username, a.Marketplace, redacted(a.RefreshToken), a.NeedsConsent)
}

// GoString is String.
func (a Account) GoString() string { return a.String() }

// Format prints String for every verb.
func (a Account) Format(f fmt.State, _ rune) { io.WriteString(f, a.String()) }

// LogValue implements slog.LogValuer without the refresh token.
func (a Account) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.ID), slog.String("username", a.Username),
		slog.String("marketplace", a.Marketplace), slog.Bool("needs_consent", a.NeedsConsent))
}

// clone returns a deep copy of a.
func (a *Account) clone() *Account {
	c := *a
	c.Scopes = append([]string(nil), a.Scopes...)
	return &c
}

// An AccountStore keeps sellers' accounts. MemoryStore, filestore and
// pgstore implement it (each is also a Store, so one backend keeps both the
// accounts and their access tokens). Implementations are safe for
// concurrent use and honour ctx.
type AccountStore interface {
	// LoadAccount returns the account with id, or an error matching
	// ErrNotFound.
	LoadAccount(ctx context.Context, id string) (*Account, error)
	// SaveAccount creates or replaces the account with a.ID.
	SaveAccount(ctx context.Context, a *Account) error
	// DeleteAccount removes the account and forgets its cached access
	// tokens (the Store records whose Record.Account is id). Deleting a
	// missing account is not an error.
	DeleteAccount(ctx context.Context, id string) error
	// ListAccounts returns up to limit accounts whose IDs sort after
	// after, by ID ascending: page through all with the last ID of each
	// page.
	ListAccounts(ctx context.Context, after string, limit int) ([]*Account, error)
}

// ErrConsentRequired is returned for an account whose refresh token eBay
// refused (invalid_grant): the seller must consent again. It also matches
// ErrInvalidGrant.
var ErrConsentRequired error = consentRequired{}

type consentRequired struct{}

func (consentRequired) Error() string { return "ebayauth: the seller must consent again" }

func (consentRequired) Is(target error) bool { return target == ErrInvalidGrant }

// errNoAccount is a request through Accounts' Transport whose context names
// no account.
var errNoAccount = errors.New("ebayauth: the request's context names no account (use ebayauth.WithAccount)")

type accountKey struct{}

// WithAccount returns a context that makes requests through
// Accounts.Client and Accounts.Transport act for the account id.
func WithAccount(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, accountKey{}, id)
}

// accountFrom returns the account id in ctx, "" if none.
func accountFrom(ctx context.Context) string {
	id, _ := ctx.Value(accountKey{}).(string)
	return id
}
