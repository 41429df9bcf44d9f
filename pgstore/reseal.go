package pgstore

import (
	"context"
	"fmt"
	"log/slog"
)

// resealPage is how many rows Reseal reads at a time.
const resealPage = 500

// Reseal seals with the current key every token record and account refresh
// token sealed with an old key (WithOldSealKeys), so that the old key can
// then be dropped, and returns how many values it re-sealed. It runs
// alongside the Store's other users: a value saved meanwhile is left to
// that save. Values it cannot open stay as they are; it goes on past them
// and then returns an error matching ErrUnreadable that says how many
// there were.
func (s *Store) Reseal(ctx context.Context) (int, error) {
	if err := ctxErr(ctx, "reseal"); err != nil {
		return 0, err
	}
	cur := s.seal.currentID()
	n, bad := 0, 0

	// Token records.
	for after := ""; ; {
		type row struct {
			key     string
			exp     int64
			account *string
			payload []byte
		}
		rows, err := s.pool.Query(ctx, s.q.resealTokensPage, after, cur[:], resealPage)
		if err != nil {
			return n, s.fail(ctx, "reseal", err)
		}
		var page []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.key, &r.exp, &r.account, &r.payload); err != nil {
				rows.Close()
				return n, s.fail(ctx, "reseal", err)
			}
			page = append(page, r)
		}
		if err := rows.Err(); err != nil {
			return n, s.fail(ctx, "reseal", err)
		}
		for _, r := range page {
			after = r.key
			_, js, err := s.openRecord(r.key, r.exp, r.account, r.payload)
			if err != nil {
				bad++
				_ = s.unreadable(ctx, "reseal", "token record", r.key, err)
				continue
			}
			tag, err := s.pool.Exec(ctx, s.q.resealToken, r.key, r.payload, s.seal.seal(tokensTable, r.key, js))
			if err != nil {
				return n, s.fail(ctx, "reseal", err)
			}
			n += int(tag.RowsAffected())
		}
		if len(page) < resealPage {
			break
		}
	}

	// Accounts' refresh tokens.
	for after := ""; ; {
		type row struct {
			id     string
			sealed []byte
		}
		rows, err := s.pool.Query(ctx, s.q.resealAccountsPage, after, cur[:], resealPage)
		if err != nil {
			return n, s.fail(ctx, "reseal", err)
		}
		var page []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.sealed); err != nil {
				rows.Close()
				return n, s.fail(ctx, "reseal", err)
			}
			page = append(page, r)
		}
		if err := rows.Err(); err != nil {
			return n, s.fail(ctx, "reseal", err)
		}
		for _, r := range page {
			after = r.id
			rt, err := s.seal.open(accountsTable, r.id, r.sealed)
			if err != nil {
				bad++
				_ = s.unreadable(ctx, "reseal", "account", r.id, err)
				continue
			}
			tag, err := s.pool.Exec(ctx, s.q.resealAccount, r.id, r.sealed, s.seal.seal(accountsTable, r.id, rt))
			if err != nil {
				return n, s.fail(ctx, "reseal", err)
			}
			n += int(tag.RowsAffected())
		}
		if len(page) < resealPage {
			break
		}
	}

	s.log.InfoContext(ctx, "pgstore: re-sealed values with the current key", slog.String("store", s.desc),
		slog.String("schema", s.schema), slog.Int("resealed", n), slog.Int("unreadable", bad))
	if bad > 0 {
		return n, fmt.Errorf("pgstore: reseal: %w: %d values do not open with this store's keys; they are left as they are", ErrUnreadable, bad)
	}
	return n, nil
}
