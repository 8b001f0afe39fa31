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
	// begin is set until BEGIN and the write lock are sent: they go with
	// the transaction's first statements (ReadAhead's reads, or the
	// first write), in one message.
	begin bool
	// left is set when the last savepoint succeeded and was left for the
	// next one (or the commit) to release.
	left bool
	// depth counts the savepoints fn is inside of.
	depth int
	// later holds writes not sent to the server yet (defer_, deferExec);
	// before, those deferred before the savepoint whose start waits in
	// start.
	later, before []deferred
	start         []string
	// err is why deferred writes could not be made.
	err error
}

// deferred is a write whose outcome is known without asking the server,
// sent with the next message that goes anyway: an outbox row (merged
// with its neighbours into one INSERT), or a statement that must write
// exactly want rows.
type deferred struct {
	outbox []any
	query  string
	args   []any
	want   int64
	// tables are the tables the statement writes, for beforeQuery.
	tables []string
}

// takeWriteLock takes the write lock, sent right after BEGIN. The lock is
// the schema's, so hallways kept in different schemas of one database do
// not wait for each other.
const takeWriteLock = "SELECT pg_advisory_xact_lock(1751215468, hashtext(current_schema()))"

func (s *Store) doPostgres(ctx context.Context, fn func(tx *Tx) error) error {
	select {
	case s.writer <- struct{}{}:
		defer func() { <-s.writer }()
	case <-ctx.Done():
		return s.checkWrite(fmt.Errorf("begin: %w", ctx.Err()))
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.checkWrite(fmt.Errorf("begin: %w", err))
	}
	defer conn.Close()
	pg := &pgTx{conn: conn, begin: true}
	tx := &Tx{store: s, pg: pg, q: conn, ctx: ctx, now: s.Now().UTC(), writing: true}
	if err := fn(tx); err != nil {
		if !pg.begin {
			rollback(conn)
		}
		return s.checkWrite(err)
	}
	if pg.begin && len(pg.later) == 0 {
		return nil // nothing was read or written
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
	// Writes deferred before the savepoint go ahead of it: not fn's to undo.
	pg.before, pg.later = pg.later, nil
	pg.depth++
	err := fn()
	pg.depth--
	sent := pg.start == nil
	if !sent {
		// fn wrote nothing: no savepoint was needed, the last one is
		// still left, and the rows from before wait as they did.
		pg.start = nil
		if err != nil {
			pg.later = nil // fn's writes go with it
		}
		pg.later = append(pg.before, pg.later...)
		pg.before = nil
		return err
	}
	if err != nil {
		pg.later = nil // fn's, undone with it
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
		pg.later = nil
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
	pg.later = append(pg.later, deferred{outbox: args, tables: []string{"outbox"}})
}

// deferExec keeps a statement to send with the next message, which must
// write exactly want rows; if it does not, what the transaction
// remembered was wrong and it fails.
func (pg *pgTx) deferExec(want int64, table, query string, args ...any) {
	pg.later = append(pg.later, deferred{query: query, args: args, want: want, tables: []string{table}})
}

// queueDeferred queues the statements making the deferred writes, each
// run of outbox rows as one INSERT. check gets, by queue position, the
// row counts to verify.
func queueDeferred(b *pgx.Batch, writes []deferred, check map[int]deferred) {
	for i := 0; i < len(writes); {
		if writes[i].outbox == nil {
			check[b.Len()] = writes[i]
			b.Queue(placeholder.Numbered(writes[i].query), pgArgs(writes[i].args)...)
			i++
			continue
		}
		var args []any
		j := i
		for ; j < len(writes) && writes[j].outbox != nil; j++ {
			args = append(args, writes[j].outbox...)
		}
		b.Queue(placeholder.Numbered("INSERT INTO outbox "+outboxColumns+" VALUES "+valuesList(j-i, len(writes[i].outbox))), pgArgs(args)...)
		i = j
	}
}

// errDeferred is a deferred write that did not write what it should.
var errDeferred = errors.New("a deferred write did not match what the transaction had read")

// send sends statement (with ? placeholders; "" for none) with
// everything waiting to go ahead of it: BEGIN and the write lock, the
// writes deferred before a savepoint, the savepoint's start, the writes
// deferred since; then reads, whose rows go to their scan functions.
// They go as one pgx batch, so in one round trip, each a prepared
// statement the connection keeps. It returns the last statement's
// command tag.
func (pg *pgTx) send(ctx context.Context, statement string, args []any, reads ...read) (pgconnTag, error) {
	b := &pgx.Batch{}
	if pg.begin {
		b.Queue("BEGIN")
		b.Queue(takeWriteLock)
		pg.begin = false
	}
	check := map[int]deferred{}
	queueDeferred(b, pg.before, check)
	pg.before = nil
	for _, st := range pg.start {
		b.Queue(st)
	}
	pg.start = nil
	queueDeferred(b, pg.later, check)
	pg.later = nil
	if statement != "" {
		b.Queue(placeholder.Numbered(statement), pgArgs(args)...)
	}
	firstRead := b.Len()
	for _, r := range reads {
		b.Queue(placeholder.Numbered(r.query), pgArgs(r.args)...)
	}
	if b.Len() == 0 {
		return pgconnTag{}, nil
	}
	var tag pgconnTag
	err := pg.conn.Raw(func(dc any) error {
		res := dc.(*stdlib.Conn).Conn().SendBatch(ctx, b)
		var err error
		for i := range firstRead {
			t, e := res.Exec()
			if e != nil && err == nil {
				err = e
			}
			if d, ok := check[i]; ok && e == nil && t.RowsAffected() != d.want && err == nil {
				err = fmt.Errorf("%w: %q wrote %d rows, not %d", errDeferred, d.query, t.RowsAffected(), d.want)
			}
			tag = pgconnTag{t.String(), t.RowsAffected()}
		}
		for _, r := range reads {
			if err != nil {
				break
			}
			err = scanRead(res, r)
		}
		if e := res.Close(); e != nil && err == nil {
			err = e
		}
		return err
	})
	return tag, err
}

// read is a query sent ahead with others (ReadAhead), each row handed to
// scan.
type read struct {
	query string
	args  []any
	scan  func(row scanner) error
}

// scanRead takes r's rows from a batch's results.
func scanRead(res pgx.BatchResults, r read) error {
	rows, err := res.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := r.scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
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
	return pg.begin || pg.start != nil || len(pg.before) > 0 || len(pg.later) > 0
}

// waits reports whether a write to one of the tables query names waits
// to be sent, or BEGIN does.
func (pg *pgTx) waits(query string) bool {
	if pg.begin || pg.start != nil {
		return true
	}
	for _, list := range [][]deferred{pg.before, pg.later} {
		for _, d := range list {
			for _, t := range d.tables {
				if strings.Contains(query, t) {
					return true
				}
			}
		}
	}
	return false
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

// beforeQuery sends what waits ahead of a query: BEGIN always, the rest
// if the query writes (INSERT … RETURNING) or reads a table with writes
// waiting, so it sees and undoes what it should. A failure leaves the
// transaction aborted: the query fails with it, and the commit says why.
func (tx *Tx) beforeQuery(query string) {
	pg := tx.pg
	if pg == nil || !pg.pending() {
		return
	}
	if !pg.waits(query) && strings.HasPrefix(strings.TrimSpace(query), "SELECT") {
		return
	}
	if _, err := pg.send(tx.ctx, "", nil); err != nil && pg.err == nil {
		pg.err = fmt.Errorf("write ahead of a query: %w", err)
	}
}
