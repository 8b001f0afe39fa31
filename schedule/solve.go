package schedule

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// SolveOptions tune Solve. The zero value (or nil) means defaults.
type SolveOptions struct {
	// Seed selects the random search; the same seed, Workers and
	// MaxIterations give the same solution.
	Seed int64
	// TimeLimit bounds the wall-clock time of the search. With
	// MaxIterations unset, the annealing schedule follows the clock, so
	// results vary a little from run to run. When both are zero the limit
	// is DefaultTimeLimit.
	TimeLimit time.Duration
	// MaxIterations bounds the moves each worker tries and drives the
	// annealing schedule, which makes the result deterministic (a
	// TimeLimit or a cancelled context may still cut it short).
	MaxIterations int64
	// Workers is the number of searches run in parallel, each with its
	// own seed derived from Seed. On small problems they search apart and
	// the best result wins, ties to the lowest worker; from
	// teamMinSessions movable sessions up they anneal one schedule
	// together (see team). Zero means DefaultWorkers.
	Workers int
	// Progress, when set, is called each time a worker finds a better
	// solution than any found so far (one call at a time, from the
	// workers' goroutines: keep it quick).
	Progress func(elapsed time.Duration, s Score)
}

// Defaults for SolveOptions.
const (
	DefaultTimeLimit = 10 * time.Second
	// DefaultWorkers is fixed rather than taken from the CPU count so that
	// a seed and an iteration budget give the same result on any machine.
	DefaultWorkers = 2
)

// Solve searches for a schedule of p minimising the objective. It returns
// the best solution found when the budget is spent or ctx is done (an
// interrupted search still yields a feasible schedule, with a nil error).
// Sessions that cannot fit are left unplaced, lowest-ranked first; see the
// package documentation.
func Solve(ctx context.Context, p *Problem, opt *SolveOptions) (*Solution, error) {
	start := time.Now()
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("solve: %w", err)
	}
	var o SolveOptions
	if opt != nil {
		o = *opt
	}
	if o.TimeLimit <= 0 && o.MaxIterations <= 0 {
		o.TimeLimit = DefaultTimeLimit
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}

	m := newModel(p)
	init, unplaced := construct(m)
	b := budget{maxIter: o.MaxIterations, target: m.ow * m.overflowBound(init.movable)}
	// A small problem without pins can be solved exactly: the search then
	// gets a quarter of the time to find a good incumbent, the exact
	// branch and bound the rest to prove it optimal or beat it.
	small := provable(p, len(unplaced))
	team := useTeam(o.Workers, len(init.movable), m.nt)
	par := defaultParams
	if team {
		par = teamParams
	}
	if len(p.Previous) > 0 {
		// A revision starts from the previous schedule and anneals from
		// there: scrambling it first would throw away what it keeps.
		par.scramble = 0
	}
	if o.TimeLimit > 0 {
		b.deadline = start.Add(o.TimeLimit)
		if small {
			b.deadline = start.Add(o.TimeLimit / 4)
		}
	}
	if d, ok := ctx.Deadline(); ok && (b.deadline.IsZero() || d.Before(b.deadline)) {
		b.deadline = d
	}

	base := Score{Unplaced: len(unplaced)}
	for _, u := range unplaced {
		base.UnplacedVotes += int(m.demand[u])
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	globalBest := init.objective()
	improved := func(conflicts, overflow, obj int) {
		mu.Lock()
		defer mu.Unlock()
		if obj >= globalBest {
			return
		}
		globalBest = obj
		if obj <= b.target {
			cancel() // proven optimal: the others can stop
		}
		if o.Progress != nil {
			sc := base
			sc.Conflicts, sc.Overflow = conflicts, overflow
			sc.Objective = obj
			o.Progress(time.Since(start), sc)
		}
	}
	seeds := make([]uint64, o.Workers)
	for i := range seeds {
		seeds[i] = mix(uint64(o.Seed) ^ (uint64(i+1) * 0xd1b54a32d192ed03))
	}
	var workers []*worker
	if team {
		// One anneal, all workers on it (see team).
		w := newWorker(init, mix(seeds[0]^0x7ea3), par)
		w.improved = improved
		workers = []*worker{w}
		// The anneal leaves a little of the time to polish its best.
		tb := b
		if !b.deadline.IsZero() {
			tb.deadline = b.deadline.Add(-time.Until(b.deadline) / 100)
		}
		newTeam(w, seeds).run(ctx, tb)
		w.st.restore(w.best)
		w.polish(ctx, b.deadline)
		if obj := w.st.objective(); obj < w.bestObj {
			w.bestObj = obj
			w.best = w.st.snapshot(w.best)
			w.improved(w.st.conflicts, w.st.overflow, obj)
		}
	} else {
		workers = make([]*worker, o.Workers)
		for i := range workers {
			w := newWorker(init.clone(), seeds[i], par)
			w.improved = improved
			workers[i] = w
		}
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(func() { w.run(ctx, b) })
		}
		wg.Wait()
	}

	win := workers[0]
	var iters int64
	for _, w := range workers {
		iters += w.iters
		if w.bestObj < win.bestObj {
			win = w
		}
	}
	win.st.restore(win.best)
	// The search may have opened a place for a session construct could
	// not fit: a session placed beats a better score.
	optimal := win.bestObj <= b.target
	if placed := win.st.fill(unplaced); len(placed) > 0 {
		unplaced = slices.DeleteFunc(unplaced, func(s int32) bool { return slices.Contains(placed, s) })
		win.bestObj = win.st.objective()
		optimal = false // the bound was for the sessions placed before
	}
	sol := &Solution{
		Assignments: win.st.assignments(),
		Iterations:  iters,
		Optimal:     optimal,
	}
	for _, s := range unplaced {
		sol.Unplaced = append(sol.Unplaced, int(s))
	}
	if small && !sol.Optimal && ctx.Err() == nil {
		var end time.Time
		if o.TimeLimit > 0 {
			end = start.Add(o.TimeLimit)
		}
		if d, ok := ctx.Deadline(); ok && (end.IsZero() || d.Before(end)) {
			end = d
		}
		sol.Optimal = prove(ctx, p, sol, end)
		if sc, err := Evaluate(p, sol); err == nil {
			win.bestObj = sc.Objective + sc.Stability
		}
	}
	sc, err := Evaluate(p, sol)
	if err != nil {
		return nil, fmt.Errorf("solve: internal error: %w", err)
	}
	if sc.Objective+sc.Stability != win.bestObj {
		return nil, fmt.Errorf("solve: internal error: incremental objective %d, evaluated %d", win.bestObj, sc.Objective+sc.Stability)
	}
	sol.Score = sc
	return sol, nil
}

// mix scrambles a seed (SplitMix64 finaliser) so that nearby seeds give
// unrelated streams.
func mix(x uint64) uint64 {
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// provable reports whether the exact search takes a problem on: few
// sessions placed, none pinned, no previous schedule to keep.
func provable(p *Problem, unplaced int) bool {
	if len(p.Sessions)-unplaced > exactLimit || len(p.Previous) > 0 {
		return false
	}
	for _, s := range p.Sessions {
		if s.Pin != nil {
			return false
		}
	}
	return true
}
