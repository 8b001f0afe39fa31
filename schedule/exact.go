package schedule

import (
	"context"
	"slices"
	"time"
)

// exactLimit is the most placed sessions the exact search takes on: past
// it, proving optimality costs more than a schedule is worth.
const exactLimit = 14

// exactNodes bounds the exact search, so it ends even where the bound
// prunes poorly.
const exactNodes = 20_000_000

// prove searches every schedule of a small problem by branch and bound,
// starting from the incumbent sol, and reports whether it finished: then
// the solution it leaves in sol is optimal. Rooms are not branched on:
// given which sessions share a slot, giving the most voted the biggest
// open room minimises the overflow, so a slot's overflow is a function of
// its sessions.
func prove(ctx context.Context, p *Problem, sol *Solution, deadline time.Time) bool {
	placed := make([]int, 0, len(p.Sessions))
	for s, a := range sol.Assignments {
		if a.Placed() {
			placed = append(placed, s)
		}
	}
	if len(placed) > exactLimit {
		return false
	}
	demand := p.Demand()
	// Most constrained first: pinned, then most votes.
	slices.SortStableFunc(placed, func(a, b int) int {
		pa, pb := p.Sessions[a].Pin != nil, p.Sessions[b].Pin != nil
		if pa != pb {
			if pa {
				return -1
			}
			return 1
		}
		return demand[b] - demand[a]
	})
	e := &exact{p: p, order: placed, demand: demand, deadline: deadline, ctx: ctx}
	e.init()
	sc, err := Evaluate(p, sol)
	if err != nil {
		return false
	}
	e.best = p.ConflictWeight*sc.Conflicts + p.OverflowWeight*sc.Overflow
	e.bestSlots = nil
	done := e.search(0, 0)
	if e.bestSlots != nil {
		e.apply(sol, e.bestSlots)
	}
	return done
}

type exact struct {
	p        *Problem
	order    []int // sessions to place, in branching order
	demand   []int
	ctx      context.Context
	deadline time.Time
	nodes    int

	voters   [][]int // per session: its voters
	cnt      [][]int // per voter, per slot: placed sessions voted for
	inSlot   [][]int // per slot: placed sessions
	caps     [][]int // per slot: open rooms' capacities, biggest first
	speakers []map[string]bool
	slotOf   []int // per session in order: its slot
	over     []int // per slot: current overflow

	best      int
	bestSlots []int
}

func (e *exact) init() {
	p := e.p
	e.voters = make([][]int, len(p.Sessions))
	for v, voter := range p.Voters {
		for _, s := range voter.Votes {
			e.voters[s] = append(e.voters[s], v)
		}
	}
	e.cnt = make([][]int, len(p.Voters))
	for v := range e.cnt {
		e.cnt[v] = make([]int, len(p.Slots))
	}
	e.inSlot = make([][]int, len(p.Slots))
	e.caps = make([][]int, len(p.Slots))
	e.speakers = make([]map[string]bool, len(p.Slots))
	e.over = make([]int, len(p.Slots))
	for t := range p.Slots {
		for r, room := range p.Rooms {
			if p.roomOpen(r, t) {
				e.caps[t] = append(e.caps[t], room.Capacity)
			}
		}
		slices.SortFunc(e.caps[t], func(a, b int) int { return b - a })
		e.speakers[t] = map[string]bool{}
	}
	e.slotOf = make([]int, len(e.order))
}

// overflow is a slot's overflow with its sessions in the rooms by size.
func (e *exact) overflow(t int) int {
	d := make([]int, len(e.inSlot[t]))
	for i, s := range e.inSlot[t] {
		d[i] = e.demand[s]
	}
	slices.SortFunc(d, func(a, b int) int { return b - a })
	o := 0
	for i, x := range d {
		if x > e.caps[t][i] {
			o += x - e.caps[t][i]
		}
	}
	return o
}

