package schedule

import (
	"cmp"
	"math"
	"slices"
)

// model is the solver's compiled, read-only view of a Problem, shared by all
// search workers.
//
// The search works on slots only: which sessions share a slot decides the
// conflicts, and given a slot's sessions the best rooms follow from a sorted
// matching (largest demand into largest free room), which is optimal because
// overflow max(0, demand−capacity) is convex in the difference. So rooms are
// never searched over, only derived.
//
// Conflicts are counted per pair: Σ_voters Σ_slots C(k,2) equals the sum,
// over pairs of sessions sharing a slot, of the number of voters who voted
// for both (their co-vote weight w). Each worker keeps attract[t][s] =
// Σ_{u in slot t} w(s,u), which makes the conflict delta of a move O(1).
type model struct {
	p      *Problem
	ns, nt int
	cw, ow int
	// prev[s] is the previous slot of s, or -1 (no previous schedule,
	// or s was not placed in it); moving it elsewhere costs rcost[s].
	prev  []int32
	rcost []int

	demand []int32
	// pinSlot[s] is the pinned slot of s, or -1.
	pinSlot []int32
	// allowed[s*nt+t]: s may run in t (available, and t has a free room).
	allowed      []bool
	allowedSlots [][]int32
	// spk[s] lists the speaker indices of s that matter for clashes: those
	// with more than one session.
	spk [][]int32
	nsp int
	// caps[t] holds the capacities of the rooms open and unpinned in t,
	// largest first; rooms[t] the matching room indices.
	caps  [][]int32
	rooms [][]int32
	// pinnedOverflow is the constant overflow of pinned sessions.
	pinnedOverflow int

	// Co-vote weights: sparse rows for updates, dense matrix for lookups
	// when small enough.
	nbr     [][]int32
	nbrW    [][]int32
	dense   []uint8 // ns×ns co-vote weights, when small enough (denseOver: look in nbr)
	rank    []int32 // sessions, best-ranked first
	allCaps []int32 // capacities of all free cells, largest first
}

// denseLimit bounds the session count for which the co-vote matrix is kept
// dense (ns² bytes: 3000 sessions = 9 MB). A byte per pair keeps the
// lookup that every swap makes in cache (FOSDEM's 800 sessions: 640 kB,
// within a core's L2, where uint16 missed it); the few weights of
// denseOver and more (about 40 of 640 k entries on FOSDEM) are looked
// up in the sparse rows.
const (
	denseLimit = 3000
	denseOver  = math.MaxUint8
)

func newModel(p *Problem) *model { return buildModel(p, denseLimit) }

