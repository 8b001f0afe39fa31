package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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
	// (defer_), each EnqueueOnce's arguments.
	outbox [][]any
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
	tx := &Tx{store: s, pg: pg, q: conn, ctx: ctx, now: s.Now().UTC()}
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
	tag, err := pg.simple(ctx, "COMMIT")
	if err != nil {
		return err
	}
	if tag != "COMMIT" {
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

// savepoint is Tx.Savepoint on PostgreSQL. A savepoint that succeeds
// outside any other is not released at once: the next one releases it in
// the message that starts itself, and COMMIT releases the last. Nested
// savepoints are released at once, so "step" always names the innermost.
func (pg *pgTx) savepoint(tx *Tx, fn func() error) error {
	start := "SAVEPOINT step"
	if pg.left {
		start = "RELEASE step; SAVEPOINT step"
	}
	// What was deferred before goes first: it is not fn's to undo.
	if _, err := pg.simple(tx.ctx, start); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	pg.left = false
	pg.depth++
	err := fn()
	pg.depth--
	if err != nil {
		pg.outbox = pg.outbox[:0] // fn's, undone with it
		if _, rbErr := pg.conn.ExecContext(tx.ctx, "ROLLBACK TO step; RELEASE step"); rbErr != nil {
			return fmt.Errorf("rollback to savepoint: %w (after %w)", rbErr, err)
		}
		return err
	}
	if pg.depth > 0 {
		if _, err := pg.simple(tx.ctx, "RELEASE step"); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
		return nil
	}
	pg.left = true
	return nil
}

// defer_ keeps an outbox row to insert with the next statement that
// needs it written: the next savepoint's start, the commit, or anything
// about the outbox. Replies are written last in a command, so this saves
// a round trip on nearly every one.
func (pg *pgTx) defer_(args ...any) {
	pg.outbox = append(pg.outbox, args)
}

// outboxInsert is the statement writing the deferred rows, with its
// arguments, numbered for PostgreSQL.
func (pg *pgTx) outboxInsert() (string, []any) {
	var b strings.Builder
	b.WriteString("INSERT INTO outbox " + outboxColumns + " VALUES ")
	args := make([]any, 0, len(pg.outbox)*10)
	for i, row := range pg.outbox {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", len(args)+j+1)
		}
		b.WriteByte(')')
		args = append(args, row...)
	}
	return b.String(), pgArgs(args)
}

// beforePostgres writes the deferred outbox rows before a statement
// about the outbox. A failure leaves the transaction aborted: the
// statement fails with it, and the commit says why.
func (tx *Tx) beforePostgres(query string) {
	pg := tx.pg
	if pg == nil || len(pg.outbox) == 0 || !strings.Contains(query, "outbox") {
		return
	}
	q, args := pg.outboxInsert()
	pg.outbox = pg.outbox[:0]
	if _, err := pg.conn.ExecContext(tx.ctx, q, args...); err != nil && pg.err == nil {
		pg.err = fmt.Errorf("write the outbox: %w", err)
	}
}

// simple sends statements with the deferred outbox rows ahead of them,
// in one message: pgx's simple protocol puts the arguments in the text.
// It returns the last statement's command tag.
func (pg *pgTx) simple(ctx context.Context, statements string) (string, error) {
	q, args := "", []any(nil)
	if len(pg.outbox) > 0 {
		q, args = pg.outboxInsert()
		q += "; "
		pg.outbox = pg.outbox[:0]
	}
	var tag string
	err := pg.conn.Raw(func(dc any) error {
		t, err := dc.(*stdlib.Conn).Conn().Exec(ctx, q+statements, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
		tag = t.String()
		return err
	})
	return tag, err
}
