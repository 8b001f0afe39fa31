package schedule

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Slot kinds of an event's grid.
const (
	KindTalk    = "talk"    // takes accepted talks
	KindSession = "session" // takes the unconference sessions voted for
	KindBreak   = "break"   // a fixed item
	KindPlenary = "plenary" // a fixed item for everyone
)

// Grid is an event's rooms and time slots, from its config.
type Grid struct {
	Rooms []GridRoom
	Slots []GridSlot // in chronological order
}

// GridRoom is one room of the venue.
type GridRoom struct {
	Name     string
	Capacity int // 0: unknown, never overflows
}

// GridSlot is one slot of the day: which rooms are open and what kind of
// item it takes.
type GridSlot struct {
	Start, End time.Time
	Kind       string
	Rooms      []string // names of open rooms
	Title      string   // for breaks and plenaries
}

// Proposal is what the planner knows of a talk or session.
type Proposal struct {
	Number   int64
	Kind     string // KindTalk or KindSession
	Title    string
	Abstract string
	Speakers []string // display names
	// SpeakerIDs identify the speakers, to keep each in one place at a
	// time; Speakers are used when it is empty.
	SpeakerIDs []string
	Votes      int
	Pin        *PinAt
}

// PinAt is where an organizer pinned a proposal.
type PinAt struct {
	Room  string
	Start time.Time
}

