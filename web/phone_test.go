package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Phone-sized checks in headless Chromium, driven by chromedriver (plain
// WebDriver over HTTP) with mobile emulation: Chromium's own window does
// not go below 500 px. The test adds axe-core and a script that measures
// the page; the page itself has no script.

const phoneWidth = 390

// axePath finds axe-core's script: HALLWAY_AXE_JS, or where
// scripts/testenv.sh --full install puts it.
func axePath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("HALLWAY_AXE_JS")
	if p == "" {
		p = filepath.Join("..", ".local", "axe", "node_modules", "axe-core", "axe.min.js")
	}
	if _, err := os.Stat(p); err == nil {
		return p
	}
	msg := "axe-core is missing at " + p + ": scripts/testenv.sh --full install installs it (npm)"
	if os.Getenv("HALLWAY_REQUIRE_TESTENV") == "1" && os.Getenv("HALLWAY_TEST_FULL") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// measureJS reports what a reader of the page sees: the page's width,
// each time slot's sessions (and breaks) with where they are, the tables'
// column headers, and axe-core's violations.
const measureJS = `const done = arguments[arguments.length - 1];
(async () => {
  const box = el => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, width: r.width, height: r.height}; };
  const out = {width: window.innerWidth, scrollWidth: document.documentElement.scrollWidth, slots: [], headers: [], violations: []};
  for (const tr of document.querySelectorAll('table.grid tbody tr')) {
    const slot = {time: tr.querySelector('th').textContent.trim(), cells: []};
    for (const td of tr.querySelectorAll('td')) {
      if (td.classList.contains('closed') || td.textContent.trim() === '') continue;
      slot.cells.push(Object.assign({text: td.textContent.trim()}, box(td)));
    }
    out.slots.push(slot);
  }
  for (const th of document.querySelectorAll('table:not(.grid) thead th')) {
    out.headers.push(Object.assign({text: th.textContent.trim()}, box(th)));
  }
  try {
    const res = await axe.run(document);
    out.violations = res.violations.map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '));
  } catch (e) {
    out.violations = ['axe failed: ' + e];
  }
  done(JSON.stringify(out));
})();`

type measured struct {
	Width, ScrollWidth float64
	Slots              []struct {
		Time  string
		Cells []struct {
			Text                       string
			Left, Right, Width, Height float64
		}
	}
	Headers []struct {
		Text        string
		Left, Right float64
	}
	Violations []string
}

const chromedriverPath = "/usr/bin/chromedriver"

// phone is a Chromium session at a phone's width.
type phone struct {
	t    *testing.T
	base string // chromedriver's session URL
}

// newPhone starts chromedriver and a Chromium session emulating a phone
// 390 px wide; both end with the test.
func newPhone(t *testing.T) *phone {
	t.Helper()
	if _, err := os.Stat(chromedriverPath); err != nil {
		requireChromium(t) // the same package installs both
		t.Fatalf("%s is missing: scripts/testenv.sh --full install installs it", chromedriverPath)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, chromedriverPath, "--port="+strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	root := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(root + "/status")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling a port that is not open yet
	}
	p := &phone{t: t, base: root}
	var created struct{ SessionID string }
	p.call("POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromiumPath,
			"args": []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
				"--user-data-dir=" + t.TempDir()},
			"mobileEmulation": map[string]any{"deviceMetrics": map[string]any{"width": phoneWidth, "height": 844, "pixelRatio": 2}},
		},
	}}}, &created)
	p.base = root + "/session/" + created.SessionID
	t.Cleanup(func() { p.call("DELETE", "", nil, nil) })
	return p
}

