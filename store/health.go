package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrUnwritable marks (with errors.Is) a transaction that failed because
// the database cannot be written: the disk is full, an I/O error, a
// read-only or damaged file. It is the machine's trouble, not the
// command's, and passes when the disk does.
var ErrUnwritable = errors.New("the database cannot be written")

// unwritable reports whether err is the database saying it cannot write:
// SQLite's disk full, I/O error, read-only or damaged file; PostgreSQL's
// disk full, I/O error, a server shutting down or not reachable.
func unwritable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "53"), // insufficient resources: disk full, out of memory
			strings.HasPrefix(pe.Code, "58"),  // system error: I/O
			strings.HasPrefix(pe.Code, "08"),  // connection exception
			strings.HasPrefix(pe.Code, "57P"), // the server shutting down or starting
			pe.Code == "25006":                // read-only transaction: a server in recovery
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary code, without the extended part
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// writeHealth is what the store knows of its writes: since when they fail
// and why, cleared by the next transaction that writes and commits.
type writeHealth struct {
	mu     sync.Mutex
	err    error
	since  time.Time
	last   time.Time
	probed time.Time // the last write of CheckWrites' own
}

func (h *writeHealth) failed(err error, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.since = now
	}
	h.err, h.last = err, now
}

func (h *writeHealth) ok() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = nil
}

// WriteFailure says whether the database's writes are failing: nil if
// the last transaction that wrote committed, else an error saying since
// when writes fail and why.
func (s *Store) WriteFailure() error {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		return nil
	}
	return fmt.Errorf("%w since %s (last failure %s): %w", ErrUnwritable,
		h.since.UTC().Format(time.RFC3339), h.last.UTC().Format(time.RFC3339), h.err)
}

// probeEvery bounds how often CheckWrites writes to see whether writes
// work again.
const probeEvery = time.Second

// CheckWrites is WriteFailure, after a write of its own when writes have
// been failing (at most once every probeEvery): without it, a store that
// nothing else writes to would say it fails long after the disk has room
// again.
func (s *Store) CheckWrites(ctx context.Context) error {
	if s.WriteFailure() == nil {
		return nil
	}
	h := &s.health
	h.mu.Lock()
	due := time.Since(h.probed) >= probeEvery
	if due {
		h.probed = time.Now()
	}
	h.mu.Unlock()
	if due {
		// Setting the schema version to itself is the smallest write
		// SQLite has: it rewrites the header page.
		probe := fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)
		if s.engine == PostgreSQL {
			probe = `UPDATE hallway_schema SET version = version`
		}
		s.Do(ctx, func(tx *Tx) error {
			_, err := tx.exec(probe)
			return err
		})
	}
	return s.WriteFailure()
}

// ErrCorrupt is returned by Open for a damaged database.
var ErrCorrupt = errors.New("the database is damaged: stop hallway and restore the file from a backup (sqlite3's .recover may save what is left)")

// checkIntegrity runs PRAGMA quick_check, so that a damaged database is
// refused at start, saying what SQLite found, rather than failing (or
// losing writes) in the middle of a command. It reads every page once:
// a few milliseconds for an event's database.
func (s *Store) checkIntegrity(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA quick_check(10)")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		found = append(found, line)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if len(found) == 1 && found[0] == "ok" {
		return nil
	}
	return fmt.Errorf("%w; PRAGMA quick_check found: %s", ErrCorrupt, strings.Join(found, "; "))
}