// Item is one placed proposal in a release.
type Item struct {
	Number   int64     `json:"number"`
	Kind     string    `json:"kind"`
	Title    string    `json:"title"`
	Abstract string    `json:"abstract,omitempty"`
	Speakers []string  `json:"speakers,omitempty"`
	Votes    int       `json:"votes"`
	Room     string    `json:"room"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Pinned   bool      `json:"pinned,omitempty"`
}

// Left is a proposal that did not make it, and why.
type Left struct {
	Number int64  `json:"number"`
	Kind   string `json:"kind"`
	Title  string `json:"title"`
	Votes  int    `json:"votes"`
	Reason string `json:"reason"`
}

// Plan is a computed schedule: what goes where, what did not fit, and the
// figures of the solution.
type Plan struct {
	Items []Item `json:"items"` // by start, then room order
	Left  []Left `json:"left,omitempty"`
	// Conflicts and Overflow are the solver's figures over talks and
	// sessions together.
	Conflicts int `json:"conflicts"`
	Overflow  int `json:"overflow"`
}

// Ballot is one person's votes, as proposal numbers.
type Ballot []int64

// Cut and tie-break rules, stated in releases.
const (
	ReasonNoVotes = "no votes"
	ReasonBelow   = "below the cut: the sessions with more votes filled every session slot (ties go to the earlier proposal)"
	ReasonNoSlot  = "no talk slot left"
	ReasonNoRoom  = "no room where its speakers and pins allow"
	// ReasonSpeakers begins the reason of a proposal left out while rooms
	// were free: at each time with a free room, one of its speakers is in
	// another session.
	ReasonSpeakers = "its speakers are in other sessions at every time with a free room"
)

// MakePlan places accepted talks into talk slots and the unconference
// sessions with at least one vote into session slots, minimising, for the
// people who voted, the sessions they cannot attend and the seats missing.
// Sessions rank by votes, ties to the earlier proposal; the lowest ranked
// that cannot fit are left out.
func MakePlan(ctx context.Context, g Grid, props []Proposal, ballots []Ballot, opt *SolveOptions) (*Plan, error) {
	return RevisePlan(ctx, g, props, ballots, nil, opt)
}

// Revision is what a new plan keeps of the released one it revises.
type Revision struct {
	// Items are the released items.
	Items []Item
	// RetimeWeight is what moving a released item to another time costs,
	// in the solver's units (a voter missing a session, a seat short);
	// 0 means DefaultRetimeWeight.
	RetimeWeight int
	// Frozen: an item starting before it stays where it is, unless a pin
	// takes its place or its room is gone.
	Frozen time.Time
}

// RevisePlan is MakePlan for a schedule already released: it starts from
// rev's items and moves one to another time only where that saves more
// than rev.RetimeWeight, keeps rooms where no seat is lost, and never
// moves what starts before rev.Frozen. A nil rev plans afresh. Pins that
// do not fit g are a *PinError.
func RevisePlan(ctx context.Context, g Grid, props []Proposal, ballots []Ballot, rev *Revision, opt *SolveOptions) (*Plan, error) {
	if err := CheckPins(g, props); err != nil {
		return nil, err
	}
	plan := &Plan{}
	for _, kind := range []string{KindTalk, KindSession} {
		var cands []Proposal
		for _, p := range props {
			if p.Kind != kind {
				continue
			}
			if kind == KindSession && p.Votes == 0 && p.Pin == nil {
				plan.Left = append(plan.Left, Left{Number: p.Number, Kind: p.Kind, Title: p.Title, Reason: ReasonNoVotes})
				continue
			}
			cands = append(cands, p)
		}
		if err := plan.place(ctx, g, kind, cands, ballots, rev, opt); err != nil {
			return nil, err
		}
	}
	roomIndex := map[string]int{}
	for i, r := range g.Rooms {
		roomIndex[r.Name] = i
	}
	slices.SortFunc(plan.Items, func(a, b Item) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(roomIndex[a.Room], roomIndex[b.Room]))
	})
	slices.SortFunc(plan.Left, func(a, b Left) int { return cmp.Compare(a.Number, b.Number) })
	return plan, nil
}

// place solves one kind of proposal into the slots of that kind.
func (plan *Plan) place(ctx context.Context, g Grid, kind string, cands []Proposal, ballots []Ballot, rev *Revision, opt *SolveOptions) error {
	if len(cands) == 0 {
		return nil
	}
	// Rank: more votes first, then the earlier proposal. The solver drops
	// the last of Sessions first, so their order is the rank.
	slices.SortStableFunc(cands, func(a, b Proposal) int {
		return cmp.Or(cmp.Compare(b.Votes, a.Votes), cmp.Compare(a.Number, b.Number))
	})
	p := &Problem{Name: kind, ConflictWeight: 1, OverflowWeight: 1}
	roomIndex := map[string]int{}
	for i, r := range g.Rooms {
		roomIndex[r.Name] = i
		p.Rooms = append(p.Rooms, Room{ID: r.Name, Name: r.Name, Capacity: r.Capacity})
		if r.Capacity == 0 {
			p.Rooms[i].Capacity = 1 << 30
		}
	}
	var slots []GridSlot
	for _, s := range g.Slots {
		if s.Kind != kind {
			continue
		}
		open := map[int]bool{}
		for _, name := range s.Rooms {
			open[roomIndex[name]] = true
		}
		var closed []int
		for i := range g.Rooms {
			if !open[i] {
				closed = append(closed, i)
			}
		}
		slots = append(slots, s)
		p.Slots = append(p.Slots, Slot{ID: s.Start.UTC().Format(time.RFC3339), Label: s.Start.Format("Mon 15:04"), Closed: closed})
	}
	index := map[int64]int{}
	for i, c := range cands {
		index[c.Number] = i
		s := Session{ID: strconv.FormatInt(c.Number, 10), Title: c.Title, Speakers: c.SpeakerIDs}
		if len(s.Speakers) == 0 {
			s.Speakers = c.Speakers
		}
		if c.Pin != nil {
			t := slices.IndexFunc(slots, func(s GridSlot) bool { return s.Start.Equal(c.Pin.Start) })
			r, ok := roomIndex[c.Pin.Room]
			if t < 0 || !ok {
				return fmt.Errorf("#%d is pinned to %s at %s, which is not a %s slot of the grid", c.Number, c.Pin.Room, c.Pin.Start, kind)
			}
			s.Pin = &Pin{Room: r, Slot: t}
		}
		p.Sessions = append(p.Sessions, s)
	}
	for i, b := range ballots {
		v := Voter{ID: strconv.Itoa(i)}
		for _, n := range b {
			if s, ok := index[n]; ok {
				v.Votes = append(v.Votes, s)
			}
		}
		if len(v.Votes) > 0 {
			p.Voters = append(p.Voters, v)
		}
	}
	if rev != nil {
		revise(p, rev, kind, cands, slots, roomIndex)
	}
	if len(p.Slots) == 0 {
		for _, c := range cands {
			plan.Left = append(plan.Left, Left{Number: c.Number, Kind: c.Kind, Title: c.Title, Votes: c.Votes, Reason: leftReason(kind)})
		}
		return nil
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("plan %ss: %w", kind, err)
	}
	sol, err := Solve(ctx, p, opt)
	if err != nil {
		return fmt.Errorf("plan %ss: %w", kind, err)
	}
	plan.Conflicts += sol.Score.Conflicts
	plan.Overflow += sol.Score.Overflow
	free := freeTimes(p, sol, slots)
	for i, a := range sol.Assignments {
		c := cands[i]
		if !a.Placed() {
			reason := leftReason(kind)
			if len(free) > 0 {
				// Rooms were left: the cut is not why.
				reason = ReasonSpeakers + " (" + strings.Join(free, ", ") + ")"
			}
			plan.Left = append(plan.Left, Left{Number: c.Number, Kind: c.Kind, Title: c.Title, Votes: c.Votes, Reason: reason})
			continue
		}
		s := slots[a.Slot]
		plan.Items = append(plan.Items, Item{Number: c.Number, Kind: c.Kind, Title: c.Title, Abstract: c.Abstract, Speakers: c.Speakers, Votes: c.Votes,
			Room: g.Rooms[a.Room].Name, Start: s.Start, End: s.End, Pinned: c.Pin != nil})
	}
	return nil
}

// revise sets p.Previous from the released items, and pins what is
// frozen where no pin of an organizer or clash of speakers prevents it.
func revise(p *Problem, rev *Revision, kind string, cands []Proposal, slots []GridSlot, roomIndex map[string]int) {
	p.RetimeWeight = rev.RetimeWeight
	if p.RetimeWeight == 0 {
		p.RetimeWeight = DefaultRetimeWeight
	}
	was := map[int64]Item{}
	for _, it := range rev.Items {
		if it.Kind == kind {
			was[it.Number] = it
		}
	}
	p.Previous = make([]Assignment, len(p.Sessions))
	taken := map[[2]int]bool{}
	busy := map[string]bool{} // slot and speaker
	for _, s := range p.Sessions {
		if s.Pin != nil {
			taken[[2]int{s.Pin.Room, s.Pin.Slot}] = true
			for _, sp := range s.Speakers {
				busy[fmt.Sprint(s.Pin.Slot, "\x00", sp)] = true
			}
		}
	}
	for i, c := range cands {
		p.Previous[i] = Unplaced
		it, ok := was[c.Number]
		if !ok {
			continue
		}
		t := slices.IndexFunc(slots, func(s GridSlot) bool { return s.Start.Equal(it.Start) })
		r, rok := roomIndex[it.Room]
		if t < 0 || !rok || !p.roomOpen(r, t) {
			continue // its slot or room is gone: it has to move
		}
		p.Previous[i] = Assignment{Room: r, Slot: t}
		s := &p.Sessions[i]
		if s.Pin != nil || rev.Frozen.IsZero() || !it.Start.Before(rev.Frozen) || taken[[2]int{r, t}] || slices.Contains(s.Unavailable, t) {
			continue
		}
		clash := false
		for _, sp := range s.Speakers {
			clash = clash || busy[fmt.Sprint(t, "\x00", sp)]
		}
		if clash {
			continue
		}
		s.Pin = &Pin{Room: r, Slot: t}
		taken[[2]int{r, t}] = true
		for _, sp := range s.Speakers {
			busy[fmt.Sprint(t, "\x00", sp)] = true
		}
	}
}

// freeTimes lists the slots with a room open and empty in sol.
func freeTimes(p *Problem, sol *Solution, slots []GridSlot) []string {
	used := make([]int, len(p.Slots))
	for _, a := range sol.Assignments {
		if a.Placed() {
			used[a.Slot]++
		}
	}
	var out []string
	for t, sl := range p.Slots {
		if used[t] < len(p.Rooms)-len(sl.Closed) {
			out = append(out, slots[t].Start.Format("Mon 15:04"))
		}
	}
	return out
}

func leftReason(kind string) string {
	if kind == KindTalk {
		return ReasonNoSlot
	}
	return ReasonBelow
}
