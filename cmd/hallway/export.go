package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/store"
)

const exportUsage = `Usage:
  hallway export registrations -config FILE -event SLUG   registrations as CSV, for organizers
`

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, "hallway export: say what to export\n\n"+exportUsage)
		return errUsage
	}
	what := args[0]
	fs := flag.NewFlagSet("export "+what, flag.ContinueOnError)
	path := fs.String("config", "hallway.toml", "config file")
	slug := fs.String("event", "", "the event's slug")
	if err := parseFlags(fs, args[1:], stderr); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if *slug == "" && len(cfg.Events) == 1 {
		*slug = cfg.Events[0].Slug
	}
	ev, ok := cfg.Event(*slug)
	if !ok {
		var slugs []string
		for _, e := range cfg.Events {
			slugs = append(slugs, e.Slug)
		}
		return fmt.Errorf("no event %q in %s; events: %s", *slug, *path, strings.Join(slugs, ", "))
	}
	s, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return err
	}
	defer s.Close()
	switch what {
	case "registrations":
		return exportRegistrations(ctx, s, ev, stdout)
	default:
		fmt.Fprintf(stderr, "hallway export: unknown export %q\n\n%s", what, exportUsage)
		return errUsage
	}
}

// exportRegistrations writes an event's registrations as CSV, in the
// order they came, with the addresses: it is for the organizers.
func exportRegistrations(ctx context.Context, s *store.Store, ev *config.Event, w io.Writer) error {
	out := csv.NewWriter(w)
	out.Write([]string{"number", "status", "name", "email", "irc_account", "registered_at", "updated_at"})
	err := s.Do(ctx, func(tx *store.Tx) error {
		e, err := tx.EnsureEvent(ev.Slug, ev.Name)
		if err != nil {
			return err
		}
		regs, err := tx.Registrations(e.ID)
		if err != nil {
			return err
		}
		for _, r := range regs {
			name, err := tx.PersonName(r.PersonID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			ids, err := tx.Identities(r.PersonID)
			if err != nil {
				return err
			}
			var accounts []string
			for _, id := range ids {
				if id.Kind == store.IRCAccount {
					accounts = append(accounts, id.Value)
				}
			}
			number := ""
			if r.Number > 0 {
				number = fmt.Sprint(r.Number)
			}
			out.Write([]string{number, r.Status, name, r.Email, strings.Join(accounts, " "),
				r.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), r.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z")})
		}
		return nil
	})
	if err != nil {
		return err
	}
	out.Flush()
	return out.Error()
}
