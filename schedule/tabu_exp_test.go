package schedule

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestTabuExperiment: anneal TABU_MOVES per worker, then tabu for TABU_SECONDS.
func TestTabuExperiment(t *testing.T) {
	f := os.Getenv("TABU_FILE")
	if f == "" {
		t.Skip("TABU_FILE not set")
	}
	moves, _ := strconv.ParseInt(os.Getenv("TABU_MOVES"), 10, 64)
	secs, _ := strconv.ParseFloat(os.Getenv("TABU_SECONDS"), 64)
	ten, _ := strconv.Atoi(os.Getenv("TABU_TENURE"))
	tr, _ := strconv.Atoi(os.Getenv("TABU_RAND"))
	seed, _ := strconv.ParseInt(os.Getenv("TABU_SEED"), 10, 64)
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ReadInstance(fh)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	tabuLog = t.Logf
	m := newModel(p)
	init, _ := construct(m)
	seeds := []uint64{mix(uint64(seed) ^ 0xd1b54a32d192ed03), mix(uint64(seed) ^ 0xa36a6465a525da06)}
	w := newWorker(init, mix(seeds[0]^0x7ea3), teamParams)
	c0 := cpuNow()
	newTeam(w, seeds).run(context.Background(), budget{maxIter: moves})
	w.st.restore(w.best)
	w.polish(context.Background(), time.Time{})
	t.Logf("anneal+polish %d cpu=%.1fs", w.st.objective(), (cpuNow() - c0).Seconds())
	c1, t1 := cpuNow(), time.Now()
	it0 := w.iters
	obj := w.tabu(context.Background(), 1<<40, time.Now().Add(time.Duration(secs*float64(time.Second))), ten, tr)
	w.st.restore(w.best)
	sc, err := Evaluate(p, &Solution{Assignments: w.st.assignments()})
	if err != nil || sc.Objective != obj {
		t.Fatalf("evaluated %v %v, tabu says %d", sc, err, obj)
	}
	t.Logf("RESULT tabu %d steps=%d cpu=%.1fs wall=%.1fs", obj, w.iters-it0, (cpuNow() - c1).Seconds(), time.Since(t1).Seconds())
}
