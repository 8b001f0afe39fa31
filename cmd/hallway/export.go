package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hallwayhq/hallway/bot/money"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

const exportUsage = `Usage:
  hallway export -config FILE -event SLUG -format ics|json|frab|text|c3voc
                                                          the released schedule, the bytes the web serves
  hallway export registrations -config FILE -event SLUG   registrations as CSV, for organizers
  hallway export pledges -config FILE -event SLUG         pledges as CSV, with who, for the treasurer
  hallway export mail -config FILE [-all]                 mail not carried out (no command, unreadable,
                                                          a command that failed) as CSV, with its text;
                                                          -all: every mail taken in, without the text
`

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	what := "schedule"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		what, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("export "+what, flag.ContinueOnError)
	path := fs.String("config", "hallway.toml", "config file")
	slug := fs.String("event", "", "the event's slug (needed when the config has several)")
	format := fs.String("format", "ics", "for the schedule: ics, json, frab, text or c3voc")
	all := fs.Bool("all", false, "for mail: every mail taken in, not only the mail not carried out")
	fs.Usage = func() { fmt.Fprint(stderr, exportUsage) }
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	var ev *config.Event
	if what != "mail" { // mail comes to the bot, not to an event
		if ev, err = pickEvent(cfg, *slug, *path); err != nil {
			return err
		}
	}
	s, err := store.Open(ctx, cfg.Store.Source())
	if err != nil {
		return err
	}
	defer s.Close()
	switch what {
	case "mail":
		return exportMail(ctx, s, *all, stdout)
	case "schedule":
		return exportSchedule(ctx, s, cfg, ev, *format, stdout)
	case "registrations":
		return exportRegistrations(ctx, s, ev, stdout)
	case "pledges":
		return exportPledges(ctx, s, ev, stdout)
	default:
		fmt.Fprintf(stderr, "hallway export: unknown export %q\n\n%s", what, exportUsage)
		return errUsage
	}
}

