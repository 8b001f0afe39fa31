package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store"
)

// get makes a request against the handler, or through the front over
// loopback when f.front is set.
func (f *fixture) get(method, path string, header ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	if f.front != "" {
		a := fetch(f.t, method, f.front+path, header...)
		w := httptest.NewRecorder()
		maps.Copy(w.Header(), a.header)
		w.WriteHeader(a.code)
		w.Body.WriteString(a.body)
		return w
	}
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = "127.0.0.1:40000" // as the front's requests over loopback
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, r)
	return w
}

// viaBoth runs a test against the net/http handler and through the
// front, each with a fixture of its own.
func viaBoth(t *testing.T, test func(*testing.T, *fixture)) {
	t.Run("handler", func(t *testing.T) { test(t, newFixture(t)) })
	t.Run("front", func(t *testing.T) {
		f := newFixture(t)
		f.front = f.serveFront()
		test(t, f)
	})
}

func TestRoutes(t *testing.T) { viaBoth(t, testRoutes) }

func testRoutes(t *testing.T, f *fixture) {
	p := "/" + slug
	for _, tc := range []struct {
		path  string
		code  int
		ctype string
		cache string
		has   []string
	}{
		{"/", 200, typeHTML, cachePage, []string{`<a href="/openinfra-day-2027/">Open Source Infrastructure Day 2027</a>`}},
		{p + "/", 200, typeHTML, cachePage, []string{"Keynote: zero to 2500", `class="tag">now<`}},
		{p + "/proposals", 200, typeHTML, cachePage, []string{"Session B: &#34;quotes&#34; &amp; &lt;tags&gt;"}},
		{p + "/releases", 200, typeHTML, cachePage, []string{"Version 2", "CI at scale, revisited"}},
		{p + "/session/1", 200, typeHTML, cachePage, []string{"&lt;script&gt;alert(1)&lt;/script&gt;"}},
		{p + "/session/3", 200, typeHTML, cachePage, []string{"rejected (out of scope)"}},
		{p + "/schedule.ics", 200, typeCalendar, cacheFeed, []string{"BEGIN:VCALENDAR", "SUMMARY:Keynote: zero to 2500"}},
		{p + "/talks.ics", 200, typeCalendar, cacheFeed, []string{"SUMMARY:CI at scale\\, revisited"}},
		{p + "/sessions.ics", 200, typeCalendar, cacheFeed, []string{"SUMMARY:Session A: bare metal"}},
		{p + "/room/Room%20104.ics", 200, typeCalendar, cacheFeed, []string{"SUMMARY:Session F"}},
		{p + "/session/4.ics", 200, typeCalendar, cacheFeed, []string{"SUMMARY:Session A: bare metal"}},
		{p + "/feed/" + f.token + ".ics", 200, typeCalendar, cachePersonal, []string{"SUMMARY:Session A: bare metal", "SUMMARY:Keynote"}},
		{p + "/schedule%2eics", 200, typeCalendar, cacheFeed, []string{"BEGIN:VCALENDAR"}}, // escaped: the mux, not the fast path
		{p + "/schedule.json", 200, typeJSON, cacheFeed, []string{`"Keynote: zero to 2500"`}},
		{p + "/schedule.xml", 200, typeXML, cacheFeed, []string{"<schedule", "Keynote: zero to 2500"}},
		{p + "/schedule.txt", 200, typeText, cacheFeed, []string{"Keynote: zero to 2500"}},
		{p + "/schedule.c3voc.json", 200, typeJSON, cacheFeed, []string{`"$schema": "https://c3voc.de/schedule/schema.json"`, `"acronym": "openinfra_day_2027"`, `"title": "Keynote: zero to 2500"`}},
		{"/healthz", 200, "text/plain; charset=utf-8", "no-store", []string{"ok"}},
		{"/metrics", 200, "text/plain; version=0.0.4; charset=utf-8", "no-store", []string{"hallway_http_requests_total"}},
		// not found
		{"/nope/", 404, typeText, "", nil},
		{"/nope/schedule.ics", 404, typeText, "", nil},
		{p + "/room/Room%20999.ics", 404, typeText, "", nil},
		{p + "/room/Room%20104", 404, typeText, "", nil},
		{p + "/session/99", 404, typeText, "", nil},
		{p + "/session/99.ics", 404, typeText, "", nil},
		{p + "/session/3.ics", 404, typeText, "", nil}, // never scheduled
		{p + "/session/07", 404, typeText, "", nil},
		{p + "/session/x", 404, typeText, "", nil},
		{p + "/feed/" + f.token, 404, typeText, "", nil},
		{p + "/feed/nosuchtoken.ics", 404, typeText, "private, max-age=60", []string{"!feed"}},
		{p + "/schedule.pdf", 404, typeText, "", nil},
		{"/favicon.ico", 404, typeText, "", nil},
		// the bot links to /{slug}/schedule
		{p + "/schedule", 301, "", "", nil},
		{p + "//schedule.ics", 307, "", "", nil}, // the mux cleans the path
		{p, 301, "", "", nil},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			w := f.get("GET", tc.path)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			h := w.Result().Header
			if tc.ctype != "" && h.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", h.Get("Content-Type"), tc.ctype)
			}
			if tc.cache != "" && h.Get("Cache-Control") != tc.cache {
				t.Errorf("Cache-Control %q, want %q", h.Get("Cache-Control"), tc.cache)
			}
			for _, s := range tc.has {
				if !strings.Contains(w.Body.String(), s) {
					t.Errorf("body lacks %q:\n%s", s, w.Body)
				}
			}
			if tc.code == 200 && !strings.HasPrefix(tc.path, "/healthz") && !strings.HasPrefix(tc.path, "/metrics") {
				if h.Get("Etag") == "" || h.Get("Vary") != "Accept-Encoding" {
					t.Errorf("ETag %q, Vary %q", h.Get("Etag"), h.Get("Vary"))
				}
				if tc.path != "/" && h.Get("Last-Modified") == "" {
					t.Error("no Last-Modified")
				}
			}
		})
	}
	if w := f.get("POST", p+"/schedule.ics"); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", w.Code)
	}
	if w := f.get("GET", p+"/schedule"); w.Header().Get("Location") != "/"+slug+"/" {
		t.Errorf("redirect to %q", w.Header().Get("Location"))
	}
}