// buildModel compiles p, keeping co-vote weights dense up to denseMax
// sessions (tests lower it to exercise the sparse path).
func buildModel(p *Problem, denseMax int) *model {
	ns, nt, nr := len(p.Sessions), len(p.Slots), len(p.Rooms)
	m := &model{p: p, ns: ns, nt: nt, cw: p.ConflictWeight, ow: p.OverflowWeight}
	m.prev = make([]int32, ns)
	for s := range m.prev {
		m.prev[s] = -1
		if s < len(p.Previous) && p.Previous[s].Placed() {
			m.prev[s] = int32(p.Previous[s].Slot)
		}
	}
	dem := p.Demand()
	m.demand = make([]int32, ns)
	m.rcost = make([]int, ns)
	for i, d := range dem {
		m.demand[i] = int32(d)
		m.rcost[i] = p.retimeCost(i, d)
	}

	// Free rooms per slot, largest first (ties by index, for determinism).
	pinnedCell := make([]bool, nr*nt)
	m.pinSlot = make([]int32, ns)
	for s, ss := range p.Sessions {
		m.pinSlot[s] = -1
		if ss.Pin != nil {
			m.pinSlot[s] = int32(ss.Pin.Slot)
			pinnedCell[ss.Pin.Slot*nr+ss.Pin.Room] = true
			if o := dem[s] - p.Rooms[ss.Pin.Room].Capacity; o > 0 {
				m.pinnedOverflow += o
			}
		}
	}
	m.caps = make([][]int32, nt)
	m.rooms = make([][]int32, nt)
	var allCaps []int32
	for t := range nt {
		var rs []int32
		for r := range nr {
			if !pinnedCell[t*nr+r] && p.roomOpen(r, t) {
				rs = append(rs, int32(r))
			}
		}
		slices.SortStableFunc(rs, func(a, b int32) int {
			return cmp.Compare(p.Rooms[b].Capacity, p.Rooms[a].Capacity)
		})
		m.rooms[t] = rs
		m.caps[t] = make([]int32, len(rs))
		for i, r := range rs {
			m.caps[t][i] = int32(p.Rooms[r].Capacity)
		}
		allCaps = append(allCaps, m.caps[t]...)
	}

	// Availability.
	m.allowed = make([]bool, ns*nt)
	m.allowedSlots = make([][]int32, ns)
	for s, ss := range p.Sessions {
		row := m.allowed[s*nt : (s+1)*nt]
		for t := range nt {
			row[t] = len(m.caps[t]) > 0
		}
		for _, t := range ss.Unavailable {
			row[t] = false
		}
		for t := range nt {
			if row[t] {
				m.allowedSlots[s] = append(m.allowedSlots[s], int32(t))
			}
		}
	}

	// Speakers that hold several sessions.
	spkID := map[string]int32{}
	spkCount := map[string]int{}
	for _, ss := range p.Sessions {
		for _, sp := range slices.Compact(slices.Sorted(slices.Values(ss.Speakers))) {
			spkCount[sp]++
		}
	}
	m.spk = make([][]int32, ns)
	for s, ss := range p.Sessions {
		for _, sp := range slices.Compact(slices.Sorted(slices.Values(ss.Speakers))) {
			if spkCount[sp] < 2 {
				continue
			}
			id, ok := spkID[sp]
			if !ok {
				id = int32(len(spkID))
				spkID[sp] = id
			}
			m.spk[s] = append(m.spk[s], id)
		}
	}
	m.nsp = len(spkID)

	// Co-vote weights, counted densely when the matrix is small enough (a
	// map is ten times slower to fill), sparsely otherwise. Rows come out
	// sorted by neighbour either way.
	m.nbr = make([][]int32, ns)
	m.nbrW = make([][]int32, ns)
	addPair := func(x, y, w int32) {
		m.nbr[x] = append(m.nbr[x], y)
		m.nbrW[x] = append(m.nbrW[x], w)
	}
	if ns <= denseMax {
		count := make([]int32, ns*ns)
		for _, v := range p.Voters {
			for i, a := range v.Votes {
				for _, b := range v.Votes[i+1:] {
					count[a*ns+b]++
					count[b*ns+a]++
				}
			}
		}
		for x := range ns {
			for y, w := range count[x*ns : (x+1)*ns] {
				if w > 0 {
					addPair(int32(x), int32(y), w)
				}
			}
		}
		m.dense = make([]uint8, ns*ns)
		for i, w := range count {
			m.dense[i] = uint8(min(w, denseOver))
		}
	} else {
		pair := map[uint64]int32{}
		for _, v := range p.Voters {
			for i, a := range v.Votes {
				for _, b := range v.Votes[i+1:] {
					pair[uint64(a)<<32|uint64(b)]++
					pair[uint64(b)<<32|uint64(a)]++
				}
			}
		}
		keys := slices.Sorted(func(yield func(uint64) bool) {
			for k := range pair {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			addPair(int32(k>>32), int32(k&0xffffffff), pair[k])
		}
	}

	// Rank: more votes first, then earlier in the problem's list.
	m.rank = make([]int32, ns)
	for i := range m.rank {
		m.rank[i] = int32(i)
	}
	slices.SortStableFunc(m.rank, func(a, b int32) int { return cmp.Compare(m.demand[b], m.demand[a]) })

	slices.SortFunc(allCaps, func(a, b int32) int { return cmp.Compare(b, a) })
	m.allCaps = allCaps
	return m
}

// overflowBound returns a lower bound on the overflow of any schedule
// that places exactly the given movable sessions (plus the pinned ones):
// the sorted matching of their demands against every free cell, ignoring
// all other constraints. It must be taken over the placed set: dropping a
// session can only lower the bound.
func (m *model) overflowBound(placed []int32) int {
	dm := make([]int32, len(placed))
	for i, s := range placed {
		dm[i] = m.demand[s]
	}
	slices.SortFunc(dm, func(a, b int32) int { return cmp.Compare(b, a) })
	lb := m.pinnedOverflow
	for i := range min(len(dm), len(m.allCaps)) {
		if d := dm[i] - m.allCaps[i]; d > 0 {
			lb += int(d)
		}
	}
	return lb
}

// retime is what s costs in slot t when that is not where it was before.
func (m *model) retime(s, t int32) int {
	if p := m.prev[s]; p >= 0 && p != t {
		return m.rcost[s]
	}
	return 0
}

// weight returns the co-vote weight of sessions s and u.
func (m *model) weight(s, u int32) int32 {
	if m.dense != nil {
		if w := m.dense[int(s)*m.ns+int(u)]; w < denseOver {
			return int32(w)
		}
	}
	row := m.nbr[s]
	i, ok := slices.BinarySearch(row, u)
	if !ok {
		return 0
	}
	return m.nbrW[s][i]
}
