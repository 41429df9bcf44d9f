package pgstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
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
	for _, t := range []struct {
		table, what, page, update string
		scan                      func(pgx.Rows) (resealRow, error)
	}{
		{tokensTable, "token record", s.q.resealTokensPage, s.q.resealToken, func(rows pgx.Rows) (resealRow, error) {
			var (
				key     string
				exp     int64
				account *string
				payload []byte
			)
			err := rows.Scan(&key, &exp, &account, &payload)
			return resealRow{key, payload, func() ([]byte, error) {
				_, js, err := s.openRecord(key, exp, account, payload)
				return js, err
			}}, err
		}},
		{accountsTable, "account", s.q.resealAccountsPage, s.q.resealAccount, func(rows pgx.Rows) (resealRow, error) {
			var (
				id     string
				sealed []byte
			)
			err := rows.Scan(&id, &sealed)
			return resealRow{id, sealed, func() ([]byte, error) { return s.seal.open(accountsTable, id, sealed) }}, err
		}},
	} {
		tn, tbad, err := s.resealTable(ctx, cur[:], t.table, t.what, t.page, t.update, t.scan)
		n, bad = n+tn, bad+tbad
		if err != nil {
			return n, err
		}
	}

	s.log.InfoContext(ctx, "pgstore: re-sealed values with the current key", slog.String("store", s.desc),
		slog.String("schema", s.schema), slog.Int("resealed", n), slog.Int("unreadable", bad))
	if bad > 0 {
		return n, fmt.Errorf("pgstore: reseal: %w: %d values do not open with this store's keys; they are left as they are", ErrUnreadable, bad)
	}
	return n, nil
}

// resealRow is a row Reseal reads: its key, the value as stored, and how
// to open it.
type resealRow struct {
	key  string
	old  []byte
	open func() ([]byte, error)
}

// resealTable re-seals, page by page in key order, the rows of table that
// page (a query taking after, the current key id and a limit) returns, with
// update (taking the key, the old value and the new one; it changes nothing
// if the row changed meanwhile). It returns how many rows it re-sealed and
// how many it could not open.
func (s *Store) resealTable(ctx context.Context, cur []byte, table, what, page, update string,
	scan func(pgx.Rows) (resealRow, error)) (n, bad int, err error) {
	for after := ""; ; {
		rows, err := s.pool.Query(ctx, page, after, cur, resealPage)
		if err != nil {
			return n, bad, s.fail(ctx, "reseal", err)
		}
		var got []resealRow
		for rows.Next() {
			r, err := scan(rows)
			if err != nil {
				rows.Close()
				return n, bad, s.fail(ctx, "reseal", err)
			}
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			return n, bad, s.fail(ctx, "reseal", err)
		}
		for _, r := range got {
			after = r.key
			plain, err := r.open()
			if err != nil {
				bad++
				_ = s.unreadable(ctx, "reseal", what, r.key, err)
				continue
			}
			tag, err := s.pool.Exec(ctx, update, r.key, r.old, s.seal.seal(table, r.key, plain))
			if err != nil {
				return n, bad, s.fail(ctx, "reseal", err)
			}
			n += int(tag.RowsAffected())
		}
		if len(got) < resealPage {
			return n, bad, nil
		}
	}
}
