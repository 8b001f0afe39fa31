package schedule

import (
	"context"
	"math"
	"time"
)

// tabu runs a tabu search from the worker's state for at most steps
// steps or until deadline: each step takes the best move (a relocation
// to a slot with room, or a swap of a session that has co-voted sessions
// beside it) that does not put a session back in a slot it left within
// its tenure, unless the move gives a new best. It leaves the best
// schedule it saw in w.best and returns its objective.
func (w *worker) tabu(ctx context.Context, steps int64, deadline time.Time, tenure, tenureRand int) int {
	st := w.st
	m := st.m
	nt := m.nt
	until := make([]int64, m.ns*nt)
	cur := st.objective()
	w.best = st.snapshot(w.best)
	w.bestObj = cur
	for it := int64(1); it <= steps; it++ {
		if it%16 == 0 && (ctx.Err() != nil || !deadline.IsZero() && !time.Now().Before(deadline)) {
			break
		}
		bestD := math.MaxInt
		var bestMv pending
		n := 0 // ties seen, for a uniform choice among them
		consider := func(d int) {
			switch {
			case d < bestD:
				bestD, bestMv, n = d, w.mv, 1
			case d == bestD:
				n++
				if w.r.intn(n) == 0 {
					bestMv = w.mv
				}
			}
		}
		aspire := w.bestObj - cur - 1 // a delta at most this gives a new best
		for _, s := range st.movable {
			a := st.slot[s]
			conflicted := st.att(s, a) > 0
			for _, b := range m.allowedSlots[s] {
				if b == a {
					continue
				}
				tabuS := until[int(s)*nt+int(b)] > it
				if st.hasRoom(b) {
					lim := bestD
					if tabuS {
						lim = min(lim, aspire)
					}
					if d, ok := w.relocate(s, a, b, lim); ok {
						consider(d)
					}
				}
				if !conflicted || st.att(s, b) >= st.att(s, a) {
					continue
				}
				for _, u := range st.members[b] {
					lim := bestD
					if tabuS || until[int(u)*nt+int(a)] > it {
						lim = min(lim, aspire)
					}
					if lim == math.MaxInt {
						lim = math.MaxInt - 1
					}
					if d, ok := w.swapWith(s, u, a, b, lim); ok {
						consider(d)
					}
				}
			}
		}
		if n == 0 {
			break
		}
		w.mv = bestMv
		w.iters++
		until[int(bestMv.s)*nt+int(bestMv.a)] = it + int64(tenure+w.r.intn(tenureRand+1))
		if bestMv.u >= 0 {
			until[int(bestMv.u)*nt+int(bestMv.b)] = it + int64(tenure+w.r.intn(tenureRand+1))
		}
		w.apply()
		cur += bestD
		if tabuLog != nil && it%2000 == 0 {
			tabuLog("step %d cur %d best %d", it, cur, w.bestObj)
		}
		if cur < w.bestObj {
			w.bestObj = cur
			w.best = st.snapshot(w.best)
		}
	}
	return w.bestObj
}

var tabuLog func(string, ...any)
