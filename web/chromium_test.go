package web

import (
	"bufio"
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/internal/browser"
)

// consoleLine matches what Chromium logs for a console message or an
// uncaught exception (--enable-logging=stderr).
var consoleLine = regexp.MustCompile(`CONSOLE|Uncaught`)

// TestSchedulePageInChromium loads the schedule page in headless Chromium
// at a phone's size: the page loads nothing else (no scripts, fonts,
// icons), logs nothing to the console, and the screenshot is a phone-wide
// image. With -update it becomes docs/schedule-page.png.
func TestSchedulePageInChromium(t *testing.T) {
	browser.Require(t)
	f := newFixture(t)
	var mu sync.Mutex
	var requested []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requested = append(requested, r.URL.Path)
		mu.Unlock()
		f.srv.Handler().ServeHTTP(w, r)
	}))
	defer ts.Close()

	shot := filepath.Join(t.TempDir(), "schedule-page.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser.ChromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0",
		"--hide-scrollbars", "--screenshot="+shot, "--window-size=412,915",
		ts.URL+"/"+slug+"/")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		if consoleLine.MatchString(sc.Text()) {
			t.Errorf("console: %s", sc.Text())
		}
	}
	mu.Lock()
	if len(requested) != 1 || requested[0] != "/"+slug+"/" {
		t.Errorf("the browser requested %q, want only the page", requested)
	}
	mu.Unlock()

	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, stderr.String())
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 412 || b.Dy() < 600 {
		t.Errorf("screenshot is %v, want 412 wide", b)
	}
	t.Logf("screenshot: %s", shot)
	if *update {
		if err := os.WriteFile(filepath.Join("..", "docs", "schedule-page.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
