package web

import (
	"bytes"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/internal/browser"
	"github.com/hallwayhq/hallway/store"
)

// darkMode switches the session's prefers-color-scheme (Chromium's
// DevTools protocol through chromedriver).
func darkMode(s *browser.Session, dark bool) {
	v := "light"
	if dark {
		v = "dark"
	}
	s.Call("POST", "/goog/cdp/execute", map[string]any{"cmd": "Emulation.setEmulatedMedia",
		"params": map[string]any{"features": []map[string]string{{"name": "prefers-color-scheme", "value": v}}}}, nil)
}

// TestPagesAccessible loads every page of the web package in headless
// Chromium on a phone (390 px) and the live pages on a 1920 px screen, in
// light and dark, and checks what they show and that axe-core finds
// nothing. With -update the live pages' screenshots go to docs/.
func TestPagesAccessible(t *testing.T) {
	axe := browser.Axe(t)
	f := newFixture(t)
	f.withUnconf()
	f.storeNow.Store(f.at("13:10").UnixNano())
	f.do(func(tx *store.Tx) error { return tx.MarkRoom(f.evID, "Ballroom A", store.RoomFull, f.people["alice"]) })
	ts := httptest.NewServer(f.srv.Handler())
	t.Cleanup(ts.Close) // after the browser's cleanups: its streams end first
	p := "/" + slug
	pages := []struct {
		path string
		want []string
		live bool
		shot string // docs/ name of the screenshots
	}{
		{"/", []string{"Open Source Infrastructure Day 2027"}, false, ""},
		{p + "/", []string{"Keynote: zero to 2500"}, false, ""},
		{p + "/proposals", []string{"Session B"}, false, ""},
		{p + "/releases", []string{"Version 2"}, false, ""},
		{p + "/session/1", []string{"Keynote: zero to 2500"}, false, ""},
		{p + "/session/3", []string{"out of scope"}, false, ""},
		{p + "/board", []string{"Now and next", "Session A: bare metal", "FULL", "Room 106 (Session C)", "30 min left", "13:50 PST"}, true, "board"},
		{p + "/room/Ballroom%20A/screen", []string{"Ballroom A", "Session A: bare metal", "These parallel sessions have space", "Session D"}, true, "screen"},
		{p + "/wall", []string{"The wall", "version 2"}, true, ""},
		{"/" + unconfSlug + "/wall", []string{"Wall B: <mirrors> & caches", "2 votes"}, true, "wall"},
	}
	for _, size := range []struct {
		w, h  int
		ratio float64
	}{{phoneWidth, 844, 2}, {1920, 1080, 1}} {
		s := browser.New(t, size.w, size.h, size.ratio)
		for _, pg := range pages {
			if size.w > phoneWidth && !pg.live {
				continue
			}
			for _, dark := range []bool{false, true} {
				darkMode(s, dark)
				s.Open(ts.URL + pg.path)
				text := s.Text()
				for _, w := range pg.want {
					if !strings.Contains(text, w) {
						t.Errorf("%d px, %s: the page lacks %q:\n%s", size.w, pg.path, w, text)
					}
				}
				var rules []string
				if dark {
					rules = []string{"color-contrast"} // what the scheme changes
				}
				for _, v := range s.Violations(axe, rules...) {
					t.Errorf("%d px, dark %v, %s: axe: %s", size.w, dark, pg.path, v)
				}
				if pg.live {
					var scroll float64
					s.Eval("return document.documentElement.scrollWidth - window.innerWidth;", &scroll)
					if scroll > 0 {
						t.Errorf("%d px, %s scrolls sideways by %v px", size.w, pg.path, scroll)
					}
				}
				if pg.shot != "" && !dark {
					data := s.Screenshot()
					img, err := png.Decode(bytes.NewReader(data))
					if err != nil {
						t.Fatal(err)
					}
					if b := img.Bounds(); b.Dx() != int(float64(size.w)*size.ratio) {
						t.Errorf("%s screenshot is %v wide", pg.path, b)
					}
					if *update {
						name := filepath.Join("..", "docs", pg.shot+"-"+map[bool]string{true: "390", false: "1920"}[size.w == phoneWidth]+".png")
						if err := os.WriteFile(name, data, 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
	}
}
