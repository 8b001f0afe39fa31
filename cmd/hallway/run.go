package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

func runRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("config", "hallway.toml", "config file")
	debug := fs.Bool("debug", false, "verbose logging, with the raw IRC lines")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if err := cfg.ResolveSecrets(nil); err != nil {
		return err
	}
	log := newLogger(stderr, *debug)
	m, err := Open(ctx, cfg, log, *debug)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}

// Main is one running hallway: the store and the transports wired
// together. Tests run it against real servers with a temporary database.
type Main struct {
	Store *store.Store
	Bot   *bot.Bot
	IRC   *bot.IRCClient
	log   *slog.Logger
}

// Open opens the store and wires the parts; it connects to nothing yet.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger, debug bool) (*Main, error) {
	s, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return nil, err
	}
	events := make([]*bot.Event, len(cfg.Events))
	channels := append([]string(nil), cfg.IRC.Channels...)
	for i, e := range cfg.Events {
		events[i] = botEvent(e, cfg.Web.BaseURL)
		channels = append(channels, e.Channel)
	}
	b := bot.New(s, events, &bot.Options{
		Prefix:         cfg.IRC.Prefix,
		RequireAccount: cfg.IRC.RequireAccount,
		Nick:           cfg.IRC.Nick,
		Logger:         log,
	})
	if err := b.Init(ctx); err != nil {
		s.Close()
		return nil, err
	}
	password, err := cfg.Secret(config.SecretSASLPassword)
	if err != nil {
		s.Close()
		return nil, err
	}
	ircOpts := &bot.IRCOptions{
		Server:       cfg.IRC.Server,
		Port:         cfg.IRC.Port,
		TLS:          cfg.IRC.TLS,
		Nick:         cfg.IRC.Nick,
		SASLUser:     cfg.IRC.SASLUser,
		SASLPassword: password,
		Channels:     channels,
		SendBurst:    cfg.IRC.SendBurst,
		SendRate:     cfg.IRC.SendRate,
		Logger:       log,
	}
	if debug {
		ircOpts.Debug = os.Stderr
	}
	return &Main{Store: s, Bot: b, IRC: bot.NewIRC(b, ircOpts), log: log}, nil
}

// Run serves until ctx is done.
func (m *Main) Run(ctx context.Context) error {
	m.log.Info("hallway running", "events", len(m.Bot.Events()))
	clockDone := make(chan struct{})
	go func() {
		defer close(clockDone)
		m.Bot.RunClock(ctx, m.IRC.Wake)
	}()
	defer func() { <-clockDone }()
	if err := m.IRC.Run(ctx); err != nil {
		return fmt.Errorf("irc: %w", err)
	}
	return nil
}

// Close releases what Open took.
func (m *Main) Close() error { return m.Store.Close() }

func botEvent(e config.Event, baseURL string) *bot.Event {
	phases := map[string]bot.PhaseTimes{}
	for name, p := range e.Phases {
		phases[name] = bot.PhaseTimes{Open: p.Open, Close: p.Close}
	}
	return &bot.Event{
		Slug:           e.Slug,
		Name:           e.Name,
		Channel:        e.Channel,
		Organizers:     e.Organizers,
		VotesPerPerson: e.VotesPerPerson,
		Capacity:       e.RegistrationCapacity,
		Phases:         phases,
		URL:            baseURL + "/" + e.Slug,
		Zone:           e.Location,
		Grid:           grid(e),
	}
}

// grid turns the config's rooms and days into the scheduler's grid.
func grid(e config.Event) schedule.Grid {
	var g schedule.Grid
	for _, r := range e.Rooms {
		g.Rooms = append(g.Rooms, schedule.GridRoom{Name: r.Name, Capacity: r.Capacity})
	}
	for _, d := range e.Days {
		for _, s := range d.Slots {
			g.Slots = append(g.Slots, schedule.GridSlot{Start: s.Start, End: s.End(), Kind: string(s.Kind), Rooms: s.Rooms, Title: s.Title})
		}
	}
	slices.SortStableFunc(g.Slots, func(a, b schedule.GridSlot) int { return a.Start.Compare(b.Start) })
	return g
}
