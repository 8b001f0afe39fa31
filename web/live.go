package web

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// The live stream: GET /{slug}/live?view=board (or wall, or room/NAME)
// is a Server-Sent Events stream (WHATWG HTML §9.2) of the view's
// fragment, sent whenever it changes. One watcher goroutine per event,
// running while anyone watches, reads the store every liveTick (the same
// version reads the pages make, so a quiet event costs two indexed
// queries and the proposals) and renders each watched view once per
// change; every screen is then sent the same bytes. A slow screen skips
// to the latest frame: it never holds the others up, and nothing queues.
// The front hands a stream's connection over to a goroutine of its own
// (a hijack): fasthttp's net/http adaptor buffers whole responses.

const (
	// liveTick is how often the watcher reads the store: a change is on
	// every screen within about this, plus the render.
	liveTick = 250 * time.Millisecond
	// livePing keeps proxies from closing a quiet stream and lets a
	// screen see that its stream still works (it says "offline" after
	// three missed).
	livePing = 15 * time.Second
	// liveWriteTimeout drops a screen that takes no data for this long.
	liveWriteTimeout = 10 * time.Second
	// liveRetry is the reconnection delay the stream asks of browsers.
	liveRetry = 2000 // ms
)

// live is an event's streams: the watched views and their latest frames.
type live struct {
	mu       sync.Mutex
	views    map[string]*liveView
	watching bool
	seq      atomic.Uint64 // frame numbers, never reused
}

// liveView is one view's latest frame and the streams that want it.
type liveView struct {
	frame atomic.Pointer[frame]
	subs  map[chan struct{}]struct{} // under live.mu
}

// frame is a view's fragment at one version, ready to be sent.
type frame struct {
	key     version
	seq     uint64
	content []byte
	sse     []byte // the SSE event carrying content
	made    time.Time
}

