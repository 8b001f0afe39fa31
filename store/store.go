// Package store keeps hallway's state in SQLite or PostgreSQL: people and their
// identities, events, proposals, votes, registrations, pledges, notes,
// schedule releases, and the inbox and outbox that make message handling
// happen exactly once.
//
// # Transactions
//
// Every state change is one transaction: callers run a function with
// [Store.Do] and call the per-use methods of [Tx] inside it. Outgoing
// messages are written to the outbox in that same transaction, so a crash
// either keeps the change and its messages or neither.
//
// # Schema
//
// A fresh database gets schema.sql (schema_postgres.sql on PostgreSQL); an
// older one is upgraded by the append-only list in migrate.go, its version
// kept in PRAGMA user_version (a one-row table on PostgreSQL). A database
// newer than this binary is refused.
//
// # Engines
//
// Queries are written once, with ? placeholders, in the SQL both engines
// read (engine.go rewrites the placeholders for PostgreSQL). What differs
// (the schema's types, how writes are serialized, what counts as the disk
// failing) stays in this package.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hallwayhq/hallway/store/internal/placeholder"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// queryTimeout bounds one transaction, so a wedged database shows up as an
// error rather than a hung bot.
const queryTimeout = 10 * time.Second

// Store is an open hallway database.
type Store struct {
	db     *sql.DB
	engine Engine
	// rebound caches queries rewritten for PostgreSQL.
	rebound sync.Map // string → string
	// stmts caches prepared statements by query text: preparing is most of
	// the cost of a small query.
	stmts     sync.Map // string → *sql.Stmt
	preparing sync.Map // string → true: cached or being prepared
	// prepares counts the statements being prepared in the background:
	// Close waits for them, so no connection opens after it.
	prepares sync.WaitGroup
	// Now is the clock; tests replace it.
	Now func() time.Time
	// health tracks whether writes fail (health.go).
	health writeHealth
	// writer lets one write transaction of this process run at a time on
	// PostgreSQL, from its start: the server's write lock is taken with
	// the first statement, and what a transaction's function does before
	// that (the bot's state in memory) must not overlap another's, as it
	// does not on SQLite.
	writer chan struct{}
}

// Open opens (creating if needed) the database source names, a SQLite
// file (a path or sqlite:PATH) or a PostgreSQL database (postgres://…),
// and brings its schema up to date.
func Open(ctx context.Context, source string) (*Store, error) {
	engine, src, err := ParseSource(source)
	if err != nil {
		return nil, err
	}
	if engine == PostgreSQL {
		return openPostgresStore(ctx, src, (*Store).migrate)
	}
	return openSQLite(ctx, src)
}

