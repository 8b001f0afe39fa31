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

// schedule parameters of the annealing; see tune notes in docs.
type annealParams struct {
	// t0 and tEnd are the start and final temperatures, in objective
	// units (see unit).
	t0, tEnd float64
	// cycles is the number of anneals (each reheats from the best so far).
	cycles int
	// swapBias is the chance to swap rather than relocate when the target
	// slot has room.
	swapBias float64
}

var defaultParams = annealParams{t0: 2, tEnd: 0.25, cycles: 1, swapBias: 0.5}

// budget says when a worker stops and how it measures progress through
// the temperature schedule: by iterations when maxIter > 0 (deterministic),
// otherwise by wall-clock time.
type budget struct {
	maxIter  int64
	deadline time.Time // zero: none
	start    time.Time
	// target stops the search early once reached (a proven lower bound).
	target int
}

// worker runs one annealing search.
type worker struct {
	st  *state
	r   rng
	par annealParams

	best     []int32
	bestObj  int
	iters    int64
	improved func(obj int) // called on a new best (may be nil)
	mv       pending
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

// pending describes the move last returned by propose.
type pending struct {
	s, u, a, b int32 // u < 0: relocate s from a to b; else swap s(a) and u(b)
	w          int32 // co-vote weight of s and u
}

// draw picks a random move, records it in w.mv and returns its objective
// delta; ok is false when the drawn move would break a hard constraint.
func (w *worker) draw() (delta int, ok bool) {
	st := w.st
	m := st.m
	nt := int32(m.nt)
	s := st.movable[w.r.intn(len(st.movable))]
	a := st.slot[s]
	al := m.allowedSlots[s]
	b := al[w.r.intn(len(al))]
	if b == a {
		return 0, false
	}
	ds := m.demand[s]
	mb := st.members[b]
	if st.hasRoom(b) && (len(mb) == 0 || w.r.float() >= w.par.swapBias) {
		if !st.speakersFree(s, b, -1) {
			return 0, false
		}
		dc := int(st.attract[s*nt+b] - st.attract[s*nt+a])
		delta = m.cw * dc
		if m.ow != 0 {
			delta += m.ow * (st.cost[a].removeDelta(ds) + st.cost[b].addDelta(ds))
		}
		w.mv = pending{s: s, u: -1, a: a, b: b}
		return delta, true
	}
	if len(mb) == 0 {
		return 0, false
	}
	u := mb[w.r.intn(len(mb))]
	if !m.allowed[int(u)*m.nt+int(a)] || !st.speakersFree(s, b, u) || !st.speakersFree(u, a, s) {
		return 0, false
	}
	wsu := m.weight(s, u)
	dc := int(st.attract[s*nt+b] - st.attract[s*nt+a] + st.attract[u*nt+a] - st.attract[u*nt+b] - 2*wsu)
	delta = m.cw * dc
	if du := m.demand[u]; m.ow != 0 && du != ds {
		delta += m.ow * (st.cost[a].replaceDelta(ds, du) + st.cost[b].replaceDelta(du, ds))
	}
	w.mv = pending{s: s, u: u, a: a, b: b, w: wsu}
	return delta, true
}

// apply carries out the move last drawn.
func (w *worker) apply() {
	if w.mv.u >= 0 {
		w.st.swap(w.mv.s, w.mv.u, w.mv.w)
	} else {
		w.st.move(w.mv.s, w.mv.b)
	}
}

// run anneals until the budget is spent or ctx is done.
func (w *worker) run(ctx context.Context, b budget) {
	st := w.st
	if len(st.movable) == 0 || w.bestObj <= b.target {
		return
	}
	t0 := w.par.t0 * w.unit()
	tEnd := w.par.tEnd * w.unit()
	cycles := max(1, w.par.cycles)
	cur := st.objective()
	temp := t0
	frac := 0.0
	var total time.Duration
	if !b.deadline.IsZero() {
		total = b.deadline.Sub(b.start)
	}
	const checkEvery = 1024
	for {
		if w.iters%checkEvery == 0 {
			if b.maxIter > 0 {
				if w.iters >= b.maxIter {
					return
				}
				frac = float64(w.iters) / float64(b.maxIter)
			}
			if !b.deadline.IsZero() {
				now := time.Now()
				if !now.Before(b.deadline) {
					return
				}
				if b.maxIter <= 0 {
					frac = float64(now.Sub(b.start)) / float64(total)
				}
			}
			if ctx.Err() != nil {
				return
			}
			cf := frac * float64(cycles)
			cyc := int(cf)
			pos := cf - float64(cyc)
			temp = t0 * math.Pow(tEnd/t0, pos)
			_ = cyc
		}
		w.iters++
		delta, ok := w.draw()
		if !ok {
			continue
		}
		if delta > 0 {
			if float64(delta) > 30*temp || w.r.float() >= math.Exp(-float64(delta)/temp) {
				continue
			}
		}
		w.apply()
		cur += delta
		if cur < w.bestObj {
			w.bestObj = cur
			w.best = st.snapshot(w.best)
			if w.improved != nil {
				w.improved(cur)
			}
			if cur <= b.target {
				return
			}
		}
	}
}
