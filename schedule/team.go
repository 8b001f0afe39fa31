package schedule

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// teamMinSessions is the fewest movable sessions for which the workers
// cooperate on one anneal instead of annealing apart. Below it an anneal
// settles soon enough that independent restarts find better local optima
// (see autoCycleLen), and a team's moves cost more; above it one anneal
// runs over the whole budget, and two workers on it make it twice as
// long, which beats two anneals of half the length and keeping the
// better. Measured (2026-12-06, seed 1): on generated instances of 120
// and 170 sessions the workers apart were better in 8 of 8 runs at 2 s
// and 10 s; on 250 (large) it is a wash, on 800 (FOSDEM) the team wins.
const teamMinSessions = 200

// Epoch lengths of a team: in moves per worker when the budget counts
// moves (deterministic), in time otherwise (a worker slowed by the load
// does not hold the other up for more than a fraction of an epoch).
const (
	epochMoves = 1 << 17
	epochTime  = 10 * time.Millisecond
)

// useTeam reports whether Solve runs one cooperative anneal.
func useTeam(workers, movable, nt int) bool {
	return workers >= 2 && movable >= teamMinSessions && nt >= 2*workers
}

// team runs one anneal of a shared state with several workers at once.
// Each epoch deals the slots at random into one group per worker, and a
// worker moves sessions only between the slots of its group. The workers
// then write disjoint parts of the state (the sessions of their slots, the
// overflow tables of their slots, the attraction and speaker counts of
// their slots), so they need no locks. The objective is a sum over slots,
// so the changes of the parts add up, and the best schedule an epoch saw
// is the union of each part at its own best.
type team struct {
	lead *worker // owns the shared state, the best schedule and the hook
	ws   []*worker
	r    rng
	perm []int32
}

func newTeam(lead *worker, seeds []uint64) *team {
	tm := &team{lead: lead, r: rng{x: mix(seeds[0] ^ 0xdea1)}}
	for _, sd := range seeds {
		v := *lead.st
		tm.ws = append(tm.ws, &worker{st: &v, r: rng{x: sd}, par: lead.par})
	}
	tm.perm = make([]int32, lead.st.m.nt)
	for i := range tm.perm {
		tm.perm[i] = int32(i)
	}
	return tm
}

// deal draws this epoch's groups and gives each worker a fresh view of the
// lead's state (same arrays, its own running totals).
func (tm *team) deal() {
	st := tm.lead.st
	for i := len(tm.perm) - 1; i > 0; i-- {
		j := tm.r.intn(i + 1)
		tm.perm[i], tm.perm[j] = tm.perm[j], tm.perm[i]
	}
	k := len(tm.ws)
	for g, w := range tm.ws {
		*w.st = *st
		w.gslots = w.gslots[:0]
		w.list = w.list[:0]
		for i := g; i < len(tm.perm); i += k {
			t := tm.perm[i]
			w.gslots = append(w.gslots, t)
			w.list = append(w.list, st.members[t]...)
		}
		w.snap = append(w.snap[:0], w.list...)
		for j, s := range w.list {
			w.snap[j] = st.slot[s]
		}
		w.cur, w.low = 0, 0
		w.lowC, w.lowO = st.conflicts, st.overflow
	}
}

// run anneals until the budget is spent, ctx is done or the target is
// reached; the lead's state then holds the final schedule and lead.best
// the best one.
func (tm *team) run(ctx context.Context, b budget) {
	lead := tm.lead
	st := lead.st
	if len(st.movable) == 0 || lead.bestObj <= b.target {
		return
	}
	unit := lead.unit()
	for range lead.par.scramble * len(st.movable) {
		if _, ok := lead.draw(math.MaxInt); ok {
			lead.apply()
		}
	}
	lead.note()
	start := time.Now()
	var total int64 // moves per worker over the whole anneal (move budget)
	cool := lead.par.cooling(lead.par.longMoves, unit)
	if b.maxIter > 0 {
		total = b.maxIter
		cool = lead.par.cooling(total, unit)
	}
	var done int64 // moves per worker so far
	sized := false // the time budget's schedule is sized from the rate
	for epoch := 0; ; epoch++ {
		if ctx.Err() != nil || b.maxIter > 0 && done >= b.maxIter {
			return
		}
		ep := epochSpec{cool: cool, ctx: ctx}
		if b.maxIter > 0 {
			ep.moves = min(epochMoves, b.maxIter-done)
			ep.from, ep.total = done, total
		}
		if !b.deadline.IsZero() {
			now := time.Now()
			if !now.Before(b.deadline) {
				return
			}
			ep.start, ep.deadline, ep.until = start, b.deadline, b.deadline
			if b.maxIter <= 0 {
				if end := now.Add(epochTime); end.Before(b.deadline) {
					ep.until = end
				}
				ep.done, ep.workers = new(atomic.Int32), int32(len(tm.ws))
			}
		}
		tm.deal()
		var wg sync.WaitGroup
		for _, w := range tm.ws {
			wg.Go(func() { w.epoch(&ep) })
		}
		wg.Wait()
		tm.merge()
		if lead.bestObj <= b.target {
			return
		}
		if !sized && b.maxIter <= 0 {
			// The rate is known now: a short anneal gets the short
			// schedule's temperatures. It is measured over a fiftieth
			// of the budget, not one epoch: on a loaded machine the
			// first 10 ms once showed a fifth of the rate that
			// followed, and the anneal took the short schedule.
			el := time.Since(start)
			if el >= max(epochTime, b.deadline.Sub(start)/50) {
				sized = true
				perWorker := float64(lead.iters) / float64(len(tm.ws))
				cool = lead.par.cooling(int64(perWorker/float64(el)*float64(b.deadline.Sub(start))), unit)
			}
		}
		done += ep.moves
	}
}

