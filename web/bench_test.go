package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
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