// sseFrame encodes content as an "update" event: one data line per line.
func sseFrame(seq uint64, content []byte) []byte {
	var b bytes.Buffer
	b.WriteString("id: ")
	b.WriteString(strconv.FormatUint(seq, 10))
	b.WriteString("\nevent: update\n")
	text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(content))
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		b.WriteString("data: ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}

var (
	ssePing  = []byte("event: ping\ndata:\n\n")
	sseRetry = []byte("retry: " + strconv.Itoa(liveRetry) + "\n\n")
)

// subscribe adds a stream of view and reports whether the watcher must
// be started.
func (l *live) subscribe(view string) (*liveView, chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.views == nil {
		l.views = map[string]*liveView{}
	}
	lv := l.views[view]
	if lv == nil {
		lv = &liveView{subs: map[chan struct{}]struct{}{}}
		l.views[view] = lv
	}
	ch := make(chan struct{}, 1)
	lv.subs[ch] = struct{}{}
	start := !l.watching
	l.watching = true
	return lv, ch, start
}

func (l *live) unsubscribe(view string, ch chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lv := l.views[view]; lv != nil {
		delete(lv.subs, ch)
	}
}

// watched lists the views someone watches. With none, the watcher is
// done: it forgets the frames (the next watcher starts from the store)
// and reports false.
func (l *live) watched() ([]string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for name, lv := range l.views {
		if len(lv.subs) > 0 {
			out = append(out, name)
		} else {
			delete(l.views, name)
		}
	}
	if len(out) == 0 {
		l.watching = false
		return nil, false
	}
	return out, true
}

// publish stores f as view's frame and wakes its streams.
func (l *live) publish(lv *liveView, f *frame) {
	lv.frame.Store(f)
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range lv.subs {
		select {
		case ch <- struct{}{}:
		default: // already woken; it reads the latest frame
		}
	}
}

// watch keeps an event's watched views current until nobody watches.
func (srv *Server) watch(st *eventState) {
	tick := time.NewTicker(liveTick)
	defer tick.Stop()
	for {
		views, ok := st.live.watched()
		if !ok {
			return
		}
		srv.refreshLive(st, views)
		select {
		case <-tick.C:
		case <-srv.stop:
			return
		}
	}
}

// refreshLive renders the views whose version changed and sends them.
func (srv *Server) refreshLive(st *eventState, views []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rv, pv, err := srv.liveData(ctx, st, liveTick/2)
	if err != nil {
		srv.log.Error("live board: read", "event", st.ev.Slug, "err", err)
		return
	}
	now := srv.now()
	for _, view := range views {
		st.live.mu.Lock()
		lv := st.live.views[view]
		st.live.mu.Unlock()
		if lv == nil {
			continue
		}
		key, render := srv.fragment(st, view, rv, pv, now)
		old := lv.frame.Load()
		if old != nil && old.key == key {
			continue
		}
		start := time.Now()
		content, err := render()
		if err != nil {
			srv.log.Error("live board: render", "event", st.ev.Slug, "view", view, "err", err)
			continue
		}
		srv.metrics.rendered("live:"+view, time.Since(start))
		if old != nil && bytes.Equal(old.content, content) {
			c := *old
			c.key = key
			lv.frame.Store(&c) // nothing new to send
			continue
		}
		seq := st.live.seq.Add(1)
		st.live.publish(lv, &frame{key: key, seq: seq, content: content, sse: sseFrame(seq, content), made: time.Now()})
	}
}

// liveFrame is view's fragment at the given data: the watcher's frame
// when it is of this version, else rendered for the caller alone (only
// the watcher publishes, so screens never step back to older data).
func (srv *Server) liveFrame(st *eventState, view string, rv *releaseView, pv *proposalView, now time.Time) (*frame, error) {
	key, render := srv.fragment(st, view, rv, pv, now)
	st.live.mu.Lock()
	lv := st.live.views[view]
	st.live.mu.Unlock()
	if lv != nil {
		if f := lv.frame.Load(); f != nil && f.key == key {
			return f, nil
		}
	}
	content, err := render()
	if err != nil {
		return nil, err
	}
	return &frame{key: key, content: content}, nil
}

// stream sends view's frames to one screen until done, srv.stop or a
// failed write.
func (srv *Server) stream(done <-chan struct{}, st *eventState, view string, write func([]byte) error) {
	lv, ch, start := st.live.subscribe(view)
	defer st.live.unsubscribe(view, ch)
	srv.metrics.streams.Add(1)
	defer srv.metrics.streams.Add(-1)
	if start {
		go srv.watch(st)
	}
	if write(sseRetry) != nil {
		return
	}
	ping := time.NewTicker(livePing)
	defer ping.Stop()
	var sent uint64
	for {
		if f := lv.frame.Load(); f != nil && f.seq != sent {
			if write(f.sse) != nil {
				return
			}
			sent = f.seq
		}
		select {
		case <-ch:
		case <-ping.C:
			if write(ssePing) != nil {
				return
			}
		case <-done:
			return
		case <-srv.stop:
			return
		}
	}
}

// liveViewName checks a ?view= value: "board", "wall" or "room/NAME" of
// one of the event's rooms.
func (srv *Server) liveViewName(ctx context.Context, st *eventState, view string) (bool, error) {
	switch view {
	case "board", "wall":
		return true, nil
	}
	room, ok := strings.CutPrefix(view, "room/")
	if !ok {
		return false, nil
	}
	rv, err := srv.releases(ctx, st)
	if err != nil {
		return false, err
	}
	return st.hasRoom(room, rv), nil
}

const badView = "not found: the live stream is /{slug}/live?view=board, ?view=wall or ?view=room/ROOM\n"

// serveLive is the stream for net/http (tests, and the front's escaped
// paths' fallback, which buffers).
func (srv *Server) serveLive(w http.ResponseWriter, r *http.Request, st *eventState) {
	view := r.URL.Query().Get("view")
	ok, err := srv.liveViewName(r.Context(), st, view)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	if !ok {
		plain(w, r, http.StatusNotFound, badView)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(w)
	srv.stream(r.Context().Done(), st, view, func(p []byte) error {
		rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout)) // not every writer has one
		if _, err := w.Write(p); err != nil {
			return err
		}
		return rc.Flush()
	})
}

// liveHead is the head of a stream's response on a hijacked connection:
// the body runs until the connection closes.
var liveHead = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n" +
	"X-Accel-Buffering: no\r\nConnection: close\r\n\r\n")

// serveLiveFast takes a stream's connection from fasthttp. It reports
// false for what the net/http handler answers (a bad view, a HEAD).
func (srv *Server) serveLiveFast(ctx context.Context, c *fasthttp.RequestCtx, st *eventState) bool {
	if !c.IsGet() {
		return false
	}
	view := string(c.QueryArgs().Peek("view")) // unescaped
	if ok, err := srv.liveViewName(ctx, st, view); err != nil || !ok {
		return false
	}
	c.HijackSetNoResponse(true)
	c.Hijack(func(conn net.Conn) {
		// A screen sends nothing after its request: a read returns when
		// it goes away, which frees its stream at once rather than at the
		// next ping. The front's read deadline is for requests, not this.
		conn.SetReadDeadline(time.Time{})
		gone := make(chan struct{})
		go func() {
			var b [1]byte
			conn.Read(b[:])
			close(gone)
		}()
		write := func(p []byte) error {
			conn.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
			_, err := conn.Write(p)
			return err
		}
		if write(liveHead) != nil {
			return
		}
		srv.stream(gone, st, view, write)
	})
	return true
}
