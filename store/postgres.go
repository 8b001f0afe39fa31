package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hallwayhq/hallway/store/internal/placeholder"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// querier runs statements: a *sql.Tx, or the *sql.Conn of a PostgreSQL
// write transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// pgTx is a PostgreSQL write transaction run by hand on one connection
// rather than through database/sql's Tx: BEGIN and the write lock then
// go to the server as one message, and a savepoint's release with the
// next one's start, each a round trip fewer. A connection left in a
// transaction is never reused: pgx's stdlib drops it when it is
// returned to the pool.
type pgTx struct {
	conn *sql.Conn
	// left is set when the last savepoint succeeded and was left for the
	// next one (or the commit) to release.
	left bool
	// depth counts the savepoints fn is inside of.
	depth int
	// outbox holds rows for the outbox not sent to the server yet
	// (defer_), each EnqueueOnce's arguments; before, those deferred
	// before the savepoint whose start waits in start.
	outbox, before [][]any
	start          []string
	// err is why deferred rows could not be written.
	err error
}

// beginLock opens a write transaction and takes the write lock in one
// round trip: a statement without arguments goes by the simple protocol,
// which takes several at once. The lock is the schema's, so hallways
// kept in different schemas of one database do not wait for each other.
var beginLock = fmt.Sprintf("BEGIN; %s", takeWriteLock)

const takeWriteLock = "SELECT pg_advisory_xact_lock(1751215468, hashtext(current_schema()))"

func (s *Store) doPostgres(ctx context.Context, fn func(tx *Tx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.checkWrite(fmt.Errorf("begin: %w", err))
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, beginLock); err != nil {
		rollback(conn)
		return s.checkWrite(fmt.Errorf("begin: %w", err))
	}
	pg := &pgTx{conn: conn}
	tx := &Tx{store: s, pg: pg, q: conn, ctx: ctx, now: s.Now().UTC(), writing: true}
	if err := fn(tx); err != nil {
		rollback(conn)
		return s.checkWrite(err)
	}
	if err := pg.commit(ctx); err != nil {
		rollback(conn)
		return s.checkWrite(fmt.Errorf("commit: %w", err))
	}
	if tx.wrote {
		s.health.ok()
	}
	return nil
}

// errCommitRolledBack is a COMMIT the server answered with ROLLBACK: a
// statement failed earlier and its error went unseen.
var errCommitRolledBack = errors.New("the transaction was rolled back: a statement in it had failed")

// commit writes the deferred outbox rows and commits, in one message.
func (pg *pgTx) commit(ctx context.Context) error {
	if pg.err != nil {
		return pg.err
	}
	tag, err := pg.send(ctx, "COMMIT", nil)
	if err != nil {
		return err
	}
	if tag.name != "COMMIT" {
		return errCommitRolledBack
	}
	return nil
}

// rollback ends the transaction; if it cannot, the connection is
// dropped rather than go back to the pool mid-transaction.
func rollback(conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		conn.Raw(func(dc any) error { return dc.(*stdlib.Conn).Close() })
	}
}

// savepoint is Tx.Savepoint on PostgreSQL. Its start is not sent at
// once: it goes ahead of fn's first write, in the same message, and a fn
// that writes nothing needs none. One that succeeds outside any other is
// not released either: the next one's start releases it, and COMMIT the
// last. Nested savepoints are started and released at once, so "step"
// always names the innermost.
func (pg *pgTx) savepoint(tx *Tx, fn func() error) error {
	if pg.depth > 0 || pg.start != nil {
		return pg.nestedSavepoint(tx, fn)
	}
	pg.start = []string{"SAVEPOINT step"}
	if pg.left {
		pg.start = []string{"RELEASE step", "SAVEPOINT step"}
	}
	// Rows deferred before the savepoint go ahead of it: not fn's to undo.
	pg.before, pg.outbox = pg.outbox, nil
	pg.depth++
	err := fn()
	pg.depth--
	sent := pg.start == nil
	if !sent {
		// fn wrote nothing: no savepoint was needed, the last one is
		// still left, and the rows from before wait as they did.
		pg.start = nil
		if err != nil {
			pg.outbox = nil // fn's replies go with it
		}
		pg.outbox = append(pg.before, pg.outbox...)
		pg.before = nil
		return err
	}
	if err != nil {
		pg.outbox = nil // fn's, undone with it
		pg.left = false
		if _, rbErr := pg.conn.ExecContext(tx.ctx, "ROLLBACK TO step; RELEASE step"); rbErr != nil {
			return fmt.Errorf("rollback to savepoint: %w (after %w)", rbErr, err)
		}
		return err
	}
	pg.left = true
	return nil
}

