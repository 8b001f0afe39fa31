package schedule

import (
	"fmt"
	"time"
)

// # Amendments
//
// A released item whose proposal is withdrawn or rejected leaves the
// schedule at once, not at the next release: the release carries its
// Amendments, every view shows Current (the release without what was
// taken out), and the feeds fold the amendments into their timeline as
// one more step after the release, so a subscribed calendar gets
// STATUS:CANCELLED with a higher SEQUENCE. The next release, which leaves
// the item out, then changes nothing more about it: it was cancelled
// already, once.

// Amendment is a change to a release made while it was the latest: an
// item taken out or put back.
type Amendment struct {
	Number int64
	At     time.Time
	// Out: taken out (its proposal withdrawn or rejected); false: put
	// back (accepted again).
	Out bool
	// Reason is the proposal's status after the change: "withdrawn",
	// "rejected", "accepted".
	Reason string
}

// TakenOut returns the amendment that took item n out of r, if n is out
// now.
func (r *Release) TakenOut(n int64) (Amendment, bool) {
	var last Amendment
	found := false
	for _, a := range r.Amendments {
		if a.Number == n {
			last, found = a, true
		}
	}
	return last, found && last.Out
}

// Current is r as it stands now: without the items its amendments took
// out. It is r itself when nothing is out.
func (r *Release) Current() *Release {
	if len(r.Amendments) == 0 {
		return r
	}
	out := map[int64]bool{}
	for _, a := range r.Amendments {
		out[a.Number] = a.Out
	}
	c := *r
	c.Items = make([]Item, 0, len(r.Items))
	for _, it := range r.Items {
		if !out[it.Number] {
			c.Items = append(c.Items, it)
		}
	}
	return &c
}

// Changed is when the schedule last changed: the latest release or its
// latest amendment. Zero before the first release.
func (h History) Changed() time.Time {
	r := h.Latest()
	if r == nil {
		return time.Time{}
	}
	t := r.CreatedAt
	for _, a := range r.Amendments {
		if a.At.After(t) {
			t = a.At
		}
	}
	return t
}

// amend folds r's amendments into the timeline after r itself: an item
// taken out is cancelled (CancelledIn 0 until a release leaves it out),
// one put back is current again; each is one more SEQUENCE. Only items of
// r are touched, and only when their state changes.
func amend(byNumber map[int64]*feedItem, r *Release) {
	for _, a := range r.Amendments {
		fi := byNumber[a.Number]
		switch {
		case fi == nil:
			continue
		case a.Out && !fi.Cancelled:
			fi.Cancelled, fi.CancelledIn, fi.TakenOutOf = true, 0, r.Version
		case !a.Out && fi.Cancelled && fi.CancelledIn == 0:
			fi.Cancelled = false
		default:
			continue
		}
		fi.Sequence++
		fi.Modified = a.At
	}
}

// cancelledWhen says when a cancelled item went, for people: "cancelled
// in version 3", or "cancelled after version 2" when an amendment took it
// out of the latest release, version 2.
func cancelledWhen(it *feedItem) string {
	if it.CancelledIn == 0 {
		return fmt.Sprintf("cancelled after version %d", it.TakenOutOf)
	}
	return fmt.Sprintf("cancelled in version %d", it.CancelledIn)
}
