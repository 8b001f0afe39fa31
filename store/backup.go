package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNotSQLite is returned by Backup for a PostgreSQL store.
var ErrNotSQLite = errors.New("hallway backup copies a SQLite database; back up PostgreSQL with pg_dump")

// Backup writes a consistent copy of the database to path, a file that
// must not exist yet, while the database stays in use.
//
// It is SQLite's VACUUM INTO: one read transaction, so the copy is the
// database as one commit left it, and in WAL mode writers go on
// meanwhile. The online backup API (sqlite3_backup_step) copies pages in
// steps and starts again whenever another connection writes between two
// steps, so under a steady stream of votes it may never finish; in one
// step it holds the read lock just as long as VACUUM INTO does, and keeps
// the free pages VACUUM INTO leaves out.
func (s *Store) Backup(ctx context.Context, path string) error {
	if !s.isSQLite() {
		return ErrNotSQLite
	}
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	// SQLite does not sync what VACUUM INTO writes.
	if err := syncFile(path); err != nil {
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	return nil
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
