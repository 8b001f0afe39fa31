// Package schedule assigns conference sessions to rooms and time slots.
//
// A Problem lists rooms, time slots, sessions and voters (each voter names
// the sessions they want to attend). A Solution places every session in one
// (room, slot) cell such that the hard constraints hold:
//
//   - at most one session per (room, slot), and only in rooms open in that slot;
//   - no speaker in two sessions of the same slot;
//   - no session in one of its unavailable slots;
//   - pinned sessions sit exactly where they are pinned.
//
// Among feasible solutions it minimises
//
//	ConflictWeight·conflicts + OverflowWeight·overflow
//
// where conflicts counts, for every voter, the pairs of their voted sessions
// that share a slot, and overflow sums, over placed sessions, how many voters
// exceed the room's capacity.
//
// When there are more sessions than the cells can take, the sessions are
// ranked by votes (more votes first, then lower index in Problem.Sessions,
// i.e. earlier proposal) and the lowest-ranked that cannot be fitted are left
// unplaced and reported in Solution.Unplaced.
//
// Solve runs a simulated-annealing search with incremental scoring; Evaluate
// is an independent, deliberately plain scorer used to check it. ReadInstance
// and WriteSolution speak the benchmark's JSON formats (sched-instance/1 and
// sched-solution/1).
package schedule

import (
	"errors"
	"fmt"
)

// Problem is one scheduling instance. Sessions, rooms and slots are referred
// to by their index in the respective slice.
type Problem struct {
	// Name identifies the instance (written into solutions).
	Name     string
	Rooms    []Room
	Slots    []Slot // in chronological order
	Sessions []Session
	Voters   []Voter
	// ConflictWeight and OverflowWeight weigh the two parts of the objective.
	ConflictWeight, OverflowWeight int
	// Previous, when set (one entry per session), is the schedule being
	// revised: where each session was (Unplaced for a new one). The
	// solver then pays for every session it puts in another slot than
	// before, RetimeWeight for each person who planned on it (its voters,
	// and one more for its speakers), and keeps sessions in their rooms
	// where that costs no seat.
	Previous     []Assignment
	RetimeWeight int
}

// DefaultRetimeWeight prices a change of time for each person who
// planned on the session, in objective units (one voter losing one wanted
// session, or one seat short): a re-solve moves a session only when that
// saves more than its voters, plus one, times this.
const DefaultRetimeWeight = 1

// retimeCost is what moving session i, with demand d, to another time
// costs.
func (p *Problem) retimeCost(i, d int) int {
	if i >= len(p.Previous) || !p.Previous[i].Placed() {
		return 0
	}
	return p.RetimeWeight * (1 + d)
}

// Room is a place where one session can run per slot.
type Room struct {
	ID       string
	Name     string
	Capacity int
}

// Slot is a time slot. All rooms are open in it unless listed in Closed.
type Slot struct {
	ID    string
	Label string
	Day   int
	// Closed lists the indices of rooms that do not exist in this slot.
	Closed []int
}

// Session is a talk, workshop or discussion to be placed.
type Session struct {
	ID       string
	Title    string
	Speakers []string // speaker ids; a speaker cannot be in two places at once
	// Unavailable lists slot indices where the session may not run.
	Unavailable []int
	// Pin, when set, fixes the session to one cell.
	Pin *Pin
}

// Pin fixes a session to a room (index) and slot (index).
type Pin struct {
	Room, Slot int
}

// Voter is one attendee's wish list.
type Voter struct {
	ID    string
	Votes []int // session indices, distinct
}

// Assignment places one session. Room and Slot are -1 when the session is
// unplaced.
type Assignment struct {
	Room, Slot int
}

// Placed reports whether the assignment puts the session somewhere.
func (a Assignment) Placed() bool { return a.Room >= 0 && a.Slot >= 0 }

// Unplaced is the assignment of a session that did not fit.
var Unplaced = Assignment{Room: -1, Slot: -1}

// Score holds the figures of a solution. Objective excludes unplaced
// sessions: they are decided by rank before the search and reported apart.
type Score struct {
	Conflicts int // co-voted pairs sharing a slot, counted once per voter
	Overflow  int // voters beyond room capacity, summed over sessions
	Objective int // ConflictWeight·Conflicts + OverflowWeight·Overflow
	Unplaced  int // sessions left out
	// UnplacedVotes counts the votes cast for unplaced sessions.
	UnplacedVotes int
	// Against Problem.Previous: Retimed sessions placed before and now in
	// another slot, Moved ones in another room or slot (retimed ones
	// included), Dropped ones placed before and now unplaced. Stability
	// is what the retimed sessions cost (see Problem.RetimeWeight), what
	// the solver adds to Objective.
	Retimed, Moved, Dropped int
	Stability               int
}

