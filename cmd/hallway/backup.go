package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/mail"
	"github.com/hallwayhq/hallway/store"
)

// runBackup makes an online backup of the SQLite store: one file, the
// sent-mail journal folded in, checked, put in place only when whole.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	cfgPath := fs.String("config", "hallway.toml", "config file")
	out := fs.String("o", "", "the backup file (default: beside the database, named by the time)")
	force := fs.Bool("force", false, "replace the backup file if it exists")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if cfg.Store.URL != "" {
		return pgDumpAdvice(cfg.Store.URL, time.Now())
	}
	dbPath := cfg.Store.Path
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("no database at %s (store.path in %s): %w", dbPath, *cfgPath, err)
	}
	if *out == "" {
		base := strings.TrimSuffix(filepath.Base(dbPath), ".db")
		*out = filepath.Join(filepath.Dir(dbPath), base+"-backup-"+time.Now().UTC().Format("20060102T150405Z")+".db")
	}
	if a, b := absPath(*out), absPath(dbPath); a == b || strings.HasPrefix(a, b+"-") {
		return fmt.Errorf("-o %s is the database itself or a file of it: name another file", *out)
	}
	if _, err := os.Stat(*out); err == nil && !*force {
		return fmt.Errorf("%s exists: name another file with -o, or add -force to replace it", *out)
	}
	// The backup is made under a name of its own beside the target and
	// takes the target's name only when it is whole and checked.
	tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".partial-*")
	if err != nil {
		return fmt.Errorf("cannot write beside %s: %w", *out, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	s, err := store.OpenReadOnly(ctx, dbPath)
	if err != nil {
		return err
	}
	at := time.Now()
	var journal []int64
	counts, err := s.Backup(ctx, tmp.Name(), func() (ids []int64, err error) {
		// Read after the copy was taken: every mail the server took
		// before it is in the journal or marked in the copy. An id of
		// a row made after it is not in the copy, and marks nothing.
		journal, err = mail.ReadJournal(cfg.Store.Journal)
		return journal, err
	})
	s.Close()
	if err != nil {
		return err
	}
	if err := placeFile(tmp.Name(), *out, *force); err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes, schema version %d, a copy of %s as it was at %s\n",
		*out, fi.Size(), store.SchemaVersion, dbPath, at.UTC().Format(time.RFC3339))
	if len(journal) > 0 {
		fmt.Fprintf(stdout, "folded in the sent-mail journal (%d ids): the mail the SMTP server took is marked sent, so restore this file alone\n", len(journal))
	}
	printCounts(stdout, counts)
	return nil
}

// absPath is path made absolute, or path itself if that fails.
func absPath(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

// pgDumpAdvice answers a backup of a PostgreSQL store: pg_dump makes a
// consistent one while hallway runs, and its command is given.
func pgDumpAdvice(source string, now time.Time) error {
	file := "hallway-" + now.UTC().Format("20060102T1504Z") + ".dump"
	return fmt.Errorf("the store is PostgreSQL: back it up with pg_dump, which takes one consistent snapshot while hallway runs:\n"+
		"  pg_dump --format=custom --file=%s '%s'\n"+
		"and restore it into a new, empty database with:\n"+
		"  createdb NEWDB && pg_restore --no-owner --dbname='postgres://…/NEWDB' %s",
		file, redact(source), file)
}

// placeFile gives tmp the name path: a link, which fails if path exists
// (another backup may have taken the name meanwhile), or a rename when
// replacing is asked for or the file system has no links.
func placeFile(tmp, path string, replace bool) error {
	if !replace {
		err := os.Link(tmp, path)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists: name another file with -o, or add -force to replace it", path)
		}
		if err == nil {
			return syncPath(filepath.Dir(path))
		}
		if _, serr := os.Stat(path); serr == nil {
			return fmt.Errorf("%s exists: name another file with -o, or add -force to replace it", path)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return syncPath(filepath.Dir(path))
}

// syncPath flushes a file or directory to the disk.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// printCounts prints the rows of each table.
func printCounts(w io.Writer, counts []store.TableCount) {
	fmt.Fprintf(w, "%-18s %10s\n", "table", "rows")
	var total int64
	for _, c := range counts {
		fmt.Fprintf(w, "%-18s %10d\n", c.Table, c.Rows)
		total += c.Rows
	}
	fmt.Fprintf(w, "%-18s %10d\n", "total", total)
}
