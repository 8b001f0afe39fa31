package schedule

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestTeamSolves runs the cooperative anneal on problems big enough for
// it, with every hard constraint in play and with and without a previous
// schedule: the solution must be feasible, its incremental score must
// match Evaluate's (Solve checks that itself), and a move budget must give
// the same schedule every time, however the workers interleave.
func TestTeamSolves(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for i := range 4 {
		p := genProblem(3000+uint64(i), genConfig{sessions: 240, rooms: 12, slots: 24, voters: 1200, votes: 6,
			pinFrac: 0.05, closedFrac: 0.1, unavailFrac: 0.2, sharedSpeakerFrac: 0.3})
		p = withPrevious(p, r, i)
		m := newModel(p)
		if init, _ := construct(m); !useTeam(DefaultWorkers, len(init.movable), m.nt) {
			t.Fatalf("%s: %d movable sessions, too few for a team", p.Name, len(init.movable))
		}
		var first *Solution
		for range 2 {
			sol, err := Solve(context.Background(), p, &SolveOptions{Seed: int64(i), MaxIterations: 300_000})
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
			if first == nil {
				first = sol
				continue
			}
			if !slices.Equal(first.Assignments, sol.Assignments) {
				t.Fatalf("%s: same seed and budget, different schedules (%v vs %v)", p.Name, first.Score, sol.Score)
			}
		}
	}
}

// TestTeamKeepsTimeLimit: the cooperative anneal stops at its time limit
// and at a cancelled context, with a feasible schedule either way.
func TestTeamKeepsTimeLimit(t *testing.T) {
	p := genProblem(3100, genConfig{sessions: 240, rooms: 12, slots: 24, voters: 1000, votes: 6, unavailFrac: 0.1})
	for _, c := range []struct {
		name  string
		limit time.Duration
		ctx   time.Duration
	}{{"limit", 300 * time.Millisecond, time.Hour}, {"context", time.Hour, 300 * time.Millisecond}} {
		ctx, cancel := context.WithTimeout(context.Background(), c.ctx)
		start := time.Now()
		sol, err := Solve(ctx, p, &SolveOptions{TimeLimit: c.limit})
		el := time.Since(start)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if el > 2*time.Second {
			t.Fatalf("%s: took %v for 300ms", c.name, el)
		}
		if _, err := Evaluate(p, sol); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
}
