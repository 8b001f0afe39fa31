package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hallwayhq/hallway/store/internal/placeholder"
)

// Tables is every table of the schema, each after the tables its foreign
// keys refer to: the order a whole database is copied in. A table added
// to schema.sql must be added here (TestCopyEveryTable fails until it is),
// or Copy refuses the database.
var Tables = []string{
	"person",
	"identity",
	"event",
	"phase_change",
	"proposal",
	"speaker",
	"vote",
	"registration",
	"pledge",
	"meeting",
	"meeting_line",
	"checkin",
	"pin",
	"release",
	"amendment",
	"pending_release",
	"feed_token",
	"outbox",
	"inbox",
	"delivery_failure",
	"confirmation_mail",
	"mail_refusal",
	"mail_answers",
	"irc_channel",
	"room_mark",
	"matrix_sync",
	"privacy_token",
	"coc_report",
	"coc_audit",
	"link_code",
}

// notCopied are tables each side keeps for itself: PostgreSQL's schema
// version (SQLite keeps it in PRAGMA user_version), and the lease of the
// instances running on the source (the copy's first instance takes the
// leadership afresh).
var notCopied = []string{"hallway_schema", "lease"}

// TableCount is how many rows a table holds.
type TableCount struct {
	Table string
	Rows  int64
}

// CopyCount is one table of a copy: the rows the source held and the
// rows the destination holds after it.
type CopyCount struct {
	Table          string
	Source, Copied int64
}

// ErrNotEmpty is returned by Copy when the destination already holds data.
var ErrNotEmpty = errors.New("the destination already holds data")

// ErrSchemaMismatch is returned by Copy when the two databases are of
// different schema versions, and by OpenReadOnly for a database of
// another version than this binary's.
var ErrSchemaMismatch = errors.New("schema versions differ")

// isSQLite tells the engine apart where SQL must differ.
func (s *Store) isSQLite() bool { return s.engine == SQLite }

// quoteIdent quotes a table or column name, the same on both engines.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// valuesList is the VALUES list of an insert of rows rows of cols
// columns, its parameters in the engine's own spelling: the copy runs on
// database/sql directly, not through the store's queries.
func (s *Store) valuesList(rows, cols int) string {
	if s.isSQLite() {
		return valuesList(rows, cols)
	}
	return placeholder.Numbered(valuesList(rows, cols))
}

// valuesList is "(?, ?), (?, ?)" for rows rows of cols columns.
func valuesList(rows, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return strings.Repeat(row+", ", rows-1) + row
}

// queryer is what counting needs: a database or a transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Counts returns how many rows each table holds, in the order of Tables,
// read from one snapshot.
func (s *Store) Counts(ctx context.Context) ([]TableCount, error) {
	tx, err := s.beginSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return countRows(ctx, tx)
}

func countRows(ctx context.Context, q queryer) ([]TableCount, error) {
	out := make([]TableCount, len(Tables))
	for i, t := range Tables {
		out[i].Table = t
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(t)).Scan(&out[i].Rows); err != nil {
			return nil, fmt.Errorf("count the rows of %s: %w", t, err)
		}
	}
	return out, nil
}

