package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestMigrationsMatchSchema upgrades a database made by the first released
// schema (testdata/schema-v1.sql) and checks it ends up with the tables,
// columns and indexes of schema.sql: the two must never drift.
func TestMigrationsMatchSchema(t *testing.T) {
	v1, err := os.ReadFile(filepath.Join("testdata", "schema-v1.sql"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	db, err := sql.Open("sqlite", "file:"+old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(v1) + "; PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	upgraded, err := Open(context.Background(), old)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer upgraded.Close()
	fresh, err := Open(context.Background(), filepath.Join(dir, "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	got, want := shape(t, upgraded.db), shape(t, fresh.db)
	if !slices.Equal(got, want) {
		t.Errorf("upgraded database differs from schema.sql\nupgraded:\n%s\nfresh:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// shape lists a database's tables with their columns, and its indexes.
func shape(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	var objs [][3]string
	for rows.Next() {
		var o [3]string
		if err := rows.Scan(&o[0], &o[1], &o[2]); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	rows.Close()
	var out []string
	for _, o := range objs {
		line := o[0] + " " + o[1] + " on " + o[2]
		if o[0] == "table" {
			cols, err := db.Query(`SELECT name, type, "notnull", COALESCE(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY name`, o[1])
			if err != nil {
				t.Fatal(err)
			}
			for cols.Next() {
				var name, typ, dflt string
				var notnull, pk int
				if err := cols.Scan(&name, &typ, &notnull, &dflt, &pk); err != nil {
					t.Fatal(err)
				}
				line += fmt.Sprintf(" | %s %s %s %d %d", name, typ, dflt, notnull, pk)
			}
			cols.Close()
		}
		out = append(out, line)
	}
	var v int
	db.QueryRow("PRAGMA user_version").Scan(&v)
	return append(out, "version "+strconv.Itoa(v))
}
