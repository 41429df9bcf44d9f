package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ebayauth/ebayauth"
)

// expiryMillis is the expiry_ms of a token that expires at t: Unix
// milliseconds, 0 for the zero time (never). An expiry of exactly the Unix
// epoch is -1, so as not to read as never.
func expiryMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	if ms := t.UnixMilli(); ms != 0 {
		return ms
	}
	return -1
}

// Load implements ebayauth.Store. A record that does not open (corrupt,
// sealed with a key this Store does not have) is an error matching
// ErrUnreadable, and stays where it is.
func (s *Store) Load(ctx context.Context, key string) (*ebayauth.Record, error) {
	if err := ctxErr(ctx, "load"); err != nil {
		return nil, err
	}
	var (
		exp     int64
		account *string
		payload []byte
	)
	err := s.pool.QueryRow(ctx, s.q.load, key).Scan(&exp, &account, &payload)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ebayauth.ErrNotFound
	case err != nil:
		return nil, s.fail(ctx, "load", err)
	}
	rec, _, err := s.openRecord(key, exp, account, payload)
	if err != nil {
		return nil, s.unreadable(ctx, "load", "token record", key, err)
	}
	return rec, nil
}

// openRecord opens the record of the tokens row key, and checks that its
// plain columns agree with it. It returns the record and its JSON.
func (s *Store) openRecord(key string, exp int64, account *string, payload []byte) (*ebayauth.Record, []byte, error) {
	js, err := s.seal.open(tokensTable, key, payload)
	if err != nil {
		return nil, nil, err
	}
	var rec ebayauth.Record
	if err := json.Unmarshal(js, &rec); err != nil || rec.Token == nil || rec.Token.AccessToken == "" {
		return nil, nil, errors.New("the sealed value is not a JSON record with an access token")
	}
	if expiryMillis(rec.Token.Expiry) != exp {
		return nil, nil, errors.New("the row's expiry_ms disagrees with its sealed record")
	}
	if col := deref(account); col != rec.Account {
		return nil, nil, errors.New("the row's account disagrees with its sealed record")
	}
	return &rec, js, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// nullIfEmpty is v, or NULL if v is "".
func nullIfEmpty(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// Save implements ebayauth.Store in one statement: the stored record is
// replaced unless its token expires later than rec's.
func (s *Store) Save(ctx context.Context, key string, rec *ebayauth.Record) error {
	if rec == nil || rec.Token == nil || rec.Token.AccessToken == "" {
		return errors.New("pgstore: save: record has no token")
	}
	if err := ctxErr(ctx, "save"); err != nil {
		return err
	}
	js, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("pgstore: save: %w", err)
	}
	payload := s.seal.seal(tokensTable, key, js)
	if _, err := s.pool.Exec(ctx, s.q.save, key, expiryMillis(rec.Token.Expiry), nullIfEmpty(rec.Account), payload); err != nil {
		return s.fail(ctx, "save", err)
	}
	return nil
}

// Delete implements ebayauth.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctxErr(ctx, "delete"); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.q.delete, key); err != nil {
		return s.fail(ctx, "delete", err)
	}
	return nil
}
