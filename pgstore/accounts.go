package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ebayauth/ebayauth"
)

// LoadAccount implements ebayauth.AccountStore. An account whose refresh
// token does not open is an error matching ErrUnreadable.
func (s *Store) LoadAccount(ctx context.Context, id string) (*ebayauth.Account, error) {
	if err := ctxErr(ctx, "load account"); err != nil {
		return nil, err
	}
	a, err := s.scanAccount(ctx, "load account", s.pool.QueryRow(ctx, s.q.loadAccount, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ebayauth.ErrNotFound
	case err != nil:
		return nil, err
	}
	return a, nil
}

// scanAccount reads a row of accountColumns and opens its refresh token.
// It returns pgx.ErrNoRows as it is.
func (s *Store) scanAccount(ctx context.Context, op string, row pgx.Row) (*ebayauth.Account, error) {
	var (
		a                     ebayauth.Account
		sealed                []byte
		rte, created, updated *time.Time
	)
	err := row.Scan(&a.ID, &sealed, &a.Username, &a.Marketplace, &a.Scopes, &a.NeedsConsent, &rte, &created, &updated)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, err
	case err != nil:
		return nil, s.fail(ctx, op, err)
	}
	rt, err := s.seal.open(accountsTable, a.ID, sealed)
	if err != nil {
		return nil, s.unreadable(ctx, op, "account", a.ID, err)
	}
	a.RefreshToken = string(rt)
	a.RefreshTokenExpiry, a.Created, a.Updated = orZero(rte), orZero(created), orZero(updated)
	if len(a.Scopes) == 0 {
		a.Scopes = nil
	}
	return &a, nil
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// nullIfZero is t, or NULL if t is the zero time.
func nullIfZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// SaveAccount implements ebayauth.AccountStore, sealing the refresh token
// with the current key.
func (s *Store) SaveAccount(ctx context.Context, a *ebayauth.Account) error {
	if err := ebayauth.CheckAccount(a); err != nil {
		return fmt.Errorf("pgstore: save account: %w", err)
	}
	if err := ctxErr(ctx, "save account"); err != nil {
		return err
	}
	scopes := a.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	sealed := s.seal.seal(accountsTable, a.ID, []byte(a.RefreshToken))
	_, err := s.pool.Exec(ctx, s.q.saveAccount, a.ID, sealed, a.Username, a.Marketplace, scopes, a.NeedsConsent,
		nullIfZero(a.RefreshTokenExpiry), nullIfZero(a.Created), nullIfZero(a.Updated))
	if err != nil {
		return s.fail(ctx, "save account", err)
	}
	return nil
}

// DeleteAccount implements ebayauth.AccountStore: it deletes the account and
// the token records whose account is id, in one transaction.
func (s *Store) DeleteAccount(ctx context.Context, id string) error {
	if err := ctxErr(ctx, "delete account"); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.q.deleteAccount, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, s.q.deleteAccountTokens, id)
		return err
	})
	if err != nil {
		return s.fail(ctx, "delete account", err)
	}
	return nil
}

// ListAccounts implements ebayauth.AccountStore. IDs compare byte by byte,
// as Go compares strings. An account whose refresh token does not open
// fails the page with an error matching ErrUnreadable that names its id.
func (s *Store) ListAccounts(ctx context.Context, after string, limit int) ([]*ebayauth.Account, error) {
	if err := ctxErr(ctx, "list accounts"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("pgstore: list accounts: limit %d is not positive", limit)
	}
	rows, err := s.pool.Query(ctx, s.q.listAccounts, after, limit)
	if err != nil {
		return nil, s.fail(ctx, "list accounts", err)
	}
	defer rows.Close()
	var out []*ebayauth.Account
	for rows.Next() {
		a, err := s.scanAccount(ctx, "list accounts", rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "list accounts", err)
	}
	return out, nil
}
