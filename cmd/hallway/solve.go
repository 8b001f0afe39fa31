package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hallwayhq/hallway/schedule"
)

// runScheduleSolve implements
//
//	hallway schedule solve [-time D] [-seed N] [-iters N] [-previous SOLUTION.json] [-retime-weight W] [-o FILE] INSTANCE.json
//
// It reads a sched-instance/1 file, solves it and writes the
// sched-solution/1 document to stdout (or -o FILE), with a one-line summary
// of the score on stderr. With -previous, the instance is a revision of the
// one that solution was for: the solver keeps what it can of it, paying
// -retime-weight for every session put at another time, and the meta
// reports how many sessions moved.
func runScheduleSolve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hallway schedule solve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	limit := fs.Duration("time", schedule.DefaultTimeLimit, "wall-clock time limit of the search")
	seed := fs.Int64("seed", 1, "random seed")
	iters := fs.Int64("iters", 0, "moves per worker; with it the result depends only on the seed (0: time only)")
	out := fs.String("o", "", "write the solution to `FILE` instead of stdout")
	previous := fs.String("previous", "", "revise the sched-solution/1 `FILE` of an earlier version of the instance, moving as little as pays")
	retime := fs.Int("retime-weight", schedule.DefaultRetimeWeight, "with -previous: the cost of moving a session to another time, in objective units")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hallway schedule solve [-time D] [-seed N] [-iters N] [-previous SOLUTION.json] [-retime-weight W] [-o FILE] INSTANCE.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("schedule solve: want exactly one instance file")
	}
	if *limit <= 0 && *iters <= 0 {
		return errors.New("schedule solve: -time must be positive (or give -iters)")
	}

	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("schedule solve: %w", err)
	}
	p, err := schedule.ReadInstance(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("schedule solve: %s: %w", path, err)
	}
	if *previous != "" {
		if *retime < 0 {
			return errors.New("schedule solve: -retime-weight must not be negative")
		}
		f, err := os.Open(*previous)
		if err != nil {
			return fmt.Errorf("schedule solve: %w", err)
		}
		p.Previous, err = schedule.ReadPrevious(f, p)
		f.Close()
		if err != nil {
			return fmt.Errorf("schedule solve: %s: %w", *previous, err)
		}
		p.RetimeWeight = *retime
	}

	opt := &schedule.SolveOptions{Seed: *seed, TimeLimit: *limit, MaxIterations: *iters}
	if *limit <= 0 {
		opt.TimeLimit = 0
	}
	start := time.Now()
	sol, err := schedule.Solve(ctx, p, opt)
	if err != nil {
		return fmt.Errorf("schedule solve: %w", err)
	}
	elapsed := time.Since(start)

	if *out == "" {
		if err := schedule.WriteSolution(stdout, p, sol); err != nil {
			return fmt.Errorf("schedule solve: %w", err)
		}
	} else if err := writeSolutionFile(*out, p, sol); err != nil {
		return fmt.Errorf("schedule solve: %w", err)
	}
	optimal := ""
	if sol.Optimal {
		optimal = " (optimal)"
	}
	moved := ""
	if len(p.Previous) > 0 {
		moved = fmt.Sprintf(" moved=%d retimed=%d dropped=%d", sol.Score.Moved, sol.Score.Retimed, sol.Score.Dropped)
	}
	fmt.Fprintf(stderr, "%s: %v%s%s in %.1fs, %d moves\n", p.Name, sol.Score, moved, optimal, elapsed.Seconds(), sol.Iterations)
	return nil
}

// writeSolutionFile writes through a temporary file so that an interrupted
// run never leaves a truncated solution behind.
func writeSolutionFile(path string, p *schedule.Problem, sol *schedule.Solution) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := schedule.WriteSolution(f, p, sol); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
