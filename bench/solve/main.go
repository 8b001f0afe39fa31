// Command solve is a benchmark-only driver for the scheduler: it reads a
// sched-instance/1 file, solves it and writes a sched-solution/1 file.
// bench/solver.sh uses it until `hallway schedule solve` is wired in.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/hallwayhq/hallway/schedule"
)

func main() {
	limit := flag.Duration("time", 10*time.Second, "time limit")
	iters := flag.Int64("iters", 0, "iteration budget per worker (0: time only)")
	seed := flag.Int64("seed", 1, "random seed")
	workers := flag.Int("workers", 0, "parallel searches (0: default)")
	out := flag.String("o", "", "solution file (default stdout)")
	verbose := flag.Bool("v", false, "print progress to stderr")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: solve [-time D] [-iters N] [-seed N] [-workers N] [-o FILE] INSTANCE.json")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out, &schedule.SolveOptions{
		Seed: *seed, TimeLimit: *limit, MaxIterations: *iters, Workers: *workers,
	}, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "solve:", err)
		os.Exit(1)
	}
}

func run(in, out string, opt *schedule.SolveOptions, verbose bool) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	p, err := schedule.ReadInstance(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if verbose {
		opt.Progress = func(el time.Duration, s schedule.Score) {
			fmt.Fprintf(os.Stderr, "%8.3fs %v\n", el.Seconds(), s)
		}
	}
	start := time.Now()
	sol, err := schedule.Solve(context.Background(), p, opt)
	if err != nil {
		return err
	}
	el := time.Since(start)
	w := os.Stdout
	if out != "" {
		if w, err = os.Create(out); err != nil {
			return err
		}
		defer w.Close()
	}
	if err := schedule.WriteSolution(w, p, sol); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %v iterations=%d wall=%.2fs\n", p.Name, sol.Score, sol.Iterations, el.Seconds())
	return nil
}