// TestPersonalFeed follows a token through a vote and a revocation.
func TestPersonalFeed(t *testing.T) { viaBoth(t, testPersonalFeed) }

func testPersonalFeed(t *testing.T, f *fixture) {
	path := "/" + slug + "/feed/" + f.token + ".ics"
	w := f.get("GET", path)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	// Alice voted for 4 and 6 and speaks in 1 and 4.
	for n, want := range map[string]bool{"Keynote": true, "Session A": true, "Session C": true, "Session D": false, "CI at scale": false} {
		if got := strings.Contains(w.Body.String(), "SUMMARY:"+n); got != want {
			t.Errorf("feed has %s: %v, want %v", n, got, want)
		}
	}
	etag := w.Header().Get("Etag")
	if w := f.get("GET", path, "If-None-Match", etag); w.Code != 304 {
		t.Errorf("unchanged: status %d", w.Code)
	}
	f.do(func(tx *store.Tx) error {
		_, err := tx.AddVote(f.evID, f.props[7].ID, f.people["alice"])
		return err
	})
	w = f.get("GET", path, "If-None-Match", etag)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "SUMMARY:Session D") {
		t.Errorf("after a vote: status %d, body has Session D: %v", w.Code, strings.Contains(w.Body.String(), "Session D"))
	}
	var fresh string
	f.do(func(tx *store.Tx) (err error) {
		fresh, err = tx.RevokeFeedToken(f.evID, f.people["alice"])
		return err
	})
	w = f.get("GET", path)
	if w.Code != 404 || w.Body.String() != feedGone {
		t.Errorf("revoked: status %d, body %q", w.Code, w.Body)
	}
	if w := f.get("GET", "/"+slug+"/feed/"+fresh+".ics"); w.Code != 200 {
		t.Errorf("new token: status %d", w.Code)
	}
}

