package schedule

import (
	"cmp"
	"slices"
)

// state is one worker's mutable schedule: the slot of every session and the
// incremental bookkeeping that scores moves without rescanning.
type state struct {
	m *model
	// slot[s] is the slot of s, or -1 when unplaced.
	slot []int32
	// members[t] lists the movable sessions in t, largest demand first
	// like cost[t].dem; pos[s] is s's index in both.
	members [][]int32
	pos     []int32
	// cost[t] prices overflow changes of slot t's movable sessions.
	cost []slotCost
	// attract[t*ns+s] = Σ_{u placed in t} w(s,u). Slot-major: a move
	// updates two rows, walking each in the order of s's neighbours; and
	// the workers of a team, each on its own slots, write apart.
	attract []int32
	// spkCnt[sp*nt+t] counts the sessions of speaker sp in slot t.
	spkCnt []int32
	// movable lists the placed, unpinned sessions.
	movable []int32

	conflicts int
	overflow  int
	// stability is what the sessions not in their previous slot cost.
	stability int
}

func newState(m *model) *state {
	st := &state{
		m:       m,
		slot:    make([]int32, m.ns),
		members: make([][]int32, m.nt),
		pos:     make([]int32, m.ns),
		cost:    make([]slotCost, m.nt),
		attract: make([]int32, m.ns*m.nt),
		spkCnt:  make([]int32, m.nsp*m.nt),
	}
	for t := range m.nt {
		st.members[t] = make([]int32, 0, len(m.caps[t]))
		st.cost[t] = newSlotCost(m.caps[t])
	}
	for s := range st.slot {
		st.slot[s] = -1
	}
	st.overflow = m.pinnedOverflow
	for s, t := range m.pinSlot {
		if t >= 0 {
			st.link(int32(s), t)
		}
	}
	return st
}

func (st *state) clone() *state {
	c := *st
	c.slot = slices.Clone(st.slot)
	c.pos = slices.Clone(st.pos)
	c.attract = slices.Clone(st.attract)
	c.spkCnt = slices.Clone(st.spkCnt)
	c.movable = slices.Clone(st.movable)
	c.members = make([][]int32, len(st.members))
	c.cost = make([]slotCost, len(st.cost))
	for t := range st.members {
		c.members[t] = append(make([]int32, 0, cap(st.members[t])), st.members[t]...)
		c.cost[t] = st.cost[t].clone()
	}
	return &c
}

func (st *state) objective() int {
	return st.m.cw*st.conflicts + st.m.ow*st.overflow + st.stability
}

// link records s as sitting in t: conflicts, attraction and speakers.
func (st *state) link(s, t int32) {
	m := st.m
	nt := int32(m.nt)
	st.slot[s] = t
	st.stability += m.retime(s, t)
	st.conflicts += int(st.att(s, t))
	row := st.row(t)
	for i, u := range m.nbr[s] {
		row[u] += m.nbrW[s][i]
	}
	for _, sp := range m.spk[s] {
		st.spkCnt[sp*nt+t]++
	}
}

// unlink undoes link.
func (st *state) unlink(s int32) {
	m := st.m
	nt := int32(m.nt)
	t := st.slot[s]
	row := st.row(t)
	for i, u := range m.nbr[s] {
		row[u] -= m.nbrW[s][i]
	}
	st.conflicts -= int(st.att(s, t))
	for _, sp := range m.spk[s] {
		st.spkCnt[sp*nt+t]--
	}
	st.stability -= m.retime(s, t)
	st.slot[s] = -1
}

// add places movable session s in slot t (which must have room for it).
func (st *state) add(s, t int32) {
	st.link(s, t)
	st.attach(s, t)
}

// remove takes movable session s out of its slot.
func (st *state) remove(s int32) {
	t := st.slot[s]
	st.unlink(s)
	st.detach(s, t)
}

