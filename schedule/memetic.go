package schedule

import (
	"context"
	"slices"
)

// memeticConfig shapes a memetic search: a few parents annealed from the
// constructed schedule, then children made by crossover and annealed
// again, each replacing the worst parent when better.
type memeticConfig struct {
	parents     int     // initial anneals
	parentShare float64 // share of the move budget they get together
	childMoves  int64   // moves per worker of one child's anneal
	childT0     float64 // child anneal's temperatures, in units
	childTEnd   float64
	gpx         bool // greedy partition crossover instead of agreement
	logf        func(format string, args ...any)
}

// memetic runs cfg with a move budget of b.maxIter per worker and returns
// the best schedule found, its objective and the moves made.
func memetic(ctx context.Context, init *state, seeds []uint64, par annealParams, b budget, cfg memeticConfig) ([]int32, int, int64) {
	r := rng{x: mix(seeds[0] ^ 0x3e3e)}
	var iters int64
	anneal := func(start []int32, par annealParams, moves int64) ([]int32, int) {
		st := init.clone()
		st.restore(start)
		sd := make([]uint64, len(seeds))
		for i := range sd {
			sd[i] = r.next()
		}
		w := newWorker(st, r.next(), par)
		newTeam(w, sd).run(ctx, budget{maxIter: moves, target: b.target})
		iters += w.iters
		w.st.restore(w.best)
		w.polish(ctx, b.deadline)
		return w.st.snapshot(nil), w.st.objective()
	}
	type member struct {
		slots []int32
		obj   int
	}
	var pop []member
	pm := int64(float64(b.maxIter) * cfg.parentShare / float64(cfg.parents))
	start := init.snapshot(nil)
	for range cfg.parents {
		s, o := anneal(start, par, pm)
		pop = append(pop, member{s, o})
		if cfg.logf != nil {
			cfg.logf("parent %d", o)
		}
	}
	cp := par
	cp.scramble = 0
	cp.t0Short, cp.t0Long = cfg.childT0, cfg.childT0
	cp.tEndShort, cp.tEndLong = cfg.childTEnd, cfg.childTEnd
	used := pm * int64(cfg.parents)
	for used+cfg.childMoves <= b.maxIter && ctx.Err() == nil {
		slices.SortFunc(pop, func(x, y member) int { return x.obj - y.obj })
		// The best with another parent drawn at random.
		i, j := 0, 1+r.intn(len(pop)-1)
		if r.intn(2) == 0 {
			i, j = j, i
		}
		var child []int32
		if cfg.gpx {
			child = gpxCross(init, pop[i].slots, pop[j].slots, &r)
		} else {
			child = agreeCross(init, pop[i].slots, pop[j].slots, &r)
		}
		used += cfg.childMoves
		if child == nil {
			continue
		}
		s, o := anneal(child, cp, cfg.childMoves)
		if cfg.logf != nil {
			st := init.clone()
			st.restore(child)
			same := 0
			for _, x := range st.movable {
				if s[x] == child[x] {
					same++
				}
			}
			cfg.logf("child of %d+%d: crossed %d annealed %d (kept %d of %d sessions' slots)", pop[i].obj, pop[j].obj, st.objective(), o, same, len(st.movable))
		}
		worst := len(pop) - 1
		dup := false
		for _, p := range pop {
			if p.obj == o && slices.Equal(p.slots, s) {
				dup = true
			}
		}
		if !dup && o < pop[worst].obj {
			pop[worst] = member{s, o}
		}
	}
	slices.SortFunc(pop, func(x, y member) int { return x.obj - y.obj })
	return pop[0].slots, pop[0].obj, iters
}

// agreeCross keeps parent a's schedule for the sessions whose slot-mates
// in a and b agree (they share a's slot and b's slot with another
// session), and places the others again, in random order, each where it
// costs least. It returns nil when a session finds no place.
func agreeCross(init *state, a, b []int32, r *rng) []int32 {
	st := init.clone()
	st.restore(a)
	nt := int32(st.m.nt)
	cnt := make([]int32, nt*nt)
	for _, s := range st.movable {
		cnt[a[s]*nt+b[s]]++
	}
	var out []int32
	for _, s := range st.movable {
		if cnt[a[s]*nt+b[s]] == 1 {
			st.remove(s)
			out = append(out, s)
		}
	}
	return reinsert(st, out, r)
}

func reinsert(st *state, out []int32, r *rng) []int32 {
	for i := len(out) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	for _, s := range out {
		if t := st.cheapestSlot(s); t >= 0 {
			st.add(s, t)
		} else if !st.augment(s) {
			return nil
		}
	}
	return st.snapshot(nil)
}

// gpxCross is Galinier and Hao's greedy partition crossover: slot by
// slot, alternating parents, the parent's slot with the most sessions not
// yet taken gives them to the child, in the same slot when they may all
// run there; the sessions left are placed where they cost least.
func gpxCross(init *state, a, b []int32, r *rng) []int32 {
	m := init.m
	st := init.clone()
	for _, s := range st.movable {
		st.remove(s)
	}
	nt := m.nt
	taken := make([]bool, m.ns)
	usedA := make([]bool, nt)
	usedB := make([]bool, nt)
	groups := func(p []int32) [][]int32 {
		g := make([][]int32, nt)
		for _, s := range st.movable {
			if !taken[s] {
				g[p[s]] = append(g[p[s]], s)
			}
		}
		return g
	}
	for k := range nt {
		p, used := a, usedA
		if k%2 == 1 {
			p, used = b, usedB
		}
		g := groups(p)
		best := -1
		for t := range nt {
			if !used[t] && len(st.members[t]) == 0 && (best < 0 || len(g[t]) > len(g[best])) {
				best = t
			}
		}
		if best < 0 {
			break
		}
		used[best] = true
		for _, s := range g[best] {
			if st.hasRoom(int32(best)) && st.canEnter(s, int32(best), -1) {
				st.add(s, int32(best))
				taken[s] = true
			}
		}
	}
	var out []int32
	for _, s := range st.movable {
		if !taken[s] {
			out = append(out, s)
		}
	}
	return reinsert(st, out, r)
}
