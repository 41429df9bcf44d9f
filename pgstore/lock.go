package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ebayauth/ebayauth"
)

// Lock implements ebayauth.Locker with a lease on the database's clock,
// rounded up to a whole microsecond. It returns ErrLocked if another holder
// has the key, unless that holder's lease lapsed or is implausibly far
// ahead (more than twice lease and a minute), and an error for a lease that
// is not positive. The unlock it returns releases the lock only if it is
// still the caller's.
func (s *Store) Lock(ctx context.Context, key string, lease time.Duration) (func(context.Context) error, error) {
	if err := ctxErr(ctx, "lock"); err != nil {
		return nil, err
	}
	if lease <= 0 {
		return nil, fmt.Errorf("pgstore: lock: lease %v is not positive", lease)
	}
	micros := int64((lease + time.Microsecond - 1) / time.Microsecond)
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails
	holder := hex.EncodeToString(b)
	var broke bool
	err := s.pool.QueryRow(ctx, s.q.lock, key, holder, micros).Scan(&broke)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ebayauth.ErrLocked
	case err != nil:
		return nil, s.fail(ctx, "lock", err)
	}
	if broke {
		s.log.WarnContext(ctx, "pgstore: broke a mint lock with an implausible lease", slog.String("store", s.desc),
			slog.String("schema", s.schema), slog.String("key", key), slog.Duration("lease", lease))
	}
	return func(ctx context.Context) error {
		if err := ctxErr(ctx, "unlock"); err != nil {
			return err
		}
		if _, err := s.pool.Exec(ctx, s.q.unlock, key, holder); err != nil {
			return s.fail(ctx, "unlock", err)
		}
		return nil
	}, nil
}