// call makes a WebDriver request and decodes its value into out.
func (p *phone) call(method, path string, body any, out any) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			p.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	var reply struct{ Value json.RawMessage }
	if err := json.NewDecoder(res.Body).Decode(&reply); err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	if res.StatusCode != 200 {
		p.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, reply.Value)
	}
	if out != nil {
		if err := json.Unmarshal(reply.Value, out); err != nil {
			p.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// measure opens url and runs axe-core and measureJS on it.
func (p *phone) measure(url, axe string) measured {
	p.t.Helper()
	p.call("POST", "/url", map[string]any{"url": url}, nil)
	p.call("POST", "/execute/sync", map[string]any{"script": axe + "\n;return true;", "args": []any{}}, nil)
	var text string
	p.call("POST", "/execute/async", map[string]any{"script": measureJS, "args": []any{}}, &text)
	var m measured
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		p.t.Fatal(err)
	}
	return m
}

// TestScheduleOnPhone: at 390 px every session of a time slot is on
// screen without scrolling sideways (three parallel rooms at 14:00), lunch
// and the plenary show as a break and a plenary, the proposals keep their
// Votes column in view, and axe-core finds nothing on either page. With
// -update the screenshot becomes docs/schedule-phone.png.
func TestScheduleOnPhone(t *testing.T) {
	requireChromium(t)
	axe, err := os.ReadFile(axePath(t))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	ts := httptest.NewServer(f.srv.Handler())
	defer ts.Close()
	ph := newPhone(t)
	m := ph.measure(ts.URL+"/"+slug+"/", string(axe))
	if m.Width != phoneWidth {
		t.Fatalf("the page is %v px wide, want %d", m.Width, phoneWidth)
	}
	if m.ScrollWidth > m.Width {
		t.Errorf("the schedule scrolls sideways: %v px of content in %v", m.ScrollWidth, m.Width)
	}
	seen := map[string]int{}
	for _, s := range m.Slots {
		for _, c := range s.Cells {
			seen[s.Time]++
			if c.Left < 0 || c.Right > m.Width || c.Width <= 0 || c.Height <= 0 {
				t.Errorf("%s: %q is at %.0f-%.0f px (%.0fx%.0f), not within the %v px screen", s.Time, c.Text, c.Left, c.Right, c.Width, c.Height, m.Width)
			}
		}
	}
	for slot, want := range map[string]int{"14:00–14:50 next": 3, "13:00–13:50 now": 2, "12:00–13:00": 1, "16:00–16:45": 1} {
		if seen[slot] != want {
			t.Errorf("slot %s shows %d items, want %d (slots: %v)", slot, seen[slot], want, seen)
		}
	}
	text := ""
	for _, s := range m.Slots {
		for _, c := range s.Cells {
			text += c.Text + "\n"
		}
	}
	for _, want := range []string{"Lunch break", "Closing plenary plenary", "Room 104Session F"} {
		if !strings.Contains(text, want) {
			t.Errorf("the phone schedule lacks %q:\n%s", want, text)
		}
	}
	for _, v := range m.Violations {
		t.Errorf("axe, schedule: %s", v)
	}

	p := ph.measure(ts.URL+"/"+slug+"/proposals", string(axe))
	votes := false
	for _, h := range p.Headers {
		if h.Text == "Votes" {
			votes = true
			if h.Right > p.Width {
				t.Errorf("the Votes column is at %.0f-%.0f px, off the %v px screen", h.Left, h.Right, p.Width)
			}
		}
	}
	if !votes {
		t.Errorf("no Votes column on the proposals page: %+v", p.Headers)
	}
	for _, v := range p.Violations {
		t.Errorf("axe, proposals: %s", v)
	}

	// The screenshot shows the day's schedule, from its heading.
	ph.call("POST", "/url", map[string]any{"url": ts.URL + "/" + slug + "/"}, nil)
	ph.call("POST", "/execute/sync", map[string]any{"script": "document.querySelector('table.grid').closest('section').scrollIntoView(); return true;", "args": []any{}}, nil)
	var b64 string
	ph.call("GET", "/screenshot", nil, &b64)
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 2*phoneWidth {
		t.Errorf("screenshot is %v, want %d px wide at 2 pixels a px", b, phoneWidth)
	}
	if *update {
		if err := os.WriteFile(filepath.Join("..", "docs", "schedule-phone.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
