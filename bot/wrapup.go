package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

var hereSpec = &Spec{
	Name:     "here",
	Help:     "Say you are at the event, on its days (counts in the wrap-up).",
	Examples: []string{"here"},
	Person:   true,
	Counts:   "check-ins",
	Run: func(c *call) (Reply, error) {
		if err := c.eventDay(); err != nil {
			return Reply{}, err
		}
		fresh, err := c.tx.CheckIn(c.ev.id, c.person.ID, c.person.ID)
		if err != nil {
			return Reply{}, err
		}
		if !fresh {
			return textReply("you were checked in already. Enjoy %s!", c.ev.Name), nil
		}
		return textReply("checked in. Welcome to %s!", c.ev.Name), nil
	},
}

// eventDay refuses attendance on a day the event is not on: "here" said
// months before is not being there. Without days in the config, any day is.
func (c *call) eventDay() error {
	days := c.ev.days()
	now := c.tx.Now()
	if len(days) == 0 || c.ev.onDay(now) {
		return nil
	}
	z := c.ev.zone()
	for _, d := range days {
		if !d.After(now) {
			continue
		}
		when := fmt.Sprintf("%s starts on %s", c.ev.Name, d.In(z).Format("Mon 2 Jan 2006"))
		if !d.Equal(days[0]) {
			when = fmt.Sprintf("the next day of %s is %s", c.ev.Name, d.In(z).Format("Mon 2 Jan 2006"))
		}
		return userErr(fmt.Sprintf("attendance counts on the event's days only: %s; say %shere then.", when, c.prefix()))
	}
	return userErr(fmt.Sprintf("attendance counts on the event's days only, and %s was on %s: it no longer counts.",
		c.ev.Name, dayList(days, z)))
}

// dayList writes the event's days: "Thu 3 Dec 2026" or "Thu 3 Dec 2026 to Fri 4 Dec 2026".
func dayList(days []time.Time, z *time.Location) string {
	first := days[0].In(z).Format("Mon 2 Jan 2006")
	if len(days) == 1 {
		return first
	}
	return first + " to " + days[len(days)-1].In(z).Format("Mon 2 Jan 2006")
}

var checkinSpec = &Spec{
	Name:      "checkin",
	Usage:     "NICK|ACCOUNT|ADDRESS|#N…",
	Help:      "Check people in at the door, by nick (their account is looked up), account, mail address or registration number.",
	Examples:  []string{"checkin alice bob", "checkin dana@example.org #12"},
	Organizer: true,
	Run:       runCheckin,
}

// attendee finds the person one argument of checkin names: a registration
// number (#12), a mail address, a nick in the channel now, or an account
// the bot has seen; ErrNotFound if none. label is how the answer names
// them, with a warning when they hold no seat.
func (c *call) attendee(arg string) (p store.Person, label string, err error) {
	var personID int64
	switch n, isNumber := parseNumber(arg); {
	case isNumber:
		r, err := c.tx.RegistrationByNumber(c.ev.id, n)
		if err != nil {
			return p, "", err
		}
		personID = r.PersonID
	case strings.Contains(arg, "@"):
		addr, err := parseEmail(arg)
		if err != nil {
			return p, "", store.ErrNotFound
		}
		id, err := c.tx.IdentityOf(store.Email, addr)
		if err != nil {
			return p, "", err
		}
		personID, arg = id.PersonID, maskEmail(addr)
	default:
		acct := ""
		if c.req.Resolve != nil {
			if id := c.req.Resolve(arg); id.Kind == IRCAccount {
				acct = id.Value
			}
		}
		if acct == "" {
			// Not a nick here now: an account the bot has seen.
			if _, err := c.tx.IdentityOf(store.IRCAccount, FoldAccount(arg)); err != nil {
				return p, "", err
			}
			acct = arg
		}
		if p, err = c.tx.PersonByIdentity(store.IRCAccount, FoldAccount(acct), acct); err != nil {
			return p, "", err
		}
		personID = p.ID
	}
	if p.ID == 0 {
		if p, err = c.tx.PersonByID(personID); err != nil {
			return p, "", err
		}
	}
	label = arg
	if name, err := c.tx.PersonName(p.ID); err == nil && name != "someone" && !strings.EqualFold(name, arg) {
		label += " (" + name + ")"
	}
	warn, err := c.seatWarning(p.ID)
	return p, label + warn, err
}

