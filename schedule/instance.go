package schedule

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Formats read and written by this file.
const (
	InstanceFormat = "sched-instance/1"
	SolutionFormat = "sched-solution/1"
)

// ErrMalformed is wrapped by ReadInstance's and ReadSolution's errors about
// input that does not follow the format.
var ErrMalformed = errors.New("malformed input")

// jsonInstance mirrors sched-instance/1. Two optional fields extend it for
// the product's model: a session's "pin" and a slot's "closed_rooms".
type jsonInstance struct {
	Format    string `json:"format"`
	Name      string `json:"name"`
	Objective *struct {
		ConflictWeight *int `json:"conflict_weight"`
		OverflowWeight *int `json:"overflow_weight"`
	} `json:"objective"`
	Rooms []struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Capacity *int   `json:"capacity"`
	} `json:"rooms"`
	Slots []struct {
		ID          string   `json:"id"`
		Label       string   `json:"label"`
		Day         int      `json:"day"`
		ClosedRooms []string `json:"closed_rooms"`
	} `json:"slots"`
	Sessions []struct {
		ID               string   `json:"id"`
		Title            string   `json:"title"`
		Speakers         []string `json:"speakers"`
		UnavailableSlots []string `json:"unavailable_slots"`
		Pin              *struct {
			Room string `json:"room"`
			Slot string `json:"slot"`
		} `json:"pin"`
	} `json:"sessions"`
	Voters []struct {
		ID    string   `json:"id"`
		Votes []string `json:"votes"`
	} `json:"voters"`
}

