package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/hallwayhq/hallway/bot/money"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/store"
)

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	path := fs.String("config", "hallway.toml", "config file")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	// The machine checking a config is seldom the one running it: missing
	// secrets are warnings here, errors for "hallway run".
	var errs config.Errors
	if err := cfg.ResolveSecrets(nil); errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintf(stderr, "warning: %v\n", e)
		}
	} else if err != nil {
		return err
	}
	for _, w := range uncounted(context.Background(), cfg) {
		fmt.Fprintf(stderr, "warning: %v\n", w)
	}
	cfg.Print(stdout)
	fmt.Fprintf(stderr, "%s: OK\n", *path)
	return nil
}

// uncounted finds, in the database if there is one, money pledged to a
// campaign in a currency the config gives no rate for to the goal's: it
// is shown apart and does not count toward the goal.
func uncounted(ctx context.Context, cfg *config.Config) []error {
	if cfg.Store.URL == "" {
		if _, err := os.Stat(cfg.Store.Path); err != nil {
			return nil // nothing pledged yet, or the database is elsewhere
		}
	}
	s, err := store.OpenReadOnly(ctx, cfg.Store.Source())
	if err != nil {
		return []error{fmt.Errorf("could not look for pledges the goals do not count: %w", err)}
	}
	defer s.Close()
	var out []error
	err = s.View(ctx, func(tx *store.Tx) error {
		for i, ev := range cfg.Events {
			row, err := tx.EventBySlug(ev.Slug)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			pledged, err := tx.PledgedCurrencies(row.ID)
			if err != nil {
				return err
			}
			for j, c := range ev.Campaigns {
				if !c.Goal.IsMoney() {
					continue
				}
				for _, cur := range pledged[c.Slug] {
					if cur == c.Goal.Currency || slices.ContainsFunc(ev.ExchangeRates, func(r money.Rate) bool { return r.From == cur && r.To == c.Goal.Currency }) {
						continue
					}
					out = append(out, cfg.Problem(fmt.Sprintf("event[%d].campaign[%d].goal", i, j), fmt.Sprintf(
						"pledges to %s in %s do not count toward its goal in %s, for want of a rate: add [[event.exchange_rate]] with from = %q, to = %q, rate = \"…\", date = \"…\"",
						c.Slug, cur, c.Goal.Currency, cur, c.Goal.Currency)))
				}
			}
		}
		return nil
	})
	if err != nil {
		out = append(out, fmt.Errorf("could not look for pledges the goals do not count: %w", err))
	}
	return out
}
