package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

var scheduleSpec = &Spec{
	Name:     "schedule",
	Usage:    "[preview|release [fresh] [-- note]]",
	Help:     "Where to find the schedule; organizers preview it, or release a new version (announced here and on the list). A new version keeps the released one where moving costs more than it saves, and never moves what starts within event.freeze_before; fresh plans from scratch.",
	Examples: []string{"schedule", "schedule preview", "schedule release -- room 106 has no projector", "schedule release fresh"},
	Run:      runSchedule,
}

var pinSpec = &Spec{
	Name:      "pin",
	Usage:     "N ROOM [DAY] HH:MM",
	Help:      "Pin a proposal to a room and slot; the scheduler keeps it there.",
	Examples:  []string{`pin 7 "Room 104" 14:00`, "pin 7 Room 104 2027-03-04 14:00"},
	Organizer: true,
	Run:       runPin,
}

var unpinSpec = &Spec{
	Name:      "unpin",
	Usage:     "N…",
	Help:      "Let the scheduler place pinned proposals again.",
	Examples:  []string{"unpin 7", "unpin 7 8"},
	Organizer: true,
	Run:       runUnpin,
}

var nowSpec = &Spec{
	Name:     "now",
	Help:     "What is on now, and where.",
	Examples: []string{"now"},
	Run:      func(c *call) (Reply, error) { return c.nowNext(true) },
}

var nextSpec = &Spec{
	Name:     "next",
	Help:     "What starts next, and where.",
	Examples: []string{"next"},
	Run:      func(c *call) (Reply, error) { return c.nowNext(false) },
}

var whereSpec = &Spec{
	Name:     "where",
	Aliases:  []string{"when"},
	Usage:    "N",
	Help:     "Where and when a proposal is scheduled.",
	Examples: []string{"where 7"},
	Run:      runWhere,
}

// zone is the event's timezone (UTC if the config gave none).
func (e *Event) zone() *time.Location {
	if e.Zone == nil {
		return time.UTC
	}
	return e.Zone
}

// released returns the event's latest release with its amendments, or
// ErrNotFound.
func (c *call) released() (*schedule.Release, error) {
	row, err := c.tx.LatestRelease(c.ev.id)
	if err != nil {
		return nil, err
	}
	return releaseWithAmendments(c.tx, c.ev.id, row)
}

func runSchedule(c *call) (Reply, error) {
	switch c.args.keyword(0) {
	case "":
		r, err := c.released()
		if errors.Is(err, store.ErrNotFound) {
			return textReply("the schedule is not released yet."), nil
		} else if err != nil {
			return Reply{}, err
		}
		cur := r.Current()
		msg := fmt.Sprintf("schedule version %d (released %s): %s", r.Version, c.when(r.CreatedAt), plural(len(cur.Items), "item"))
		if out := len(r.Items) - len(cur.Items); out > 0 {
			msg += fmt.Sprintf(" (%d cancelled since)", out)
		}
		msg += "."
		if c.ev.URL != "" {
			msg += " Full schedule: " + c.ev.URL + "/schedule"
		}
		return textReply("%s Say %snow, %snext or %swhere N.", msg, c.prefix(), c.prefix(), c.prefix()), nil
	case "preview", "release":
		if !c.organizer {
			return Reply{}, userErr(fmt.Sprintf("%sschedule %s is for the organizers of %s.", c.prefix(), c.args.Words[0], c.ev.Name))
		}
		if err := c.identify(); err != nil {
			return Reply{}, err
		}
		fresh := false
		switch c.args.keyword(1) {
		case "fresh":
			fresh = true
		case "":
			if len(c.args.Words) > 1 {
				return Reply{}, c.usageErr(fmt.Sprintf("%q is not fresh.", c.args.Words[1]))
			}
		default:
			return Reply{}, c.usageErr(fmt.Sprintf("%q is not fresh.", c.args.Words[1]))
		}
		return c.planLater(c.args.keyword(0) == "release", fresh)
	default:
		return Reply{}, c.usageErr(fmt.Sprintf("%q is not preview or release.", c.args.Words[0]))
	}
}

