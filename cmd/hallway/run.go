package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	netmail "net/mail"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/bot/money"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc"
	"github.com/hallwayhq/hallway/mail"
	"github.com/hallwayhq/hallway/matrix"
	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
	"github.com/hallwayhq/hallway/web"
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
	IRC   *irc.Client
	// Desk, Intake and Sender are the mail side; nil when the config has
	// no mail (Intake without mail.imap, Sender without mail.smtp).
	Desk   *mail.Desk
	Intake *mail.Intake
	Sender *mail.Sender
	// Matrix and MatrixSender are the Matrix side; nil without [matrix].
	Matrix       *matrix.Client
	MatrixSender *matrix.Sender
	// Web serves the feeds and pages on Listen.
	Web    *web.Server
	Listen string
	// lead decides whether this instance runs IRC, mail and the clock
	// (lead.go); the web runs on every instance.
	lead *leadership
	log  *slog.Logger
	hook func(point string) // crashHook's, shared by the bot and IRC
}

// Open opens the store and wires the parts; it connects to nothing yet.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger, debug bool) (*Main, error) {
	m, err := openCore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := m.connect(cfg, debug); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// openCore opens the store and the bot with its mail desk: enough to carry
// out commands and queue answers, as "hallway ingest" does.
func openCore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Main, error) {
	s, err := store.Open(ctx, cfg.Store.Source())
	if err != nil {
		return nil, err
	}
	events := make([]*bot.Event, len(cfg.Events))
	for i, e := range cfg.Events {
		events[i] = botEvent(e, cfg.Web.BaseURL)
	}
	hook := crashHook()
	b := bot.New(s, events, &bot.Options{
		Prefix:         cfg.IRC.Prefix,
		RequireAccount: cfg.IRC.RequireAccount,
		Nick:           cfg.IRC.Nick,
		Logger:         log,
		TestHook:       hook,
		KeepMailTo:     keepMailTo(cfg),
	})
	if err := b.Init(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// Answers and notices to IRC are queued even where this process
	// does not hold the connection; connect installs the client.
	b.SetReplier(bot.IRC, irc.Replier{})
	if cfg.Matrix.Homeserver != "" {
		// Queued here, sent by the leader's Matrix sender.
		b.SetReplier(bot.Matrix, matrix.Replier{})
	}
	m := &Main{Store: s, Bot: b, log: log, hook: hook}
	if mc := cfg.Mail; mc.From != "" {
		m.Desk = &mail.Desk{Bot: b, Store: s, From: mc.From, List: mc.List, AnswersPerDay: mc.AnswersPerDay, Logger: log}
		b.SetReplier(bot.Mail, m.Desk)
		b.SetMailer(m.Desk)
		b.SetAnnouncer(m.Desk)
	}
	return m, nil
}

// connect sets up the network parts: IRC, SMTP sending of the outbox, IMAP
// intake. Nothing connects before Run.
func (m *Main) connect(cfg *config.Config, debug bool) error {
	password, err := cfg.Secret(config.SecretSASLPassword)
	if err != nil {
		return err
	}
	channels := append([]string(nil), cfg.IRC.Channels...)
	for _, e := range cfg.Events {
		channels = append(channels, e.Channel)
		for _, r := range chatRooms(e.Channels) {
			if r.Transport == bot.IRC {
				channels = append(channels, r.Name)
			}
		}
	}
	ircOpts := &irc.Options{
		Server:       cfg.IRC.Server,
		Port:         cfg.IRC.Port,
		TLS:          cfg.IRC.TLS,
		Nick:         cfg.IRC.Nick,
		SASLUser:     cfg.IRC.SASLUser,
		SASLPassword: password,
		Channels:     channels,
		SendBurst:    cfg.IRC.SendBurst,
		SendRate:     cfg.IRC.SendRate,
		Logger:       m.log,
		TestHook:     m.hook,
	}
	if debug {
		ircOpts.Debug = os.Stderr
	}
	m.IRC = irc.New(m.Bot, m.Store, ircOpts)
	m.Bot.SetReplier(bot.IRC, m.IRC)
	m.Bot.OnQueued(m.IRC.Wake)
	var webEvents []web.Event
	for _, e := range cfg.Events {
		g := grid(e)
		webEvents = append(webEvents, web.Event{Slug: e.Slug, Name: e.Name, Venue: e.Venue, Zone: e.Location,
			Rooms: g.Rooms, Grid: g, Channel: e.Channel,
			Filling: float64(e.BoardFilling) / 100, Full: float64(e.BoardFull) / 100})
	}
	m.Web = web.New(m.Store, webEvents, &web.Options{BaseURL: cfg.Web.BaseURL, Logger: m.log, PublicMetrics: cfg.Web.PublicMetrics})
	m.Web.SetReports(reports{m.Bot})
	m.Listen = cfg.Web.Listen
	m.lead = newLeadership(m.Store, cfg.Store.Instance, cfg.Store.LeaseTTL, m.log)
	m.Web.SetLeadership(m.lead)
	if err := m.connectMatrix(cfg); err != nil {
		return err
	}
	mc := cfg.Mail
	if m.Desk != nil && mc.SMTP != "" {
		password, err := cfg.Secret(config.SecretSMTPPassword)
		if err != nil {
			return err
		}
		sender, err := mail.NewSender(m.Store, &mail.SenderOptions{
			Addr: mc.SMTP, Security: string(mc.SMTPSecurity), Username: mc.SMTPUser, Password: password,
			From: addressOf(mc.From), Logger: m.log,
			Journal: cfg.Store.Journal, Undelivered: m.Desk.Undelivered,
		})
		if err != nil {
			return fmt.Errorf("mail.smtp: %w", err)
		}
		m.Sender = sender
		m.Bot.OnQueued(sender.Wake)
		m.Desk.Wake = sender.Wake
	}
	if m.Desk != nil && mc.IMAP != "" {
		password, err := cfg.Secret(config.SecretIMAPPassword)
		if err != nil {
			return err
		}
		m.Intake = mail.NewIntake(&mail.IntakeOptions{
			Addr: mc.IMAP, Security: string(mc.IMAPSecurity), Username: mc.IMAPUser, Password: password,
			Mailbox: mc.Mailbox, Processed: mc.ProcessedMailbox, Quarantine: mc.QuarantineMailbox, Logger: m.log,
		}, m.Desk)
	}
	return nil
}

// connectMatrix sets up the Matrix client and sender, if the config has
// [matrix]: the client joins the events' Matrix rooms and accepts the
// invites of their Matrix organizers.
func (m *Main) connectMatrix(cfg *config.Config) error {
	mx := cfg.Matrix
	if mx.Homeserver == "" {
		return nil
	}
	token, err := cfg.Secret(config.SecretMatrixToken)
	if err != nil {
		return err
	}
	var rooms, orgs []string
	for _, e := range cfg.Events {
		for _, r := range chatRooms(e.Channels) {
			if r.Transport == bot.Matrix && !slices.Contains(rooms, r.Name) {
				rooms = append(rooms, r.Name)
			}
		}
		for _, o := range organizers(e.Organizers) {
			if o.Kind == bot.MatrixUser {
				orgs = append(orgs, o.Value)
			}
		}
	}
	c, err := matrix.New(matrix.Config{
		Homeserver: mx.Homeserver, UserID: mx.UserID, AccessToken: token,
		Rooms: rooms, Organizers: orgs, Prefix: cfg.IRC.Prefix, Names: []string{cfg.IRC.Nick},
		Joined: func(name, roomID string) { m.Bot.SetRoomID(bot.Matrix, name, roomID) },
		Logger: m.log,
	})
	if err != nil {
		return err
	}
	m.Matrix = c
	m.MatrixSender = matrix.NewSender(c, matrix.StoreOutbox(m.Store), &matrix.SenderOptions{
		Burst: mx.SendBurst, Every: time.Duration(float64(time.Second) / mx.SendRate),
	})
	m.Bot.OnQueued(m.MatrixSender.Wake)
	return nil
}

// addressOf takes the address out of "Name <addr>".
func addressOf(from string) string {
	if a, err := netmail.ParseAddress(from); err == nil {
		return a.Address
	}
	return from
}

// Run serves until ctx is done: the web at once, and IRC, mail and the
// clock while this instance holds the leader's lease (lead.go), which a
// single hallway takes at once. If a part fails, the others are stopped
// and its error returned.
func (m *Main) Run(ctx context.Context) error {
	m.log.Info("hallway running", "events", len(m.Bot.Events()), "web", m.Listen, "mail_in", m.Intake != nil, "mail_out", m.Sender != nil, "matrix", m.Matrix != nil,
		"instance", m.lead.holder)
	return supervise(ctx, map[string]func(context.Context) error{
		"web":  func(ctx context.Context) error { return m.Web.Run(ctx, m.Listen) },
		"lead": func(ctx context.Context) error { return m.lead.run(ctx, m.runLeader) },
	})
}

// runLeader runs the leader's parts until ctx (the leader's context) is
// done or one fails.
func (m *Main) runLeader(ctx context.Context) error {
	// The instance that led before may have joined channels and started
	// notes since this one read them.
	if err := m.Bot.Init(ctx); err != nil {
		return fmt.Errorf("reading the state to lead: %w", err)
	}
	parts := map[string]func(context.Context) error{
		"clock": func(ctx context.Context) error {
			m.Bot.RunClock(ctx)
			return nil
		},
		"irc": m.IRC.Run,
	}
	if m.Sender != nil {
		parts["smtp"] = m.Sender.Run
	}
	if m.Matrix != nil {
		parts["matrix"] = func(ctx context.Context) error {
			return m.Matrix.Run(ctx, matrix.BotHandler{Bot: m.Bot}, m.Store)
		}
		parts["matrix_send"] = m.MatrixSender.Run
	}
	if m.Intake != nil {
		parts["imap"] = m.Intake.Run
	}
	return supervise(ctx, parts)
}

// supervise runs every part until ctx is done; if one fails, the others
// are stopped and its error returned.
func supervise(ctx context.Context, parts map[string]func(context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for name, f := range parts {
		wg.Go(func() {
			if err := f(ctx); err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("%s: %w", name, err))
			}
		})
	}
	<-ctx.Done()
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
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
	var roomChannels map[string]string
	for _, r := range e.Rooms {
		if r.Channel != "" {
			if roomChannels == nil {
				roomChannels = map[string]string{}
			}
			roomChannels[r.Name] = r.Channel
		}
	}
	return &bot.Event{
		RoomChannels:   roomChannels,
		Slug:           e.Slug,
		Name:           e.Name,
		Channel:        e.Channel,
		ChatRooms:      chatRooms(e.Channels),
		Organizers:     organizers(e.Organizers),
		VotesPerPerson: e.VotesPerPerson,
		Capacity:       e.RegistrationCapacity,
		Hold:           e.RegistrationHold,
		DayHold:        e.RegistrationDayHold,
		Phases:         phases,
		URL:            baseURL + "/" + e.Slug,
		Zone:           e.Location,
		Grid:           grid(e),
		Campaigns:      campaigns(e),
		Rates:          e.ExchangeRates,
		ReminderAfter:  e.PledgeReminderAfter,
		KeepTopic:      e.KeepTopic,
		RetimeWeight:   e.RetimeWeight,
		FreezeBefore:   e.FreezeBefore,
		Reminders:      e.PledgeReminders,
		Retention:      e.Retention,
		CocURL:         e.CocURL,
		CocTeam:        cocTeam(e),
	}
}

