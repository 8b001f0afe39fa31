package schedule

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestSlotCostMatchesPlainMatching(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		n := 1 + r.IntN(12)
		caps := make([]int32, n)
		for i := range caps {
			caps[i] = int32(r.IntN(30))
		}
		slices.SortFunc(caps, func(a, b int32) int { return int(b - a) })
		c := newSlotCost(caps)
		k := r.IntN(n + 1)
		for range k {
			c.insert(int32(r.IntN(40)))
		}
		if got, want := c.sum, slotOverflow(caps, c.dem, -1, -1); got != want {
			t.Fatalf("sum %d, want %d (caps %v dem %v)", got, want, caps, c.dem)
		}
		y := int32(r.IntN(40))
		if k < n {
			if got, want := c.addDelta(y), slotOverflow(caps, c.dem, -1, y)-c.sum; got != want {
				t.Fatalf("addDelta(%d) = %d, want %d (caps %v dem %v)", y, got, want, caps, c.dem)
			}
		}
		if k > 0 {
			i := r.IntN(k)
			x := c.dem[i]
			if got, want := c.removeDelta(i), slotOverflow(caps, c.dem, x, -1)-c.sum; got != want {
				t.Fatalf("removeDelta(%d) = %d, want %d (caps %v dem %v)", x, got, want, caps, c.dem)
			}
			if got, want := c.replaceDelta(i, y), slotOverflow(caps, c.dem, x, y)-c.sum; got != want {
				t.Fatalf("replaceDelta(%d, %d) = %d, want %d (caps %v dem %v)", x, y, got, want, caps, c.dem)
			}
			want := slices.Clone(c.dem)
			want = slices.Insert(slices.Delete(want, i, i+1), 0, y)
			slices.SortFunc(want, func(a, b int32) int { return int(b - a) })
			if q := c.replaceAt(i, y); !slices.Equal(c.dem, want) || c.dem[q] != y {
				t.Fatalf("replaceAt(%d, %d) = %d: dem %v, want %v", i, y, q, c.dem, want)
			}
		}
	}
}

// checkState compares the incremental figures with Evaluate.
func checkState(t *testing.T, p *Problem, st *state, unplaced int) {
	t.Helper()
	sol := &Solution{Assignments: st.assignments()}
	sc, err := Evaluate(p, sol)
	if err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	if sc.Conflicts != st.conflicts || sc.Overflow != st.overflow || sc.Stability != st.stability ||
		sc.Objective+sc.Stability != st.objective() || sc.Unplaced != unplaced {
		t.Fatalf("%s: incremental conflicts=%d overflow=%d stability=%d objective=%d unplaced=%d, evaluated %+v",
			p.Name, st.conflicts, st.overflow, st.stability, st.objective(), unplaced, sc)
	}
	// Each slot's members run parallel to its demands, pos indexing both.
	for tt, mem := range st.members {
		for i, s := range mem {
			if st.pos[s] != int32(i) || st.slot[s] != int32(tt) || st.cost[tt].dem[i] != st.m.demand[s] {
				t.Fatalf("%s: slot %d member %d (session %d): pos %d, slot %d, demand %d vs %d",
					p.Name, tt, i, s, st.pos[s], st.slot[s], st.cost[tt].dem[i], st.m.demand[s])
			}
		}
		if len(mem) != len(st.cost[tt].dem) {
			t.Fatalf("%s: slot %d has %d members, %d demands", p.Name, tt, len(mem), len(st.cost[tt].dem))
		}
	}
}

// withPrevious gives every other problem a previous schedule to keep: a
// random cell for most sessions (a previous schedule of another version
// of the problem need not fit this one), and a random retime weight.
func withPrevious(p *Problem, r *rand.Rand, i int) *Problem {
	if i%2 == 0 || len(p.Rooms) == 0 || len(p.Slots) == 0 {
		return p
	}
	p.Previous = make([]Assignment, len(p.Sessions))
	for s := range p.Previous {
		p.Previous[s] = Unplaced
		if r.IntN(10) < 7 {
			p.Previous[s] = Assignment{Room: r.IntN(len(p.Rooms)), Slot: r.IntN(len(p.Slots))}
		}
	}
	p.RetimeWeight = r.IntN(7)
	return p
}

