// Package storetest gives each test a database of its own, on the engine
// the test run asks for: SQLite by default, PostgreSQL when
// HALLWAY_TEST_ENGINE=postgres, on the server HALLWAY_TEST_POSTGRES names
// (scripts/testenv.sh starts one and prints it). The test command runs
// the suite on both.
//
// It hands out sources, strings for store.Open, and imports nothing of
// hallway's, so the store's own tests can use it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store/internal/placeholder"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Postgres reports whether this test run keeps its stores in PostgreSQL.
func Postgres() bool { return os.Getenv("HALLWAY_TEST_ENGINE") == "postgres" }

// Source returns the source of a fresh, empty database that lives as long
// as the test: a file in the test's temporary directory, or a new
// PostgreSQL database dropped when the test ends.
func Source(t testing.TB) string {
	t.Helper()
	if !Postgres() {
		return filepath.Join(t.TempDir(), "hallway.db")
	}
	return NewDatabase(t)
}

// SQLiteOnly skips a test about SQLite itself (its file, its pages) in a
// PostgreSQL run.
func SQLiteOnly(t testing.TB) {
	t.Helper()
	if Postgres() {
		t.Skip("about SQLite's file; this run keeps its stores in PostgreSQL")
	}
}

var unsafe = regexp.MustCompile(`[^a-z0-9]+`)

// NewDatabase makes a new, empty PostgreSQL database on
// HALLWAY_TEST_POSTGRES, whatever the engine of the run, and returns its
// URL; it goes when the test ends. It is a schema of its own in the
// server's database (the URL's search_path names it): making one takes
// milliseconds where CREATE DATABASE takes a second on a loaded machine,
// and hallway's write lock is per schema.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("HALLWAY_TEST_POSTGRES")
	if admin == "" {
		t.Fatal("HALLWAY_TEST_POSTGRES is not set: start the test servers (scripts/testenv.sh start; eval \"$(scripts/testenv.sh env)\")")
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("HALLWAY_TEST_POSTGRES: %v", err)
	}
	var r [5]byte
	rand.Read(r[:])
	name := strings.Trim(unsafe.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = "t_" + name + "_" + hex.EncodeToString(r[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminExec(ctx, admin, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := adminExec(ctx, admin, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Logf("drop test schema %s: %v", name, err)
		}
	})
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func adminExec(ctx context.Context, admin, sql string) error {
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", admin, err)
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

// DB is a test's own look into a store's tables, on either engine: its
// queries are written with ? placeholders, as the store's are.
type DB struct {
	*sql.DB
	postgres bool
}

// OpenDB opens source (as store.Open takes it) for a test to query
// directly, closed when the test ends.
func OpenDB(t testing.TB, source string) *DB {
	t.Helper()
	var db *sql.DB
	var err error
	pg := strings.HasPrefix(source, "postgres://") || strings.HasPrefix(source, "postgresql://")
	if pg {
		db, err = sql.Open("pgx", source)
	} else {
		db, err = sql.Open("sqlite", "file:"+strings.TrimPrefix(source, "sqlite:")+"?_pragma=busy_timeout(5000)&_time_format=sqlite")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &DB{DB: db, postgres: pg}
}

func (db *DB) q(query string) string {
	if db.postgres {
		return placeholder.Numbered(query)
	}
	return query
}

// QueryRow runs a query of one row.
func (db *DB) QueryRow(query string, args ...any) *sql.Row {
	return db.DB.QueryRow(db.q(query), args...)
}

// QueryRowContext runs a query of one row.
func (db *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return db.DB.QueryRowContext(ctx, db.q(query), args...)
}

// Query runs a query.
func (db *DB) Query(query string, args ...any) (*sql.Rows, error) {
	return db.DB.Query(db.q(query), args...)
}

// QueryContext runs a query.
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.DB.QueryContext(ctx, db.q(query), args...)
}

// Exec runs a statement.
func (db *DB) Exec(query string, args ...any) (sql.Result, error) {
	return db.DB.Exec(db.q(query), args...)
}

// Tables lists the store's tables (not the engine's own, nor the schema
// version's), for tests that look at every row.
func (db *DB) Tables(t testing.TB) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if db.postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'hallway_schema' ORDER BY table_name`
	}
	rows, err := db.DB.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return tables
}
