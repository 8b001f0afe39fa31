package schedule

import (
	"errors"
	"fmt"
)

// ErrInfeasible is wrapped by Evaluate's errors about broken hard constraints.
var ErrInfeasible = errors.New("infeasible solution")

// Evaluate scores sol against p from scratch and checks every hard
// constraint. It is written plainly, without the solver's incremental
// bookkeeping, so that the two can be checked against each other.
func Evaluate(p *Problem, sol *Solution) (Score, error) {
	var sc Score
	if sol == nil {
		return sc, fmt.Errorf("%w: nil solution", ErrInfeasible)
	}
	bad := func(format string, args ...any) (Score, error) {
		return sc, fmt.Errorf("%w: %s", ErrInfeasible, fmt.Sprintf(format, args...))
	}
	if len(sol.Assignments) != len(p.Sessions) {
		return bad("%d assignments for %d sessions", len(sol.Assignments), len(p.Sessions))
	}
	nr, nt := len(p.Rooms), len(p.Slots)
	demand := p.Demand()
	type cell struct{ room, slot int }
	type busy struct {
		speaker string
		slot    int
	}
	cells := make(map[cell]int)
	speakers := make(map[busy]int)
	for i, a := range sol.Assignments {
		s := p.Sessions[i]
		if !a.Placed() {
			if a != Unplaced {
				return bad("session %s: half-placed assignment %+v", s.ID, a)
			}
			if s.Pin != nil {
				return bad("pinned session %s is unplaced", s.ID)
			}
			sc.Unplaced++
			sc.UnplacedVotes += demand[i]
			continue
		}
		if a.Room >= nr || a.Slot >= nt {
			return bad("session %s: room %d / slot %d out of range", s.ID, a.Room, a.Slot)
		}
		if !p.roomOpen(a.Room, a.Slot) {
			return bad("session %s: room %s is closed in slot %s", s.ID, p.Rooms[a.Room].ID, p.Slots[a.Slot].ID)
		}
		for _, u := range s.Unavailable {
			if u == a.Slot {
				return bad("session %s placed in unavailable slot %s", s.ID, p.Slots[a.Slot].ID)
			}
		}
		if s.Pin != nil && (s.Pin.Room != a.Room || s.Pin.Slot != a.Slot) {
			return bad("session %s is not where it is pinned", s.ID)
		}
		c := cell{a.Room, a.Slot}
		if j, ok := cells[c]; ok {
			return bad("sessions %s and %s share room %s in slot %s", p.Sessions[j].ID, s.ID, p.Rooms[a.Room].ID, p.Slots[a.Slot].ID)
		}
		cells[c] = i
		for _, sp := range s.Speakers {
			b := busy{sp, a.Slot}
			if j, ok := speakers[b]; ok && j != i {
				return bad("speaker %s has sessions %s and %s in slot %s", sp, p.Sessions[j].ID, s.ID, p.Slots[a.Slot].ID)
			}
			speakers[b] = i
		}
		if over := demand[i] - p.Rooms[a.Room].Capacity; over > 0 {
			sc.Overflow += over
		}
	}
	perSlot := make([]int, nt)
	for _, v := range p.Voters {
		clear(perSlot)
		for _, s := range v.Votes {
			if a := sol.Assignments[s]; a.Placed() {
				perSlot[a.Slot]++
			}
		}
		for _, k := range perSlot {
			sc.Conflicts += k * (k - 1) / 2
		}
	}
	sc.Objective = p.ConflictWeight*sc.Conflicts + p.OverflowWeight*sc.Overflow
	for i, was := range p.Previous {
		now := sol.Assignments[i]
		switch {
		case !was.Placed():
		case !now.Placed():
			sc.Dropped++
		case now.Slot != was.Slot:
			sc.Retimed++
			sc.Moved++
			sc.Stability += p.retimeCost(i, demand[i])
		case now.Room != was.Room:
			sc.Moved++
		}
	}
	return sc, nil
}
