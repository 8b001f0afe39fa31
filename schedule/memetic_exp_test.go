package schedule

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestMemeticExperiment compares search variants at an equal move budget.
// MEMEXP_DIR: instance files; MEMEXP_MOVES: moves per worker; MEMEXP_VARIANTS.
func TestMemeticExperiment(t *testing.T) {
	dir := os.Getenv("MEMEXP_DIR")
	if dir == "" {
		t.Skip("MEMEXP_DIR not set")
	}
	moves, _ := strconv.ParseInt(os.Getenv("MEMEXP_MOVES"), 10, 64)
	seedsEnv := os.Getenv("MEMEXP_SEEDS")
	if seedsEnv == "" {
		seedsEnv = "1,2"
	}
	variants := map[string]memeticConfig{
		"agree4":  {parents: 4, parentShare: 0.5, childMoves: moves / 16, childT0: 1.0, childTEnd: 0.3},
		"agree2":  {parents: 2, parentShare: 0.5, childMoves: moves / 8, childT0: 1.0, childTEnd: 0.3},
		"gpx4":    {parents: 4, parentShare: 0.5, childMoves: moves / 16, childT0: 1.0, childTEnd: 0.3, gpx: true},
		"agree4h": {parents: 4, parentShare: 0.5, childMoves: moves / 16, childT0: 1.5, childTEnd: 0.3},
		"gpx4h":   {parents: 4, parentShare: 0.5, childMoves: moves / 16, childT0: 1.5, childTEnd: 0.3, gpx: true},
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ReadInstance(fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, sd := range strings.Split(seedsEnv, ",") {
			seed, _ := strconv.ParseInt(sd, 10, 64)
			for _, v := range strings.Split(os.Getenv("MEMEXP_VARIANTS"), ",") {
				c0, w0 := cpuNow(), time.Now()
				var obj int
				if v == "team" {
					sol, err := Solve(context.Background(), p, &SolveOptions{Seed: seed, MaxIterations: moves})
					if err != nil {
						t.Fatal(err)
					}
					obj = sol.Score.Objective
				} else {
					cfg, ok := variants[v]
					if !ok {
						// kind:parents:share:childDiv:t0, kind a (agreement) or g (gpx)
						f := strings.Split(v, ":")
						if len(f) != 5 {
							t.Fatalf("variant %q", v)
						}
						n, _ := strconv.Atoi(f[1])
						sh, _ := strconv.ParseFloat(f[2], 64)
						dv, _ := strconv.ParseInt(f[3], 10, 64)
						t0, _ := strconv.ParseFloat(f[4], 64)
						cfg = memeticConfig{parents: n, parentShare: sh, childMoves: moves / dv, childT0: t0, childTEnd: 0.3, gpx: f[0] == "g"}
					}
					m := newModel(p)
					init, unplaced := construct(m)
					if len(unplaced) > 0 {
						t.Fatal("unplaced")
					}
					seeds := make([]uint64, 2)
					for i := range seeds {
						seeds[i] = mix(uint64(seed) ^ (uint64(i+1) * 0xd1b54a32d192ed03))
					}
					if os.Getenv("MEMEXP_LOG") != "" {
						cfg.logf = t.Logf
					}
					b := budget{maxIter: moves, target: m.ow * m.overflowBound(init.movable)}
					slots, o, _ := memetic(context.Background(), init, seeds, teamParams, b, cfg)
					init.restore(slots)
					if init.objective() != o {
						t.Fatalf("objective %d != %d", init.objective(), o)
					}
					sol := &Solution{Assignments: init.assignments()}
					sc, err := Evaluate(p, sol)
					if err != nil {
						t.Fatal(err)
					}
					if sc.Objective != o {
						t.Fatalf("evaluated %d != %d", sc.Objective, o)
					}
					obj = o
				}
				la, _ := os.ReadFile("/proc/loadavg")
				t.Logf("RESULT %s seed=%d %s obj=%d cpu=%.1fs wall=%.1fs load=%s", filepath.Base(f), seed, v, obj,
					(cpuNow() - c0).Seconds(), time.Since(w0).Seconds(), strings.Fields(string(la))[0])
			}
		}
	}
}
