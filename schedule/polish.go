package schedule

import (
	"context"
	"time"
)

// polish descends from the worker's state to a local optimum: every movable
// session is tried in every other allowed slot, relocated where there is
// room, else swapped with each session there, and the first improving move
// is taken; sweeps repeat until one finds nothing. The anneal ends at a
// low temperature but not at zero, so a few improving moves are usually
// left. It returns the improvement; deadline (zero: none) or ctx cut it
// short.
func (w *worker) polish(ctx context.Context, deadline time.Time) int {
	st := w.st
	m := st.m
	gain := 0
	// The clock is read every few sessions: each tries every move it
	// has (hundreds), and a loaded machine must not overrun the limit.
	for improved := true; improved; {
		improved = false
		for i, s := range st.movable {
			if i%4 == 0 && (ctx.Err() != nil || !deadline.IsZero() && !time.Now().Before(deadline)) {
				return gain
			}
			for _, b := range m.allowedSlots[s] {
				a := st.slot[s]
				if b == a {
					continue
				}
				if st.hasRoom(b) {
					if d, ok := w.relocate(s, a, b, -1); ok {
						w.apply()
						gain -= d
						improved = true
						continue
					}
				}
				for _, u := range st.members[b] {
					if d, ok := w.swapWith(s, u, a, b, -1); ok {
						w.apply()
						gain -= d
						improved = true
						break
					}
				}
			}
		}
	}
	return gain
}
