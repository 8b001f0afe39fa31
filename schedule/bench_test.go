package schedule

import (
	"context"
	"testing"
)

// BenchmarkMoves measures the search's inner loop: drawing and pricing a
// move, applying it when it does not worsen the objective.
func BenchmarkMoves(b *testing.B) {
	for _, name := range []string{"unconf", "fosdem"} {
		b.Run(name, func(b *testing.B) {
			m := newModel(readTestInstance(b, name))
			st, _ := construct(m)
			w := newWorker(st, 1, defaultParams)
			b.ResetTimer()
			for range b.N {
				if _, ok := w.draw(0); ok {
					w.apply()
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mmoves/s")
		})
	}
}

// BenchmarkSolveUnconf solves the unconference-sized instance on a fixed
// move budget (deterministic work per op).
func BenchmarkSolveUnconf(b *testing.B) {
	p := readTestInstance(b, "unconf")
	var obj int
	for range b.N {
		sol, err := Solve(context.Background(), p, &SolveOptions{MaxIterations: 2_000_000})
		if err != nil {
			b.Fatal(err)
		}
		obj = sol.Score.Objective
	}
	b.ReportMetric(float64(obj), "objective")
}

func BenchmarkEvaluateFosdem(b *testing.B) {
	p := readTestInstance(b, "fosdem")
	sol, err := Solve(context.Background(), p, &SolveOptions{MaxIterations: 1, Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := Evaluate(p, sol); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkModelFosdem(b *testing.B) {
	p := readTestInstance(b, "fosdem")
	for range b.N {
		m := newModel(p)
		construct(m)
	}
}

// BenchmarkSolveFosdem runs the FOSDEM-sized instance on a fixed move
// budget (two workers on one anneal, 20 M moves each).
func BenchmarkSolveFosdem(b *testing.B) {
	p := readTestInstance(b, "fosdem")
	var obj int
	for range b.N {
		sol, err := Solve(context.Background(), p, &SolveOptions{MaxIterations: 20_000_000})
		if err != nil {
			b.Fatal(err)
		}
		obj = sol.Score.Objective
	}
	b.ReportMetric(float64(obj), "objective")
}