// beginSnapshot starts a read-only transaction that sees one state of
// the whole database: SQLite's deferred BEGIN takes its snapshot at the
// first read; PostgreSQL needs REPEATABLE READ for one snapshot across
// statements.
func (s *Store) beginSnapshot(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if !s.isSQLite() {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	return tx, nil
}

// tableNames lists the tables the database holds.
func (s *Store) tableNames(ctx context.Context, q queryer) ([]string, error) {
	query := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	if !s.isSQLite() {
		query = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("list the tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// unlisted returns the tables the database holds that Tables lacks: a
// copy would leave them behind.
func (s *Store) unlisted(ctx context.Context, q queryer) ([]string, error) {
	names, err := s.tableNames(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if !slices.Contains(Tables, n) && !slices.Contains(notCopied, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Copy copies every row of src into dst, which must be empty, table by
// table in the order of Tables, keeping ids, in one transaction on dst.
// src is read from one snapshot, so a copy of a database in use is still
// consistent. Before committing it counts every table on both sides; any
// difference undoes the copy. The two must have the same schema version.
func Copy(ctx context.Context, dst, src *Store) ([]CopyCount, error) {
	sv, err := src.schemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	dv, err := dst.schemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	if sv != dv {
		return nil, fmt.Errorf("%w: the source has version %d, the destination %d; open both with the same hallway (each is brought up to its version when hallway opens it; a database newer than hallway needs a newer hallway)",
			ErrSchemaMismatch, sv, dv)
	}
	stx, err := src.beginSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer stx.Rollback()
	for _, side := range []struct {
		name string
		s    *Store
		q    queryer
	}{{"source", src, stx}, {"destination", dst, dst.db}} {
		extra, err := side.s.unlisted(ctx, side.q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", side.name, err)
		}
		if len(extra) > 0 {
			return nil, fmt.Errorf("the %s has tables hallway does not know how to copy: %s", side.name, strings.Join(extra, ", "))
		}
	}
	dtx, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("destination: begin: %w", err)
	}
	defer dtx.Rollback()
	before, err := countRows(ctx, dtx)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	for _, c := range before {
		if c.Rows > 0 {
			return nil, fmt.Errorf("%w (%s has %d rows): copy into a new, empty database (a new file, or a PostgreSQL database made with createdb), or remove this one first",
				ErrNotEmpty, c.Table, c.Rows)
		}
	}
	out := make([]CopyCount, len(Tables))
	for i, t := range Tables {
		n, err := copyTable(ctx, dst, dtx, stx, t)
		if err != nil {
			return nil, err
		}
		out[i] = CopyCount{Table: t, Copied: n}
	}
	srcCounts, err := countRows(ctx, stx)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	dstCounts, err := countRows(ctx, dtx)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	var differ []string
	for i := range out {
		out[i].Source = srcCounts[i].Rows
		if out[i].Source != dstCounts[i].Rows || out[i].Copied != dstCounts[i].Rows {
			differ = append(differ, fmt.Sprintf("%s: %d in the source, %d copied, %d in the destination",
				Tables[i], out[i].Source, out[i].Copied, dstCounts[i].Rows))
		}
		out[i].Copied = dstCounts[i].Rows
	}
	if len(differ) > 0 {
		return out, fmt.Errorf("the counts differ, nothing was copied: %s", strings.Join(differ, "; "))
	}
	if err := dtx.Commit(); err != nil {
		return out, fmt.Errorf("destination: commit: %w", err)
	}
	return out, nil
}

// copyParams bounds the parameters of one insert, well under both
// engines' limits (SQLite 32,766, PostgreSQL 65,535).
const copyParams = 960

// columnsOf lists the columns SELECT * gives of a table.
func columnsOf(ctx context.Context, q queryer, table string) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table)+" WHERE 1 = 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

// copyTable copies one table's rows, ids and all, and returns how many.
//
// The columns are those of both sides: what one engine keeps implicitly
// the other may hold in a column, as SQLite's rowid (the order speakers
// were added in) is a rowid column on PostgreSQL; SQLite answers to the
// name rowid when it is asked for by name, on either side.
func copyTable(ctx context.Context, dst *Store, dtx, stx *sql.Tx, table string) (int64, error) {
	cols, err := columnsOf(ctx, stx, table)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", table, err)
	}
	dcols, err := columnsOf(ctx, dtx, table)
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", table, err)
	}
	for _, c := range dcols {
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
	}
	list := strings.Join(quoted, ", ")
	rows, err := stx.QueryContext(ctx, "SELECT "+list+" FROM "+quoteIdent(table))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	insert := "INSERT INTO " + quoteIdent(table) + " (" + list + ")"
	if !dst.isSQLite() {
		// The ids are the rows' identity (other tables and the sent-mail
		// journal refer to them): keep them even over an identity column
		// that is GENERATED ALWAYS.
		insert += " OVERRIDING SYSTEM VALUE"
	}
	// Many rows to a statement: one statement per row spends most of
	// its time going through database/sql and the driver.
	per := max(1, copyParams/len(cols))
	var batch *sql.Stmt
	defer func() {
		if batch != nil {
			batch.Close()
		}
	}()
	flush := func(args []any) error {
		if len(args) < per*len(cols) { // the last rows
			_, err := dtx.ExecContext(ctx, insert+" VALUES "+dst.valuesList(len(args)/len(cols), len(cols)), args...)
			return err
		}
		if batch == nil {
			var err error
			if batch, err = dtx.PrepareContext(ctx, insert+" VALUES "+dst.valuesList(per, len(cols))); err != nil {
				return err
			}
		}
		_, err := batch.ExecContext(ctx, args...)
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	args := make([]any, 0, per*len(cols))
	var n int64
	for rows.Next() {
		// Scan copies what the driver hands over (bytes too), so the
		// values outlive the next row.
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("read %s: %w", table, err)
		}
		args = append(args, vals...)
		n++
		if len(args) == per*len(cols) {
			if err := flush(args); err != nil {
				return n, fmt.Errorf("copy %s, rows up to %d: %w", table, n, err)
			}
			args = args[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("read %s: %w", table, err)
	}
	if len(args) > 0 {
		if err := flush(args); err != nil {
			return n, fmt.Errorf("copy %s, rows up to %d: %w", table, n, err)
		}
	}
	if n > 0 && !dst.isSQLite() {
		if err := setSequences(ctx, dtx, table, cols); err != nil {
			return n, err
		}
	}
	return n, nil
}

// setSequences moves PostgreSQL's sequence behind each identity (or
// serial) column of table past the highest value copied into it: a
// sequence knows nothing of values given to it, and the next insert
// would collide or, for an order column, sort before the rows copied.
func setSequences(ctx context.Context, dtx *sql.Tx, table string, cols []string) error {
	for _, c := range cols {
		var seq sql.NullString
		if err := dtx.QueryRowContext(ctx, "SELECT pg_get_serial_sequence($1, $2)", table, c).Scan(&seq); err != nil {
			return fmt.Errorf("find the sequence of %s.%s: %w", table, c, err)
		}
		if !seq.Valid {
			continue
		}
		q := "SELECT setval($1::regclass, (SELECT max(" + quoteIdent(c) + ") FROM " + quoteIdent(table) + "))"
		if _, err := dtx.ExecContext(ctx, q, seq.String); err != nil {
			return fmt.Errorf("set the sequence of %s.%s: %w", table, c, err)
		}
	}
	return nil
}