// TestConditional proves the caching headers with real HTTP requests.
func TestConditional(t *testing.T) { viaBoth(t, testConditional) }

func testConditional(t *testing.T, f *fixture) {
	url := f.url()
	do := func(method, path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		a := fetch(t, method, url+path, header...)
		return &http.Response{StatusCode: a.code, Header: a.header}, []byte(a.body)
	}
	for _, path := range []string{"/" + slug + "/schedule.ics", "/" + slug + "/", "/" + slug + "/proposals", "/" + slug + "/feed/" + f.token + ".ics"} {
		t.Run(path, func(t *testing.T) {
			resp, body := do("GET", path)
			etag, lastMod := resp.Header.Get("Etag"), resp.Header.Get("Last-Modified")
			if resp.StatusCode != 200 || len(body) == 0 || !strings.HasPrefix(etag, `"`) || lastMod == "" {
				t.Fatalf("status %d, %d bytes, ETag %q, Last-Modified %q", resp.StatusCode, len(body), etag, lastMod)
			}
			lm, _ := http.ParseTime(lastMod)
			for _, tc := range []struct {
				name   string
				header []string
				code   int
			}{
				{"etag", []string{"If-None-Match", etag}, 304},
				{"weak", []string{"If-None-Match", "W/" + etag}, 304},
				{"list", []string{"If-None-Match", `"a,b", W/"x", ` + etag}, 304},
				{"star", []string{"If-None-Match", "*"}, 304},
				{"other", []string{"If-None-Match", `"other"`}, 200},
				{"malformed", []string{"If-None-Match", "nonsense " + etag}, 200},
				{"since", []string{"If-Modified-Since", lastMod}, 304},
				{"since later", []string{"If-Modified-Since", lm.Add(time.Hour).Format(http.TimeFormat)}, 304},
				{"since earlier", []string{"If-Modified-Since", lm.Add(-time.Second).Format(http.TimeFormat)}, 200},
				{"since invalid", []string{"If-Modified-Since", "yesterday"}, 200},
				// If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
				{"etag wins", []string{"If-None-Match", `"other"`, "If-Modified-Since", lastMod}, 200},
			} {
				resp, body := do("GET", path, tc.header...)
				if resp.StatusCode != tc.code {
					t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.code)
				}
				if tc.code == 304 {
					if len(body) != 0 || resp.Header.Get("Etag") != etag || resp.Header.Get("Cache-Control") == "" {
						t.Errorf("%s: 304 with %d bytes, ETag %q, Cache-Control %q", tc.name, len(body), resp.Header.Get("Etag"), resp.Header.Get("Cache-Control"))
					}
				}
			}
		})
	}

	// A new release: new ETag, the old one no longer matches.
	path := "/" + slug + "/schedule.ics"
	resp, _ := do("GET", path)
	etag, lastMod := resp.Header.Get("Etag"), resp.Header.Get("Last-Modified")
	var plan schedule.Plan
	f.do(func(tx *store.Tx) error {
		row, err := tx.LatestRelease(f.evID)
		if err != nil {
			return err
		}
		var r schedule.Release
		if err := json.Unmarshal(row.Schedule, &r); err != nil {
			return err
		}
		plan = r.Plan
		return nil
	})
	plan.Items = plan.Items[1:] // the keynote is cancelled
	f.release(time.Date(2027, 3, 3, 8, 0, 0, 0, time.UTC), "", plan)
	resp, body := do("GET", path, "If-None-Match", etag)
	if resp.StatusCode != 200 || resp.Header.Get("Etag") == etag || !bytes.Contains(body, []byte("STATUS:CANCELLED")) {
		t.Errorf("after a release: status %d, ETag %q (was %q)", resp.StatusCode, resp.Header.Get("Etag"), etag)
	}
	if resp, _ := do("GET", path, "If-Modified-Since", lastMod); resp.StatusCode != 200 {
		t.Errorf("after a release, If-Modified-Since the old time: status %d", resp.StatusCode)
	}
	if resp, _ := do("GET", path, "If-None-Match", resp.Header.Get("Etag")); resp.StatusCode != 304 {
		t.Errorf("the new ETag: status %d", resp.StatusCode)
	}
}

