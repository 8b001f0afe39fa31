package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks
// measure the handler.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// benchServe runs the handler on one request over and over.
func benchServe(b *testing.B, header ...string) {
	f := newFixture(&testing.T{})
	f.srv.fresh = time.Second
	r := httptest.NewRequest("GET", "/"+slug+"/schedule.ics", nil)
	w := &discardWriter{h: http.Header{}}
	f.srv.Handler().ServeHTTP(w, r)
	etag := w.h.Get("Etag")
	for i := 0; i+1 < len(header); i += 2 {
		v := header[i+1]
		if v == "ETAG" {
			v = etag
		}
		r.Header.Set(header[i], v)
	}
	h := f.srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkFeed200 is a cached 200 of the event's feed, handler only.
func BenchmarkFeed200(b *testing.B) { benchServe(b) }

// BenchmarkFeed304 is a 304 of the event's feed, handler only.
func BenchmarkFeed304(b *testing.B) { benchServe(b, "If-None-Match", "ETAG") }

// benchFront runs the front's fast path on one request over and over.
func benchFront(b *testing.B, path func(*fixture) string, conditional bool) {
	f := newFixture(&testing.T{})
	f.srv.fresh = time.Second
	ctx := context.Background()
	var c fasthttp.RequestCtx
	c.Request.Header.SetMethod("GET")
	c.Request.Header.SetRequestURI(path(f))
	if !f.srv.serveFast(ctx, &c) {
		b.Fatalf("%s: not on the fast path", path(f))
	}
	if conditional {
		c.Request.Header.Set("If-None-Match", string(c.Response.Header.Peek("ETag")))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.Response.Reset()
		f.srv.serveFast(ctx, &c)
	}
	if want := map[bool]int{false: 200, true: 304}[conditional]; c.Response.StatusCode() != want {
		b.Fatalf("status %d, want %d", c.Response.StatusCode(), want)
	}
}

// BenchmarkFront200 is a cached 200 of the event's feed by the front.
func BenchmarkFront200(b *testing.B) { benchFront(b, feedPath, false) }

// BenchmarkFront304 is a 304 of the event's feed by the front.
func BenchmarkFront304(b *testing.B) { benchFront(b, feedPath, true) }

func feedPath(*fixture) string { return "/" + slug + "/schedule.ics" }

// BenchmarkFrontPersonal304 is a 304 of a personal feed by the front.
func BenchmarkFrontPersonal304(b *testing.B) {
	benchFront(b, func(f *fixture) string { return "/" + slug + "/feed/" + f.token + ".ics" }, true)
}
