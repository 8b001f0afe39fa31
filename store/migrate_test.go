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

	"github.com/hallwayhq/hallway/store/storetest"
)

// TestMigrationsMatchSchema upgrades a database made by the first released
// schema (testdata/schema-v1.sql) and checks it ends up with the tables,
// columns and indexes of schema.sql: the two must never drift.
func TestMigrationsMatchSchema(t *testing.T) {
	storetest.SQLiteOnly(t) // PostgreSQL's: TestPostgresSchema
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

// TestPostgresSchema checks that schema_postgres.sql has the tables,
// columns, nullability and indexes of schema.sql, and that every
// migration since PostgreSQL support began has its PostgreSQL form.
func TestPostgresSchema(t *testing.T) {
	for i := postgresFirst; i < len(migrations); i++ {
		if postgresMigrations[i] == "" {
			t.Errorf("migration to version %d has no PostgreSQL form in postgresMigrations", i+1)
		}
	}
	if os.Getenv("HALLWAY_TEST_POSTGRES") == "" {
		if os.Getenv("HALLWAY_REQUIRE_TESTENV") != "" {
			t.Fatal("HALLWAY_TEST_POSTGRES not set")
		}
		t.Skip("HALLWAY_TEST_POSTGRES not set (scripts/testenv.sh start)")
	}
	ctx := context.Background()
	lite, err := Open(ctx, filepath.Join(t.TempDir(), "lite.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := Open(ctx, storetest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	var want []string
	for _, line := range shape(t, lite.db) {
		// table T on T | col type dflt notnull pk | ...: keep names and NOT NULL
		parts := strings.Split(line, " | ")
		head := strings.Fields(parts[0])
		if head[0] == "version" {
			continue
		}
		out := head[0] + " " + head[1]
		for _, c := range parts[1:] {
			f := strings.Fields(c)
			// name type [dflt] notnull pk: a primary key column is NOT NULL
			notnull := f[len(f)-2] == "1" || f[len(f)-1] != "0"
			out += fmt.Sprintf(" | %s %v", f[0], notnull)
		}
		want = append(want, out)
	}
	got := pgShape(t, pg.db)
	if !slices.Equal(got, want) {
		t.Errorf("schema_postgres.sql differs from schema.sql\npostgres:\n%s\nsqlite:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var v int
	if err := pg.db.QueryRow(`SELECT version FROM hallway_schema`).Scan(&v); err != nil || v != SchemaVersion {
		t.Errorf("PostgreSQL schema version %d (%v), want %d", v, err, SchemaVersion)
	}
}

// pgShape lists a PostgreSQL database's tables with their columns' names
// and nullability, and its indexes, as TestPostgresSchema compares them.
func pgShape(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	rows, err := db.Query(`SELECT 'index', indexname, tablename FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'
		UNION ALL SELECT 'table', table_name, table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'hallway_schema'
		ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	var objs [][2]string
	for rows.Next() {
		var kind, name, table string
		if err := rows.Scan(&kind, &name, &table); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, [2]string{kind, name})
	}
	rows.Close()
	for _, o := range objs {
		line := o[0] + " " + o[1]
		if o[0] == "table" {
			cols, err := db.Query(`SELECT column_name, is_nullable = 'NO' FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = $1 AND NOT (table_name = 'speaker' AND column_name = 'rowid') ORDER BY column_name`, o[1])
			if err != nil {
				t.Fatal(err)
			}
			for cols.Next() {
				var name string
				var notnull bool
				if err := cols.Scan(&name, &notnull); err != nil {
					t.Fatal(err)
				}
				line += fmt.Sprintf(" | %s %v", name, notnull)
			}
			cols.Close()
		}
		out = append(out, line)
	}
	return out
}
