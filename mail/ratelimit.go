package mail

import "time"

// rateLimiter counts the mails sent to each address in a sliding window.
// It belongs to one goroutine at a time (a Sender's lane).
type rateLimiter struct {
	limit  int // < 0: no limit
	period time.Duration
	sent   map[string][]time.Time // oldest first
}

func newRateLimiter(limit int, period time.Duration) *rateLimiter {
	return &rateLimiter{limit: limit, period: period, sent: make(map[string][]time.Time)}
}

// allow tells whether addr may get a mail at now; if not, also when it
// may next.
func (r *rateLimiter) allow(addr string, now time.Time) (bool, time.Time) {
	if r.limit < 0 {
		return true, time.Time{}
	}
	l := r.prune(addr, now)
	if len(l) < r.limit {
		return true, time.Time{}
	}
	return false, l[len(l)-r.limit].Add(r.period)
}

// record notes a mail sent to addr at now.
func (r *rateLimiter) record(addr string, now time.Time) {
	if r.limit < 0 {
		return
	}
	r.sent[addr] = append(r.prune(addr, now), now)
}

// prune drops addr's sends that left the window and returns the rest.
func (r *rateLimiter) prune(addr string, now time.Time) []time.Time {
	l := r.sent[addr]
	i := 0
	for i < len(l) && !l[i].Add(r.period).After(now) {
		i++
	}
	if i == len(l) {
		delete(r.sent, addr)
		return nil
	}
	l = l[i:]
	r.sent[addr] = l
	return l
}

// sweep forgets addresses with nothing in the window, so the map does not
// grow with every address ever written to.
func (r *rateLimiter) sweep(now time.Time) {
	for addr := range r.sent {
		r.prune(addr, now)
	}
}

// retryDelay is the wait before the next try after attempts failed tries
// (0 for the first failure): base doubled per attempt up to max, then
// "equal jitter": half of it fixed, half random (jitter in [0, 1)), so
// retries of many messages spread out.
func retryDelay(attempts int, base, max time.Duration, jitter float64) time.Duration {
	d := base
	for i := 0; i < attempts && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + time.Duration(jitter*float64(d/2))
}
