package schedule

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// TestExactMatchesBruteForce: on small problems without pins the solver
// proves its schedule optimal, and brute force agrees on the objective.
func TestExactMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	checked := 0
	for i := range 120 {
		c := randomConfig(r)
		c.sessions = min(c.sessions, 5)
		c.slots = min(c.slots, 3)
		c.rooms = min(c.rooms, 3)
		p := genProblem(5000+uint64(i), c)
		pinned := false
		for _, s := range p.Sessions {
			pinned = pinned || s.Pin != nil
		}
		// Few moves: the annealing alone often misses the optimum here.
		sol, err := Solve(context.Background(), p, &SolveOptions{MaxIterations: 50, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if pinned {
			continue
		}
		if !sol.Optimal {
			t.Fatalf("%s: no pins, %d sessions, not proven optimal", p.Name, len(p.Sessions))
		}
		if best := bruteForce(p, sol.Assignments); best != sol.Score.Objective {
			t.Fatalf("%s: exact search gave %d, brute force %d", p.Name, sol.Score.Objective, best)
		}
		checked++
	}
	if checked < 30 {
		t.Fatalf("only %d problems without pins checked", checked)
	}
}

// TestExactProvesUnconferenceDay: an unconference day the size of the
// example config's afternoon (12 sessions, 3 rooms, 4 slots) is solved
// exactly within the time limit.
func TestExactProvesUnconferenceDay(t *testing.T) {
	p := genProblem(77, genConfig{sessions: 12, rooms: 3, slots: 4, voters: 40, votes: 4})
	for i := range p.Sessions {
		p.Sessions[i].Pin = nil
	}
	start := time.Now()
	sol, err := Solve(context.Background(), p, &SolveOptions{TimeLimit: 5 * time.Second, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !sol.Optimal {
		t.Errorf("12 sessions in 12 cells not proven optimal in %s", time.Since(start).Round(time.Millisecond))
	}
}