// TestProposalChangeRevalidates shows a vote changing a page's ETag and
// Last-Modified, though votes do not touch the proposals' updated_at.
func TestProposalChangeRevalidates(t *testing.T) { viaBoth(t, testProposalChangeRevalidates) }

func testProposalChangeRevalidates(t *testing.T, f *fixture) {
	path := "/" + slug + "/proposals"
	w := f.get("GET", path)
	etag, lastMod := w.Header().Get("Etag"), w.Header().Get("Last-Modified")
	f.now = f.now.Add(time.Minute)
	f.do(func(tx *store.Tx) error {
		_, err := tx.AddVote(f.evID, f.props[9].ID, f.people["frank"])
		return err
	})
	w = f.get("GET", path, "If-None-Match", etag)
	if w.Code != 200 || w.Header().Get("Etag") == etag {
		t.Fatalf("after a vote: status %d", w.Code)
	}
	if w := f.get("GET", path, "If-Modified-Since", lastMod); w.Code != 200 {
		t.Errorf("after a vote, If-Modified-Since the old time: status %d", w.Code)
	}
}

// TestSchedulePageFollowsTheClock: what is on now changes the page, its
// ETag and its Last-Modified; between two item boundaries nothing does.
func TestSchedulePageFollowsTheClock(t *testing.T) { viaBoth(t, testSchedulePageFollowsTheClock) }

func testSchedulePageFollowsTheClock(t *testing.T, f *fixture) {
	path := "/" + slug + "/"
	w := f.get("GET", path)
	etag := w.Header().Get("Etag")
	f.now = f.at("13:40")
	if w := f.get("GET", path, "If-None-Match", etag); w.Code != 304 {
		t.Errorf("same phase: status %d", w.Code)
	}
	f.now = f.at("14:05")
	w = f.get("GET", path, "If-None-Match", etag)
	if w.Code != 200 || w.Header().Get("Last-Modified") != f.at("14:00").UTC().Format(http.TimeFormat) {
		t.Errorf("next phase: status %d, Last-Modified %q", w.Code, w.Header().Get("Last-Modified"))
	}
}

func TestGzip(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewServer(f.srv.Handler())
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(accept string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", ts.URL+"/"+slug+"/schedule.ics", nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	plainResp, plainBody := get("")
	if plainResp.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip without asking")
	}
	for _, accept := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*"} {
		resp, body := get(accept)
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%q: Content-Encoding %q", accept, resp.Header.Get("Content-Encoding"))
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, _ := io.ReadAll(zr)
		if !bytes.Equal(unzipped, plainBody) || resp.Header.Get("Etag") != plainResp.Header.Get("Etag") || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%q: gzipped body differs, or ETag or Vary", accept)
		}
		if resp.ContentLength != int64(len(body)) || len(body) >= len(plainBody) {
			t.Errorf("%q: Content-Length %d, %d gzipped bytes of %d", accept, resp.ContentLength, len(body), len(plainBody))
		}
	}
	for _, accept := range []string{"identity", "gzip;q=0", "*;q=0", "gzip;q=0, *", "deflate"} {
		if resp, _ := get(accept); resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("%q: Content-Encoding %q", accept, resp.Header.Get("Content-Encoding"))
		}
	}
}

