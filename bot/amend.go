package bot

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// A released session whose proposal is withdrawn or rejected leaves the
// schedule at once: the command's transaction records an amendment of the
// latest release (see schedule/amend.go), which !where, !now, !next, the
// slot-start announcements, the pages and the feeds all read, and tells
// the organizers privately that its slot is empty. Accepted again before
// the next release, it is put back. The amendment and the notice commit
// with the command, so each happens once.

// releaseWithAmendments decodes a stored release and reads the amendments
// made to it since.
func releaseWithAmendments(tx *store.Tx, eventID int64, row store.Release) (*schedule.Release, error) {
	var r schedule.Release
	if err := json.Unmarshal(row.Schedule, &r); err != nil {
		return nil, fmt.Errorf("decode release %d: %w", row.Version, err)
	}
	r.Version = row.Version
	as, err := tx.Amendments(eventID, row.Version)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		r.Amendments = append(r.Amendments, schedule.Amendment{Number: a.Number, At: a.At, Out: a.Out, Reason: a.Reason})
	}
	return &r, nil
}

// amend records that p, just changed, left or came back to the released
// schedule, if it is in the latest release and its place there changes.
// It reports whether it did.
func (c *call) amend(p store.Proposal) (bool, error) {
	r, err := c.released()
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	it, ok := r.Find(p.Number)
	if !ok {
		return false, nil
	}
	out := p.Status == store.Withdrawn || p.Status == store.Rejected
	if _, wasOut := r.TakenOut(p.Number); wasOut == out {
		return false, nil
	}
	if err := c.tx.AddAmendment(store.Amendment{EventID: c.ev.id, Version: r.Version, Number: p.Number, Out: out, Reason: p.Status}); err != nil {
		return false, err
	}
	if out && it.End.After(c.tx.Now()) {
		return true, c.tellSlotEmpty(r, it, p.Status)
	}
	return true, nil
}

// tellSlotEmpty says privately to every organizer that the slot of it is
// empty now and how to fill it.
func (c *call) tellSlotEmpty(r *schedule.Release, it schedule.Item, status string) error {
	p := c.bot.opts.Prefix
	msg := fmt.Sprintf("#%d %q was %s: %s is empty %s (schedule version %d). The schedule and the feeds show it cancelled already. To fill the slot, say %sschedule preview, then %sschedule release.",
		it.Number, it.Title, status, it.Room, c.span(it.Start, it.End), r.Version, p, p)
	return c.bot.tellOrganizers(c.tx, c.ev, msg)
}

// tellOrganizers says msg privately to every organizer of ev that a chat
// transport reaches. A private IRC line waits for a nick logged in to the
// organizer's account (see irc's sender.route).
func (b *Bot) tellOrganizers(tx *store.Tx, ev *Event, msg string) error {
	for _, o := range ev.Organizers {
		transport, rep := b.chatFor(o.Kind)
		if rep == nil {
			continue
		}
		req := Request{Transport: transport, Who: o, Can: ChatCapabilities, Nick: o.Value}
		if err := rep.Reply(tx, req, Reply{Lines: []string{msg}, Private: true}); err != nil {
			return err
		}
	}
	return nil
}

// withoutGone drops from a plan, solved outside the transaction, the items
// whose proposals were withdrawn or rejected meanwhile: a release must not
// bring back what an amendment took out.
func (c *call) withoutGone(plan *schedule.Plan) (*schedule.Plan, error) {
	gone, err := c.tx.Proposals(c.ev.id, store.ProposalFilter{Statuses: []string{store.Withdrawn, store.Rejected}})
	if err != nil {
		return nil, err
	}
	status := map[int64]string{}
	for _, p := range gone {
		status[p.Number] = p.Status
	}
	p := *plan
	p.Items = nil
	p.Left = slices.Clone(plan.Left)
	for _, it := range plan.Items {
		if s, ok := status[it.Number]; ok {
			p.Left = append(p.Left, schedule.Left{Number: it.Number, Kind: it.Kind, Title: it.Title, Votes: it.Votes,
				Reason: s + " while the schedule was being made"})
			continue
		}
		p.Items = append(p.Items, it)
	}
	return &p, nil
}
