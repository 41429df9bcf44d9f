package pgstore

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ebayauth/ebayauth"
)

// LoadSecret implements ebayauth.SecretStore. A secret that does not open
// with the store's keys is an error matching ErrUnreadable.
func (s *Store) LoadSecret(ctx context.Context, name string) ([]byte, error) {
	if err := ctxErr(ctx, "load secret"); err != nil {
		return nil, err
	}
	var payload []byte
	err := s.pool.QueryRow(ctx, s.q.loadSecret, name).Scan(&payload)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ebayauth.ErrNotFound
	case err != nil:
		return nil, s.fail(ctx, "load secret", err)
	}
	v, err := s.seal.open(secretsTable, name, payload)
	if err != nil {
		return nil, s.unreadable(ctx, "load secret", "secret", name, err)
	}
	return v, nil
}

// SaveSecret implements ebayauth.SecretStore: the value is sealed with the
// current seal key, bound to its name.
func (s *Store) SaveSecret(ctx context.Context, name string, value []byte) error {
	if name == "" {
		return errors.New("pgstore: save secret: empty name")
	}
	if err := ctxErr(ctx, "save secret"); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.q.saveSecret, name, s.seal.seal(secretsTable, name, value)); err != nil {
		return s.fail(ctx, "save secret", err)
	}
	return nil
}
