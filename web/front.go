package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// The front: hallway listens with fasthttp, not net/http. Calendar apps
// poll the event-wide feeds by the thousand, almost always to hear 304 Not
// Modified; net/http spends on each such request several times what
// hallway does (parsing into maps, a goroutine per connection, the
// response writer's buffers), so the front answers those addresses from
// the cache itself, without allocating, and hands every other request to
// the net/http handler (Handler) through fasthttp's adaptor. Both paths
// share the cache, the conditional-request rules and the metrics; the
// tests run the same requests through each.

// Run serves on listen (host:port) until ctx is done, then shuts down
// gracefully: requests under way get a few seconds to finish.
func (srv *Server) Run(ctx context.Context, listen string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, ln)
}

// shutdownTimeout bounds how long Serve waits for requests under way. A
// connection that has sent no request yet counts as idle, and is closed,
// only after 5 s (in fasthttp as in net/http), so the wait is longer.
const shutdownTimeout = 7 * time.Second

// Serve is Run on a listener of the caller's (one on port 0, in tests).
// It closes ln.
func (srv *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Requests run under ctx without its cancellation (shutdown lets
	// them finish), not under fasthttp's RequestCtx: a context.Context
	// of a foreign type costs a goroutine for every context derived
	// from it.
	base := context.WithoutCancel(ctx)
	h := srv.Handler()
	slow := fasthttpadaptor.NewFastHTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(base))
	}))
	fs := &fasthttp.Server{
		Handler: func(c *fasthttp.RequestCtx) {
			// A raw NUL would fail the adaptor's URL parsing (a 500); a
			// %00 reaches the handler decoded, which refuses it.
			if msg := malformed(len(c.Request.Header.PeekBytes(keyChunked)) > 0, bytes.IndexByte(c.Request.Header.RequestURI(), 0) >= 0); msg != "" {
				c.SetConnectionClose()
				c.SetStatusCode(fasthttp.StatusBadRequest)
				c.Response.Header.SetContentType("text/plain; charset=utf-8")
				c.Response.Header.Set("X-Content-Type-Options", "nosniff")
				c.Response.Header.Set("Cache-Control", "no-store")
				c.SetBodyString(msg)
				srv.metrics.count(srv.badRequests, fasthttp.StatusBadRequest)
				return
			}
			if !srv.serveFast(base, c) {
				slow(c)
			}
		},
		// fasthttp drops Transfer-Encoding once it has read the body;
		// mark the request for the handler above while it is still known
		// (and drop a mark the client sent itself).
		HeaderReceived: func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
			h.DelBytes(keyChunked)
			if h.ContentLength() == -1 {
				h.SetBytesKV(keyChunked, valChunked)
			}
			return fasthttp.RequestConfig{}
		},
		NoDefaultServerHeader: true,
		// A 304 carries no Content-Type; every other answer sets its own.
		NoDefaultContentType: true,
		// The head of a request, and the idle wait between two.
		ReadTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute,
		// A large feed to a slow phone still fits in a minute.
		WriteTimeout: time.Minute,
		// Headers up to 16 kB (net/http takes 1 MB, browsers send 1–2);
		// every route is a GET, so bodies are refused past 64 kB.
		ReadBufferSize:        16 << 10,
		MaxRequestBodySize:    64 << 10,
		SecureErrorLogMessage: true,
		CloseOnShutdown:       true,
		Logger:                fastLogger{srv.log},
	}
	srv.log.Info("serving", "addr", ln.Addr().String(), "base_url", srv.baseURL)
	done := make(chan error, 1)
	go func() { done <- fs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	srv.stopOnce.Do(func() { close(srv.stop) })
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := fs.ShutdownWithContext(sctx)
	if serr := <-done; serr != nil && err == nil {
		err = serr
	}
	return err
}

