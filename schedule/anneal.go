package schedule

import (
	"context"
	"math"
	"time"
)

// rng is a small, fast, fully specified generator (SplitMix64), so that a
// seed gives the same search on every platform and Go version.
type rng struct{ x uint64 }

func (r *rng) next() uint64 {
	r.x += 0x9e3779b97f4a7c15
	z := r.x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n) (Lemire's multiply-shift; the tiny bias
// is irrelevant here).
func (r *rng) intn(n int) int {
	return int((r.next() >> 32) * uint64(n) >> 32)
}

func (r *rng) float() float64 {
	return float64(r.next()>>11) / (1 << 53)
}

// annealParams shape the search; the values in defaultParams were tuned
// on generated instances of every size (not on the public ones alone).
type annealParams struct {
	// Start and final temperatures, in objective units (see unit), for
	// short anneals and for long ones (at least longMoves moves): a long
	// anneal can afford to start hotter and explore more.
	t0Short, tEndShort float64
	t0Long, tEndLong   float64
	longMoves          int64
	// cycleLen is the length in moves of one anneal (0: one anneal over
	// the whole budget; <0: autoCycleLen). Later anneals restart from the
	// constructed schedule.
	cycleLen int64
	// swapBias is the chance to swap rather than relocate when the target
	// slot has room.
	swapBias float64
	// partnerTries is how many sessions of the target slot a swap draws,
	// keeping the one whose demand is closest.
	partnerTries int
	// slotTries is how many slots a team worker draws for a move, keeping
	// the one where the session has the fewest co-voted sessions.
	slotTries int
	// sessionTries is how many sessions a team worker draws for a move,
	// keeping the one with the most co-voted sessions in its slot.
	sessionTries int
	// scramble is the number of random moves per session made, whatever
	// their cost, before each anneal.
	scramble int
}

var defaultParams = annealParams{
	t0Short: 0.8, tEndShort: 0.2,
	t0Long: 2, tEndLong: 0.25,
	longMoves:    8_000_000,
	cycleLen:     -1,
	swapBias:     0.5,
	partnerTries: 1,
	slotTries:    1,
	sessionTries: 1,
	scramble:     5,
}

// teamParams shape the cooperative anneal of larger problems (see team),
// tuned on generated FOSDEM-sized instances (generator seeds 2–4, not the
// public one). Drawing two or three candidates and keeping the likelier
// (a conflicted session, a slot with fewer of its co-voters, a swap
// partner of like demand) makes more of the moves worth pricing; it
// changes what the anneal samples, which suits a search for a minimum.
var teamParams = annealParams{
	t0Short: 0.8, tEndShort: 0.2,
	t0Long: 3, tEndLong: 0.3,
	longMoves:    8_000_000,
	swapBias:     0.5,
	partnerTries: 3,
	slotTries:    2,
	sessionTries: 2,
	scramble:     5,
}

// temperatures returns the schedule's ends for an anneal of n moves.
func (p *annealParams) temperatures(n int64) (t0, tEnd float64) {
	if n < p.longMoves {
		return p.t0Short, p.tEndShort
	}
	return p.t0Long, p.tEndLong
}

// cooling is a geometric temperature schedule from t0 to tEnd.
type cooling struct{ t0, tEnd float64 }

// at is the temperature after the share frac of the moves.
func (c cooling) at(frac float64) float64 {
	return c.t0 * math.Pow(c.tEnd/c.t0, min(max(frac, 0), 1))
}

// cooling returns the schedule of an anneal of n moves, in units of unit.
func (p *annealParams) cooling(n int64, unit float64) cooling {
	t0, tEnd := p.temperatures(n)
	return cooling{t0: t0 * unit, tEnd: tEnd * unit}
}

// autoCycleLen picks the length of one anneal for n movable sessions.
// Restarts pay off only once an anneal has run long enough to settle: on
// an unconference of 60 sessions that is about 700k moves (a tenth of a
// second), so a one-second budget makes a dozen tries, each ending in one
// of the many far-apart local optima of such instances. The length grows
// steeply with n (as n⁴, a conservative fit: on 250 sessions it is 210M
// moves, so a single anneal runs up to about a minute, and a FOSDEM-sized
// instance always gets one).
func autoCycleLen(n int) int64 {
	if n > 10_000 {
		return math.MaxInt64 / 8 // one anneal (and no overflow below)
	}
	n4 := int64(n) * int64(n) * int64(n) * int64(n)
	return max(200_000, n4/18)
}

// budget says when a worker stops and how it measures progress through
// the temperature schedule: by iterations when maxIter > 0 (deterministic),
// otherwise by wall-clock time.
type budget struct {
	maxIter  int64
	deadline time.Time // zero: none
	// target stops the search early once reached (a proven lower bound).
	target int
}

// worker runs one annealing search.
type worker struct {
	st  *state
	r   rng
	par annealParams

	best    []int32
	bestObj int
	iters   int64
	// improved is called on a new best (may be nil).
	improved func(conflicts, overflow, obj int)
	mv       pending

	// A team member's part of an epoch (see team): its slots, their
	// sessions, its running change and the lowest it saw, with the
	// sessions' slots there.
	gslots, list, snap []int32
	cur, low           int
	lowC, lowO         int
}

// note records the current state as the best when it is.
func (w *worker) note() {
	st := w.st
	if cur := st.objective(); cur < w.bestObj {
		w.bestObj = cur
		w.best = st.snapshot(w.best)
		if w.improved != nil {
			w.improved(st.conflicts, st.overflow, cur)
		}
	}
}

func newWorker(st *state, seed uint64, par annealParams) *worker {
	w := &worker{st: st, r: rng{x: seed}, par: par}
	w.best = st.snapshot(nil)
	w.bestObj = st.objective()
	return w
}

// unit is the smallest change of the objective that weights allow; the
// temperatures are expressed in it, since integer deltas make the useful
// temperatures the same on small and large instances.
func (w *worker) unit() float64 {
	m := w.st.m
	u := min(m.cw, m.ow)
	if u <= 0 {
		u = max(m.cw, m.ow, 1)
	}
	return float64(u)
}

// pending describes the move last drawn.
type pending struct {
	s, u, a, b int32 // u < 0: relocate s from a to b; else swap s(a) and u(b)
	w          int32 // co-vote weight of s and u
}

// draw picks a random move, records it in w.mv and returns its objective
// delta. ok is false when the move would break a hard constraint, or when
// its delta is certainly above limit (then delta is not computed exactly:
// the search rejects such moves anyway, and skipping the co-vote lookup,
// a cache miss on large instances, is most of the saving).
func (w *worker) draw(limit int) (delta int, ok bool) {
	st := w.st
	s := st.movable[w.r.intn(len(st.movable))]
	a := st.slot[s]
	al := st.m.allowedSlots[s]
	b := al[w.r.intn(len(al))]
	if b == a {
		return 0, false
	}
	return w.price(s, a, b, limit)
}

// price prices moving s from slot a to slot b (b allowed for s): a
// relocation when b has room (and the swap bias does not say otherwise),
// else a swap with a random session of b. See draw.
func (w *worker) price(s, a, b int32, limit int) (delta int, ok bool) {
	st := w.st
	m := st.m
	mb := st.members[b]
	if st.hasRoom(b) && (len(mb) == 0 || w.r.float() >= w.par.swapBias) {
		return w.relocate(s, a, b, limit)
	}
	if len(mb) == 0 {
		return 0, false
	}
	u := mb[w.r.intn(len(mb))]
	if n := w.par.partnerTries; n > 1 {
		// Prefer a partner of like demand: the swap then keeps both
		// slots' overflow about the same and is judged on conflicts.
		ds := m.demand[s]
		for range n - 1 {
			v := mb[w.r.intn(len(mb))]
			if abs32(m.demand[v]-ds) < abs32(m.demand[u]-ds) {
				u = v
			}
		}
	}
	return w.swapWith(s, u, a, b, limit)
}

// relocate prices moving s from slot a to slot b, which has room.
func (w *worker) relocate(s, a, b int32, limit int) (delta int, ok bool) {
	st := w.st
	m := st.m
	ds := m.demand[s]
	// The speaker check comes after the bounds: they reject most moves,
	// and the outcome is the same either way.
	delta = m.cw*int(st.att(s, b)-st.att(s, a)) + m.retime(s, b) - m.retime(s, a)
	if m.ow != 0 {
		// Removing s saves at most its demand (and at most what its
		// slot overflows); adding it never saves: price the overflow
		// only when the move might pass.
		if delta-m.ow*min(int(ds), st.cost[a].sum) > limit {
			return 0, false
		}
		delta += m.ow * (st.cost[a].removeDelta(int(st.pos[s])) + st.cost[b].addDelta(ds))
	}
	if delta > limit || !st.speakersFree(s, b, -1) {
		return 0, false
	}
	w.mv = pending{s: s, u: -1, a: a, b: b}
	return delta, true
}

// swapWith prices exchanging s (in slot a) and u (in slot b).
func (w *worker) swapWith(s, u, a, b int32, limit int) (delta int, ok bool) {
	st := w.st
	m := st.m
	if !m.allowed[int(u)*m.nt+int(a)] {
		return 0, false
	}
	sb, ua := st.att(s, b), st.att(u, a)
	delta = m.cw*int(sb-st.att(s, a)+ua-st.att(u, b)) +
		m.retime(s, b) - m.retime(s, a) + m.retime(u, a) - m.retime(u, b)
	// Bound the delta from below before the costly parts. The pair's own
	// co-votes w(s,u) lower it by 2w, and w is at most what s shares with
	// all of b (and u with all of a). Changing one demand by δ changes a
	// slot's best overflow by at most δ, so the swap saves at most
	// |ds−du| (and at most what the slot losing demand overflows).
	lo := delta - 2*m.cw*int(min(sb, ua))
	ds, du := m.demand[s], m.demand[u]
	if m.ow != 0 {
		switch {
		case ds > du:
			lo -= m.ow * min(int(ds-du), st.cost[a].sum)
		case du > ds:
			lo -= m.ow * min(int(du-ds), st.cost[b].sum)
		}
	}
	if lo > limit {
		return 0, false
	}
	if m.ow != 0 && du != ds {
		delta += m.ow * (st.cost[a].replaceDelta(int(st.pos[s]), du) + st.cost[b].replaceDelta(int(st.pos[u]), ds))
		if delta-2*m.cw*int(min(sb, ua)) > limit {
			return 0, false
		}
	}
	var wsu int32
	if sb != 0 && ua != 0 {
		wsu = m.weight(s, u)
	}
	delta -= 2 * m.cw * int(wsu)
	if delta > limit || !st.speakersFree(s, b, u) || !st.speakersFree(u, a, s) {
		return 0, false
	}
	w.mv = pending{s: s, u: u, a: a, b: b, w: wsu}
	return delta, true
}

// negLog[i] = −ln((i+½)/len): the Metropolis test "accept δ with
// probability e^(−δ/T)" becomes "accept δ ≤ T·negLog[random]", a threshold
// known before the move is priced. 4096 levels are plenty for the integer
// deltas involved.
var negLog = func() (t [4096]float64) {
	for i := range t {
		t[i] = -math.Log((float64(i) + 0.5) / float64(len(t)))
	}
	return t
}()

// apply carries out the move last drawn.
func (w *worker) apply() {
	if w.mv.u >= 0 {
		w.st.swap(w.mv.s, w.mv.u, w.mv.w)
	} else {
		w.st.move(w.mv.s, w.mv.b)
	}
}

// run anneals until the budget is spent or ctx is done. The budget is cut
// into cycles of cycleLen moves, each a complete anneal from the
// constructed schedule; the last cycle stretches to the end of
// the budget. A single long anneal is best on large instances, but on small
// ones an anneal settles into one of many far-apart local optima, and
// several tries find better ones more reliably.
func (w *worker) run(ctx context.Context, b budget) {
	st := w.st
	if len(st.movable) == 0 || w.bestObj <= b.target {
		return
	}
	unit := w.unit()
	init := st.snapshot(nil)
	const checkEvery = 1024
	L := w.par.cycleLen
	if L < 0 {
		L = autoCycleLen(len(st.movable))
	}
	L = (L + checkEvery - 1) / checkEvery * checkEvery
	workerStart := time.Now()
	// movesLeft estimates the moves the budget still allows after from.
	movesLeft := func(from time.Time) int64 {
		if b.maxIter > 0 {
			return b.maxIter - w.iters
		}
		el := from.Sub(workerStart)
		if w.iters == 0 || el <= 0 {
			return L
		}
		return int64(float64(w.iters) / float64(el) * float64(b.deadline.Sub(from)))
	}
	for cycle := 0; ; cycle++ {
		if cycle > 0 {
			st.restore(init)
		}
		// A few random moves first, so that the anneals of one worker do
		// not all start from the same schedule (on small instances they
		// otherwise tend to end in the same few local optima).
		for range w.par.scramble * len(st.movable) {
			if _, ok := w.draw(math.MaxInt); ok {
				w.apply()
			}
		}
		cur := st.objective()
		if cur < w.bestObj {
			w.bestObj = cur
			w.best = st.snapshot(w.best)
			if w.improved != nil {
				w.improved(st.conflicts, st.overflow, cur)
			}
			if cur <= b.target {
				return
			}
		}
		startIter, startTime := w.iters, time.Now()
		final, decided := false, false
		switch {
		case L == 0:
			final, decided = true, b.maxIter > 0
		case b.maxIter > 0 || cycle > 0:
			final, decided = movesLeft(startTime) < 2*L, true
		}
		length := L
		if decided && final {
			length = movesLeft(startTime)
		} else if L == 0 {
			length = w.par.longMoves
		}
		t0, tEnd := w.par.temperatures(length)
		t0, tEnd = t0*unit, tEnd*unit
		temp := t0
		for {
			if done := w.iters - startIter; done%checkEvery == 0 {
				if b.maxIter > 0 && w.iters >= b.maxIter {
					return
				}
				var now time.Time
				if !b.deadline.IsZero() {
					now = time.Now()
					if !now.Before(b.deadline) {
						return
					}
				}
				if ctx.Err() != nil {
					return
				}
				if !decided && done >= 1<<16 {
					// Time budget, first cycle: the rate is known now.
					left := done + movesLeft(now)
					final, decided = final || left < 2*L, true
					if final {
						t0, tEnd = w.par.temperatures(left)
						t0, tEnd = t0*unit, tEnd*unit
					}
				}
				var frac float64
				switch {
				case !final:
					frac = float64(done) / float64(L)
				case b.maxIter > 0:
					frac = float64(done) / float64(b.maxIter-startIter)
				default:
					frac = float64(now.Sub(startTime)) / float64(b.deadline.Sub(startTime))
				}
				if !final && done >= L {
					break
				}
				temp = t0 * math.Pow(tEnd/t0, frac)
			}
			w.iters++
			limit := int(temp * negLog[w.r.next()>>52])
			delta, ok := w.draw(limit)
			if !ok {
				continue
			}
			w.apply()
			cur += delta
			if cur < w.bestObj {
				w.bestObj = cur
				w.best = st.snapshot(w.best)
				if w.improved != nil {
					w.improved(st.conflicts, st.overflow, cur)
				}
				if cur <= b.target {
					return
				}
			}
		}
	}
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}