// move relocates movable session s to slot b (which has room), updating
// the attraction of its neighbours in one pass.
func (st *state) move(s, b int32) {
	m := st.m
	nt := int32(m.nt)
	a := st.slot[s]
	st.conflicts += int(st.att(s, b) - st.att(s, a))
	st.stability += m.retime(s, b) - m.retime(s, a)
	st.shift(s, a, b)
	for _, sp := range m.spk[s] {
		st.spkCnt[sp*nt+a]--
		st.spkCnt[sp*nt+b]++
	}
	st.slot[s] = b
	st.detach(s, a)
	st.attach(s, b)
}

// swap exchanges the slots of movable sessions s and u, whose co-vote
// weight is w.
func (st *state) swap(s, u, w int32) {
	m := st.m
	nt := int32(m.nt)
	a, b := st.slot[s], st.slot[u]
	st.conflicts += int(st.att(s, b) - st.att(s, a) + st.att(u, a) - st.att(u, b) - 2*w)
	st.stability += m.retime(s, b) - m.retime(s, a) + m.retime(u, a) - m.retime(u, b)
	st.shift(s, a, b)
	st.shift(u, b, a)
	for _, sp := range m.spk[s] {
		st.spkCnt[sp*nt+a]--
		st.spkCnt[sp*nt+b]++
	}
	for _, sp := range m.spk[u] {
		st.spkCnt[sp*nt+b]--
		st.spkCnt[sp*nt+a]++
	}
	st.slot[s], st.slot[u] = b, a
	// s takes u's place in b and u s's in a; each then shifts to its
	// demand's rank.
	ps, pu := st.pos[s], st.pos[u]
	st.members[a][ps] = u
	st.members[b][pu] = s
	st.pos[s], st.pos[u] = pu, ps
	if ds, du := m.demand[s], m.demand[u]; ds != du {
		old := st.cost[a].sum + st.cost[b].sum
		st.resort(a, ps, st.cost[a].replaceAt(int(ps), du))
		st.resort(b, pu, st.cost[b].replaceAt(int(pu), ds))
		st.overflow += st.cost[a].sum + st.cost[b].sum - old
	}
}

// resort moves the member of slot t at index p to index q, shifting those
// between, as slotCost.replaceAt did with their demands.
func (st *state) resort(t, p int32, q int) {
	mem := st.members[t]
	x := mem[p]
	lo, hi := int(p), q
	if q < int(p) {
		copy(mem[q+1:p+1], mem[q:p])
		lo, hi = q, int(p)
	} else {
		copy(mem[p:q], mem[p+1:q+1])
	}
	mem[q] = x
	for i := lo; i <= hi; i++ {
		st.pos[mem[i]] = int32(i)
	}
}

// att is the attraction of s to slot t.
func (st *state) att(s, t int32) int32 {
	return st.attract[int(t)*st.m.ns+int(s)]
}

// row is slot t's attraction of every session.
func (st *state) row(t int32) []int32 {
	ns := st.m.ns
	return st.attract[int(t)*ns : int(t)*ns+ns]
}

// shift moves the attraction s lends its neighbours from slot a to b.
func (st *state) shift(s, a, b int32) {
	ra, rb := st.row(a), st.row(b)
	ws := st.m.nbrW[s]
	for i, u := range st.m.nbr[s] {
		ra[u] -= ws[i]
		rb[u] += ws[i]
	}
}

// detach drops s from the members and demands of slot t.
func (st *state) detach(s, t int32) {
	p := int(st.pos[s])
	c := &st.cost[t]
	old := c.sum
	c.removeAt(p)
	st.overflow += c.sum - old
	mem := append(st.members[t][:p], st.members[t][p+1:]...)
	st.members[t] = mem
	for i := p; i < len(mem); i++ {
		st.pos[mem[i]] = int32(i)
	}
}

// attach adds s to the members and demands of slot t.
func (st *state) attach(s, t int32) {
	c := &st.cost[t]
	old := c.sum
	q := c.insert(st.m.demand[s])
	st.overflow += c.sum - old
	mem := append(st.members[t], 0)
	copy(mem[q+1:], mem[q:])
	mem[q] = s
	st.members[t] = mem
	for i := q; i < len(mem); i++ {
		st.pos[mem[i]] = int32(i)
	}
}