// ReadInstance parses a sched-instance/1 document into a validated Problem.
func ReadInstance(r io.Reader) (*Problem, error) {
	var in jsonInstance
	dec := json.NewDecoder(bufio.NewReader(r))
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	bad := func(format string, args ...any) (*Problem, error) {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	if in.Format != InstanceFormat {
		return bad("format is %q, want %q", in.Format, InstanceFormat)
	}
	p := &Problem{Name: in.Name, ConflictWeight: 1, OverflowWeight: 1}
	if o := in.Objective; o != nil {
		if o.ConflictWeight != nil {
			p.ConflictWeight = *o.ConflictWeight
		}
		if o.OverflowWeight != nil {
			p.OverflowWeight = *o.OverflowWeight
		}
	}
	index := func(kind string, ids []string) (map[string]int, error) {
		m := make(map[string]int, len(ids))
		for i, id := range ids {
			if id == "" {
				return nil, fmt.Errorf("%w: %s #%d has no id", ErrMalformed, kind, i+1)
			}
			if _, dup := m[id]; dup {
				return nil, fmt.Errorf("%w: duplicate %s id %q", ErrMalformed, kind, id)
			}
			m[id] = i
		}
		return m, nil
	}

	ids := make([]string, len(in.Rooms))
	for i, r := range in.Rooms {
		if r.Capacity == nil {
			return bad("room %q has no capacity", r.ID)
		}
		ids[i] = r.ID
		p.Rooms = append(p.Rooms, Room{ID: r.ID, Name: r.Name, Capacity: *r.Capacity})
	}
	roomIdx, err := index("room", ids)
	if err != nil {
		return nil, err
	}
	ids = make([]string, len(in.Slots))
	for i, s := range in.Slots {
		ids[i] = s.ID
	}
	slotIdx, err := index("slot", ids)
	if err != nil {
		return nil, err
	}
	for _, s := range in.Slots {
		sl := Slot{ID: s.ID, Label: s.Label, Day: s.Day}
		for _, rid := range s.ClosedRooms {
			r, ok := roomIdx[rid]
			if !ok {
				return bad("slot %q closes unknown room %q", s.ID, rid)
			}
			sl.Closed = append(sl.Closed, r)
		}
		p.Slots = append(p.Slots, sl)
	}
	ids = make([]string, len(in.Sessions))
	for i, s := range in.Sessions {
		ids[i] = s.ID
	}
	sessIdx, err := index("session", ids)
	if err != nil {
		return nil, err
	}
	for _, s := range in.Sessions {
		ss := Session{ID: s.ID, Title: s.Title, Speakers: s.Speakers}
		for _, sp := range s.Speakers {
			if sp == "" {
				return bad("session %q has an empty speaker id", s.ID)
			}
		}
		for _, tid := range s.UnavailableSlots {
			t, ok := slotIdx[tid]
			if !ok {
				return bad("session %q: unknown unavailable slot %q", s.ID, tid)
			}
			ss.Unavailable = append(ss.Unavailable, t)
		}
		if s.Pin != nil {
			r, ok := roomIdx[s.Pin.Room]
			if !ok {
				return bad("session %q pinned to unknown room %q", s.ID, s.Pin.Room)
			}
			t, ok := slotIdx[s.Pin.Slot]
			if !ok {
				return bad("session %q pinned to unknown slot %q", s.ID, s.Pin.Slot)
			}
			ss.Pin = &Pin{Room: r, Slot: t}
		}
		p.Sessions = append(p.Sessions, ss)
	}
	ids = make([]string, len(in.Voters))
	for i, v := range in.Voters {
		ids[i] = v.ID
	}
	if _, err := index("voter", ids); err != nil {
		return nil, err
	}
	for _, v := range in.Voters {
		vv := Voter{ID: v.ID}
		for _, sid := range v.Votes {
			s, ok := sessIdx[sid]
			if !ok {
				return bad("voter %q votes for unknown session %q", v.ID, sid)
			}
			vv.Votes = append(vv.Votes, s)
		}
		p.Voters = append(p.Voters, vv)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return p, nil
}

type jsonAssignment struct {
	Session string `json:"session"`
	Room    string `json:"room"`
	Slot    string `json:"slot"`
}

type jsonSolution struct {
	Format      string           `json:"format"`
	Instance    string           `json:"instance"`
	Method      string           `json:"method"`
	Meta        jsonMeta         `json:"meta"`
	Assignments []jsonAssignment `json:"assignments"`
}

type jsonMeta struct {
	Objective  int      `json:"objective"`
	Conflicts  int      `json:"conflicts"`
	Overflow   int      `json:"overflow"`
	Iterations int64    `json:"iterations,omitempty"`
	Optimal    bool     `json:"optimal,omitempty"`
	Unplaced   []string `json:"unplaced,omitempty"`
	// Against a previous solution (-previous): sessions in another room
	// or slot, in another slot, placed before and left out now.
	Moved   *int `json:"moved,omitempty"`
	Retimed *int `json:"retimed,omitempty"`
	Dropped *int `json:"dropped,omitempty"`
}

// Method names the solver in written solutions.
const Method = "hallway-anneal"

// WriteSolution writes sol as a sched-solution/1 document for instance p.
// Unplaced sessions are left out of the assignments and listed in
// meta.unplaced (the benchmark's instances always have room for all).
func WriteSolution(w io.Writer, p *Problem, sol *Solution) error {
	if len(sol.Assignments) != len(p.Sessions) {
		return fmt.Errorf("write solution: %d assignments for %d sessions", len(sol.Assignments), len(p.Sessions))
	}
	out := jsonSolution{
		Format:   SolutionFormat,
		Instance: p.Name,
		Method:   Method,
		Meta: jsonMeta{
			Objective:  sol.Score.Objective,
			Conflicts:  sol.Score.Conflicts,
			Overflow:   sol.Score.Overflow,
			Iterations: sol.Iterations,
			Optimal:    sol.Optimal,
		},
		Assignments: []jsonAssignment{},
	}
	if len(p.Previous) > 0 {
		sc := sol.Score
		out.Meta.Moved, out.Meta.Retimed, out.Meta.Dropped = &sc.Moved, &sc.Retimed, &sc.Dropped
	}
	for i, a := range sol.Assignments {
		if !a.Placed() {
			out.Meta.Unplaced = append(out.Meta.Unplaced, p.Sessions[i].ID)
			continue
		}
		if a.Room >= len(p.Rooms) || a.Slot >= len(p.Slots) {
			return fmt.Errorf("write solution: session %s: room %d / slot %d out of range", p.Sessions[i].ID, a.Room, a.Slot)
		}
		out.Assignments = append(out.Assignments, jsonAssignment{
			Session: p.Sessions[i].ID, Room: p.Rooms[a.Room].ID, Slot: p.Slots[a.Slot].ID,
		})
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return fmt.Errorf("write solution: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write solution: %w", err)
	}
	return nil
}

// ReadSolution parses a sched-solution/1 document (the list form of
// "assignments") against p. Sessions it does not mention are unplaced.
// The score is not read: call Evaluate.
func ReadSolution(r io.Reader, p *Problem) (*Solution, error) {
	return readSolution(r, p, true)
}

// ReadPrevious reads the solution of an earlier version of p's instance
// as p.Previous: sessions, rooms and slots that are gone since are left
// out, sessions new since are Unplaced.
func ReadPrevious(r io.Reader, p *Problem) ([]Assignment, error) {
	sol, err := readSolution(r, p, false)
	if err != nil {
		return nil, err
	}
	return sol.Assignments, nil
}

func readSolution(r io.Reader, p *Problem, strict bool) (*Solution, error) {
	var in jsonSolution
	if err := json.NewDecoder(bufio.NewReader(r)).Decode(&in); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if in.Format != "" && in.Format != SolutionFormat {
		return nil, fmt.Errorf("%w: format is %q, want %q", ErrMalformed, in.Format, SolutionFormat)
	}
	idx := func(n int, id func(int) string) map[string]int {
		m := make(map[string]int, n)
		for i := range n {
			m[id(i)] = i
		}
		return m
	}
	rooms := idx(len(p.Rooms), func(i int) string { return p.Rooms[i].ID })
	slots := idx(len(p.Slots), func(i int) string { return p.Slots[i].ID })
	sessions := idx(len(p.Sessions), func(i int) string { return p.Sessions[i].ID })
	sol := &Solution{Assignments: make([]Assignment, len(p.Sessions))}
	for i := range sol.Assignments {
		sol.Assignments[i] = Unplaced
	}
	seen := make([]bool, len(p.Sessions))
	for _, a := range in.Assignments {
		s, ok := sessions[a.Session]
		if !ok && !strict {
			continue
		}
		if !ok {
			return nil, fmt.Errorf("%w: unknown session %q", ErrMalformed, a.Session)
		}
		if seen[s] {
			return nil, fmt.Errorf("%w: session %q assigned twice", ErrMalformed, a.Session)
		}
		seen[s] = true
		r, ok := rooms[a.Room]
		t, tok := slots[a.Slot]
		if (!ok || !tok) && !strict {
			continue
		}
		if !ok {
			return nil, fmt.Errorf("%w: session %q: unknown room %q", ErrMalformed, a.Session, a.Room)
		}
		if !tok {
			return nil, fmt.Errorf("%w: session %q: unknown slot %q", ErrMalformed, a.Session, a.Slot)
		}
		sol.Assignments[s] = Assignment{Room: r, Slot: t}
	}
	for s, a := range sol.Assignments {
		if !a.Placed() {
			sol.Unplaced = append(sol.Unplaced, s)
		}
	}
	return sol, nil
}