// serveFast answers a GET or HEAD of /{slug}/{file} for a fast route, or
// of a personal feed, from the cache and reports whether it did. It leaves to the net/http handler
// any other request, a path the ServeMux would clean or unescape (one
// with %, a dot segment, a double slash: none is a slug) and a failure to
// render or an unknown token, which that handler answers and logs.
func (srv *Server) serveFast(ctx context.Context, c *fasthttp.RequestCtx) bool {
	if !c.IsGet() && !c.IsHead() {
		return false
	}
	path := c.Request.Header.RequestURI()
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if len(path) < 2 || path[0] != '/' || bytes.IndexByte(path, '%') >= 0 {
		return false
	}
	slug, file, ok := bytes.Cut(path[1:], []byte{'/'})
	if !ok {
		return false
	}
	st := srv.bySlug[string(slug)]
	if st == nil {
		return false
	}
	var e *entry
	var err error
	var counts *routeCounts
	if string(file) == "live" {
		return srv.serveLiveFast(ctx, c, st)
	}
	if fr := srv.fast[string(file)]; fr != nil {
		e, err = fr.get(ctx, fr.pattern, st)
		counts = fr.counts
	} else if tok, ok := bytes.CutPrefix(file, []byte("feed/")); ok {
		token, ok := bytes.CutSuffix(tok, []byte(".ics"))
		if !ok || len(token) == 0 || bytes.IndexByte(token, '/') >= 0 {
			return false
		}
		e, err = srv.personalEntry(ctx, patternPersonal, st, view(token))
		counts = srv.personalCounts
	} else {
		return false
	}
	if err != nil {
		return false
	}
	srv.metrics.count(counts, writeFast(c, e))
	return true
}

// Header names as fasthttp spells them, and values the front sends.
var (
	keyETag         = []byte("Etag")
	keyCacheControl = []byte("Cache-Control")
	keyVary         = []byte("Vary")
	keyLastModified = []byte("Last-Modified")
	keyNoSniff      = []byte("X-Content-Type-Options")
	valVary         = []byte(hdrVary[0])
	valNoSniff      = []byte(hdrNoSniff[0])
	valGzip         = []byte(hdrGzip[0])
	// keyChunked marks a request that came chunked (see Serve).
	keyChunked = []byte("Hallway-Transfer-Encoding")
	valChunked = []byte("chunked")
)

// writeFast is serve for the front: the same headers and rules. The
// header values are the entry's, set as they are (they hold no CR or LF).
func writeFast(c *fasthttp.RequestCtx, e *entry) int {
	req, h := &c.Request.Header, &c.Response.Header
	h.SetCanonical(keyETag, e.fast.etag)
	h.SetCanonical(keyCacheControl, e.fast.cache)
	h.SetCanonical(keyVary, valVary)
	if e.fast.lastMod != nil {
		h.SetCanonical(keyLastModified, e.fast.lastMod)
	}
	var buf [4]string
	if e.notModified(views(buf[:0], req.PeekAll("If-None-Match")), view(req.Peek("If-Modified-Since"))) {
		c.SetStatusCode(fasthttp.StatusNotModified)
		return fasthttp.StatusNotModified
	}
	h.SetContentTypeBytes(e.fast.ctype)
	h.SetCanonical(keyNoSniff, valNoSniff)
	body := e.body
	if e.gz != nil && acceptsGzip(views(buf[:0], req.PeekAll("Accept-Encoding"))) {
		body = e.gz
		h.SetContentEncodingBytes(valGzip)
	}
	// The entry's bytes are never written to, so the response may point
	// at them. For a HEAD, fasthttp sends the length and not the body.
	c.Response.SetBodyRaw(body)
	return fasthttp.StatusOK
}

// view is b as a string without a copy. The string lives only while
// fasthttp keeps the request, so it must not be kept.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// views appends the views of bs to dst.
func views(dst []string, bs [][]byte) []string {
	for _, b := range bs {
		dst = append(dst, view(b))
	}
	return dst
}

// fastLogger passes fasthttp's messages (a bad request, a connection
// error) to the log at debug level: they are the clients' doing.
type fastLogger struct{ log *slog.Logger }

func (l fastLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "http")
}