// plannerInput is what the planner needs, read in a transaction.
type plannerInput struct {
	props   []schedule.Proposal
	ballots []schedule.Ballot
	// prev is the current release (nil: none yet); rev what the plan
	// keeps of it (nil: plan afresh).
	prev *schedule.Release
	rev  *schedule.Revision
}

// plan solves the input for c's event. Pins that no longer fit the
// event's grid are a mistake the organizer can fix (*Error).
func (in plannerInput) plan(ctx context.Context, c *call) (*schedule.Plan, error) {
	plan, err := schedule.RevisePlan(ctx, c.ev.Grid, in.props, in.ballots, in.rev, c.bot.solveOptions())
	var perr *schedule.PinError
	if errors.As(err, &perr) {
		return nil, c.badPins(perr.Pins)
	}
	return plan, err
}

// DefaultFreezeBefore is how close to its start a released item is no
// longer moved by a new version.
const DefaultFreezeBefore = 2 * time.Hour

// planInput gathers what the planner needs, inside the transaction: a
// revision of the current release unless fresh.
func (c *call) planInput(fresh bool) (plannerInput, error) {
	var in plannerInput
	if r, err := c.released(); err == nil {
		in.prev = r
	} else if !errors.Is(err, store.ErrNotFound) {
		return in, err
	}
	if in.prev != nil && !fresh {
		freeze := c.ev.FreezeBefore
		if freeze == 0 {
			freeze = DefaultFreezeBefore
		}
		in.rev = &schedule.Revision{Items: in.prev.Items, RetimeWeight: c.ev.RetimeWeight, Frozen: c.tx.Now().Add(freeze)}
	}
	ps, err := c.tx.Proposals(c.ev.id, store.ProposalFilter{Statuses: []string{store.Proposed, store.Accepted}})
	if err != nil {
		return in, err
	}
	speakers, err := c.tx.SpeakersByNumber(c.ev.id)
	if err != nil {
		return in, err
	}
	pins, err := c.tx.Pins(c.ev.id)
	if err != nil {
		return in, err
	}
	pinned := map[int64]*schedule.PinAt{}
	for _, p := range pins {
		pinned[p.Number] = &schedule.PinAt{Room: p.Room, Start: p.Start}
	}
	for _, p := range ps {
		if p.Kind == store.Talk && p.Status != store.Accepted {
			continue // talks are scheduled once accepted
		}
		sp := schedule.Proposal{Number: p.Number, Kind: p.Kind, Title: p.Title, Abstract: p.Abstract, Votes: p.Votes, Pin: pinned[p.Number]}
		for _, s := range speakers[p.Number] {
			sp.Speakers = append(sp.Speakers, s.Name)
			sp.SpeakerIDs = append(sp.SpeakerIDs, strconv.FormatInt(s.PersonID, 10))
		}
		in.props = append(in.props, sp)
	}
	raw, err := c.tx.Ballots(c.ev.id)
	if err != nil {
		return in, err
	}
	in.ballots = make([]schedule.Ballot, len(raw))
	for i, b := range raw {
		in.ballots[i] = b
	}
	return in, nil
}

// planLater reads the input now and solves after the transaction, so the
// solver's seconds never hold the database. A release is recorded as
// pending in this transaction (see release.go).
func (c *call) planLater(release, fresh bool) (Reply, error) {
	in, err := c.planInput(fresh)
	if err != nil {
		return Reply{}, err
	}
	if release {
		return c.releaseLater(in, c.args.Text, fresh)
	}
	c.later = func(ctx context.Context) (Reply, error) {
		plan, err := in.plan(ctx, c)
		if err != nil {
			return Reply{}, err
		}
		return c.previewReply(plan, in.prev), nil
	}
	return Reply{}, nil
}

// solveOptions bound the scheduler's search for a preview or a release.
func (b *Bot) solveOptions() *schedule.SolveOptions {
	return &schedule.SolveOptions{Seed: 1, TimeLimit: b.opts.SolveTime, MaxIterations: b.opts.SolveIterations}
}