// seatWarning tells the organizer at the door when someone has no seat,
// and what to do.
func (c *call) seatWarning(personID int64) (string, error) {
	reg, err := c.tx.Registration(c.ev.id, personID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	switch {
	case err == nil && reg.Status == store.Registered:
		return "", nil
	case err == nil && reg.Status == store.Waitlisted:
		pos, err := c.tx.WaitlistPosition(reg)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf(" [warning: on the waitlist, #%d, with no seat: let them in only if there is room]", pos), nil
	case err == nil && reg.Status == store.Offered:
		return fmt.Sprintf(" [warning: offered a seat not yet taken: they can take it now with %sregister]", c.prefix()), nil
	case err == nil && reg.Status == store.Pending:
		return " [warning: not registered, their address is not confirmed yet: they can reply to the confirmation mail now]", nil
	}
	return fmt.Sprintf(" [warning: not registered: let them in only if there is room; they can register now with %sregister or by mail]", c.prefix()), nil
}

func runCheckin(c *call) (Reply, error) {
	if len(c.args.Words) == 0 {
		return Reply{}, c.usageErr("Say who.")
	}
	var lines []string
	for _, name := range c.args.Words {
		p, label, err := c.attendee(name)
		if errors.Is(err, store.ErrNotFound) {
			lines = append(lines, "nobody known as "+name+" (give an account, a nick in the channel, a mail address or a registration number like #12).")
			continue
		} else if err != nil {
			return Reply{}, err
		}
		fresh, err := c.tx.CheckIn(c.ev.id, p.ID, c.person.ID)
		if err != nil {
			return Reply{}, err
		}
		if fresh {
			lines = append(lines, "checked in "+label+".")
		} else {
			lines = append(lines, label+" was checked in already.")
		}
	}
	return Reply{Lines: lines}, nil
}

var wrapupSpec = &Spec{
	Name:      "wrapup",
	Help:      "Post the event's wrap-up to the list and announce it here (once; later calls say where it is).",
	Examples:  []string{"wrapup"},
	Organizer: true,
	Run: func(c *call) (Reply, error) {
		s, err := c.bot.summary(c.ctx, c.tx, c.ev)
		if err != nil {
			return Reply{}, err
		}
		posted, err := c.bot.postWrapup(c.tx, c.ev, s)
		if err != nil {
			return Reply{}, err
		}
		where := ""
		if s.URL != "" {
			where = " " + s.URL
		}
		if !posted {
			return textReply("the wrap-up was posted already; it stays current at%s.", where), nil
		}
		if err := c.announce("", fmt.Sprintf("The wrap-up of %s is out:%s", c.ev.Name, where), "", ""); err != nil {
			return Reply{}, err
		}
		return textReply("posted the wrap-up to the list.%s", where), nil
	},
}

// summary gathers the event's wrap-up.
func (b *Bot) summary(ctx context.Context, tx *store.Tx, ev *Event) (*schedule.EventSummary, error) {
	s := &schedule.EventSummary{Event: ev.Name}
	if ev.URL != "" {
		s.URL = ev.URL + "/wrapup"
	}
	var err error
	if s.Registered, s.CheckedIn, s.RegisteredIn, err = tx.Attendance(ev.id); err != nil {
		return nil, err
	}
	ps, err := tx.Proposals(ev.id, store.ProposalFilter{})
	if err != nil {
		return nil, err
	}
	s.Proposals = len(ps)
	for _, p := range ps {
		s.Votes += p.Votes
	}
	ballots, err := tx.Ballots(ev.id)
	if err != nil {
		return nil, err
	}
	s.Voters = len(ballots)
	c := &call{ctx: ctx, tx: tx, bot: b, ev: ev}
	for i := range ev.Campaigns {
		cp := &ev.Campaigns[i]
		s.Pledges = append(s.Pledges, cp.Title+": "+c.progress(cp))
	}
	meetings, err := tx.Meetings(ev.id)
	if err != nil {
		return nil, err
	}
	noted := map[int64]bool{}
	for _, row := range meetings {
		live, err := b.replayMeeting(tx, ev, row)
		if err != nil {
			return nil, err
		}
		s.Sessions = append(s.Sessions, live.rec.Minutes())
		noted[row.Number] = true
	}
	// Every scheduled session is accounted for: those without notes are
	// named, so nobody wonders whether theirs went missing.
	s.Zone = ev.zone()
	if r, err := c.released(); err == nil {
		for _, it := range r.Items {
			if !noted[it.Number] {
				s.NoNotes = append(s.NoNotes, it)
			}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return s, nil
}

// postWrapup posts the wrap-up to the list once; it reports whether this
// call posted it.
func (b *Bot) postWrapup(tx *store.Tx, ev *Event, s *schedule.EventSummary) (bool, error) {
	if b.announcer == nil {
		return false, userErr("there is no mailing list set up to post the wrap-up to.")
	}
	return b.announcer.Announce(tx, ev.Slug, "wrapup", ev.Name+": wrap-up", s.Text())
}

// Wrapup renders an event's wrap-up (Markdown) and, if post is set, posts
// it to the list unless it was posted before. It is "hallway wrapup".
func (b *Bot) Wrapup(ctx context.Context, slug string, post bool) (markdown string, posted bool, err error) {
	var ev *Event
	for _, e := range b.events {
		if e.Slug == slug {
			ev = e
		}
	}
	if ev == nil {
		return "", false, fmt.Errorf("no event %q", slug)
	}
	err = b.store.Do(ctx, func(tx *store.Tx) error {
		s, err := b.summary(ctx, tx, ev)
		if err != nil {
			return err
		}
		markdown = s.Markdown()
		if post {
			posted, err = b.postWrapup(tx, ev, s)
		}
		return err
	})
	if posted {
		b.wake()
	}
	return markdown, posted, err
}
