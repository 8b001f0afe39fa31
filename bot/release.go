package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hallwayhq/hallway/store"
)

// A release's solver runs after the command's transaction, so its seconds
// never hold the database. The command's transaction records the release
// as pending; the release's own transaction stores it, queues the answer
// and removes the pending row. A crash in between leaves the row, and the
// next start (RunClock) makes the release, or tells the organizer it
// failed, instead of the command being handled with nothing to show.

// maxReleaseAttempts is how many starts take up a release left by a
// crash: one that kills the process every time is given up, not retried
// for ever.
const maxReleaseAttempts = 2

// replyTo is what a pending release keeps of its request, to answer after
// a restart. The transport's own record (a mail's threading) is not kept:
// an answer by mail after a restart is a new mail.
type replyTo struct {
	Transport string `json:"transport"`
	// Kind and Who are the request's identity. Rows written before
	// identities had kinds hold an IRC account in Account, or an address
	// in Email, instead.
	Kind    string `json:"kind,omitempty"`
	Who     string `json:"who,omitempty"`
	Account string `json:"account,omitempty"`
	Email   string `json:"email,omitempty"`
	// Can is the request's capabilities; nil in older rows.
	Can   *Capabilities `json:"can,omitempty"`
	Nick  string        `json:"nick,omitempty"`
	Where string        `json:"where,omitempty"`
	Event string        `json:"event,omitempty"`
	// Fresh: plan from scratch, not as a revision of the release before.
	Fresh bool `json:"fresh,omitempty"`
}

func newReplyTo(req Request, event string, fresh bool) replyTo {
	can := req.Can
	return replyTo{Transport: req.Transport, Kind: string(req.Who.Kind), Who: req.Who.Value, Can: &can,
		Nick: req.Nick, Where: req.Where, Event: event, Fresh: fresh}
}

func (r replyTo) request() Request {
	req := Request{Transport: r.Transport, Who: Identity{IdentityKind(r.Kind), r.Who}, Nick: r.Nick, Where: r.Where, Event: r.Event}
	switch {
	case r.Who != "":
	case r.Account != "":
		req.Who = IRCIdentity(r.Account)
	case r.Email != "":
		req.Who = AddressIdentity(r.Email)
	}
	if r.Can != nil {
		req.Can = *r.Can
	} else if r.Transport == IRC {
		req.Can = ChatCapabilities // a row from before capabilities
	}
	return req
}

// releaseLater records the release as pending and leaves the solving and
// the release to after the transaction.
func (c *call) releaseLater(in plannerInput, note string, fresh bool) (Reply, error) {
	data, err := json.Marshal(newReplyTo(c.req, c.ev.Slug, fresh))
	if err != nil {
		return Reply{}, err
	}
	p := store.PendingRelease{EventID: c.ev.id, PersonID: c.person.ID, Note: note, ReplyTo: data}
	if p.ID, err = c.tx.AddPendingRelease(p); err != nil {
		return Reply{}, err
	}
	req := c.req
	c.later = func(ctx context.Context) (Reply, error) {
		// makeRelease answers itself, in the release's transaction.
		return Reply{}, c.bot.makeRelease(ctx, c.ev, p, req, in, false)
	}
	return Reply{}, nil
}

// makeRelease solves and, in one transaction, stores the release, queues
// the answer and removes the pending row. A mistake the organizer can fix
// is the answer; on another error the pending row is removed (the caller
// apologises) unless ctx ended, when the next start takes it up.
func (b *Bot) makeRelease(ctx context.Context, ev *Event, p store.PendingRelease, req Request, in plannerInput, resumed bool) error {
	b.hook("release")
	c := &call{ctx: ctx, bot: b, req: req, ev: ev, person: store.Person{ID: p.PersonID}, organizer: true}
	plan, err := in.plan(ctx, c)
	var uerr *Error
	if err != nil && !errors.As(err, &uerr) {
		return b.dropPending(ctx, p, err)
	}
	err = b.store.Do(ctx, func(tx *store.Tx) error {
		if err := tx.FenceLeader(); err != nil {
			return err
		}
		c.tx = tx
		if still, err := tx.DonePendingRelease(p.ID); err != nil || !still {
			return err // !still: made by another attempt
		}
		var reply Reply
		var err error
		if uerr != nil {
			reply = Reply{Lines: uerr.lines()}
			reply.Lines[0] = "the schedule was not released: " + reply.Lines[0]
		} else if reply, err = c.release(plan, p.Note); err != nil {
			return err
		}
		if resumed {
			reply.Lines[0] = fmt.Sprintf("(your %sschedule release of %s, finished after a restart) %s",
				c.prefix(), p.CreatedAt.In(ev.zone()).Format("Mon 15:04"), reply.Lines[0])
		}
		return b.repliers[req.Transport].Reply(tx, req, b.pager.page(req, reply, c.prefix()))
	})
	if err != nil {
		return b.dropPending(ctx, p, err)
	}
	b.wake()
	return nil
}

