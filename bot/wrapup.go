package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

var hereSpec = &Spec{
	Name:     "here",
	Help:     "Say you are at the event (counts in the wrap-up).",
	Examples: []string{"here"},
	Person:   true,
	Counts:   "check-ins",
	Run: func(c *call) (Reply, error) {
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

var checkinSpec = &Spec{
	Name:      "checkin",
	Usage:     "NICK|ACCOUNT…",
	Help:      "Check people in at the door, by nick (their account is looked up) or account.",
	Examples:  []string{"checkin alice bob"},
	Organizer: true,
	Run:       runCheckin,
}

func runCheckin(c *call) (Reply, error) {
	if len(c.args.Words) == 0 {
		return Reply{}, c.usageErr("Say who.")
	}
	var lines []string
	for _, name := range c.args.Words {
		acct := ""
		if c.req.Resolve != nil {
			acct = c.req.Resolve(name)
		}
		if acct == "" {
			// Not a nick here now: an account the bot has seen.
			if _, err := c.tx.IdentityOf(store.IRCAccount, FoldAccount(name)); err == nil {
				acct = name
			}
		}
		if acct == "" {
			lines = append(lines, "no account known for "+name+" (they can say "+c.prefix()+"here once logged in).")
			continue
		}
		p, err := c.tx.PersonByIdentity(store.IRCAccount, FoldAccount(acct), acct)
		if err != nil {
			return Reply{}, err
		}
		fresh, err := c.tx.CheckIn(c.ev.id, p.ID, c.person.ID)
		if err != nil {
			return Reply{}, err
		}
		if fresh {
			lines = append(lines, "checked in "+name+".")
		} else {
			lines = append(lines, name+" was checked in already.")
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
