package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/store"
)

// runCoc is the code-of-conduct team's view of the reports from the
// server's shell: list, show, ack, close. Every use goes to the audit log
// under the shell user's name.
func runCoc(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, "hallway coc: the subcommands are list, show N, ack N, close N\n")
		return errUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("coc "+sub, flag.ContinueOnError)
	path := fs.String("config", "hallway.toml", "config file")
	slug := fs.String("event", "", "the event's slug (needed when the config has several)")
	all := fs.Bool("all", false, "list: resolved reports too")
	note := fs.String("note", "", "ack, close: a note for the audit log")
	want := 1
	switch sub {
	case "list":
		want = 0
	case "show", "ack", "close":
	default:
		fmt.Fprintf(stderr, "hallway coc: unknown subcommand %q; the subcommands are list, show N, ack N, close N\n", sub)
		return errUsage
	}
	rest, err := parseWithArgs(fs, args[1:], want, stderr)
	if err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	ev, err := pickEvent(cfg, *slug, *path)
	if err != nil {
		return err
	}
	var id int64
	if want == 1 {
		if id, err = strconv.ParseInt(strings.TrimPrefix(rest[0], "#"), 10, 64); err != nil || id <= 0 {
			return fmt.Errorf("%q is not a report number (hallway coc list shows them)", rest[0])
		}
	}
	s, err := store.Open(ctx, cfg.Store.Source())
	if err != nil {
		return err
	}
	defer s.Close()
	actor := "shell:" + cmp.Or(os.Getenv("SUDO_USER"), os.Getenv("USER"), "unknown")
	return s.Do(ctx, func(tx *store.Tx) error {
		row, err := tx.EventBySlug(ev.Slug)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("event %s has no reports (hallway has not run it yet)", ev.Slug)
		} else if err != nil {
			return err
		}
		zone := ev.Location
		if sub == "list" {
			rs, err := tx.Reports(row.ID, !*all)
			if err != nil {
				return err
			}
			if len(rs) == 0 {
				fmt.Fprintln(stdout, "no open reports")
			}
			for _, r := range rs {
				fmt.Fprintf(stdout, "#%d\t%s\t%s\tvia %s from %s\t%s\n", r.ID, r.Status, r.CreatedAt.In(zone).Format("2006-01-02 15:04"),
					r.Via, cmp.Or(r.Contact, "(forgotten)"), oneLine(r.Text, 80))
			}
			return tx.Audit(row.ID, 0, actor, "listed", "")
		}
		r, err := tx.Report(row.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("there is no report #%d for %s", id, ev.Slug)
		} else if err != nil {
			return err
		}
		switch sub {
		case "show":
			if err := tx.Audit(row.ID, r.ID, actor, "shown", ""); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "report #%d, %s\nfiled %s via %s by %s\n\n%s\n\nlog:\n", r.ID, r.Status,
				r.CreatedAt.In(zone).Format("2006-01-02 15:04 MST"), r.Via, cmp.Or(r.Contact, "(forgotten)"), r.Text)
			log, err := tx.AuditLog(r.ID)
			if err != nil {
				return err
			}
			for _, e := range log {
				fmt.Fprintf(stdout, "  %s  %-12s %s", e.At.In(zone).Format("2006-01-02 15:04"), e.Action, e.Actor)
				if e.Note != "" {
					fmt.Fprintf(stdout, " (%s)", e.Note)
				}
				fmt.Fprintln(stdout)
			}
			return nil
		default:
			status := store.ReportResolved
			if sub == "ack" {
				status = store.ReportAcknowledged
			}
			changed, err := tx.SetReportStatus(row.ID, r.ID, status, actor, *note)
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(stdout, "report #%d was already %s\n", r.ID, status)
				return nil
			}
			fmt.Fprintf(stdout, "report #%d is now %s\n", r.ID, status)
			return nil
		}
	})
}

// oneLine shortens text to one line of at most n characters.
func oneLine(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > n {
		return string(r[:n]) + "…"
	}
	return text
}