// search places e.order[i:]; cost is the objective of what is placed.
// Adding a session to a slot never lowers its conflicts or its overflow,
// so cost is a lower bound of every completion. It reports false if the
// budget ran out before the search was complete.
func (e *exact) search(i, cost int) bool {
	if cost >= e.best {
		return true
	}
	if i == len(e.order) {
		e.best = cost
		e.bestSlots = slices.Clone(e.slotOf)
		return true
	}
	e.nodes++
	if e.nodes > exactNodes || e.nodes%4096 == 0 && (e.ctx.Err() != nil || !e.deadline.IsZero() && time.Now().After(e.deadline)) {
		return false
	}
	p := e.p
	s := e.order[i]
	sess := p.Sessions[s]
	emptyTried := map[string]bool{} // empty slots alike are tried once
	for t := range p.Slots {
		if sess.Pin != nil && sess.Pin.Slot != t {
			continue
		}
		if len(e.inSlot[t]) >= len(e.caps[t]) || slices.Contains(sess.Unavailable, t) {
			continue
		}
		clash := false
		for _, sp := range sess.Speakers {
			clash = clash || e.speakers[t][sp]
		}
		if clash {
			continue
		}
		if len(e.inSlot[t]) == 0 && sess.Pin == nil {
			key := e.slotKind(t)
			if emptyTried[key] {
				continue
			}
			emptyTried[key] = true
		}
		added := 0
		for _, v := range e.voters[s] {
			added += e.cnt[v][t]
		}
		e.place(s, t)
		before := e.over[t]
		e.over[t] = e.overflow(t)
		e.slotOf[i] = t
		ok := e.search(i+1, cost+p.ConflictWeight*added+p.OverflowWeight*(e.over[t]-before))
		e.over[t] = before
		e.unplace(s, t)
		if !ok {
			return false
		}
	}
	return true
}

// slotKind tells empty slots apart only by what can differ between them
// for the sessions still to place: their open rooms and who may not be
// there. Pinned sessions come first, so no pin is still to come.
func (e *exact) slotKind(t int) string {
	key := []byte{}
	for _, c := range e.caps[t] {
		key = append(key, byte(c), byte(c>>8), byte(c>>16), ',')
	}
	key = append(key, '|')
	for _, s := range e.order {
		if slices.Contains(e.p.Sessions[s].Unavailable, t) {
			key = append(key, byte(s), byte(s>>8), ',')
		}
	}
	return string(key)
}

func (e *exact) place(s, t int) {
	e.inSlot[t] = append(e.inSlot[t], s)
	for _, v := range e.voters[s] {
		e.cnt[v][t]++
	}
	for _, sp := range e.p.Sessions[s].Speakers {
		e.speakers[t][sp] = true
	}
}

func (e *exact) unplace(s, t int) {
	e.inSlot[t] = e.inSlot[t][:len(e.inSlot[t])-1]
	for _, v := range e.voters[s] {
		e.cnt[v][t]--
	}
	for _, sp := range e.p.Sessions[s].Speakers {
		delete(e.speakers[t], sp)
	}
}

// apply writes the best slots into sol, with rooms by size (pinned
// sessions keep their rooms).
func (e *exact) apply(sol *Solution, slots []int) {
	p := e.p
	bySlot := make([][]int, len(p.Slots))
	for i, s := range e.order {
		bySlot[slots[i]] = append(bySlot[slots[i]], s)
	}
	for t, ss := range bySlot {
		var rooms []int
		used := map[int]bool{}
		for _, s := range ss {
			if pin := p.Sessions[s].Pin; pin != nil {
				sol.Assignments[s] = Assignment{Room: pin.Room, Slot: t}
				used[pin.Room] = true
			}
		}
		for r := range p.Rooms {
			if p.roomOpen(r, t) && !used[r] {
				rooms = append(rooms, r)
			}
		}
		slices.SortStableFunc(rooms, func(a, b int) int { return p.Rooms[b].Capacity - p.Rooms[a].Capacity })
		var free []int
		for _, s := range ss {
			if p.Sessions[s].Pin == nil {
				free = append(free, s)
			}
		}
		slices.SortStableFunc(free, func(a, b int) int { return e.demand[b] - e.demand[a] })
		for i, s := range free {
			sol.Assignments[s] = Assignment{Room: rooms[i], Slot: t}
		}
	}
}
