package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
)

// runWrapup prints an event's wrap-up (Markdown) and with -post queues it
// for the mailing list, once: running it again regenerates it without
// posting twice. "hallway run" sends what was queued.
func runWrapup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wrapup", flag.ContinueOnError)
	path := fs.String("config", "hallway.toml", "config file")
	slug := fs.String("event", "", "the event's slug (needed when the config has several)")
	post := fs.Bool("post", false, "also post it to the mailing list, unless it was posted before")
	if err := parseFlags(fs, args, stderr); err != nil {
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
	m, err := openCore(ctx, cfg, newLogger(stderr, false))
	if err != nil {
		return err
	}
	defer m.Close()
	md, posted, err := m.Bot.Wrapup(ctx, ev.Slug, *post)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, md)
	switch {
	case posted:
		fmt.Fprintln(stderr, "hallway wrapup: queued for the list; hallway run sends it.")
	case *post:
		fmt.Fprintln(stderr, "hallway wrapup: it was posted before; not posting again.")
	}
	return nil
}
