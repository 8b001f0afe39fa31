package bot

import (
	"sync"
	"time"
)

// limiter is a token bucket per person against abuse: burst lines at
// once, then one per interval. A command takes a token when it comes in;
// the lines of its answer beyond the first are charged after (charge), so
// a person asking for long answers waits longer.
type limiter struct {
	mu       sync.Mutex
	burst    int
	interval time.Duration
	buckets  map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
	told   bool // told to slow down since the bucket was last non-empty
}

func newLimiter(burst int, interval time.Duration) *limiter {
	return &limiter{burst: burst, interval: interval, buckets: map[string]*bucket{}}
}

// allow takes a token for who. If none is left it returns how long to wait,
// and whether this is the first refusal (the only one worth answering).
func (l *limiter) allow(who string, now time.Time) (wait time.Duration, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[who]
	if !ok {
		if len(l.buckets) > 10000 {
			l.sweep(now)
		}
		b = &bucket{tokens: float64(l.burst), last: now}
		l.buckets[who] = b
	}
	b.tokens = min(float64(l.burst), b.tokens+float64(now.Sub(b.last))/float64(l.interval))
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		b.told = false
		return 0, false
	}
	wait = time.Duration((1 - b.tokens) * float64(l.interval))
	first = !b.told
	b.told = true
	return wait, first
}

// charge takes n more tokens from who, going into debt if need be.
func (l *limiter) charge(who string, n int, now time.Time) {
	if n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[who]
	if !ok {
		b = &bucket{tokens: float64(l.burst), last: now}
		l.buckets[who] = b
	}
	b.tokens = min(float64(l.burst), b.tokens+float64(now.Sub(b.last))/float64(l.interval))
	b.last = now
	// A debt is bounded: one answer never silences someone for long.
	b.tokens = max(b.tokens-float64(n), -float64(l.burst))
}

// overdrawn tells whether who owes tokens (answers charged since their
// command was let in, as when several of theirs share one batch): like
// allow, it says how long to wait and whether this is the first refusal.
func (l *limiter) overdrawn(who string, now time.Time) (wait time.Duration, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[who]
	if !ok {
		return 0, false
	}
	tokens := min(float64(l.burst), b.tokens+float64(now.Sub(b.last))/float64(l.interval))
	if tokens >= 0 {
		return 0, false
	}
	first = !b.told
	b.told = true
	return time.Duration((1 - tokens) * float64(l.interval)), first
}

// sweep forgets full buckets, so the map does not grow without end.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.last))/float64(l.interval) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
}