// dropPending removes a pending release whose making failed, and returns
// err. When ctx ended (a shutdown) or the leader was deposed, the row
// stays for the next start or the next leader.
func (b *Bot) dropPending(ctx context.Context, p store.PendingRelease, err error) error {
	if ctx.Err() != nil || errors.Is(err, store.ErrDeposed) {
		return err
	}
	if derr := b.store.Do(ctx, func(tx *store.Tx) error {
		_, err := tx.DonePendingRelease(p.ID)
		return err
	}); derr != nil {
		b.log.Error("removing a failed pending release", "err", derr, "pending_release", p.ID)
	}
	return err
}

// ResumeReleases makes the releases that a crash left pending, or tells
// the organizer who asked that theirs failed. The attempt is counted (and
// committed) before the solver runs, so one that crashes the process every
// time is given up after maxReleaseAttempts.
func (b *Bot) ResumeReleases(ctx context.Context) error {
	var pending []store.PendingRelease
	if err := b.store.View(ctx, func(tx *store.Tx) error {
		var err error
		pending, err = tx.PendingReleases()
		return err
	}); err != nil {
		return err
	}
	for _, p := range pending {
		var rt replyTo
		if err := json.Unmarshal(p.ReplyTo, &rt); err != nil {
			return fmt.Errorf("pending release %d: %w", p.ID, err)
		}
		req := rt.request()
		ev := b.eventByID(p.EventID)
		rep := b.repliers[req.Transport]
		if ev == nil || rep == nil {
			// Its event or transport left the config: nobody to make it for.
			b.log.Warn("dropping a pending release of an event or transport no longer configured", "pending_release", p.ID, "event", rt.Event, "transport", rt.Transport)
			if err := b.dropPending(ctx, p, nil); err != nil {
				return err
			}
			continue
		}
		c := &call{ctx: ctx, bot: b, req: req, ev: ev, person: store.Person{ID: p.PersonID}, organizer: true}
		var in plannerInput
		gaveUp := false
		err := b.store.Do(ctx, func(tx *store.Tx) error {
			if err := tx.FenceLeader(); err != nil {
				return err
			}
			c.tx = tx
			attempts, err := tx.RetryPendingRelease(p.ID)
			if err != nil {
				return err
			}
			if attempts > maxReleaseAttempts {
				gaveUp = true
				if _, err := tx.DonePendingRelease(p.ID); err != nil {
					return err
				}
				msg := fmt.Sprintf("your %sschedule release of %s failed: hallway stopped while making it, %d times. Nothing was released; say %sschedule release to try again.",
					c.prefix(), p.CreatedAt.In(ev.zone()).Format("Mon 15:04"), attempts-1, c.prefix())
				return rep.Reply(tx, req, textReply("%s", msg))
			}
			in, err = c.planInput(rt.Fresh)
			return err
		})
		if err != nil {
			return err
		}
		if gaveUp {
			b.log.Error("gave up a release left pending by crashes", "pending_release", p.ID, "event", ev.Slug)
			b.wake()
			continue
		}
		b.log.Info("finishing a release left pending by a restart", "pending_release", p.ID, "event", ev.Slug, "asked_at", p.CreatedAt)
		if err := b.makeRelease(ctx, ev, p, req, in, true); errors.Is(err, store.ErrDeposed) {
			return err // the next leader makes it
		} else if err != nil {
			b.internalError(ctx, c, err)
		}
	}
	return nil
}

// hook calls the test hook at a named point (see Options.TestHook).
func (b *Bot) hook(point string) {
	if b.opts.TestHook != nil {
		b.opts.TestHook(point)
	}
}
