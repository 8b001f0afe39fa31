package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// smallDB makes a database with one event in it.
func smallDB(t *testing.T, path string) {
	t.Helper()
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Do(context.Background(), func(tx *store.Tx) error {
		_, err := tx.EnsureEvent("small-day", "Small Day")
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// rawExec runs statements on a database file behind the store's back.
func rawExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDBCopyRefuses: what db copy refuses, it says why and what to do,
// and leaves both databases as they were (a file it made, it removes).
func TestDBCopyRefuses(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	smallDB(t, src)
	full := filepath.Join(dir, "full.db")
	smallDB(t, full)
	newer := filepath.Join(dir, "newer.db")
	smallDB(t, newer)
	rawExec(t, newer, "PRAGMA user_version = 99")
	odd := filepath.Join(dir, "odd.db")
	smallDB(t, odd)
	rawExec(t, odd, "CREATE TABLE scratch (x INTEGER)")
	tests := []struct {
		args     []string
		code     int
		inStderr string
		absent   string // a file that must not be left behind
	}{
		{[]string{"db"}, 2, "the subcommand is copy", ""},
		{[]string{"db", "copy", "-from", src}, 2, "both -from and -to are needed", ""},
		{[]string{"db", "copy", "-from", src, "-to", "sqlite:" + src}, 1, "the same file", ""},
		{[]string{"db", "copy", "-from", filepath.Join(dir, "none.db"), "-to", filepath.Join(dir, "n1.db")}, 1, "-from: no database at", filepath.Join(dir, "n1.db")},
		{[]string{"db", "copy", "-from", src, "-to", full}, 1, "the destination already holds data (event has 1 rows): copy into a new, empty database", ""},
		{[]string{"db", "copy", "-from", newer, "-to", filepath.Join(dir, "n2.db")}, 1, "schema versions differ: it has schema version 99, this binary", filepath.Join(dir, "n2.db")},
		{[]string{"db", "copy", "-from", odd, "-to", filepath.Join(dir, "n3.db")}, 1, "the source has tables hallway does not know how to copy: scratch", filepath.Join(dir, "n3.db")},
	}
	for _, tt := range tests {
		code, stdout, stderr := hallwayCmd(context.Background(), tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.inStderr) {
			t.Errorf("hallway %q: exit %d, want %d with %q\n%s%s", tt.args, code, tt.code, tt.inStderr, stdout, stderr)
		}
		if tt.absent != "" {
			if _, err := os.Stat(tt.absent); err == nil {
				t.Errorf("hallway %q left %s behind", tt.args, tt.absent)
			}
		}
	}
	s, err := store.OpenReadOnly(context.Background(), full)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if counts, err := s.Counts(context.Background()); err != nil || counts[2].Table != "event" || counts[2].Rows != 1 {
		t.Errorf("the refused destination changed: %v %v", counts, err)
	}
}

// TestBackupRefuses: no database, and a PostgreSQL store, which is
// answered with the pg_dump command.
func TestBackupRefuses(t *testing.T) {
	cfg := exampleCopy(t)
	if code, _, stderr := hallwayCmd(context.Background(), "backup", "-config", cfg); code != 1 || !strings.Contains(stderr, "no database at") {
		t.Errorf("backup without a database: exit %d\n%s", code, stderr)
	}
	db := filepath.Join(filepath.Dir(cfg), "hallway.db")
	smallDB(t, db)
	for _, out := range []string{db, db + "-sent"} {
		if code, _, stderr := hallwayCmd(context.Background(), "backup", "-config", cfg, "-o", out, "-force"); code != 1 || !strings.Contains(stderr, "is the database itself or a file of it") {
			t.Errorf("backup -o %s -force: exit %d\n%s", out, code, stderr)
		}
	}
	err := pgDumpAdvice("postgres://hallway:secret@db.example.org/hallway", time.Date(2027, 3, 4, 9, 0, 0, 0, time.UTC))
	want := "pg_dump --format=custom --file=hallway-20270304T0900Z.dump 'postgres://hallway:xxxxx@db.example.org/hallway'"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
		t.Errorf("PostgreSQL backup answered %v, want %q and no password", err, want)
	}
}

// TestDBCopyFoldsJournal: mail in the source's sent-mail journal (beside
// it, or named by -journal) is marked sent in the copy, not in the source.
func TestDBCopyFoldsJournal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	s, err := store.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"a@example.org", "b@example.org", "c@example.org"} {
		if err := s.Do(ctx, func(tx *store.Tx) error {
			return tx.Enqueue(store.Message{Channel: store.Mail, Target: to, Body: "Subject: hi\r\n\r\nhi"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	os.WriteFile(src+"-sent", []byte("1\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "other-sent"), []byte("2\n"), 0o600)
	unsent := func(path string) string {
		t.Helper()
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(`SELECT id FROM outbox WHERE sent_at IS NULL ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		return strings.Join(ids, ",")
	}
	tests := []struct {
		args   []string
		unsent string
	}{
		{nil, "2,3"},
		{[]string{"-journal", filepath.Join(dir, "other-sent")}, "1,3"},
	}
	for i, tt := range tests {
		dst := filepath.Join(dir, fmt.Sprintf("copy%d.db", i))
		code, stdout, stderr := hallwayCmd(ctx, append([]string{"db", "copy", "-from", src, "-to", dst}, tt.args...)...)
		if code != 0 || !strings.Contains(stdout, "(1 ids): the mail the SMTP server took is marked sent in the copy") {
			t.Fatalf("db copy %q: exit %d\n%s%s", tt.args, code, stdout, stderr)
		}
		if got := unsent(dst); got != tt.unsent {
			t.Errorf("db copy %q: unsent in the copy %q, want %q", tt.args, got, tt.unsent)
		}
	}
	if got := unsent(src); got != "1,2,3" {
		t.Errorf("the source changed: unsent %q", got)
	}
}
