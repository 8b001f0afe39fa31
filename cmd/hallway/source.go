package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/hallwayhq/hallway/store"
)

// A store source is a SQLite path (bare or "sqlite:PATH") or a
// PostgreSQL URL ("postgres://…" or "postgresql://…").

// isPostgres tells whether source names a PostgreSQL database.
func isPostgres(source string) bool {
	return strings.HasPrefix(source, "postgres://") || strings.HasPrefix(source, "postgresql://")
}

// sqlitePath is the file a SQLite source names.
func sqlitePath(source string) string { return strings.TrimPrefix(source, "sqlite:") }

// journalPath is where the mail sender keeps its sent-mail journal for
// the SQLite database at dbPath.
func journalPath(dbPath string) string { return dbPath + "-sent" }

// redact hides the password a PostgreSQL URL may carry, for printing.
func redact(source string) string {
	if !isPostgres(source) {
		return source
	}
	u, err := url.Parse(source)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// openSource opens the store at source: to read only (a SQLite file
// must exist then, and have this hallway's schema version), or to write,
// creating it and bringing its schema up to date.
func openSource(ctx context.Context, source string, readOnly bool) (*store.Store, error) {
	if isPostgres(source) {
		if readOnly {
			return store.OpenReadOnly(ctx, source)
		}
		return store.Open(ctx, source)
	}
	path := sqlitePath(source)
	if path == "" {
		return nil, errors.New("no database given: write a file path, sqlite:PATH or postgres://…")
	}
	if !readOnly {
		return store.Open(ctx, path)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no database at %s: %w", path, err)
	}
	return store.OpenReadOnly(ctx, path)
}