// TestMovesKeepScoreAndConstraints applies random feasible moves, accepted
// unconditionally, and checks after each that the predicted delta was
// exact, the incremental score equals Evaluate's and no hard constraint
// broke.
func TestMovesKeepScoreAndConstraints(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		p := withPrevious(genProblem(uint64(i), randomConfig(r)), r, i)
		if err := p.Validate(); err != nil {
			t.Fatalf("generator made an invalid problem: %v", err)
		}
		m := newModel(p)
		st, unplaced := construct(m)
		checkState(t, p, st, len(unplaced))
		if len(st.movable) == 0 {
			continue
		}
		w := newWorker(st, uint64(i), defaultParams)
		for range 200 {
			delta, ok := w.draw(math.MaxInt)
			if !ok {
				continue
			}
			before := st.objective()
			w.apply()
			if got := st.objective() - before; got != delta {
				t.Fatalf("%s: move %+v predicted delta %d, got %d", p.Name, w.mv, delta, got)
			}
			checkState(t, p, st, len(unplaced))
		}
	}
}

func TestSolveRandomProblems(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 150 {
		p := withPrevious(genProblem(1000+uint64(i), randomConfig(r)), r, i)
		sol, err := Solve(context.Background(), p, &SolveOptions{Seed: int64(i), MaxIterations: 3000})
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		sc, err := Evaluate(p, sol)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if sc != sol.Score {
			t.Fatalf("%s: reported %+v, evaluated %+v", p.Name, sol.Score, sc)
		}
		if len(sol.Unplaced) != sc.Unplaced {
			t.Fatalf("%s: %d sessions listed unplaced, %d in assignments", p.Name, len(sol.Unplaced), sc.Unplaced)
		}
	}
}

