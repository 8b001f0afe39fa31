package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMigrationsMatchSchema: a database made by the first release's
// schema (testdata/schema-v1.sql, as it shipped) and upgraded by the
// migrations has the same tables, indexes and columns as a fresh one made
// from schema.sql, and keeps its rows.
func TestMigrationsMatchSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v1, err := os.ReadFile("testdata/schema-v1.sql")
	if err != nil {
		t.Fatal(err)
	}
	oldPath := filepath.Join(dir, "old.db")
	db, err := sql.Open("sqlite", "file:"+oldPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(v1), "PRAGMA user_version = 1",
		`INSERT INTO event (slug, name, created_at) VALUES ('ev', 'Ev', '2027-01-01 00:00:00')`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	old, err := Open(ctx, oldPath)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer old.Close()
	fresh := openTest(t)
	got, want := schemaOf(t, old), schemaOf(t, fresh)
	if got != want {
		t.Errorf("upgraded schema differs from schema.sql:\nupgraded:\n%s\nfresh:\n%s", got, want)
	}
	var version int
	old.db.QueryRow("PRAGMA user_version").Scan(&version)
	if version != SchemaVersion {
		t.Errorf("upgraded to version %d, want %d", version, SchemaVersion)
	}
	do(t, old, func(tx *Tx) error {
		if _, err := tx.EventBySlug("ev"); err != nil {
			return err
		}
		_, err := tx.PendingReleases()
		return err
	})
}

var spaces = regexp.MustCompile(`\s+`)

// schemaOf lists a database's tables and indexes with their SQL, spaces
// folded.
func schemaOf(t *testing.T, s *Store) string {
	t.Helper()
	rows, err := s.db.Query(`SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, q string
		if err := rows.Scan(&typ, &name, &q); err != nil {
			t.Fatal(err)
		}
		b.WriteString(typ + " " + name + ": " + spaces.ReplaceAllString(q, " ") + "\n")
	}
	return b.String()
}