func TestHead(t *testing.T) { viaBoth(t, testHead) }

func testHead(t *testing.T, f *fixture) {
	for _, path := range []string{"/" + slug + "/schedule.ics", "/" + slug + "/", "/healthz", "/" + slug + "/session/99"} {
		get, head := f.get("GET", path), f.get("HEAD", path)
		if head.Code != get.Code || head.Body.Len() != 0 {
			t.Errorf("%s: HEAD status %d (GET %d), %d bytes", path, head.Code, get.Code, head.Body.Len())
		}
		for _, h := range []string{"Content-Type", "Etag", "Last-Modified", "Cache-Control", "Content-Length"} {
			if head.Header().Get(h) != get.Header().Get(h) {
				t.Errorf("%s: HEAD %s %q, GET %q", path, h, head.Header().Get(h), get.Header().Get(h))
			}
		}
	}
}

// TestCachedRenders: repeated requests are answered from memory.
func TestCachedRenders(t *testing.T) { viaBoth(t, testCachedRenders) }

func testCachedRenders(t *testing.T, f *fixture) {
	for range 5 {
		for _, p := range []string{"/schedule.ics", "/", "/proposals", "/session/1", "/releases", "/feed/" + f.token + ".ics"} {
			if w := f.get("GET", "/"+slug+p); w.Code != 200 {
				t.Fatalf("%s: status %d", p, w.Code)
			}
		}
	}
	f.srv.metrics.mu.Lock()
	defer f.srv.metrics.mu.Unlock()
	for route, h := range f.srv.metrics.renders {
		if h.n != 1 {
			t.Errorf("%s rendered %d times", route, h.n)
		}
	}
	if len(f.srv.metrics.renders) != 6 {
		t.Errorf("%d routes rendered, want 6", len(f.srv.metrics.renders))
	}
}

// TestFreshness: within srv.fresh the versions are not read again, so a
// release shows up only after it.
func TestFreshness(t *testing.T) {
	f := newFixture(t)
	f.srv.fresh = time.Hour
	path := "/" + slug + "/schedule.ics"
	etag := f.get("GET", path).Header().Get("Etag")
	f.release(time.Date(2027, 3, 3, 8, 0, 0, 0, time.UTC), "", schedule.Plan{})
	if got := f.get("GET", path).Header().Get("Etag"); got != etag {
		t.Error("read the version again within srv.fresh")
	}
	f.srv.fresh = 0
	if got := f.get("GET", path).Header().Get("Etag"); got == etag {
		t.Error("did not read the version again after srv.fresh")
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t)
	for name, path := range map[string]string{
		"index.html":     "/",
		"schedule.html":  "/" + slug + "/",
		"proposals.html": "/" + slug + "/proposals",
		"session-1.html": "/" + slug + "/session/1",
		"session-3.html": "/" + slug + "/session/3",
		"session-8.html": "/" + slug + "/session/8",
		"releases.html":  "/" + slug + "/releases",
	} {
		w := f.get("GET", path)
		if w.Code != 200 {
			t.Fatalf("%s: status %d", path, w.Code)
		}
		checkGolden(t, name, w.Body.Bytes())
	}
}

