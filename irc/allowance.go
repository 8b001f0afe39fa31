package irc

import (
	"sync"
	"time"
)

// allowance is a token bucket per key: burst at once, then one per
// interval. It keeps the CTCP answers one asker gets to a trickle.
type allowance struct {
	mu       sync.Mutex
	burst    float64
	interval time.Duration
	buckets  map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newAllowance(burst int, interval time.Duration) *allowance {
	return &allowance{burst: float64(burst), interval: interval, buckets: map[string]*bucket{}}
}

// allow takes a token for key, if one is left.
func (a *allowance) allow(key string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.buckets[key]
	if !ok {
		if len(a.buckets) > 10000 {
			clear(a.buckets) // forgetting askers only lets them ask again
		}
		b = &bucket{tokens: a.burst, last: now}
		a.buckets[key] = b
	}
	b.tokens = min(a.burst, b.tokens+float64(now.Sub(b.last))/float64(a.interval))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