// merge folds the workers' changes into the lead's totals and takes the
// union of their best parts when it beats the best so far.
func (tm *team) merge() {
	lead := tm.lead
	st := lead.st
	c0, o0, s0 := st.conflicts, st.overflow, st.stability
	obj0 := st.objective()
	low, lowC, lowO := obj0, c0, o0
	var iters int64
	for _, w := range tm.ws {
		st.conflicts += w.st.conflicts - c0
		st.overflow += w.st.overflow - o0
		st.stability += w.st.stability - s0
		low += w.low
		lowC += w.lowC - c0
		lowO += w.lowO - o0
		iters += w.iters
		w.iters = 0
	}
	lead.iters += iters
	if low < lead.bestObj {
		for _, w := range tm.ws {
			for j, s := range w.list {
				lead.best[s] = w.snap[j]
			}
		}
		lead.bestObj = low
		if lead.improved != nil {
			lead.improved(lowC, lowO, low)
		}
	}
}

// epochSpec is one epoch's share of the temperature schedule.
type epochSpec struct {
	ctx  context.Context
	cool cooling
	// Move budget: this epoch's moves, those before it, and the total.
	moves, from, total int64
	// Time budget: the anneal's start and end, and this epoch's end.
	start, deadline, until time.Time
	// done counts the workers past until (time budget only). A worker
	// past it goes on moving in its own slots until all are, so that one
	// the OS has not scheduled for a while (a loaded machine) costs the
	// others no moves; the anneal's end (deadline) stops each at once.
	done    *atomic.Int32
	workers int32
}

// epoch runs one worker's moves of an epoch within its group of slots,
// keeping its running change (cur) and the lowest it saw (low, with the
// slots of its sessions there in snap).
func (w *worker) epoch(ep *epochSpec) {
	st := w.st
	m := st.m
	nt := m.nt
	const checkEvery = 1024
	temp := ep.cool.at(0)
	past := false // past ep.until
	for j := int64(0); ; j++ {
		if j%checkEvery == 0 {
			if ep.moves > 0 && j >= ep.moves {
				return
			}
			var now time.Time
			if !ep.until.IsZero() {
				now = time.Now()
				switch {
				case !now.Before(ep.deadline) || ep.done == nil && !now.Before(ep.until):
					return
				case ep.done != nil && !now.Before(ep.until):
					if !past {
						past = true
						ep.done.Add(1)
					}
					if ep.done.Load() >= ep.workers {
						return
					}
				}
			}
			var frac float64
			if ep.total > 0 {
				frac = float64(ep.from+j) / float64(ep.total)
			} else {
				frac = float64(now.Sub(ep.start)) / float64(ep.deadline.Sub(ep.start))
			}
			if ep.ctx.Err() != nil {
				return
			}
			temp = ep.cool.at(frac)
		}
		w.iters++
		limit := int(temp * negLog[w.r.next()>>52])
		s := w.list[w.r.intn(len(w.list))]
		a := st.slot[s]
		for range w.par.sessionTries - 1 {
			// Prefer the session with more co-voted sessions beside it.
			if c := w.list[w.r.intn(len(w.list))]; st.att(c, st.slot[c]) > st.att(s, a) {
				s, a = c, st.slot[c]
			}
		}
		b := w.gslots[w.r.intn(len(w.gslots))]
		for range w.par.slotTries - 1 {
			// Prefer another slot where s has fewer co-voted sessions.
			if c := w.gslots[w.r.intn(len(w.gslots))]; c != a && (b == a || st.att(s, c) < st.att(s, b)) {
				b = c
			}
		}
		if a == b || !m.allowed[int(s)*nt+int(b)] {
			continue
		}
		delta, ok := w.price(s, a, b, limit)
		if !ok {
			continue
		}
		w.apply()
		w.cur += delta
		if w.cur < w.low {
			w.low = w.cur
			w.lowC, w.lowO = st.conflicts, st.overflow
			for i, s := range w.list {
				w.snap[i] = st.slot[s]
			}
		}
	}
}
