package schedule

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var publicInstances = []string{"small", "unconf", "large", "fosdem"}

func readTestInstance(t testing.TB, name string) *Problem {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sched", name+"-public.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ReadInstance(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

func TestReadPublicInstances(t *testing.T) {
	want := map[string][4]int{ // sessions, rooms, slots, voters (README's table)
		"small": {20, 3, 8, 60}, "unconf": {60, 6, 12, 300},
		"large": {250, 12, 24, 2000}, "fosdem": {800, 35, 28, 8000},
	}
	for _, name := range publicInstances {
		p := readTestInstance(t, name)
		got := [4]int{len(p.Sessions), len(p.Rooms), len(p.Slots), len(p.Voters)}
		if got != want[name] {
			t.Errorf("%s: got %v, want %v", name, got, want[name])
		}
		if p.Name != name+"-public" || p.ConflictWeight != 1 || p.OverflowWeight != 1 {
			t.Errorf("%s: name %q weights %d,%d", name, p.Name, p.ConflictWeight, p.OverflowWeight)
		}
	}
}

var quietLine = regexp.MustCompile(`^(FEASIBLE|INFEASIBLE) objective=(\d+) conflicts=(\d+) overflow=(\d+)$`)

// TestPublicInstancesWithReferenceEvaluator solves every public instance
// on a short budget and, when python3 is at hand, has the benchmark's own
// evaluate.py check the written solution: feasible, and the same figures.
// The budget is far too short for the reference objectives; those are
// measured by bench/solver.sh.
func TestPublicInstancesWithReferenceEvaluator(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Log("python3 not found: checking with Evaluate only")
	}
	for _, name := range publicInstances {
		t.Run(name, func(t *testing.T) {
			p := readTestInstance(t, name)
			limit := 300 * time.Millisecond
			if testing.Short() {
				limit = 100 * time.Millisecond
			}
			sol, err := Solve(context.Background(), p, &SolveOptions{Seed: 1, TimeLimit: limit})
			if err != nil {
				t.Fatal(err)
			}
			if sc, err := Evaluate(p, sol); err != nil || sc != sol.Score {
				t.Fatalf("Evaluate: %+v, %v; solver said %+v", sc, err, sol.Score)
			}
			if sol.Score.Unplaced != 0 {
				t.Fatalf("%d sessions unplaced", sol.Score.Unplaced)
			}
			var buf bytes.Buffer
			if err := WriteSolution(&buf, p, sol); err != nil {
				t.Fatal(err)
			}
			back, err := ReadSolution(bytes.NewReader(buf.Bytes()), p)
			if err != nil {
				t.Fatal(err)
			}
			if sc, err := Evaluate(p, back); err != nil || sc != sol.Score {
				t.Fatalf("round trip: %+v, %v; want %+v", sc, err, sol.Score)
			}
			if python == "" {
				return
			}
			solPath := filepath.Join(t.TempDir(), "solution.json")
			if err := os.WriteFile(solPath, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(python, filepath.Join("testdata", "sched", "evaluate.py"),
				filepath.Join("testdata", "sched", name+"-public.json"), solPath, "--quiet").CombinedOutput()
			if err != nil {
				t.Fatalf("evaluate.py: %v\n%s", err, out)
			}
			m := quietLine.FindStringSubmatch(strings.TrimSpace(string(out)))
			if m == nil || m[1] != "FEASIBLE" {
				t.Fatalf("evaluate.py says: %s", out)
			}
			figures := [3]int{}
			for i := range figures {
				figures[i], _ = strconv.Atoi(m[i+2])
			}
			if want := [3]int{sol.Score.Objective, sol.Score.Conflicts, sol.Score.Overflow}; figures != want {
				t.Fatalf("evaluate.py: objective, conflicts, overflow = %v, solver says %v", figures, want)
			}
		})
	}
}

func TestReadInstanceErrors(t *testing.T) {
	base := func(mut string) string {
		r := strings.NewReplacer("$ROOMS", `[{"id":"R1","capacity":10}]`,
			"$SLOTS", `[{"id":"T1"},{"id":"T2"}]`,
			"$SESSIONS", `[{"id":"S1","speakers":["P1"]},{"id":"S2","speakers":["P1"],"unavailable_slots":["T1"]}]`,
			"$VOTERS", `[{"id":"V1","votes":["S1","S2"]}]`)
		return r.Replace(mut)
	}
	ok := base(`{"format":"sched-instance/1","rooms":$ROOMS,"slots":$SLOTS,"sessions":$SESSIONS,"voters":$VOTERS}`)
	if _, err := ReadInstance(strings.NewReader(ok)); err != nil {
		t.Fatalf("valid instance: %v", err)
	}
	cases := map[string]string{
		"not json":          `{"format":`,
		"wrong format":      `{"format":"sched-instance/2","rooms":$ROOMS,"slots":$SLOTS,"sessions":$SESSIONS,"voters":$VOTERS}`,
		"no format":         `{"rooms":$ROOMS,"slots":$SLOTS,"sessions":$SESSIONS,"voters":$VOTERS}`,
		"room no capacity":  `{"format":"sched-instance/1","rooms":[{"id":"R1"}],"slots":$SLOTS,"sessions":$SESSIONS,"voters":$VOTERS}`,
		"negative capacity": `{"format":"sched-instance/1","rooms":[{"id":"R1","capacity":-1}],"slots":$SLOTS,"sessions":$SESSIONS,"voters":$VOTERS}`,
		"duplicate room":    `{"format":"sched-instance/1","rooms":[{"id":"R1","capacity":1},{"id":"R1","capacity":2}],"slots":$SLOTS,"sessions":$SESSIONS,"voters":$VOTERS}`,
		"empty slot id":     `{"format":"sched-instance/1","rooms":$ROOMS,"slots":[{"id":""}],"sessions":$SESSIONS,"voters":$VOTERS}`,
		"unknown unavail":   `{"format":"sched-instance/1","rooms":$ROOMS,"slots":$SLOTS,"sessions":[{"id":"S1","unavailable_slots":["T9"]}],"voters":[]}`,
		"unknown vote":      `{"format":"sched-instance/1","rooms":$ROOMS,"slots":$SLOTS,"sessions":$SESSIONS,"voters":[{"id":"V1","votes":["S9"]}]}`,
		"double vote":       `{"format":"sched-instance/1","rooms":$ROOMS,"slots":$SLOTS,"sessions":$SESSIONS,"voters":[{"id":"V1","votes":["S1","S1"]}]}`,
		"wrong type":        `{"format":"sched-instance/1","rooms":{"id":"R1"},"slots":$SLOTS,"sessions":$SESSIONS,"voters":$VOTERS}`,
		"pin unknown room":  `{"format":"sched-instance/1","rooms":$ROOMS,"slots":$SLOTS,"sessions":[{"id":"S1","pin":{"room":"R9","slot":"T1"}}],"voters":[]}`,
		"pin closed room":   `{"format":"sched-instance/1","rooms":$ROOMS,"slots":[{"id":"T1","closed_rooms":["R1"]}],"sessions":[{"id":"S1","pin":{"room":"R1","slot":"T1"}}],"voters":[]}`,
		"close unknown":     `{"format":"sched-instance/1","rooms":$ROOMS,"slots":[{"id":"T1","closed_rooms":["R7"]}],"sessions":[],"voters":[]}`,
		"pins clash":        `{"format":"sched-instance/1","rooms":$ROOMS,"slots":$SLOTS,"sessions":[{"id":"S1","pin":{"room":"R1","slot":"T1"}},{"id":"S2","pin":{"room":"R1","slot":"T1"}}],"voters":[]}`,
	}
	for name, doc := range cases {
		_, err := ReadInstance(strings.NewReader(base(doc)))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

// TestExtensionsSolve reads the product's extensions (pins, closed rooms)
// and checks the solver honours them.
func TestExtensionsSolve(t *testing.T) {
	doc := `{"format":"sched-instance/1","name":"ext",
	 "rooms":[{"id":"big","capacity":50},{"id":"small","capacity":5}],
	 "slots":[{"id":"T1"},{"id":"T2","closed_rooms":["small"]}],
	 "sessions":[{"id":"A","pin":{"room":"small","slot":"T1"}},{"id":"B"},{"id":"C"},{"id":"D"}],
	 "voters":[{"id":"v1","votes":["A","B","C","D"]},{"id":"v2","votes":["D","B"]}]}`
	p, err := ReadInstance(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	sol, err := Solve(context.Background(), p, &SolveOptions{MaxIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if a := sol.Assignments[0]; a != (Assignment{Room: 1, Slot: 0}) {
		t.Fatalf("pinned session at %+v", a)
	}
	// Three cells for four sessions: C (fewest votes, later than A) is out.
	if len(sol.Unplaced) != 1 || sol.Unplaced[0] != 2 {
		t.Fatalf("unplaced %v, want [2]", sol.Unplaced)
	}
	var buf bytes.Buffer
	if err := WriteSolution(&buf, p, sol); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"unplaced": [`) {
		t.Fatalf("unplaced sessions not reported:\n%s", buf.String())
	}
}

func FuzzReadInstance(f *testing.F) {
	// Only the small public instance: the fuzzer minimises every new
	// interesting input, which on the 43 kB unconf file stalls it.
	for _, name := range []string{"small"} {
		b, err := os.ReadFile(filepath.Join("testdata", "sched", name+"-public.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"format":"sched-instance/1","rooms":[{"id":"R","capacity":1}],"slots":[{"id":"T","closed_rooms":["R"]}],"sessions":[{"id":"S","pin":{"room":"R","slot":"T"}}],"voters":[]}`))
	f.Add([]byte(`{"format":"sched-instance/1","rooms":[],"slots":[],"sessions":[{"id":"S"}],"voters":[{"id":"V","votes":["S"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadInstance(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ReadInstance accepted an invalid problem: %v", err)
		}
		if len(p.Sessions)*max(1, len(p.Slots)) > 5000 {
			return // keep each fuzz input cheap
		}
		sol, err := Solve(context.Background(), p, &SolveOptions{MaxIterations: 200, Workers: 1})
		if err != nil {
			t.Fatalf("Solve: %v", err)
		}
		if _, err := Evaluate(p, sol); err != nil {
			t.Fatalf("Evaluate: %v", err)
		}
	})
}