// nestedSavepoint is a savepoint inside another (or before the other's
// start was sent): started and released at once.
func (pg *pgTx) nestedSavepoint(tx *Tx, fn func() error) error {
	if _, err := pg.send(tx.ctx, "SAVEPOINT step", nil); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	depth := pg.depth
	pg.depth++
	err := fn()
	pg.depth = depth
	if err != nil {
		pg.outbox = nil
		if _, rbErr := pg.conn.ExecContext(tx.ctx, "ROLLBACK TO step; RELEASE step"); rbErr != nil {
			return fmt.Errorf("rollback to savepoint: %w (after %w)", rbErr, err)
		}
		return err
	}
	if _, err := pg.send(tx.ctx, "RELEASE step", nil); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// defer_ keeps an outbox row to insert with the next message that goes
// to the server anyway: a savepoint's start, the commit, or a statement
// about the outbox. Replies are written last in a command, so this saves
// a round trip on nearly every one.
func (pg *pgTx) defer_(args ...any) {
	pg.outbox = append(pg.outbox, args)
}

// queueOutbox queues the statement writing rows.
func queueOutbox(b *pgx.Batch, rows [][]any) {
	var args []any
	for _, row := range rows {
		args = append(args, row...)
	}
	b.Queue(placeholder.Numbered("INSERT INTO outbox "+outboxColumns+" VALUES "+valuesList(len(rows), len(rows[0]))), pgArgs(args)...)
}

// send sends statement (with ? placeholders; "" for none) with
// everything waiting to go ahead of it: the rows deferred before a
// savepoint, the savepoint's start, the rows deferred since. They go as
// one pgx batch, so in one round trip, each a prepared statement the
// connection keeps. It returns the last statement's command tag.
func (pg *pgTx) send(ctx context.Context, statement string, args []any) (pgconnTag, error) {
	b := &pgx.Batch{}
	if len(pg.before) > 0 {
		queueOutbox(b, pg.before)
		pg.before = nil
	}
	for _, st := range pg.start {
		b.Queue(st)
	}
	pg.start = nil
	if len(pg.outbox) > 0 {
		queueOutbox(b, pg.outbox)
		pg.outbox = nil
	}
	if statement != "" {
		b.Queue(placeholder.Numbered(statement), pgArgs(args)...)
	}
	if b.Len() == 0 {
		return pgconnTag{}, nil
	}
	var tag pgconnTag
	err := pg.conn.Raw(func(dc any) error {
		res := dc.(*stdlib.Conn).Conn().SendBatch(ctx, b)
		var err error
		for range b.Len() {
			t, e := res.Exec()
			if e != nil && err == nil {
				err = e
			}
			tag = pgconnTag{t.String(), t.RowsAffected()}
		}
		if e := res.Close(); e != nil && err == nil {
			err = e
		}
		return err
	})
	return tag, err
}

// pgconnTag is what send reports of the last statement.
type pgconnTag struct {
	name string
	rows int64
}

// LastInsertId is not used: ids come back by RETURNING.
func (t pgconnTag) LastInsertId() (int64, error) {
	return 0, errors.New("no LastInsertId on PostgreSQL: use RETURNING")
}

// RowsAffected is how many rows the statement wrote.
func (t pgconnTag) RowsAffected() (int64, error) { return t.rows, nil }

// pending reports whether anything waits to be sent.
func (pg *pgTx) pending() bool {
	return pg.start != nil || len(pg.before) > 0 || len(pg.outbox) > 0
}

// execPostgres runs a statement for its effect in a write transaction:
// with what waits to be sent, in one message, if anything does.
func (tx *Tx) execPostgres(query string, args []any) (sql.Result, error) {
	pg := tx.pg
	if pg == nil || !pg.pending() {
		return tx.q.ExecContext(tx.ctx, tx.store.rebind(query), pgArgs(args)...)
	}
	return pg.send(tx.ctx, query, args)
}

// beforeQuery sends what waits ahead of a query that writes (INSERT …
// RETURNING) or reads the outbox, so it sees and undoes what it should.
// A failure leaves the transaction aborted: the query fails with it, and
// the commit says why.
func (tx *Tx) beforeQuery(query string) {
	pg := tx.pg
	if pg == nil || !pg.pending() {
		return
	}
	if !strings.Contains(query, "outbox") && strings.HasPrefix(strings.TrimSpace(query), "SELECT") {
		return
	}
	if _, err := pg.send(tx.ctx, "", nil); err != nil && pg.err == nil {
		pg.err = fmt.Errorf("write ahead of a query: %w", err)
	}
}