// hasRoom reports whether slot t can take one more movable session.
func (st *state) hasRoom(t int32) bool {
	return len(st.members[t]) < len(st.m.caps[t])
}

// speakersFree reports whether s's speakers are free in slot t, not counting
// session u (-1: none) which is about to leave t.
func (st *state) speakersFree(s, t, u int32) bool {
	m := st.m
	nt := int32(m.nt)
	for _, sp := range m.spk[s] {
		c := st.spkCnt[sp*nt+t]
		if c == 0 {
			continue
		}
		if u >= 0 && c == 1 && slices.Contains(m.spk[u], sp) {
			continue
		}
		return false
	}
	return true
}

// canEnter reports whether s may move into slot t with u leaving it.
func (st *state) canEnter(s, t, u int32) bool {
	return st.m.allowed[int(s)*st.m.nt+int(t)] && st.speakersFree(s, t, u)
}

// assignments derives rooms from slots: in every slot the movable sessions,
// largest demand first (ties by index), take the free rooms largest first.
func (st *state) assignments() []Assignment {
	m := st.m
	out := make([]Assignment, m.ns)
	for s := range out {
		out[s] = Unplaced
		if ps := m.p.Sessions[s].Pin; ps != nil {
			out[s] = Assignment{Room: ps.Room, Slot: ps.Slot}
		}
	}
	for t := range m.nt {
		ss := slices.Clone(st.members[t])
		slices.SortFunc(ss, func(a, b int32) int {
			if c := cmp.Compare(m.demand[b], m.demand[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		occ := make([]int32, len(m.rooms[t]))
		for i := range occ {
			occ[i] = -1
			if i < len(ss) {
				occ[i] = ss[i]
			}
		}
		if len(m.p.Previous) > 0 {
			m.keepRooms(t, occ)
		}
		for i, s := range occ {
			if s >= 0 {
				out[s] = Assignment{Room: int(m.rooms[t][i]), Slot: t}
			}
		}
	}
	return out
}

// keepRooms puts sessions of slot t back in their previous rooms where
// that costs no seat: occ[i] is the session in free room m.rooms[t][i]
// (-1: empty), largest rooms first as the sorted matching left them. Two
// rooms trade occupants (or a session moves to an empty room) when the
// overflow does not grow and more sessions sit where they were.
func (m *model) keepRooms(t int, occ []int32) {
	rooms := m.rooms[t]
	over := func(s int32, i int) int {
		if s < 0 {
			return 0
		}
		return max(0, int(m.demand[s])-int(m.caps[t][i]))
	}
	home := func(s int32, i int) int {
		if s < 0 {
			return 0
		}
		if was := m.p.Previous[s]; was.Slot == t && was.Room == int(rooms[i]) {
			return 1
		}
		return 0
	}
	for changed := true; changed; {
		changed = false
		for i := range occ {
			for j := i + 1; j < len(occ); j++ {
				a, b := occ[i], occ[j]
				if a < 0 && b < 0 {
					continue
				}
				if over(a, j)+over(b, i) > over(a, i)+over(b, j) {
					continue
				}
				if home(a, j)+home(b, i) > home(a, i)+home(b, j) {
					occ[i], occ[j] = b, a
					changed = true
				}
			}
		}
	}
}

// snapshot copies the slots of the movable sessions into dst.
func (st *state) snapshot(dst []int32) []int32 {
	return append(dst[:0], st.slot...)
}

// restore rebuilds the state from a snapshot taken from a state of the same
// model and the same placed set.
func (st *state) restore(slots []int32) {
	for _, s := range st.movable {
		if st.slot[s] != slots[s] {
			st.remove(s)
		}
	}
	for _, s := range st.movable {
		if st.slot[s] < 0 {
			st.add(s, slots[s])
		}
	}
}
