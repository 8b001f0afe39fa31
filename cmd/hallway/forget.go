package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/store"
)

// parseWithArgs parses a subcommand's flags wherever they stand among its
// arguments ("forget alice -yes" as "forget -yes alice") and returns the
// arguments; want is how many there must be.
func parseWithArgs(fs *flag.FlagSet, args []string, want int, stderr io.Writer) ([]string, error) {
	fs.SetOutput(stderr)
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != want {
		fmt.Fprintf(stderr, "hallway %s: %d argument(s) expected, got %d\n", fs.Name(), want, len(rest))
		fs.Usage()
		return nil, errUsage
	}
	return rest, nil
}

// runForget forgets a person, as !forget does, for an organizer asked by
// that person some other way (a mail to the organizers, at the desk).
func runForget(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("forget", flag.ContinueOnError)
	path := fs.String("config", "hallway.toml", "config file")
	yes := fs.Bool("yes", false, "forget them; without it, only say who would be forgotten")
	rest, err := parseWithArgs(fs, args, 1, stderr)
	if err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	s, err := store.Open(ctx, cfg.Store.Source())
	if err != nil {
		return err
	}
	defer s.Close()
	who := rest[0]
	kind, value := store.IRCAccount, bot.FoldAccount(who)
	if strings.Contains(who, "@") {
		kind, value = store.Email, strings.ToLower(who)
	}
	var f store.Forgotten
	var ids []store.Identity
	err = s.Do(ctx, func(tx *store.Tx) error {
		id, err := tx.IdentityOf(kind, value)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("nobody is known as %q: give a services account or a mail address exactly as they used it", who)
		} else if err != nil {
			return err
		}
		if ids, err = tx.Identities(id.PersonID); err != nil {
			return err
		}
		if !*yes {
			return nil
		}
		f, err = tx.Forget(id.PersonID)
		return err
	})
	if err != nil {
		return err
	}
	var names []string
	for _, id := range ids {
		names = append(names, string(id.Kind)+" "+id.Value)
	}
	if !*yes {
		fmt.Fprintf(stdout, "would forget the person known as %s.\nRun again with -yes to forget them.\n", strings.Join(names, ", "))
		return nil
	}
	fmt.Fprintf(stdout, "forgot the person known as %s.\n", strings.Join(names, ", "))
	if len(f.Kept) == 0 {
		fmt.Fprintln(stdout, "nothing was kept.")
	}
	for _, k := range f.Kept {
		fmt.Fprintf(stdout, "kept without their name: %d %s (%s)\n", k.N, k.What, k.Why)
	}
	return nil
}