// previewReply shows a plan, and what it changes against the current
// release, so an organizer sees the cost before releasing.
func (c *call) previewReply(plan *schedule.Plan, prev *schedule.Release) Reply {
	head := fmt.Sprintf("preview: %s placed, %d not; %s, %s short.",
		plural(len(plan.Items), "item"), len(plan.Left), plural(plan.Conflicts, "attendee conflict"), plural(plan.Overflow, "seat"))
	if prev != nil {
		kinds := map[string]int{}
		retimed := 0
		for _, ch := range schedule.Diff(prev, &schedule.Release{Plan: *plan}) {
			kinds[ch.Kind]++
			if ch.Kind == schedule.ChangeMoved && !ch.Was.Start.Equal(ch.Item.Start) {
				retimed++
			}
		}
		head += fmt.Sprintf(" Against version %d (%s, %s short): %d moved (%d to another time), %d new, %d renamed, %d cancelled.",
			prev.Version, plural(prev.Conflicts, "conflict"), plural(prev.Overflow, "seat"), kinds[schedule.ChangeMoved], retimed, kinds[schedule.ChangeNew], kinds[schedule.ChangeRenamed], kinds[schedule.ChangeCancelled])
	}
	lines := []string{head}
	for _, it := range plan.Items {
		lines = append(lines, fmt.Sprintf("%s %s: #%d %s (%s)", c.when(it.Start), it.Room, it.Number, it.Title, plural(it.Votes, "vote")))
	}
	for _, l := range plan.Left {
		lines = append(lines, fmt.Sprintf("not placed: #%d %s (%s): %s", l.Number, l.Title, plural(l.Votes, "vote"), l.Reason))
	}
	return Reply{Lines: lines}
}

// release freezes the plan as the next version, announces it in the
// channel and to the list, and answers with the diff.
func (c *call) release(plan *schedule.Plan, note string) (Reply, error) {
	plan, err := c.withoutGone(plan)
	if err != nil {
		return Reply{}, err
	}
	var prev *schedule.Release
	if r, err := c.released(); err == nil {
		prev = r
	} else if !errors.Is(err, store.ErrNotFound) {
		return Reply{}, err
	}
	version, err := c.tx.NextReleaseVersion(c.ev.id)
	if err != nil {
		return Reply{}, err
	}
	rel := &schedule.Release{Version: version, CreatedAt: c.tx.Now(), Note: note, Plan: *plan, Fixed: schedule.FixedItems(c.ev.Grid)}
	data, err := json.Marshal(rel)
	if err != nil {
		return Reply{}, err
	}
	if err := c.tx.AddRelease(c.ev.id, store.Release{Version: version, Note: note, Schedule: data}, c.person.ID); err != nil {
		return Reply{}, err
	}
	changes := schedule.Diff(prev, rel)
	summary := schedule.Summary(rel, changes)
	if note != "" {
		summary += " Note: " + note
		if !strings.ContainsAny(note[len(note)-1:], ".!?") {
			summary += "."
		}
	}
	link := ""
	if c.ev.URL != "" {
		link = c.ev.URL + "/schedule"
		summary += " " + link
	}
	lines := append([]string{summary}, schedule.ChangeLines(changes, c.ev.zone())...)
	// The channel hears it as news for everyone, with no addressee, and
	// a long list of changes ends with the page instead of a "more"
	// only the organizer could say.
	here := false
	for _, r := range c.ev.rooms() {
		here = here || c.ev.isRoom(r, c.req.Transport, c.req.Where)
	}
	for _, l := range c.channelCut(lines, link) {
		if _, err := sayToEvent(c.tx, c.ev, l, "", c.req.Transport, c.req.Where); err != nil {
			return Reply{}, err
		}
	}
	if a := c.bot.announcer; a != nil {
		subject := fmt.Sprintf("%s: schedule version %d", c.ev.Name, version)
		if _, err := a.Announce(c.tx, c.ev.Slug, fmt.Sprintf("release:%d", version), subject, schedule.Announcement(c.ev.Name, rel, append(changes, schedule.DiffFixed(prev, rel)...), c.ev.zone())); err != nil {
			return Reply{}, err
		}
	}
	return Reply{Lines: lines, Public: here, Link: link}, nil
}

