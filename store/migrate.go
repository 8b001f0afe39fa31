package store

import (
	"context"
	_ "embed"
	"fmt"
)

//go:embed schema.sql
var schema string

// migrations upgrade a database from version i to i+1. The list is
// append-only: a released entry is never edited, and schema.sql always equals
// an empty database with every migration applied. Version 1 is schema.sql
// itself, so the list starts with an empty entry for it.
var migrations = []string{
	"", // version 1: the initial schema
	// version 2: private IRC replies are bound to an account
	`ALTER TABLE outbox ADD COLUMN account TEXT NOT NULL DEFAULT ''`,
}

// SchemaVersion is the database version this binary writes.
var SchemaVersion = len(migrations)

// ErrTooNew is returned by Open for a database written by a newer hallway.
var ErrTooNew = fmt.Errorf("database is newer than this hallway")

func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("%w: it has schema version %d, this binary knows up to %d; upgrade hallway or restore a backup",
			ErrTooNew, version, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	if version == 0 {
		if _, err := tx.ExecContext(ctx, schema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	} else {
		for i := version; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migrate to version %d: %w", i+1, err)
			}
		}
	}
	// PRAGMA takes no parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	return tx.Commit()
}
