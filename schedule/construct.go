package schedule

import (
	"cmp"
	"slices"
)

// construct builds the starting schedule every worker anneals from, and
// decides which sessions are placed at all. Sessions are taken in rank order
// (more votes first, then earlier index); each goes to the allowed slot
// where it costs least right now. When no slot has room for it, an
// augmenting chain of moves (session u leaves slot t for slot t2, …) is
// searched breadth-first to make room; when that fails too, the session
// stays unplaced. Since better-ranked sessions are placed first, the ones
// left out are the lowest-ranked that cannot fit. Revising a schedule, the
// sessions it placed go first: a released session is not dropped for a
// new one.
func construct(m *model) (st *state, unplaced []int32) {
	st = newState(m)
	order := m.rank
	if len(m.p.Previous) > 0 {
		order = slices.Clone(m.rank)
		slices.SortStableFunc(order, func(a, b int32) int {
			return cmp.Compare(min(m.prev[b], 0), min(m.prev[a], 0))
		})
	}
	for _, s := range order {
		if m.pinSlot[s] >= 0 {
			continue
		}
		if best := st.cheapestSlot(s); best >= 0 {
			st.add(s, best)
		} else if !st.augment(s) {
			unplaced = append(unplaced, s)
			continue
		}
		st.movable = append(st.movable, s)
	}
	return st, unplaced
}

// augment makes room for s by a chain of moves found breadth-first over
// slots, then places s. Every slot on the chain gains one session and loses
// at most one, and each arrival is checked against the slot's current
// occupants, so the chain keeps all hard constraints.
func (st *state) augment(s int32) bool {
	m := st.m
	type hop struct {
		mover int32 // session leaving from, to this slot
		from  int32 // slot it leaves (-1: s itself enters here)
	}
	prev := make([]hop, m.nt)
	seen := make([]bool, m.nt)
	var queue []int32
	for _, t := range m.allowedSlots[s] {
		if st.speakersFree(s, t, -1) {
			seen[t] = true
			prev[t] = hop{mover: s, from: -1}
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if st.hasRoom(t) {
			// Apply the chain backwards from the slot with room.
			for {
				h := prev[t]
				if h.from >= 0 {
					st.remove(h.mover)
				}
				st.add(h.mover, t)
				if h.from < 0 {
					return true
				}
				t = h.from
			}
		}
		for _, u := range st.members[t] {
			for _, t2 := range m.allowedSlots[u] {
				if seen[t2] || !st.speakersFree(u, t2, -1) {
					continue
				}
				seen[t2] = true
				prev[t2] = hop{mover: u, from: t}
				queue = append(queue, t2)
			}
		}
	}
	return false
}

// fill places the unplaced sessions that now fit somewhere (a slot with a
// free room where they may run and their speakers are free), best-ranked
// first, each where it costs least, and returns them.
func (st *state) fill(unplaced []int32) []int32 {
	var placed []int32
	for _, s := range unplaced {
		if best := st.cheapestSlot(s); best >= 0 {
			st.add(s, best)
			st.movable = append(st.movable, s)
			placed = append(placed, s)
		}
	}
	return placed
}

// cheapestSlot is the slot with a free room where s may run, its speakers
// are free, and it costs least now (a revised schedule's own slot costs
// the least retime: none); -1 if there is none.
func (st *state) cheapestSlot(s int32) int32 {
	m := st.m
	best, bestCost := int32(-1), 0
	for _, t := range m.allowedSlots[s] {
		if !st.hasRoom(t) || !st.speakersFree(s, t, -1) {
			continue
		}
		cost := m.cw*int(st.att(s, t)) + m.retime(s, t)
		if m.ow != 0 {
			cost += m.ow * st.cost[t].addDelta(m.demand[s])
		}
		if best < 0 || cost < bestCost {
			best, bestCost = t, cost
		}
	}
	return best
}