// channelCut is what of a long list is said in a channel: the first lines,
// then where the rest is (the page, else the mailing list's post).
func (c *call) channelCut(lines []string, link string) []string {
	if len(lines) <= channelLines {
		return lines
	}
	switch {
	case link != "":
		return cutWithLink(lines, channelLines, link)
	case c.bot.announcer != nil:
		return append(lines[:channelLines-1:channelLines-1], fmt.Sprintf("(%d more on the mailing list)", len(lines)-channelLines+1))
	}
	return lines
}

func runPin(c *call) (Reply, error) {
	p, err := c.proposalArg()
	if err != nil {
		return Reply{}, err
	}
	words := c.args.Words[1:]
	if len(words) < 2 {
		return Reply{}, c.usageErr("Say the room and the slot's start.")
	}
	// The slot is the last word (HH:MM), or the last two (DATE HH:MM).
	slotWords := 1
	if len(words) >= 3 && len(words[len(words)-2]) == len("2006-01-02") {
		slotWords = 2
	}
	roomName := strings.Join(words[:len(words)-slotWords], " ")
	words[len(words)-1] = clockText(words[len(words)-1])
	slotText := strings.Join(words[len(words)-slotWords:], " ")
	room, ok := c.ev.room(roomName)
	if !ok {
		return Reply{}, userErr(fmt.Sprintf("there is no room %q. Rooms: %s.", roomName, strings.Join(c.ev.roomNames(), ", ")))
	}
	slot, err := c.ev.slotAt(slotText, p.Kind)
	if err != nil {
		return Reply{}, err
	}
	if !slicesContainsFold(slot.Rooms, room) {
		return Reply{}, userErr(fmt.Sprintf("%s is not open in the %s slot at %s.", room, slot.Kind, c.when(slot.Start)))
	}
	pins, err := c.tx.Pins(c.ev.id)
	if err != nil {
		return Reply{}, err
	}
	for _, o := range pins {
		if o.Number != p.Number && o.Room == room && o.Start.Equal(slot.Start) {
			return Reply{}, userErr(fmt.Sprintf("#%d is pinned there already: %sunpin %d first, or pick another room or slot.", o.Number, c.prefix(), o.Number))
		}
	}
	if err := c.tx.SetPin(p.ID, room, slot.Start, c.person.ID); err != nil {
		return Reply{}, err
	}
	return textReply("pinned #%d %q to %s, %s. It takes effect at the next release.", p.Number, p.Title, room, c.when(slot.Start)), nil
}

func runUnpin(c *call) (Reply, error) {
	ns, err := c.numbersArg()
	if err != nil {
		return Reply{}, err
	}
	return each(ns, func(n int64) (string, error) {
		p, err := c.proposal(n)
		if err != nil {
			return "", err
		}
		ok, err := c.tx.RemovePin(p.ID)
		if err != nil {
			return "", err
		}
		if !ok {
			return fmt.Sprintf("#%d was not pinned.", p.Number), nil
		}
		return fmt.Sprintf("unpinned #%d %q: the scheduler places it at the next release.", p.Number, p.Title), nil
	})
}

func slicesContainsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// room finds a room by name, ignoring case.
func (e *Event) room(name string) (string, bool) {
	for _, r := range e.Grid.Rooms {
		if strings.EqualFold(r.Name, name) {
			return r.Name, true
		}
	}
	return "", false
}

func (e *Event) roomNames() []string {
	names := make([]string, len(e.Grid.Rooms))
	for i, r := range e.Grid.Rooms {
		names[i] = r.Name
	}
	return names
}

