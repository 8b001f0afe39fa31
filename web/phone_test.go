package web

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/internal/browser"
)

// Phone-sized checks in headless Chromium, driven by chromedriver (plain
// WebDriver over HTTP) with mobile emulation: Chromium's own window does
// not go below 500 px. The test adds axe-core and a script that measures
// the page; the page itself has no script.

const phoneWidth = 390

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

// measure opens url and runs axe-core and measureJS on it.
func measure(p *browser.Session, url, axe string) measured {
	p.Open(url)
	p.Eval(axe+"\n;return true;", nil)
	var text string
	p.Call("POST", "/execute/async", map[string]any{"script": measureJS, "args": []any{}}, &text)
	var m measured
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		panic(err)
	}
	return m
}

// TestScheduleOnPhone: at 390 px every session of a time slot is on
// screen without scrolling sideways (three parallel rooms at 14:00), lunch
// and the plenary show as a break and a plenary, the proposals keep their
// Votes column in view, and axe-core finds nothing on either page. With
// -update the screenshot becomes docs/schedule-phone.png.
func TestScheduleOnPhone(t *testing.T) {
	axe := browser.Axe(t)
	f := newFixture(t)
	ts := httptest.NewServer(f.srv.Handler())
	defer ts.Close()
	ph := browser.New(t, phoneWidth, 844, 2)
	m := measure(ph, ts.URL+"/"+slug+"/", axe)
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

	p := measure(ph, ts.URL+"/"+slug+"/proposals", axe)
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
	ph.Open(ts.URL + "/" + slug + "/")
	ph.Eval("document.querySelector('table.grid').closest('section').scrollIntoView(); return true;", nil)
	data := ph.Screenshot()
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
