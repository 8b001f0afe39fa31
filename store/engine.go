package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// Engine is the database hallway keeps its state in.
type Engine string

const (
	// SQLite is the default: one file, embedded, nothing to run.
	SQLite Engine = "sqlite"
	// PostgreSQL is for several instances on one database and a hot
	// standby.
	PostgreSQL Engine = "postgres"
)

// ParseSource tells which engine a store source names, and what to give
// that engine: "postgres://…" or "postgresql://…" is PostgreSQL (a
// libpq URL), "sqlite:PATH" or a plain path is SQLite.
func ParseSource(source string) (Engine, string, error) {
	switch {
	case source == "":
		return "", "", fmt.Errorf("no database given: set a file path, sqlite:PATH or postgres://USER@HOST/DB")
	case strings.HasPrefix(source, "postgres://"), strings.HasPrefix(source, "postgresql://"):
		if _, err := pgx.ParseConfig(source); err != nil {
			return "", "", fmt.Errorf("database URL %s: %w", redact(source), err)
		}
		return PostgreSQL, source, nil
	case strings.HasPrefix(source, "sqlite:"):
		path := strings.TrimPrefix(source, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", fmt.Errorf("database %q names no file: write sqlite:PATH", source)
		}
		return SQLite, path, nil
	case strings.Contains(source, "://"):
		return "", "", fmt.Errorf("database %s: unknown kind; write a file path, sqlite:PATH or postgres://USER@HOST/DB", redact(source))
	}
	return SQLite, source, nil
}

// redact hides a URL's password, for messages and logs.
func redact(source string) string {
	u, err := url.Parse(source)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return u.Redacted()
}

// Engine is the store's database engine.
func (s *Store) Engine() Engine { return s.engine }

// openPostgresStore connects to the PostgreSQL database at source and
// readies it with ready (bringing the schema up to date, or checking it).
func openPostgresStore(ctx context.Context, source string, ready func(*Store, context.Context) error) (*Store, error) {
	db, err := openPostgres(ctx, source)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, engine: PostgreSQL, Now: time.Now, writer: make(chan struct{}, 1)}
	if err := ready(s, ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", redact(source), err)
	}
	return s, nil
}

// openPostgres connects to PostgreSQL. Times are read in UTC, as
// SQLite's are, so nothing above the store sees which engine it runs on.
func openPostgres(ctx context.Context, source string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(source)
	if err != nil {
		return nil, fmt.Errorf("database URL %s: %w", redact(source), err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["application_name"] = "hallway"
	// A process frozen mid-transaction (a paused VM, SIGSTOP) must not
	// hold the write lock for ever: the server ends its session, and a
	// standby can take over (the leader's lease lasts 6 s by default).
	if _, set := cfg.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		cfg.RuntimeParams["idle_in_transaction_session_timeout"] = "5s"
	}
	db := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}))
	// More connections than SQLite's four: the server runs readers and
	// writers side by side.
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", redact(source), err)
	}
	return db, nil
}

// Every PostgreSQL write transaction takes one advisory lock first
// (postgres.go, takeWriteLock). Writes are then serialized as on SQLite,
// so the rules that read before they write (seats left, votes left, the
// next number) hold with several instances on one database without each
// being re-proved under a weaker isolation; readers never take it.
