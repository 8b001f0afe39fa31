package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// serveFront runs the front on a loopback port until the test ends and
// returns its URL.
func (f *fixture) serveFront() string {
	f.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, ln) }()
	f.t.Cleanup(func() {
		// Connections the clients opened and never used would hold
		// the shutdown for 5 s.
		http.DefaultClient.CloseIdleConnections()
		rawClient.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			f.t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// url is where f's server answers on loopback: the front when the test
// runs through it (viaBoth), else the net/http handler behind httptest.
func (f *fixture) url() string {
	if f.front != "" {
		return f.front
	}
	ts := httptest.NewServer(f.srv.Handler())
	f.t.Cleanup(ts.Close)
	return ts.URL
}

// rawClient neither follows redirects nor undoes gzip: it shows what
// the server sent.
var rawClient = &http.Client{
	Transport:     &http.Transport{DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// answer is what a client sees of a response, but its date.
type answer struct {
	code   int
	header http.Header
	body   string
}

func fetch(t *testing.T, method, url string, header ...string) answer {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	resp, err := rawClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Del("Date")
	return answer{resp.StatusCode, resp.Header, string(body)}
}

// TestFrontAnswersAsHandler: every kind of request gets the same status,
// headers and bytes from the front as from the net/http handler alone,
// both behind real servers on loopback. The requests cover the fast path
// (feeds, exports, conditional requests, gzip, HEAD) and what it leaves
// to the handler (pages, redirects, escaped paths, errors, metrics).
func TestFrontAnswersAsHandler(t *testing.T) {
	f := newFixture(t)
	front := f.serveFront()
	ts := httptest.NewServer(f.srv.Handler())
	defer ts.Close()

	p := "/" + slug
	etag := fetch(t, "GET", ts.URL+p+"/schedule.ics").header.Get("ETag")
	lastMod := fetch(t, "GET", ts.URL+p+"/schedule.ics").header.Get("Last-Modified")
	if etag == "" || lastMod == "" {
		t.Fatalf("no validators: ETag %q, Last-Modified %q", etag, lastMod)
	}
	type req struct {
		method, path string
		header       []string
	}
	reqs := []req{
		{"GET", p + "/schedule.ics", nil},
		{"HEAD", p + "/schedule.ics", nil},
		{"GET", p + "/schedule.ics", []string{"Accept-Encoding", "gzip"}},
		{"HEAD", p + "/schedule.ics", []string{"Accept-Encoding", "gzip"}},
		{"GET", p + "/schedule.ics", []string{"Accept-Encoding", "gzip;q=0, br"}},
		{"GET", p + "/schedule.ics", []string{"If-None-Match", etag}},
		{"HEAD", p + "/schedule.ics", []string{"If-None-Match", etag}},
		{"GET", p + "/schedule.ics", []string{"If-None-Match", "W/" + etag}},
		{"GET", p + "/schedule.ics", []string{"If-None-Match", `"x", ` + etag}},
		{"GET", p + "/schedule.ics", []string{"If-None-Match", `"x"`, "If-None-Match", etag}},
		{"GET", p + "/schedule.ics", []string{"If-None-Match", `"other"`}},
		{"GET", p + "/schedule.ics", []string{"If-None-Match", "*"}},
		{"GET", p + "/schedule.ics", []string{"If-Modified-Since", lastMod}},
		{"GET", p + "/schedule.ics", []string{"If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"}},
		{"GET", p + "/schedule.ics", []string{"If-Modified-Since", "garbage"}},
		{"GET", p + "/schedule.ics", []string{"If-None-Match", `"other"`, "If-Modified-Since", lastMod}},
		{"GET", p + "/schedule.ics?x=1", nil},
		{"GET", p + "/talks.ics", nil},
		{"GET", p + "/sessions.ics", []string{"Accept-Encoding", "gzip"}},
		{"GET", p + "/schedule.json", nil},
		{"GET", p + "/schedule.xml", nil},
		{"GET", p + "/schedule.txt", nil},
		{"GET", p + "/schedule.c3voc.json", nil},
		{"GET", p + "/schedule%2eics", nil},
		{"GET", p + "//schedule.ics", nil},
		{"GET", p + "/./schedule.ics", nil},
		{"POST", p + "/schedule.ics", nil},
		{"DELETE", p + "/", nil},
		{"GET", "/nope/schedule.ics", nil},
		{"GET", p + "/nope.ics", nil},
		{"GET", "/", nil},
		{"GET", p, nil},
		{"GET", p + "/", nil},
		{"HEAD", p + "/", nil},
		{"GET", p + "/proposals", []string{"Accept-Encoding", "gzip"}},
		{"GET", p + "/session/4", nil},
		{"GET", p + "/session/4.ics", nil},
		{"GET", p + "/room/Room%20104.ics", nil},
		{"GET", p + "/feed/" + f.token + ".ics", nil},
		{"GET", p + "/feed/" + f.token + ".ics", []string{"If-None-Match", etag}},
		{"GET", p + "/feed/nosuchtoken.ics", nil},
		{"GET", p + "/feed/" + f.token, nil},
		{"GET", p + "/releases", nil},
		{"GET", "/healthz", nil},
	}
	for _, r := range reqs {
		name := r.method + " " + r.path + " " + strings.Join(r.header, ": ")
		want := fetch(t, r.method, ts.URL+r.path, r.header...)
		got := fetch(t, r.method, front+r.path, r.header...)
		if got.code != want.code {
			t.Errorf("%s: front %d, handler %d", name, got.code, want.code)
			continue
		}
		if got.body != want.body {
			t.Errorf("%s: bodies differ: front %d bytes, handler %d", name, len(got.body), len(want.body))
		}
		keys := func(h http.Header) []string {
			var k []string
			for name := range h {
				k = append(k, name)
			}
			slices.Sort(k)
			return k
		}
		if g, w := keys(got.header), keys(want.header); !slices.Equal(g, w) {
			t.Errorf("%s: header names: front %q, handler %q", name, g, w)
		}
		for k, w := range want.header {
			if g := got.header[k]; !slices.Equal(g, w) {
				t.Errorf("%s: %s: front %q, handler %q", name, k, g, w)
			}
		}
	}
	// The metrics, read through the front, counted both servers' answers
	// to the feed alike.
	m := fetch(t, "GET", front+"/metrics").body
	if !strings.Contains(m, `hallway_http_requests_total{route="GET /{slug}/schedule.ics",code="304"} 14`) {
		t.Errorf("metrics: 304s of the feed not counted 14 times (7 per server):\n%s", m)
	}
}

// TestFastPath: which requests the front answers from the cache itself.
func TestFastPath(t *testing.T) {
	f := newFixture(t)
	p := "/" + slug
	for _, tc := range []struct {
		method, uri string
		fast        bool
	}{
		{"GET", p + "/schedule.ics", true},
		{"HEAD", p + "/talks.ics", true},
		{"GET", p + "/sessions.ics?refresh=1", true},
		{"GET", p + "/schedule.json", true},
		{"GET", p + "/schedule.xml", true},
		{"GET", p + "/schedule.txt", true},
		{"GET", p + "/schedule.c3voc.json", true},
		{"POST", p + "/schedule.ics", false},
		{"GET", p + "/schedule%2Eics", false},
		{"GET", p + "//schedule.ics", false},
		{"GET", "/x/../" + slug + "/schedule.ics", false},
		{"GET", "/nope/schedule.ics", false},
		{"GET", p + "/", false},
		{"GET", p + "/room/Room%20104.ics", false},
		{"GET", p + "/feed/" + f.token + ".ics", true},
		{"HEAD", p + "/feed/" + f.token + ".ics?x", true},
		{"GET", p + "/feed/" + f.token, false},
		{"GET", p + "/feed/.ics", false},
		{"GET", p + "/feed/nosuchtoken.ics", false}, // the handler says it is gone
		{"GET", p + "/feed/a/" + f.token + ".ics", false},
		{"GET", "http://example.org" + p + "/schedule.ics", false},
		{"GET", "/", false},
		{"GET", "", false},
	} {
		var c fasthttp.RequestCtx
		c.Request.Header.SetMethod(tc.method)
		c.Request.Header.SetRequestURI(tc.uri)
		if got := f.srv.serveFast(context.Background(), &c); got != tc.fast {
			t.Errorf("%s %s: fast %v, want %v", tc.method, tc.uri, got, tc.fast)
		}
		if tc.fast && c.Response.StatusCode() != 200 {
			t.Errorf("%s %s: status %d", tc.method, tc.uri, c.Response.StatusCode())
		}
	}
}

// TestServe: the front stops when its context is done, and a bad
// address is an error.
func TestServe(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, ln) }()
	if a := fetch(t, "GET", "http://"+ln.Addr().String()+"/healthz"); a.code != 200 || a.body != "ok\n" {
		t.Errorf("healthz: %d %q", a.code, a.body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after ctx was done")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still listening after Serve returned")
	}
	if err := f.srv.Run(context.Background(), "256.0.0.1:0"); err == nil {
		t.Error("Run on a bad address: no error")
	}
}

// FuzzFastPath: any request line goes through the front's path reading
// without a panic, and what it answers itself is a known feed.
func FuzzFastPath(f *testing.F) {
	fx := newFixture(&testing.T{})
	for _, s := range []string{"/" + slug + "/schedule.ics", "/" + slug + "/feed/" + fx.token + ".ics?x", "//", "/%", "/" + slug + "/feed/", "*", "/a/b/c"} {
		f.Add("GET", s, `"x"`)
	}
	f.Fuzz(func(t *testing.T, method, uri, inm string) {
		var c fasthttp.RequestCtx
		c.Request.Header.SetMethod(method)
		c.Request.Header.SetRequestURI(uri)
		c.Request.Header.Set("If-None-Match", inm)
		if !fx.srv.serveFast(context.Background(), &c) {
			return
		}
		if code := c.Response.StatusCode(); code != 200 && code != 304 {
			t.Errorf("%s %q: status %d", method, uri, code)
		}
		if !strings.HasPrefix(uri, "/"+slug+"/") {
			t.Errorf("%s %q: answered on the fast path", method, uri)
		}
	})
}
