package web

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Cache-Control values. Feeds change only with a release; pages mark
// what is on now, so they go stale sooner. Personal feeds must not sit in
// a shared cache: their address is the only secret.
const (
	cacheFeed     = "public, max-age=300"
	cachePersonal = "private, max-age=300"
	cachePage     = "public, max-age=60"
)

// Content types.
const (
	typeCalendar = "text/calendar; charset=utf-8"
	typeJSON     = "application/json"
	typeXML      = "application/xml"
	typeText     = "text/plain; charset=utf-8"
	typeHTML     = "text/html; charset=utf-8"
)

// entry is one rendered response, ready to be sent again and again.
type entry struct {
	key  version // the data it was made from
	body []byte
	gz   []byte // body gzipped, nil when that does not pay
	etag string
	// lastMod is truncated to the second, as HTTP dates are.
	lastMod time.Time
	// Header values, made once: setting them is then a map assignment.
	hdrType, hdrETag, hdrLastMod, hdrCache []string
	hdrLength, hdrGzLength                 []string
	// The same as bytes, for the front (front.go).
	fast struct{ etag, cache, lastMod, ctype []byte }
}

// version names the data an entry was made from; an entry is reused
// while its version is the current one.
type version struct {
	release int    // the latest release version
	amend   int64  // the latest amendment of the schedule
	data    uint64 // the proposals' hash, for pages that show them
	extra   int64  // the phase of the day, a selection's hash, …
}

// entry is newEntry with Last-Modified no later than now: a date in the
// future is replaced by the time of the answer (RFC 9110 §8.8.2.1), and
// a schedule made with a clock ahead of ours must not claim one.
func (srv *Server) entry(key version, body []byte, contentType, cacheControl string, lastMod time.Time) *entry {
	if now := srv.now(); lastMod.After(now) {
		lastMod = now
	}
	return newEntry(key, body, contentType, cacheControl, lastMod)
}

// minGzip is the smallest body worth compressing.
const minGzip = 512