// exportRegistrations writes an event's registrations as CSV, in the
// order they came, with the addresses: it is for the organizers.
func exportRegistrations(ctx context.Context, s *store.Store, ev *config.Event, w io.Writer) error {
	out := newCSV(w)
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
			status := r.Status
			if status == store.Pending && r.Bounce != "" {
				status = "address bounced: " + r.Bounce
			}
			out.Write([]string{number, status, name, r.Email, strings.Join(accounts, " "),
				r.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), r.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z")})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return out.Flush()
}

// towardGoal is what a money pledge counts toward its campaign's money
// goal, in the goal's currency ("" if nothing), and the exchange rate
// that made it so (rounded down to the minor unit, as the campaign's
// progress counts it), or why it does not count.
func towardGoal(ev *config.Event, p store.Pledge) (amount, rate string) {
	if p.Kind != store.PledgeMoney || (p.Status != store.Pledged && p.Status != store.PledgeReceived) {
		return "", "" // withdrawn or expired: counts for nothing
	}
	goal := ""
	for _, c := range ev.Campaigns {
		if c.Slug == p.Campaign && c.Goal.IsMoney() {
			goal = c.Goal.Currency
		}
	}
	switch {
	case goal == "":
		return "", ""
	case p.Currency == goal:
		return decimal(p.Amount, goal), ""
	}
	for _, r := range ev.ExchangeRates {
		if r.From == p.Currency && r.To == goal {
			return decimal(r.Convert(p.Amount), goal), r.String()
		}
	}
	return "", "not counted: no exchange rate to " + goal
}

// exportPledges writes an event's pledges as CSV for the treasurer: who
// (name, accounts, confirmed address) even for anonymous pledges, what,
// and what arrived.
func exportPledges(ctx context.Context, s *store.Store, ev *config.Event, w io.Writer) error {
	out := newCSV(w)
	out.Write([]string{"pledge", "campaign", "status", "kind", "amount", "currency", "received", "description",
		"shown_as", "name", "irc_account", "email", "reminders_sent", "pledged_at", "updated_at", "counts_toward_goal", "rate"})
	err := s.View(ctx, func(tx *store.Tx) error {
		e, err := tx.EventBySlug(ev.Slug)
		if errors.Is(err, store.ErrNotFound) {
			return nil // nothing happened yet
		} else if err != nil {
			return err
		}
		ps, err := tx.Pledges(e.ID, "*", 0)
		if err != nil {
			return err
		}
		for _, p := range ps {
			name, err := tx.PersonName(p.PersonID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			ids, err := tx.Identities(p.PersonID)
			if err != nil {
				return err
			}
			var accounts, emails []string
			for _, id := range ids {
				switch {
				case id.Kind == store.IRCAccount:
					accounts = append(accounts, id.Value)
				case id.Kind == store.Email && !id.ConfirmedAt.IsZero():
					emails = append(emails, id.Value)
				}
			}
			amount, received := "", ""
			switch p.Kind {
			case store.PledgeMoney:
				amount, received = decimal(p.Amount, p.Currency), decimal(p.Received, p.Currency)
			case store.PledgeTime:
				amount, received = strconv.FormatFloat(float64(p.Amount)/60, 'f', -1, 64), strconv.FormatFloat(float64(p.Received)/60, 'f', -1, 64)
			}
			unit := p.Currency
			if p.Kind == store.PledgeTime {
				unit = "hours"
			}
			shown := p.DisplayName
			if shown == "" {
				shown = name
			}
			counts, rate := towardGoal(ev, p)
			out.Write([]string{strconv.FormatInt(p.ID, 10), p.Campaign, p.Status, p.Kind, amount, unit, received, p.Description,
				shown, name, strings.Join(accounts, " "), strings.Join(emails, " "), strconv.Itoa(p.RemindersSent),
				p.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), p.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z"), counts, rate})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return out.Flush()
}

// exportMail writes the mail taken in as CSV for the organizers: when,
// how it came (imap or ingest), from whom, what came of it and, for mail
// not carried out, its text as it came (up to 64 kB).
func exportMail(ctx context.Context, s *store.Store, all bool, w io.Writer) error {
	out := newCSV(w)
	header := []string{"received_at", "via", "sender", "outcome", "text"}
	if all {
		header = header[:4]
	}
	out.Write(header)
	err := s.View(ctx, func(tx *store.Tx) error {
		mails, err := tx.Mails(!all)
		if err != nil {
			return err
		}
		for _, m := range mails {
			via, _, _ := strings.Cut(m.Key, ":")
			outcome := m.Outcome
			if outcome == "" {
				outcome = "carried out"
			}
			// The bot records a mail's sender as "email:ADDRESS".
			sender := strings.TrimPrefix(m.Sender, "email:")
			row := []string{m.ProcessedAt.UTC().Format("2006-01-02T15:04:05Z"), via, sender, outcome, m.Raw}
			out.Write(row[:len(header)])
		}
		return nil
	})
	if err != nil {
		return err
	}
	return out.Flush()
}

// decimal writes minor units as a plain decimal for spreadsheets: 1850.00.
func decimal(minor int64, currency string) string {
	return strings.ReplaceAll(strings.TrimSuffix(money.Format(minor, currency), " "+currency), ",", "")
}

// exportSchedule writes the released schedule in one of the published
// formats: the same bytes the web server serves, for static hosting.
func exportSchedule(ctx context.Context, s *store.Store, cfg *config.Config, ev *config.Event, format string, w io.Writer) error {
	render := map[string]func(schedule.EventInfo, schedule.History) []byte{
		"ics":  func(e schedule.EventInfo, h schedule.History) []byte { return schedule.ICS(e, h, schedule.Selection{}) },
		"json": schedule.JSON, "frab": schedule.Frab, "text": schedule.Text, "c3voc": schedule.C3VOC,
	}[format]
	if render == nil {
		return fmt.Errorf("unknown format %q: use ics, json, frab, text or c3voc", format)
	}
	h, err := history(ctx, s, ev.Slug)
	if err != nil {
		return err
	}
	if h.Latest() == nil {
		return fmt.Errorf("%s has no released schedule yet: an organizer says !schedule release first", ev.Slug)
	}
	_, err = w.Write(render(eventInfo(cfg, ev), h))
	return err
}

// history reads every release of an event, oldest first, with its
// amendments.
func history(ctx context.Context, s *store.Store, slug string) (schedule.History, error) {
	var h schedule.History
	err := s.View(ctx, func(tx *store.Tx) error {
		e, err := tx.EventBySlug(slug)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		rows, err := tx.Releases(e.ID)
		if err != nil {
			return err
		}
		as, err := tx.Amendments(e.ID, 0)
		if err != nil {
			return err
		}
		for _, row := range rows {
			var r schedule.Release
			if err := json.Unmarshal(row.Schedule, &r); err != nil {
				return fmt.Errorf("release %d: %w", row.Version, err)
			}
			r.Version = row.Version
			for _, a := range as {
				if a.Version == row.Version {
					r.Amendments = append(r.Amendments, schedule.Amendment{Number: a.Number, At: a.At, Out: a.Out, Reason: a.Reason})
				}
			}
			h = append(h, &r)
		}
		return nil
	})
	return h, err
}

// eventInfo is what the renderers need of an event, from the config.
func eventInfo(cfg *config.Config, ev *config.Event) schedule.EventInfo {
	return schedule.EventInfo{Slug: ev.Slug, Name: ev.Name, Venue: ev.Venue, URL: cfg.Web.BaseURL + "/" + ev.Slug,
		Zone: ev.Location, Rooms: grid(*ev).Rooms}
}

// pickEvent finds the event a subcommand is about: the one named, or the
// only one.
func pickEvent(cfg *config.Config, slug, path string) (*config.Event, error) {
	if slug == "" && len(cfg.Events) == 1 {
		slug = cfg.Events[0].Slug
	}
	if ev, ok := cfg.Event(slug); ok {
		return ev, nil
	}
	var slugs []string
	for _, e := range cfg.Events {
		slugs = append(slugs, e.Slug)
	}
	if slug == "" {
		return nil, fmt.Errorf("say which event with -event: %s", strings.Join(slugs, ", "))
	}
	return nil, fmt.Errorf("no event %q in %s; events: %s", slug, path, strings.Join(slugs, ", "))
}