// slotAt finds the slot taking proposals of kind that starts at "HH:MM"
// (on the only day that has one) or "YYYY-MM-DD HH:MM".
func (e *Event) slotAt(text, kind string) (schedule.GridSlot, error) {
	zone := e.zone()
	var matches []schedule.GridSlot
	for _, s := range e.Grid.Slots {
		st := s.Start.In(zone)
		if s.Kind == kind && (text == st.Format("15:04") || text == st.Format("2006-01-02 15:04")) {
			matches = append(matches, s)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		var starts []string
		for _, s := range e.Grid.Slots {
			if s.Kind == kind {
				starts = append(starts, s.Start.In(zone).Format("2006-01-02 15:04"))
			}
		}
		if len(starts) == 0 {
			return schedule.GridSlot{}, userErr(fmt.Sprintf("the event has no %s slots.", kind))
		}
		return schedule.GridSlot{}, userErr(fmt.Sprintf("no %s slot starts at %s. The %s slots start at: %s.", kind, text, kind, strings.Join(starts, ", ")))
	default:
		return schedule.GridSlot{}, userErr(fmt.Sprintf("%s slots start at %s on several days: say the day too, as in %s.", kind, text, matches[0].Start.In(zone).Format("2006-01-02 15:04")))
	}
}

func (c *call) nowNext(wantNow bool) (Reply, error) {
	r, err := c.released()
	if errors.Is(err, store.ErrNotFound) {
		return textReply("the schedule is not released yet."), nil
	} else if err != nil {
		return Reply{}, err
	}
	now, next := r.Current().At(c.tx.Now())
	list := func(items []schedule.Item) []string {
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = fmt.Sprintf("%s: #%d %s", it.Room, it.Number, it.Title)
		}
		return out
	}
	if wantNow && len(now) > 0 {
		head := fmt.Sprintf("now (until %s): ", c.when(now[0].End))
		return Reply{Lines: packLines(head, list(now), " · ", 380)}, nil
	}
	onNow := "nothing is on now."
	if s, ok := c.ev.fixedAt(c.tx.Now()); ok {
		onNow = fmt.Sprintf("now: %s until %s.", fixedName(s), c.when(s.End))
	}
	if len(next) == 0 {
		if wantNow {
			return textReply("%s Nothing more is scheduled.", onNow), nil
		}
		return textReply("nothing more is scheduled."), nil
	}
	head := fmt.Sprintf("next, %s: ", c.when(next[0].Start))
	if wantNow {
		head = fmt.Sprintf("%s Next, %s: ", onNow, c.when(next[0].Start))
	}
	return Reply{Lines: packLines(head, list(next), " · ", 380)}, nil
}

func runWhere(c *call) (Reply, error) {
	p, err := c.proposalArg()
	if err != nil {
		return Reply{}, err
	}
	r, err := c.released()
	if errors.Is(err, store.ErrNotFound) {
		return textReply("the schedule is not released yet."), nil
	} else if err != nil {
		return Reply{}, err
	}
	if a, out := r.TakenOut(p.Number); out {
		return textReply("#%d %q was %s after schedule version %d: it is not on the schedule any more.", p.Number, p.Title, a.Reason, r.Version), nil
	}
	it, ok := r.Find(p.Number)
	if !ok {
		for _, l := range r.Left {
			if l.Number == p.Number {
				return textReply("#%d %q is not in schedule version %d: %s.", p.Number, p.Title, r.Version, l.Reason), nil
			}
		}
		return textReply("#%d %q is not in schedule version %d.", p.Number, p.Title, r.Version), nil
	}
	return textReply("#%d %q: %s, %s.", it.Number, it.Title, it.Room, c.span(it.Start, it.End)), nil
}

// fixedAt returns the break or plenary of the grid going on at t.
func (e *Event) fixedAt(t time.Time) (schedule.GridSlot, bool) {
	for _, s := range e.Grid.Slots {
		if (s.Kind == schedule.KindBreak || s.Kind == schedule.KindPlenary) && !s.Start.After(t) && s.End.After(t) {
			return s, true
		}
	}
	return schedule.GridSlot{}, false
}

// fixedName names a break or plenary: its title from the config, else
// its kind.
func fixedName(s schedule.GridSlot) string {
	name := "the " + s.Kind
	if s.Title != "" {
		name = fmt.Sprintf("%s (%s)", s.Title, s.Kind)
	}
	if len(s.Rooms) > 0 {
		name += " in " + strings.Join(s.Rooms, ", ")
	}
	return name
}

// scheduledText says where and when a proposal is in the latest release,
// if it is in it: "scheduled: Room 106, Thu 4 Mar 13:00-13:50 PST".
func (c *call) scheduledText(number int64) (string, bool, error) {
	r, err := c.released()
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	it, ok := r.Find(number)
	if !ok {
		return "", false, nil
	}
	return fmt.Sprintf("scheduled: %s, %s", it.Room, c.span(it.Start, it.End)), true, nil
}