// newEntry prepares body to be served.
func newEntry(key version, body []byte, contentType, cacheControl string, lastMod time.Time) *entry {
	sum := sha256.Sum256(body)
	e := &entry{
		key:       key,
		body:      body,
		etag:      `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
		lastMod:   lastMod.UTC().Truncate(time.Second),
		hdrType:   []string{contentType},
		hdrCache:  []string{cacheControl},
		hdrLength: []string{strconv.Itoa(len(body))},
	}
	e.hdrETag = []string{e.etag}
	if !lastMod.IsZero() {
		e.hdrLastMod = []string{e.lastMod.Format(http.TimeFormat)}
		e.fast.lastMod = []byte(e.hdrLastMod[0])
	}
	e.fast.etag, e.fast.cache, e.fast.ctype = []byte(e.etag), []byte(cacheControl), []byte(contentType)
	if len(body) >= minGzip {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if b.Len() < len(body) {
			e.gz = b.Bytes()
			e.hdrGzLength = []string{strconv.Itoa(len(e.gz))}
		}
	}
	return e
}

var (
	hdrVary    = []string{"Accept-Encoding"}
	hdrGzip    = []string{"gzip"}
	hdrNoSniff = []string{"nosniff"}
)

// serve answers r with e: 304 when the client's copy is current, else
// the body, gzipped if the client takes it. The ETag is the same for both
// encodings: it names the content, the server does no range requests,
// and Vary keeps caches from mixing them up.
func (srv *Server) serve(w http.ResponseWriter, r *http.Request, e *entry) {
	h := w.Header()
	h["Etag"] = e.hdrETag
	h["Cache-Control"] = e.hdrCache
	h["Vary"] = hdrVary
	if e.hdrLastMod != nil {
		h["Last-Modified"] = e.hdrLastMod
	}
	if e.notModified(r.Header["If-None-Match"], r.Header.Get("If-Modified-Since")) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = e.hdrType
	h["X-Content-Type-Options"] = hdrNoSniff
	body := e.body
	if e.gz != nil && acceptsGzip(r.Header["Accept-Encoding"]) {
		body = e.gz
		h["Content-Encoding"] = hdrGzip
		h["Content-Length"] = e.hdrGzLength
	} else {
		h["Content-Length"] = e.hdrLength
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// notModified evaluates a request's If-None-Match values, or its
// If-Modified-Since when it has no If-None-Match (RFC 9110 §13.2.2, steps
// 3 and 4, for GET and HEAD).
func (e *entry) notModified(inm []string, ims string) bool {
	if len(inm) > 0 {
		for _, v := range inm {
			if etagListMatches(v, e.etag) {
				return true
			}
		}
		return false
	}
	if ims == "" || e.lastMod.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return false // an invalid date is ignored (§13.1.3)
	}
	return !e.lastMod.After(t)
}

// etagListMatches reports whether an If-None-Match field value ("*" or a
// list of entity tags, RFC 9110 §13.1.2) matches etag by the weak
// comparison (§8.8.3.2): W/ prefixes are ignored. Entity tags may hold
// commas, so the list is scanned, not split.
func etagListMatches(list, etag string) bool {
	opaque := etag // ours is never weak
	for i := 0; i < len(list); {
		switch c := list[i]; {
		case c == ' ' || c == '\t' || c == ',':
			i++
			continue
		case c == '*':
			return true
		}
		rest := list[i:]
		if strings.HasPrefix(rest, "W/") {
			rest = rest[2:]
			i += 2
		}
		if len(rest) == 0 || rest[0] != '"' {
			return false // malformed: stop trusting the rest
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return false
		}
		if rest[:end+2] == opaque {
			return true
		}
		i += end + 2
	}
	return false
}

// acceptsGzip reports whether Accept-Encoding values allow gzip: listed
// as gzip, x-gzip or *, without q=0 (RFC 9110 §12.5.3).
func acceptsGzip(values []string) bool {
	star, gz := false, -1
	for _, v := range values {
		for len(v) > 0 {
			var part string
			part, v, _ = strings.Cut(v, ",")
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.TrimSpace(coding)
			ok := qNonZero(params)
			switch {
			case strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "x-gzip"):
				if ok {
					gz = 1
				} else if gz < 0 {
					gz = 0
				}
			case coding == "*":
				star = ok
			}
		}
	}
	if gz >= 0 {
		return gz == 1
	}
	return star
}

// qNonZero reports whether a coding's parameters leave its weight above 0.
func qNonZero(params string) bool {
	for len(params) > 0 {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		return err == nil && q > 0
	}
	return true
}

// slot holds the current entry of one route. Renders of a route take
// turns, so a new release polled by thousands renders once.
type slot struct {
	mu sync.Mutex
	e  atomic.Pointer[entry]
}

// cached returns the entry of a route for key, rendering it if needed.
func (srv *Server) cached(s *slot, route string, key version, render func() (*entry, error)) (*entry, error) {
	if e := s.e.Load(); e != nil && e.key == key {
		return e, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.e.Load(); e != nil && e.key == key {
		return e, nil
	}
	start := time.Now()
	e, err := render()
	if err != nil {
		return nil, err
	}
	srv.metrics.rendered(route, time.Since(start))
	e.key = key
	// A request that read the versions just before a release must not
	// push the new entry out: the slot only moves forward.
	if cur := s.e.Load(); cur == nil || cur.key.release < key.release || cur.key.release == key.release && cur.key.amend <= key.amend {
		s.e.Store(e)
	}
	return e, nil
}

// slot returns the cache slot of a route of the event.
func (st *eventState) slot(key string) *slot {
	if s, ok := st.slots.Load(key); ok {
		return s.(*slot)
	}
	s, _ := st.slots.LoadOrStore(key, new(slot))
	return s.(*slot)
}

// lru is a small least-recently-used map for the personal feeds, whose
// number grows with the attendees.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recent; values are *lruItem
	items map[string]*list.Element
}

type lruItem struct {
	key string
	val *personalFeed
}

// personalCacheSize bounds the personal feeds kept rendered.
const personalCacheSize = 4096

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *lru) get(key string) *personalFeed {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*lruItem).val
	}
	return nil
}

func (c *lru) put(key string, val *personalFeed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value.(*lruItem).val = val
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&lruItem{key, val})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruItem).key)
	}
}

func (c *lru) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.Remove(el)
		delete(c.items, key)
	}
}