// TestNotReleased: before the first release the pages say so and the
// feeds are empty calendars, so a subscription made early keeps working.
func TestNotReleased(t *testing.T) {
	f := newFixture(t)
	other := Event{Slug: "later", Name: "Later Day", Zone: time.UTC}
	srv := New(f.store, []Event{f.ev, other}, &Options{BaseURL: baseURL, Now: func() time.Time { return f.now }})
	for _, path := range []string{"/later/", "/later/schedule.ics", "/later/proposals", "/later/releases", "/later/schedule.json"} {
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 {
			t.Errorf("%s: status %d: %s", path, w.Code, w.Body)
		}
	}
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/later/", nil))
	if !strings.Contains(w.Body.String(), "not released yet") {
		t.Errorf("page: %s", w.Body)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.get("GET", "/"+slug+"/schedule.ics")
	etag := f.get("GET", "/"+slug+"/schedule.ics").Header().Get("Etag")
	f.get("GET", "/"+slug+"/schedule.ics", "If-None-Match", etag)
	f.get("GET", "/nope")
	body := f.get("GET", "/metrics").Body.String()
	for _, want := range []string{
		`hallway_http_requests_total{route="GET /{slug}/schedule.ics",code="200"} 2`,
		`hallway_http_requests_total{route="GET /{slug}/schedule.ics",code="304"} 1`,
		`hallway_http_requests_total{route="GET /{slug}",code="404"} 1`,
		"hallway_http_not_modified_total 1",
		`hallway_web_render_seconds_count{route="GET /{slug}/schedule.ics"} 1`,
		`hallway_web_render_seconds_bucket{route="GET /{slug}/schedule.ics",le="+Inf"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestHealthFailing(t *testing.T) {
	f := newFixture(t)
	f.store.Close()
	if w := f.get("GET", "/healthz"); w.Code != http.StatusServiceUnavailable {
		t.Errorf("closed store: status %d", w.Code)
	}
}

// TestConcurrent has many clients polling while releases are made: run
// with -race. Every answer is whole and matches one version.
func TestConcurrent(t *testing.T) { viaBoth(t, testConcurrent) }

func testConcurrent(t *testing.T, f *fixture) {
	url := f.url()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 16)
	for i := range 8 {
		go func() {
			paths := []string{"/schedule.ics", "/", "/proposals", "/session/4", "/feed/" + f.token + ".ics", "/room/Room%20104.ics"}
			var err error
			for n := 0; ctx.Err() == nil; n++ {
				var resp *http.Response
				resp, err = http.Get(url + "/" + slug + paths[(i+n)%len(paths)])
				if err != nil {
					break
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = errors.New(resp.Status)
					break
				}
			}
			if ctx.Err() != nil {
				err = nil
			}
			errs <- err
		}()
	}
	for day := range 5 {
		f.release(time.Date(2027, 3, 3, 8, day, 0, 0, time.UTC), "", schedule.Plan{})
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestLastModifiedNotInFuture: a release dated after our clock does not
// make Last-Modified later than the answer.
func TestLastModifiedNotInFuture(t *testing.T) {
	f := newFixture(t)
	f.now = time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC) // before both releases
	w := f.get("GET", "/"+slug+"/schedule.ics")
	if got := w.Header().Get("Last-Modified"); got != f.now.Format(http.TimeFormat) {
		t.Errorf("Last-Modified %q, want %q", got, f.now.Format(http.TimeFormat))
	}
}

// TestMetricsLoopbackOnly: /metrics is for this machine, not through a
// proxy on it, unless the config opens it.
func TestMetricsLoopbackOnly(t *testing.T) {
	f := newFixture(t)
	open := New(f.srv.store, nil, &Options{PublicMetrics: true})
	for _, tc := range []struct {
		srv    *Server
		remote string
		header []string
		code   int
	}{
		{f.srv, "127.0.0.1:5000", nil, 200},
		{f.srv, "[::1]:5000", nil, 200},
		{f.srv, "192.0.2.7:5000", nil, 403},
		{f.srv, "127.0.0.1:5000", []string{"X-Forwarded-For", "192.0.2.7"}, 403},
		{f.srv, "127.0.0.1:5000", []string{"Forwarded", "for=192.0.2.7"}, 403},
		{open, "192.0.2.7:5000", nil, 200},
	} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.RemoteAddr = tc.remote
		for i := 0; i+1 < len(tc.header); i += 2 {
			r.Header.Set(tc.header[i], tc.header[i+1])
		}
		w := httptest.NewRecorder()
		tc.srv.Handler().ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("from %s %v (public %v): %d, want %d", tc.remote, tc.header, tc.srv.publicMetrics, w.Code, tc.code)
		}
	}
}