// campaigns turns the config's pledge drives into the bot's.
// chatRooms reads an event's channels, which validation checked.
func chatRooms(list []string) []bot.ChatRoom {
	var out []bot.ChatRoom
	for _, s := range list {
		if r, err := bot.ParseChatRoom(s); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// organizers reads the config's organizers, which validation checked.
func organizers(list []string) []bot.Identity {
	out := make([]bot.Identity, 0, len(list))
	for _, s := range list {
		if id, err := bot.ParseIdentity(s); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func campaigns(e config.Event) []bot.Campaign {
	var out []bot.Campaign
	for _, c := range e.Campaigns {
		out = append(out, bot.Campaign{Slug: c.Slug, Title: c.Title, Closes: c.Closes, GoalHours: c.Goal.Hours,
			Goal: money.Amount{Minor: c.Goal.Amount, Currency: c.Goal.Currency}})
	}
	return out
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

// reports gives the web the bot's minutes, wrap-up and campaigns.
type reports struct{ b *bot.Bot }

func (r reports) Minutes(ctx context.Context, event string, id int64) (*schedule.Minutes, error) {
	return r.b.Minutes(ctx, event, id)
}

func (r reports) Summary(ctx context.Context, event string) (*schedule.EventSummary, error) {
	return r.b.Summary(ctx, event)
}

func (r reports) Campaign(ctx context.Context, event, slug string) (*web.Campaign, error) {
	c, err := r.b.Campaign(ctx, event, slug)
	if err != nil {
		return nil, err
	}
	out := &web.Campaign{Slug: c.Slug, Title: c.Title, Progress: c.Progress, Percent: c.Percent, Closes: c.Closes}
	for _, p := range c.Pledges {
		out.Pledges = append(out.Pledges, web.PublicPledge{Name: p.Name, What: p.What, Status: p.Status})
	}
	return out, nil
}
