package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hallwayhq/hallway/mail"
	"github.com/hallwayhq/hallway/store"
)

// runDB runs the "hallway db" subcommands.
func runDB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "copy" {
		fmt.Fprint(stderr, "hallway db: the subcommand is copy\n\n"+usage)
		return errUsage
	}
	return runDBCopy(ctx, args[1:], stdout, stderr)
}

// runDBCopy copies a whole database into a new one, on either engine.
func runDBCopy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("db copy", flag.ContinueOnError)
	from := fs.String("from", "", "the database to copy: a file, sqlite:PATH or postgres://…")
	to := fs.String("to", "", "the new database: a file, sqlite:PATH or postgres://… (empty)")
	journal := fs.String("journal", "", "the source's sent-mail journal, folded into the copy (default: SRC-sent beside a SQLite file; none for PostgreSQL)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		fmt.Fprintln(stderr, "hallway db copy: both -from and -to are needed, e.g. hallway db copy -from sqlite:hallway.db -to postgres://hallway@localhost/hallway")
		fs.Usage()
		return errUsage
	}
	if !isPostgres(*from) && !isPostgres(*to) {
		if a, b := absPath(sqlitePath(*from)), absPath(sqlitePath(*to)); a == b {
			return fmt.Errorf("-from and -to are the same file %s: name a new file to copy into", a)
		}
	}
	start := time.Now()
	src, err := openSource(ctx, *from, true)
	if err != nil {
		return fmt.Errorf("-from: %w", err)
	}
	defer src.Close()
	// A SQLite file made here and left empty by a failed copy is removed,
	// so the next try does not find it in the way.
	var created string
	if !isPostgres(*to) {
		if _, err := os.Stat(sqlitePath(*to)); errors.Is(err, os.ErrNotExist) {
			created = sqlitePath(*to)
		}
	}
	dst, err := openSource(ctx, *to, false)
	if err != nil {
		return fmt.Errorf("-to: %w", err)
	}
	counts, err := store.Copy(ctx, dst, src)
	if *journal == "" && !isPostgres(*from) {
		*journal = journalPath(sqlitePath(*from))
	}
	if err == nil && *journal != "" {
		err = foldJournal(ctx, dst, *journal, stdout)
	}
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		if created != "" {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(created + suffix)
			}
		}
		return err
	}
	fmt.Fprintf(stdout, "%-18s %10s %10s\n", "table", "source", "copy")
	var total int64
	for _, c := range counts {
		fmt.Fprintf(stdout, "%-18s %10d %10d\n", c.Table, c.Source, c.Copied)
		total += c.Copied
	}
	fmt.Fprintf(stdout, "copied %d tables, %d rows, from %s to %s in %s; the counts match\n",
		len(counts), total, redact(*from), redact(*to), time.Since(start).Round(time.Millisecond))
	return nil
}

// foldJournal marks sent in the copy the mail the source's sent-mail
// journal holds: a hallway killed right after the SMTP server took a
// mail may not have marked it in its database, and the journal stays
// behind with the old file.
func foldJournal(ctx context.Context, dst *store.Store, journal string, stdout io.Writer) error {
	ids, err := mail.ReadJournal(journal)
	if err != nil || len(ids) == 0 {
		return err
	}
	if err := dst.MarkSent(ctx, ids...); err != nil {
		return fmt.Errorf("marking sent the mail in the sent-mail journal: %w", err)
	}
	fmt.Fprintf(stdout, "folded in the sent-mail journal %s (%d ids): the mail the SMTP server took is marked sent in the copy\n", journal, len(ids))
	return nil
}
