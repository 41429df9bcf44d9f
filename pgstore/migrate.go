package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// migrationFiles are the schema's migrations, NNNN_name.sql, applied in
// order of NNNN from 1 up. A migration must leave the statements of the
// previous versions working (add, never rename or drop), so that processes
// still running the previous version keep working while a new one rolls
// out.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string // the file name
	sql     string // with {{schema}} in place of the schema
}

// migrations are the embedded migrations, by version.
var migrations = mustMigrations(migrationFiles)

func mustMigrations(fsys fs.FS) []migration {
	ms, err := readMigrations(fsys)
	if err != nil {
		panic("pgstore: embedded migrations: " + err.Error())
	}
	return ms
}

// readMigrations reads the migrations in fsys's migrations directory and
// checks that their versions run 1, 2, 3 … without a gap.
func readMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for i, name := range names { // fs.Glob sorts
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 {
			return nil, fmt.Errorf("%s: want NNNN_name.sql", base)
		}
		if v != i+1 {
			return nil, fmt.Errorf("%s: version %d; want %d", base, v, i+1)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	if len(ms) == 0 {
		return nil, errors.New("none")
	}
	return ms, nil
}

// latestVersion is the schema version this package brings a schema to.
func latestVersion() int { return migrations[len(migrations)-1].version }

// migrationLock is the advisory lock key of migrating schema: one per
// schema, so that schemas of one database migrate independently.
func migrationLock(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("ebayauth/pgstore migrate\x00"))
	h.Write([]byte(schema))
	return int64(h.Sum64())
}

// migrate brings the schema up to date. A schema already current costs one
// query, and no lock.
func (s *Store) migrate(ctx context.Context) error {
	if err := ctxErr(ctx, "migrate"); err != nil {
		return err
	}
	v, err := s.schemaVersion(ctx, s.pool)
	switch {
	case err == nil && v >= latestVersion():
		s.warnIfNewer(ctx, v)
		return nil
	case err != nil && !isMissing(err):
		return s.fail(ctx, "migrate: reading the schema version", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock(s.schema)); err != nil {
			return fmt.Errorf("taking the migration lock: %w", err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", s.schema).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA "+quote(s.schema)); err != nil {
				return fmt.Errorf("creating schema: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, s.expand(`CREATE TABLE IF NOT EXISTS {{schema}}.schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`)); err != nil {
			return fmt.Errorf("creating schema_migrations: %w", err)
		}
		v, err := s.schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range migrations {
			if m.version <= v {
				continue
			}
			if _, err := tx.Exec(ctx, s.expand(m.sql)); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, s.expand("INSERT INTO {{schema}}.schema_migrations (version, name) VALUES ($1, $2)"), m.version, m.name); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			s.log.InfoContext(ctx, "pgstore: migrated schema", slog.String("store", s.desc),
				slog.String("schema", s.schema), slog.String("migration", m.name))
		}
		s.warnIfNewer(ctx, v)
		return nil
	})
	if err != nil {
		return s.fail(ctx, "migrate schema "+quote(s.schema), err)
	}
	return nil
}

// warnIfNewer logs that the schema is at version v, newer than this
// package's: a newer version of it runs alongside.
func (s *Store) warnIfNewer(ctx context.Context, v int) {
	if v > latestVersion() {
		s.log.WarnContext(ctx, "pgstore: the schema is newer than this version of pgstore knows; using it as is",
			slog.String("store", s.desc), slog.String("schema", s.schema),
			slog.Int("schema_version", v), slog.Int("known_version", latestVersion()))
	}
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// schemaVersion returns the highest applied migration, 0 if none.
func (s *Store) schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRow(ctx, s.expand("SELECT COALESCE(max(version), 0) FROM {{schema}}.schema_migrations")).Scan(&v)
	return v, err
}

// isMissing reports whether err says the schema or a table does not exist.
func isMissing(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000") // undefined_table, invalid_schema_name
}

// quote is the schema's name as an SQL identifier.
func quote(schema string) string { return pgx.Identifier{schema}.Sanitize() }

// expand puts the quoted schema in place of {{schema}} in sql.
func (s *Store) expand(sql string) string {
	return strings.ReplaceAll(sql, "{{schema}}", quote(s.schema))
}