func (s Score) String() string {
	return fmt.Sprintf("objective=%d conflicts=%d overflow=%d unplaced=%d", s.Objective, s.Conflicts, s.Overflow, s.Unplaced)
}

// Solution is the result of Solve: one Assignment per session, in the order
// of Problem.Sessions.
type Solution struct {
	Assignments []Assignment
	// Unplaced lists the sessions that did not fit, highest-ranked first.
	Unplaced []int
	Score    Score
	// Iterations is the number of search moves tried over all workers.
	Iterations int64
	// Optimal is true when the search proved no better objective exists.
	Optimal bool
}

// ErrInvalidProblem is wrapped by errors about malformed problems.
var ErrInvalidProblem = errors.New("invalid problem")

// Validate checks that the problem is self-consistent: indices in range,
// distinct votes, pins on open cells without clashes. A valid problem may
// still leave sessions unplaced, but it always has a feasible solution.
func (p *Problem) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidProblem, fmt.Sprintf(format, args...))
	}
	nr, nt, ns := len(p.Rooms), len(p.Slots), len(p.Sessions)
	if p.ConflictWeight < 0 || p.OverflowWeight < 0 || p.RetimeWeight < 0 {
		return bad("negative objective weight")
	}
	if len(p.Previous) != 0 && len(p.Previous) != ns {
		return bad("%d previous assignments for %d sessions", len(p.Previous), ns)
	}
	for i, a := range p.Previous {
		if a != Unplaced && (a.Room < 0 || a.Room >= nr || a.Slot < 0 || a.Slot >= nt) {
			return bad("session %d (%s): previous assignment (room %d, slot %d) out of range", i, p.Sessions[i].ID, a.Room, a.Slot)
		}
	}
	for i, r := range p.Rooms {
		if r.Capacity < 0 {
			return bad("room %d (%s): negative capacity %d", i, r.ID, r.Capacity)
		}
	}
	closed := make([]bool, nr*nt)
	for t, sl := range p.Slots {
		for _, r := range sl.Closed {
			if r < 0 || r >= nr {
				return bad("slot %d (%s): closed room index %d out of range", t, sl.ID, r)
			}
			closed[t*nr+r] = true
		}
	}
	cellPin := make(map[int]int)
	spkPin := make(map[string]int)
	for i, s := range p.Sessions {
		for _, t := range s.Unavailable {
			if t < 0 || t >= nt {
				return bad("session %d (%s): unavailable slot index %d out of range", i, s.ID, t)
			}
		}
		if s.Pin == nil {
			continue
		}
		r, t := s.Pin.Room, s.Pin.Slot
		if r < 0 || r >= nr || t < 0 || t >= nt {
			return bad("session %d (%s): pin (room %d, slot %d) out of range", i, s.ID, r, t)
		}
		if closed[t*nr+r] {
			return bad("session %d (%s): pinned to room %s, closed in slot %s", i, s.ID, p.Rooms[r].ID, p.Slots[t].ID)
		}
		for _, u := range s.Unavailable {
			if u == t {
				return bad("session %d (%s): pinned to unavailable slot %s", i, s.ID, p.Slots[t].ID)
			}
		}
		if j, ok := cellPin[t*nr+r]; ok {
			return bad("sessions %s and %s pinned to the same room and slot", p.Sessions[j].ID, s.ID)
		}
		cellPin[t*nr+r] = i
		for _, sp := range s.Speakers {
			key := fmt.Sprintf("%d\x00%s", t, sp)
			if j, ok := spkPin[key]; ok && j != i {
				return bad("sessions %s and %s pinned to slot %s share speaker %s", p.Sessions[j].ID, s.ID, p.Slots[t].ID, sp)
			}
			spkPin[key] = i
		}
	}
	for i, v := range p.Voters {
		seen := make(map[int]bool, len(v.Votes))
		for _, s := range v.Votes {
			if s < 0 || s >= ns {
				return bad("voter %d (%s): session index %d out of range", i, v.ID, s)
			}
			if seen[s] {
				return bad("voter %d (%s) votes twice for session %s", i, v.ID, p.Sessions[s].ID)
			}
			seen[s] = true
		}
	}
	return nil
}

// Demand returns the number of votes each session received.
func (p *Problem) Demand() []int {
	d := make([]int, len(p.Sessions))
	for _, v := range p.Voters {
		for _, s := range v.Votes {
			if s >= 0 && s < len(d) {
				d[s]++
			}
		}
	}
	return d
}

// roomOpen reports whether room r exists in slot t.
func (p *Problem) roomOpen(r, t int) bool {
	for _, c := range p.Slots[t].Closed {
		if c == r {
			return false
		}
	}
	return true
}
