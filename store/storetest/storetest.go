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
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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

// NewDatabase makes a new PostgreSQL database on HALLWAY_TEST_POSTGRES,
// whatever the engine of the run, and returns its URL; it is dropped
// when the test ends.
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
	if err := adminExec(ctx, admin, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := adminExec(ctx, admin, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
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
