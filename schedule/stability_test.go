package schedule

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestRevisionKeepsWhatNeedsNoChange: solving a problem again from its own
// solution, with moves priced above anything they could save, moves no
// session to another slot or room.
func TestRevisionKeepsWhatNeedsNoChange(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for i := range 40 {
		p := genProblem(5000+uint64(i), randomConfig(r))
		first, err := Solve(context.Background(), p, &SolveOptions{Seed: 1, MaxIterations: 20000})
		if err != nil {
			t.Fatal(err)
		}
		p.Previous, p.RetimeWeight = first.Assignments, 1_000_000
		again, err := Solve(context.Background(), p, &SolveOptions{Seed: 2, MaxIterations: 20000})
		if err != nil {
			t.Fatal(err)
		}
		if sc := again.Score; sc.Moved != 0 || sc.Dropped != 0 {
			t.Fatalf("%s: the revision moved %d sessions (%d retimed), dropped %d", p.Name, sc.Moved, sc.Retimed, sc.Dropped)
		}
	}
}

// TestRevisionMovesWhatPays: with retimes free, a revision of a bad
// schedule is as good as a fresh solve; priced, it moves fewer sessions.
func TestRevisionMovesWhatPays(t *testing.T) {
	p := genProblem(77, genConfig{rooms: 3, slots: 6, sessions: 16, voters: 60, votes: 4})
	bad := make([]Assignment, len(p.Sessions))
	for s := range bad {
		bad[s] = Assignment{Room: s % 3, Slot: s / 3 % 6}
	}
	fresh, err := Solve(context.Background(), p, &SolveOptions{Seed: 1, MaxIterations: 200000})
	if err != nil {
		t.Fatal(err)
	}
	moved := map[int]int{}
	for _, w := range []int{0, 3, 1000} {
		p.Previous, p.RetimeWeight = bad, w
		sol, err := Solve(context.Background(), p, &SolveOptions{Seed: 1, MaxIterations: 200000})
		if err != nil {
			t.Fatal(err)
		}
		moved[w] = sol.Score.Retimed
		if w == 0 && sol.Score.Objective > fresh.Score.Objective+fresh.Score.Objective/10 {
			t.Errorf("free retimes: objective %d, fresh %d", sol.Score.Objective, fresh.Score.Objective)
		}
	}
	if !(moved[0] >= moved[3] && moved[3] >= moved[1000]) || moved[0] == moved[1000] {
		t.Errorf("retimed by weight: %v; want fewer as moves cost more", moved)
	}
}

func TestEvaluateCountsChanges(t *testing.T) {
	p := genProblem(9, genConfig{rooms: 2, slots: 3, sessions: 4, voters: 5, votes: 2})
	p.RetimeWeight = 5
	p.Previous = []Assignment{{Room: 0, Slot: 0}, {Room: 1, Slot: 0}, {Room: 0, Slot: 1}, Unplaced}
	sol := &Solution{Assignments: []Assignment{{Room: 0, Slot: 0}, {Room: 0, Slot: 2}, {Room: 1, Slot: 1}, {Room: 1, Slot: 2}}}
	sc, err := Evaluate(p, sol)
	if err != nil {
		t.Fatal(err)
	}
	if want := 5 * (1 + p.Demand()[1]); sc.Moved != 2 || sc.Retimed != 1 || sc.Dropped != 0 || sc.Stability != want {
		t.Errorf("kept, retimed, moved room, new: got moved=%d retimed=%d dropped=%d stability=%d", sc.Moved, sc.Retimed, sc.Dropped, sc.Stability)
	}
	sol.Assignments[0] = Unplaced
	if sc, _ := Evaluate(p, sol); sc.Dropped != 1 {
		t.Errorf("dropped %d, want 1", sc.Dropped)
	}
}

// TestReadPreviousSkipsWhatIsGone: a previous solution may name sessions,
// rooms and slots the revised instance no longer has.
func TestReadPreviousSkipsWhatIsGone(t *testing.T) {
	p := &Problem{Rooms: []Room{{ID: "R1", Capacity: 5}}, Slots: []Slot{{ID: "T1"}, {ID: "T2"}}, Sessions: []Session{{ID: "S1"}, {ID: "S2"}, {ID: "S3"}}}
	prev, err := ReadPrevious(strings.NewReader(`{"format": "sched-solution/1", "assignments": [
		{"session": "S1", "room": "R1", "slot": "T2"}, {"session": "S9", "room": "R1", "slot": "T1"},
		{"session": "S2", "room": "R7", "slot": "T1"}]}`), p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Assignment{{Room: 0, Slot: 1}, Unplaced, Unplaced}
	for i := range want {
		if prev[i] != want[i] {
			t.Fatalf("previous %v, want %v", prev, want)
		}
	}
	if _, err := ReadSolution(strings.NewReader(`{"assignments": [{"session": "S9", "room": "R1", "slot": "T1"}]}`), p); err == nil {
		t.Error("ReadSolution took an unknown session")
	}
}