// openSQLite opens (creating if needed) the SQLite database at path.
func openSQLite(ctx context.Context, path string) (*Store, error) {
	// _txlock=immediate takes the write lock at BEGIN: read-then-write
	// transactions then wait on busy_timeout instead of failing with
	// SQLITE_BUSY when they try to upgrade. _time_format=sqlite stores times
	// without Go's monotonic clock suffix.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// A few connections: WAL lets readers run beside the one writer, and
	// keeping them open keeps their prepared statements warm.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, engine: SQLite, Now: time.Now}
	if err := s.checkIntegrity(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// OpenReadOnly opens an existing database to read, changing nothing:
// for looking at a database another process may be running on ("hallway
// check"). A database of another schema version is refused.
func OpenReadOnly(ctx context.Context, source string) (*Store, error) {
	engine, path, err := ParseSource(source)
	if err != nil {
		return nil, err
	}
	if engine == PostgreSQL {
		return openPostgresStore(ctx, path, func(s *Store, ctx context.Context) error {
			version, err := s.schemaVersion(ctx)
			if err == nil && version != SchemaVersion {
				err = fmt.Errorf("%w: it has schema version %d, this binary %d: %s", ErrSchemaMismatch, version, SchemaVersion, versionFix(version))
			}
			return err
		})
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Set("mode", "ro")
	q.Set("_time_format", "sqlite")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, engine: SQLite, Now: time.Now}
	version, err := s.schemaVersion(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if version != SchemaVersion {
		db.Close()
		return nil, fmt.Errorf("open %s: %w: it has schema version %d, this binary %d: %s",
			path, ErrSchemaMismatch, version, SchemaVersion, versionFix(version))
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.prepares.Wait()
	s.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

// Tx is one transaction. Its methods are the store's uses.
type Tx struct {
	store *Store
	tx    *sql.Tx
	// pg is the connection a PostgreSQL write transaction runs on
	// (postgres.go); nil on SQLite and in views.
	pg *pgTx
	// q runs the statements on PostgreSQL: pg's connection, or tx.
	q   querier
	ctx context.Context
	now time.Time
	// wrote is set by a statement run for its effect, so that only a
	// commit that wrote tells that writes work again.
	wrote bool
	// memo is what a write transaction remembers of what it read
	// (readahead.go).
	memo memo
	// writing is set in a write transaction (Do).
	writing bool
}

// Now is the time the transaction started, in UTC: every row it writes
// carries the same time.
func (tx *Tx) Now() time.Time { return tx.now }

// Do runs fn in one transaction, committing if fn returns nil.
func (s *Store) Do(ctx context.Context, fn func(tx *Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	if s.engine == PostgreSQL {
		return s.doPostgres(ctx, fn)
	}
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.checkWrite(fmt.Errorf("begin: %w", err))
	}
	tx := &Tx{store: s, tx: sqlTx, ctx: ctx, now: s.Now().UTC(), writing: true}
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return s.checkWrite(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return s.checkWrite(fmt.Errorf("commit: %w", err))
	}
	if tx.wrote {
		s.health.ok()
	}
	return nil
}

// checkWrite records a failure to write and marks it ErrUnwritable; other
// errors pass as they are.
func (s *Store) checkWrite(err error) error {
	if !unwritable(err) {
		return err
	}
	s.health.failed(err, s.Now())
	return fmt.Errorf("%w: %w", ErrUnwritable, err)
}

// stmt returns the cached prepared statement for query, bound to the
// transaction. A query not cached yet is prepared on the transaction's own
// connection, and the cached statement made in the background: preparing
// it on the pool here would need a second connection while this one is
// held, and when every connection is held by a transaction waiting for
// the write lock, that waits until busy_timeout fails them.
func (tx *Tx) stmt(query string) (*sql.Stmt, error) {
	if v, ok := tx.store.stmts.Load(query); ok {
		return tx.tx.StmtContext(tx.ctx, v.(*sql.Stmt)), nil
	}
	tx.store.prepare(query)
	return tx.tx.PrepareContext(tx.ctx, query)
}

// prepare caches a prepared statement for query, once, from a goroutine
// that holds no connection while it waits for one.
func (s *Store) prepare(query string) {
	if _, busy := s.preparing.LoadOrStore(query, true); busy {
		return
	}
	s.prepares.Go(func() {
		st, err := s.db.Prepare(query)
		if err != nil {
			s.preparing.Delete(query) // the next use tries again
			return
		}
		if _, ok := s.stmts.LoadOrStore(query, st); ok {
			st.Close()
		}
	})
}

// View runs fn in a read-only transaction: a plain BEGIN, so readers (web
// pages, feeds) never wait for the write lock, and see one snapshot.
func (s *Store) View(ctx context.Context, fn func(tx *Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	opts := &sql.TxOptions{ReadOnly: true}
	if s.engine == PostgreSQL {
		// One snapshot for the whole view, as SQLite's read transaction.
		opts.Isolation = sql.LevelRepeatableRead
	}
	sqlTx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer sqlTx.Rollback()
	return fn(&Tx{store: s, tx: sqlTx, q: sqlTx, ctx: ctx, now: s.Now().UTC()})
}

func (tx *Tx) exec(query string, args ...any) (sql.Result, error) {
	tx.wrote = true
	tx.forget(query)
	if tx.store.engine == PostgreSQL {
		return tx.execPostgres(query, args)
	}
	st, err := tx.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(tx.ctx, args...)
}

// insert runs an INSERT and returns the id of the row it made.
func (tx *Tx) insert(query string, args ...any) (int64, error) {
	tx.wrote = true
	tx.forget(query)
	var id int64
	err := tx.queryRow(query+" RETURNING id", args...).Scan(&id)
	return id, err
}

func (tx *Tx) queryRow(query string, args ...any) *sql.Row {
	if tx.store.engine == PostgreSQL {
		tx.beforeQuery(query)
		return tx.q.QueryRowContext(tx.ctx, tx.store.rebind(query), pgArgs(args)...)
	}
	st, err := tx.stmt(query)
	if err != nil {
		// A query that does not prepare is a bug; let Scan report it.
		return tx.tx.QueryRowContext(tx.ctx, query, args...)
	}
	return st.QueryRowContext(tx.ctx, args...)
}

func (tx *Tx) query(query string, args ...any) (*sql.Rows, error) {
	if tx.store.engine == PostgreSQL {
		tx.beforeQuery(query)
		return tx.q.QueryContext(tx.ctx, tx.store.rebind(query), pgArgs(args)...)
	}
	st, err := tx.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(tx.ctx, args...)
}

// rebind returns query rewritten for PostgreSQL, cached: pgx prepares
// and caches each statement per connection by its text, so no statement
// cache of ours is needed there.
func (s *Store) rebind(query string) string {
	if v, ok := s.rebound.Load(query); ok {
		return v.(string)
	}
	q := placeholder.Numbered(query)
	s.rebound.Store(query, q)
	return q
}

// pgArgs gives PostgreSQL the arguments as SQLite takes them: the schema
// keeps flags in integer columns (SQLite has no booleans), which pgx
// will not fill from a Go bool; and PostgreSQL's text holds no NUL, which
// raw input kept for organizers (a mail's body) may carry: it becomes
// U+FFFD rather than fail the write, and with it the message.
func pgArgs(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case bool:
			if v {
				args[i] = int64(1)
			} else {
				args[i] = int64(0)
			}
		case string:
			if strings.IndexByte(v, 0) >= 0 {
				args[i] = strings.ReplaceAll(v, "\x00", "\uFFFD")
			}
		}
	}
	return args
}

// notFound turns sql.ErrNoRows into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// Savepoint runs fn inside a savepoint: if fn fails, what it wrote is undone
// but the transaction goes on, so the caller can still record the outcome.
func (tx *Tx) Savepoint(fn func() error) error {
	err := tx.savepoint(fn)
	if err != nil {
		// What fn read may be what it wrote and is now undone.
		tx.memo = memo{}
	}
	return err
}

func (tx *Tx) savepoint(fn func() error) error {
	if tx.pg != nil {
		return tx.pg.savepoint(tx, fn)
	}
	if _, err := tx.exec(`SAVEPOINT step`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rbErr := tx.exec(`ROLLBACK TO step`); rbErr != nil {
			return fmt.Errorf("rollback to savepoint: %w (after %w)", rbErr, err)
		}
		tx.exec(`RELEASE step`)
		return err
	}
	if _, err := tx.exec(`RELEASE step`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// int64s runs a query of one integer column and returns its values.
func (tx *Tx) int64s(query string, args ...any) ([]int64, error) {
	rows, err := tx.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
