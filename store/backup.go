package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNotSQLite is returned by Backup for a PostgreSQL store.
var ErrNotSQLite = errors.New("hallway backup copies a SQLite database; back up PostgreSQL with pg_dump")

// Backup writes a consistent copy of the database to path, a file that
// must not exist yet or be empty, while the database stays in use. Once
// the copy is taken, sent (if not nil) gives the ids of outbox mail known
// to have gone out (the mail sender's journal), and they are marked sent
// in the copy, which then stands alone. The copy is checked (PRAGMA
// quick_check), left as one file (no write-ahead log), and synced. Backup
// returns how many rows each of its tables holds.
//
// The copy is SQLite's VACUUM INTO: one read transaction, so it is the
// database as one commit left it, and in WAL mode writers go on
// meanwhile. The online backup API (sqlite3_backup_step) copies pages in
// steps and starts again whenever another connection writes between two
// steps, so under a steady stream of votes it may never finish; done in
// one step it holds its read transaction as long as VACUUM INTO does.
func (s *Store) Backup(ctx context.Context, path string, sent func() ([]int64, error)) ([]TableCount, error) {
	if !s.isSQLite() {
		return nil, ErrNotSQLite
	}
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return nil, fmt.Errorf("back up to %s: %w", path, err)
	}
	var ids []int64
	if sent != nil {
		var err error
		if ids, err = sent(); err != nil {
			return nil, err
		}
	}
	// VACUUM INTO writes a file in rollback-journal mode; opened as
	// that, on one connection, it stays a single file whatever opens it.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(DELETE)&_time_format=sqlite")
	if err != nil {
		return nil, fmt.Errorf("open the backup %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	b := &Store{db: db, Now: s.Now}
	counts, err := b.finishBackup(ctx, ids)
	if cerr := b.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("the backup %s: %w", path, err)
	}
	// SQLite does not sync what VACUUM INTO writes.
	if err := syncFile(path); err != nil {
		return nil, fmt.Errorf("back up to %s: %w", path, err)
	}
	return counts, nil
}

// finishBackup checks a fresh copy, marks the mail ids sent and counts
// its rows.
func (s *Store) finishBackup(ctx context.Context, sent []int64) ([]TableCount, error) {
	if err := s.checkIntegrity(ctx); err != nil {
		return nil, err
	}
	if len(sent) > 0 {
		if err := s.MarkSent(ctx, sent...); err != nil {
			return nil, fmt.Errorf("mark the sent mail: %w", err)
		}
	}
	return s.Counts(ctx)
}

// syncFile flushes a file and the directory entry naming it to the disk.
func syncFile(path string) error {
	for _, p := range []string{path, filepath.Dir(path)} {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