// TestUnplacedAreLowestRanked: with more sessions than cells and no other
// constraint, exactly the lowest-ranked sessions are left out, ties going
// to the earlier session.
func TestUnplacedAreLowestRanked(t *testing.T) {
	p := &Problem{ConflictWeight: 1, OverflowWeight: 1,
		Rooms: []Room{{ID: "A", Capacity: 10}, {ID: "B", Capacity: 5}},
		Slots: []Slot{{ID: "1"}, {ID: "2", Closed: []int{1}}},
	}
	// 5 sessions for 3 cells; votes: S0:1, S1:3, S2:1, S3:2, S4:0.
	votes := []int{1, 3, 1, 2, 0}
	for i, n := range votes {
		p.Sessions = append(p.Sessions, Session{ID: string(rune('a' + i))})
		for v := range n {
			for len(p.Voters) <= v {
				p.Voters = append(p.Voters, Voter{})
			}
			p.Voters[v].Votes = append(p.Voters[v].Votes, i)
		}
	}
	sol, err := Solve(context.Background(), p, &SolveOptions{MaxIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// Ranked: S1 (3), S3 (2), S0 (1, earlier than S2), S2 (1), S4 (0).
	if want := []int{2, 4}; !slices.Equal(sol.Unplaced, want) {
		t.Fatalf("unplaced %v, want %v", sol.Unplaced, want)
	}
}

func TestPinsAndClosedRoomsHonoured(t *testing.T) {
	p := genProblem(42, genConfig{sessions: 30, rooms: 4, slots: 8, voters: 100, votes: 5,
		pinFrac: 0.2, closedFrac: 0.2, unavailFrac: 0.3, sharedSpeakerFrac: 0.3})
	pins := 0
	for _, s := range p.Sessions {
		if s.Pin != nil {
			pins++
		}
	}
	if pins == 0 {
		t.Fatal("generator made no pins")
	}
	sol, err := Solve(context.Background(), p, &SolveOptions{MaxIterations: 20000})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range p.Sessions {
		if s.Pin != nil && (sol.Assignments[i] != Assignment{Room: s.Pin.Room, Slot: s.Pin.Slot}) {
			t.Errorf("session %s moved off its pin", s.ID)
		}
	}
	if _, err := Evaluate(p, sol); err != nil {
		t.Fatal(err)
	}
}

func TestSolveDeterministic(t *testing.T) {
	p := genProblem(7, genConfig{sessions: 40, rooms: 4, slots: 12, voters: 200, votes: 6,
		unavailFrac: 0.1, sharedSpeakerFrac: 0.2})
	var first *Solution
	for range 3 {
		sol, err := Solve(context.Background(), p, &SolveOptions{Seed: 9, MaxIterations: 50000})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = sol
			continue
		}
		if !slices.Equal(first.Assignments, sol.Assignments) || first.Score != sol.Score {
			t.Fatalf("same seed, different results: %v vs %v", first.Score, sol.Score)
		}
	}
}

func TestSolveStopsOnCancel(t *testing.T) {
	p := genProblem(8, genConfig{sessions: 60, rooms: 6, slots: 12, voters: 300, votes: 6})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	sol, err := Solve(ctx, p, &SolveOptions{TimeLimit: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v after a 100ms deadline", el)
	}
	if _, err := Evaluate(p, sol); err != nil {
		t.Fatal(err)
	}
}

func TestSolveRejectsInvalidProblem(t *testing.T) {
	p := &Problem{Rooms: []Room{{ID: "A", Capacity: 1}}, Slots: []Slot{{ID: "1"}},
		Sessions: []Session{{ID: "x", Pin: &Pin{Room: 3, Slot: 0}}}}
	if _, err := Solve(context.Background(), p, nil); !errors.Is(err, ErrInvalidProblem) {
		t.Fatalf("got %v, want ErrInvalidProblem", err)
	}
}

func TestEvaluateCatchesViolations(t *testing.T) {
	p := &Problem{ConflictWeight: 1, OverflowWeight: 1,
		Rooms: []Room{{ID: "A", Capacity: 1}, {ID: "B", Capacity: 1}},
		Slots: []Slot{{ID: "1"}, {ID: "2", Closed: []int{1}}},
		Sessions: []Session{
			{ID: "x", Speakers: []string{"p"}},
			{ID: "y", Speakers: []string{"p"}, Unavailable: []int{1}},
			{ID: "z", Pin: &Pin{Room: 0, Slot: 1}},
		},
	}
	cases := map[string][]Assignment{
		"same cell":     {{0, 0}, {0, 0}, {0, 1}},
		"speaker clash": {{0, 0}, {1, 0}, {0, 1}},
		"unavailable":   {{0, 0}, {1, 1}, {0, 1}},
		"closed room":   {{1, 1}, {0, 0}, {0, 1}},
		"pin moved":     {{0, 0}, {1, 1}, {1, 0}},
		"pin unplaced":  {{0, 0}, {1, 1}, Unplaced},
		"out of range":  {{0, 5}, {1, 0}, {0, 1}},
		"half placed":   {{0, -1}, {1, 0}, {0, 1}},
	}
	for name, as := range cases {
		if _, err := Evaluate(p, &Solution{Assignments: as}); !errors.Is(err, ErrInfeasible) {
			t.Errorf("%s: got %v, want ErrInfeasible", name, err)
		}
	}
	ok := []Assignment{{0, 0}, Unplaced, {0, 1}}
	sc, err := Evaluate(p, &Solution{Assignments: ok})
	if err != nil || sc.Unplaced != 1 {
		t.Fatalf("feasible solution: %+v, %v", sc, err)
	}
}

// TestSparseWeightsMatchDense checks the sparse co-vote rows used for
// very large problems against the dense matrix, whose bytes hold the
// weights below denseOver (the heavy problem's pairs are mostly above).
func TestSparseWeightsMatchDense(t *testing.T) {
	for _, tc := range []struct {
		name  string
		p     *Problem
		heavy bool
	}{
		{"light", genProblem(11, genConfig{sessions: 50, rooms: 4, slots: 10, voters: 300, votes: 6}), false},
		{"heavy", genProblem(12, genConfig{sessions: 8, rooms: 2, slots: 6, voters: 2000, votes: 4}), true},
	} {
		dense, sparse := buildModel(tc.p, denseLimit), buildModel(tc.p, 0)
		if dense.dense == nil || sparse.dense != nil {
			t.Fatalf("%s: wrong representations", tc.name)
		}
		over := 0
		for s := range int32(dense.ns) {
			if !slices.Equal(dense.nbr[s], sparse.nbr[s]) || !slices.Equal(dense.nbrW[s], sparse.nbrW[s]) {
				t.Fatalf("%s: session %d: rows differ", tc.name, s)
			}
			for u := range int32(dense.ns) {
				if dense.weight(s, u) != sparse.weight(s, u) {
					t.Fatalf("%s: weight(%d,%d): dense %d, sparse %d", tc.name, s, u, dense.weight(s, u), sparse.weight(s, u))
				}
				if dense.weight(s, u) >= denseOver {
					over++
				}
			}
		}
		if (over > 0) != tc.heavy {
			t.Fatalf("%s: %d weights of %d or more", tc.name, over, denseOver)
		}
	}
}

func TestProgressReportsImprovements(t *testing.T) {
	p := genProblem(12, genConfig{sessions: 40, rooms: 4, slots: 12, voters: 200, votes: 6})
	var last *Score
	calls := 0
	sol, err := Solve(context.Background(), p, &SolveOptions{MaxIterations: 100000, Progress: func(_ time.Duration, s Score) {
		calls++
		if last != nil && s.Objective >= last.Objective {
			t.Errorf("progress went from %d to %d", last.Objective, s.Objective)
		}
		last = &s
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last.Objective != sol.Score.Objective {
		t.Fatalf("%d progress calls, last %+v, final %+v", calls, last, sol.Score)
	}
}

// TestOptimalClaimsHold: a problem whose bound is reachable stops early
// and says so; the claim is checked by brute force on tiny problems.
func TestOptimalClaimsHold(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	claims := 0
	for i := range 200 {
		c := randomConfig(r)
		c.sessions = min(c.sessions, 4)
		c.slots = min(c.slots, 3)
		c.rooms = min(c.rooms, 3)
		p := genProblem(2000+uint64(i), c)
		sol, err := Solve(context.Background(), p, &SolveOptions{MaxIterations: 20000})
		if err != nil {
			t.Fatal(err)
		}
		if !sol.Optimal {
			continue
		}
		claims++
		if best := bruteForce(p, sol.Assignments); best < sol.Score.Objective {
			t.Fatalf("%s: claimed optimal at %d, brute force finds %d", p.Name, sol.Score.Objective, best)
		}
	}
	if claims == 0 {
		t.Fatal("no optimality claims to check")
	}
}

// bruteForce returns the best objective over all feasible placements of
// the sessions placed in ref (the others stay unplaced).
func bruteForce(p *Problem, ref []Assignment) int {
	as := slices.Clone(ref)
	best := -1
	var rec func(i int)
	rec = func(i int) {
		if i == len(as) {
			if sc, err := Evaluate(p, &Solution{Assignments: as}); err == nil && (best < 0 || sc.Objective < best) {
				best = sc.Objective
			}
			return
		}
		if !ref[i].Placed() || p.Sessions[i].Pin != nil {
			rec(i + 1)
			return
		}
		for t := range p.Slots {
			for room := range p.Rooms {
				as[i] = Assignment{Room: room, Slot: t}
				rec(i + 1)
			}
		}
		as[i] = ref[i]
	}
	rec(0)
	return best
}

// slotOverflow returns the overflow of a slot whose movable sessions have
// the demands dem (largest first) after removing one session of demand rm
// (rm < 0: none) and adding one of demand add (add < 0: none), with the
// sessions matched in order to caps (largest first). It is the plain
// reference the incremental slotCost is checked against.
func slotOverflow(caps, dem []int32, rm, add int32) int {
	sum := 0
	i := 0
	for _, d := range dem {
		if rm >= 0 && d == rm {
			rm = -1
			continue
		}
		if add > d {
			if c := caps[i]; add > c {
				sum += int(add - c)
			}
			i++
			add = -1
		}
		if c := caps[i]; d > c {
			sum += int(d - c)
		}
		i++
	}
	if add >= 0 && add > caps[i] {
		sum += int(add - caps[i])
	}
	return sum
}

// TestDrawLimitIsExact: pricing with a limit may skip work, but must accept
// exactly the moves whose true delta is within the limit, with that delta.
// Two workers with the same seed draw the same moves; one prices exactly.
func TestDrawLimitIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for i := range 100 {
		p := withPrevious(genProblem(3000+uint64(i), randomConfig(r)), r, i)
		m := newModel(p)
		st, _ := construct(m)
		if len(st.movable) == 0 {
			continue
		}
		par := defaultParams
		if i%2 == 1 {
			par = teamParams
		}
		lim := newWorker(st.clone(), uint64(i), par)
		exact := newWorker(st.clone(), uint64(i), par)
		for range 500 {
			limit := r.IntN(20) - 5
			dl, okl := lim.draw(limit)
			de, oke := exact.draw(math.MaxInt)
			want := oke && de <= limit
			if okl != want || (okl && dl != de) {
				t.Fatalf("%s: limit %d: got %d,%v; exact %d,%v", p.Name, limit, dl, okl, de, oke)
			}
			if okl {
				lim.apply()
				exact.apply()
			}
		}
	}
}
