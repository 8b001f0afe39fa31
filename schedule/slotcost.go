package schedule

// slotCost keeps one slot's overflow in a form that prices a removal, an
// insertion or a replacement in O(log k) instead of re-matching the slot.
//
// With demands D (largest first, k of them) matched to capacities C
// (largest first, at least k), position i costs o(i) = max(0, D_i−C_i).
// Removing a session shifts every later one up a room (cost
// max(0, D_i−C_{i−1}) − o(i) each, never positive); inserting one shifts
// every later one down (max(0, D_i−C_{i+1}) − o(i) each, never negative).
// Suffix sums of those shift costs make each price a handful of lookups.
type slotCost struct {
	caps []int32
	dem  []int32 // demands, largest first
	at   []int32 // at[i] = o(i)
	up   []int32 // up[i] = Σ_{j≥i} (shift-up cost of j); len k+1
	down []int32 // down[i] = Σ_{j≥i} (shift-down cost of j); len k+1
	sum  int     // overflow of the slot
}

func newSlotCost(caps []int32) slotCost {
	n := len(caps)
	return slotCost{
		caps: caps,
		dem:  make([]int32, 0, n),
		at:   make([]int32, 0, n),
		up:   make([]int32, 1, n+1),
		down: make([]int32, 1, n+1),
	}
}

func (c *slotCost) clone() slotCost {
	d := *c
	d.dem = append(make([]int32, 0, cap(c.dem)), c.dem...)
	d.at = append(make([]int32, 0, cap(c.at)), c.at...)
	d.up = append(make([]int32, 0, cap(c.up)), c.up...)
	d.down = append(make([]int32, 0, cap(c.down)), c.down...)
	return d
}

func pos0(x int32) int32 {
	if x > 0 {
		return x
	}
	return 0
}

// countGE returns how many demands are ≥ x (the insertion point of x after
// its equals).
func (c *slotCost) countGE(x int32) int {
	// Branch-free binary search: the comparisons are unpredictable, and
	// this runs for almost every move.
	d := c.dem
	n := len(d)
	if n == 0 {
		return 0
	}
	base := 0
	for n > 1 {
		half := n >> 1
		if d[base+half-1] >= x {
			base += half
		}
		n -= half
	}
	if d[base] >= x {
		base++
	}
	return base
}

// after returns countGE(y) for a y below dem[p]. A swap partner is drawn
// for its like demand, so y's rank is mostly a step or two from p: walk
// there, and search only when it is farther.
func (c *slotCost) after(p int, y int32) int {
	d := c.dem
	for q := p + 1; q < min(p+walkSteps, len(d)); q++ {
		if d[q] < y {
			return q
		}
	}
	return c.countGE(y)
}

// before returns countGE(y) for a y above dem[p], walking up from p.
func (c *slotCost) before(p int, y int32) int {
	d := c.dem
	for q := p; q > max(p-walkSteps, 0); q-- {
		if d[q-1] >= y {
			return q
		}
	}
	return c.countGE(y)
}

// walkSteps bounds the walks of after and before.
const walkSteps = 4

// rebuild recomputes the cost tables after dem changed.
func (c *slotCost) rebuild() {
	k := len(c.dem)
	c.at = c.at[:k]
	c.up = c.up[:k+1]
	c.down = c.down[:k+1]
	c.up[k], c.down[k] = 0, 0
	sum := 0
	n := len(c.caps)
	for i := k - 1; i >= 0; i-- {
		d := c.dem[i]
		o := pos0(d - c.caps[i])
		c.at[i] = o
		sum += int(o)
		u := int32(0)
		if i > 0 {
			u = pos0(d-c.caps[i-1]) - o
		}
		dn := int32(0)
		if i+1 < n {
			dn = pos0(d-c.caps[i+1]) - o
		}
		c.up[i] = c.up[i+1] + u
		c.down[i] = c.down[i+1] + dn
	}
	c.sum = sum
}

// insert adds a demand d and returns its index in dem.
func (c *slotCost) insert(d int32) int {
	q := c.countGE(d)
	c.dem = append(c.dem, 0)
	copy(c.dem[q+1:], c.dem[q:])
	c.dem[q] = d
	c.rebuild()
	return q
}

// removeAt drops the demand at index p.
func (c *slotCost) removeAt(p int) {
	c.dem = append(c.dem[:p], c.dem[p+1:]...)
	c.rebuild()
}

// replaceAt puts a demand y in place of the one at index p and returns
// the index of y: the demands between shift by one, as the callers'
// parallel arrays must.
func (c *slotCost) replaceAt(p int, y int32) int {
	x := c.dem[p]
	q := p
	switch {
	case y < x:
		q = c.after(p, y) - 1
		copy(c.dem[p:q], c.dem[p+1:q+1])
	case y > x:
		q = c.before(p, y)
		copy(c.dem[q+1:p+1], c.dem[q:p])
	}
	c.dem[q] = y
	c.rebuild()
	return q
}

// The prices below take the index p of a demand present (any index of
// equal demands gives the same price: the demands left are the same).

// removeDelta prices removing the demand at index p.
func (c *slotCost) removeDelta(p int) int {
	return int(c.up[p+1] - c.at[p])
}

// addDelta prices adding a demand y (the slot has a free room).
func (c *slotCost) addDelta(y int32) int {
	q := c.countGE(y)
	return int(pos0(y-c.caps[q]) + c.down[q])
}

// replaceDelta prices replacing the demand at index p by a demand y.
func (c *slotCost) replaceDelta(p int, y int32) int {
	x := c.dem[p]
	switch {
	case y == x:
		return 0
	case y < x:
		q := c.after(p, y) - 1
		return int(c.up[p+1] - c.up[q+1] + pos0(y-c.caps[q]) - c.at[p])
	default:
		q := c.before(p, y)
		return int(c.down[q] - c.down[p] + pos0(y-c.caps[q]) - c.at[p])
	}
}
