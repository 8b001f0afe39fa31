package web

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// metrics counts requests by route and status, 304s, and render times,
// written out in the Prometheus text format (version 0.0.4) by hand.
type metrics struct {
	mu      sync.Mutex
	routes  map[string]*routeCounts // by route pattern, made in routes()
	renders map[string]*histogram
	// notModified counts 304 answers over all routes.
	notModified atomic.Uint64
	// streams is the number of live streams open now.
	streams atomic.Int64
}

// routeCounts counts one route's answers by status code, without a lock:
// the feeds' hot path is a few hundred nanoseconds.
type routeCounts struct {
	route string
	codes [500]atomic.Uint64 // index: status code - 100
}

func (c *routeCounts) add(code int) {
	if code < 100 || code > 599 {
		code = 599
	}
	c.codes[code-100].Add(1)
}

// renderBuckets are the upper bounds, in seconds, of the render-time
// histogram: from a small page to a FOSDEM-sized feed on a slow machine.
var renderBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{routes: map[string]*routeCounts{}, renders: map[string]*histogram{}}
}

// statusWriter remembers the status of a response.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// route returns the counters of a route, made on first use.
func (m *metrics) route(route string) *routeCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.routes[route]
	if c == nil {
		c = &routeCounts{route: route}
		m.routes[route] = c
	}
	return c
}

// wrap counts the requests of a route.
func (m *metrics) wrap(route string, h http.Handler) http.Handler {
	c := m.route(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		m.count(c, sw.code)
	})
}

// count records one answer of a route.
func (m *metrics) count(c *routeCounts, code int) {
	if code == 0 {
		code = http.StatusOK
	}
	if code == http.StatusNotModified {
		m.notModified.Add(1)
	}
	c.add(code)
}

// rendered records how long rendering a route's response took.
func (m *metrics) rendered(route string, d time.Duration) {
	s := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.renders[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(renderBuckets)+1)}
		m.renders[route] = h
	}
	i, _ := slices.BinarySearch(renderBuckets, s)
	h.counts[i]++
	h.sum += s
	h.n++
}

// write renders the metrics in the Prometheus text format, sorted so that
// two scrapes are easy to compare.
func (m *metrics) write(b *strings.Builder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b.WriteString("# HELP hallway_http_requests_total HTTP requests by route pattern and status code.\n")
	b.WriteString("# TYPE hallway_http_requests_total counter\n")
	names := make([]string, 0, len(m.routes))
	for r := range m.routes {
		names = append(names, r)
	}
	slices.Sort(names)
	for _, r := range names {
		c := m.routes[r]
		for i := range c.codes {
			if n := c.codes[i].Load(); n > 0 {
				fmt.Fprintf(b, "hallway_http_requests_total{route=%s,code=\"%d\"} %d\n", label(r), i+100, n)
			}
		}
	}
	b.WriteString("# HELP hallway_http_not_modified_total Answers of 304 Not Modified, over all routes.\n")
	b.WriteString("# TYPE hallway_http_not_modified_total counter\n")
	fmt.Fprintf(b, "hallway_http_not_modified_total %d\n", m.notModified.Load())
	b.WriteString("# HELP hallway_live_streams Live board streams (Server-Sent Events) open now.\n")
	b.WriteString("# TYPE hallway_live_streams gauge\n")
	fmt.Fprintf(b, "hallway_live_streams %d\n", m.streams.Load())
	b.WriteString("# HELP hallway_web_render_seconds Time to render a response that was not cached, by route pattern.\n")
	b.WriteString("# TYPE hallway_web_render_seconds histogram\n")
	routes := make([]string, 0, len(m.renders))
	for r := range m.renders {
		routes = append(routes, r)
	}
	slices.Sort(routes)
	for _, r := range routes {
		h := m.renders[r]
		var cum uint64
		for i, c := range h.counts {
			cum += c
			le := "+Inf"
			if i < len(renderBuckets) {
				le = strconv.FormatFloat(renderBuckets[i], 'g', -1, 64)
			}
			fmt.Fprintf(b, "hallway_web_render_seconds_bucket{route=%s,le=\"%s\"} %d\n", label(r), le, cum)
		}
		fmt.Fprintf(b, "hallway_web_render_seconds_sum{route=%s} %s\n", label(r), strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(b, "hallway_web_render_seconds_count{route=%s} %d\n", label(r), h.n)
	}
}

// label quotes a label value: backslash, quote and newline escaped.
func label(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

func (srv *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if !srv.publicMetrics && !fromLoopback(r) {
		plain(w, r, http.StatusForbidden, "metrics are served on loopback only (web.public_metrics opens them)\n")
		return
	}
	var b strings.Builder
	srv.metrics.write(&b)
	if srv.leadership != nil {
		leading, term, _, takeovers := srv.leadership.Role()
		b.WriteString("# HELP hallway_lease_takeovers_total Times this instance took the leader's lease.\n")
		b.WriteString("# TYPE hallway_lease_takeovers_total counter\n")
		fmt.Fprintf(&b, "hallway_lease_takeovers_total %d\n", takeovers)
		b.WriteString("# HELP hallway_leader Whether this instance leads (runs IRC, mail and the clock): 1 or 0.\n")
		b.WriteString("# TYPE hallway_leader gauge\n")
		fmt.Fprintf(&b, "hallway_leader %d\n", map[bool]int{true: 1}[leading])
		b.WriteString("# HELP hallway_lease_term The leader's lease term as last seen; it rises at every takeover.\n")
		b.WriteString("# TYPE hallway_lease_term gauge\n")
		fmt.Fprintf(&b, "hallway_lease_term %d\n", term)
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodHead {
		w.Write([]byte(b.String()))
	}
}

// fromLoopback reports whether a request came from this machine and not
// through a proxy on it: a reverse proxy on loopback would otherwise hand
// every visitor the metrics.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return false
	}
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	return true
}
