// Package browser drives headless Chromium for hallway's tests: a
// chromedriver session (plain WebDriver over HTTP, W3C WebDriver §6)
// emulating a screen of a given size, and axe-core's accessibility rules
// injected into pages. Chromium's own window does not go below 500 px,
// so the size is emulated.
package browser

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Where scripts/testenv.sh --full install puts Chromium and chromedriver.
const (
	ChromiumPath     = "/usr/bin/chromium"
	ChromedriverPath = "/usr/bin/chromedriver"
)

// full reports whether the full test environment is required, so a
// missing browser fails the test instead of skipping it.
func full() bool {
	return os.Getenv("HALLWAY_REQUIRE_TESTENV") == "1" && os.Getenv("HALLWAY_TEST_FULL") == "1"
}

// Require skips the test without Chromium and chromedriver, or fails it
// when the full test environment is required.
func Require(t testing.TB) {
	t.Helper()
	for _, p := range []string{ChromiumPath, ChromedriverPath} {
		if _, err := os.Stat(p); err != nil {
			msg := p + " is missing: scripts/testenv.sh --full install installs it"
			if full() {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// Axe returns axe-core's script: HALLWAY_AXE_JS, or where
// scripts/testenv.sh --full install puts it (.local/axe in the module's
// root).
func Axe(t testing.TB) string {
	t.Helper()
	p := os.Getenv("HALLWAY_AXE_JS")
	if p == "" {
		dir, _ := os.Getwd()
		for dir != filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			dir = filepath.Dir(dir)
		}
		p = filepath.Join(dir, ".local", "axe", "node_modules", "axe-core", "axe.min.js")
	}
	data, err := os.ReadFile(p)
	if err == nil {
		return string(data)
	}
	msg := "axe-core is missing at " + p + ": scripts/testenv.sh --full install installs it (npm)"
	if full() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Session is a Chromium session of chromedriver's.
type Session struct {
	t    testing.TB
	base string // the session's URL
}

// New starts chromedriver and a Chromium session emulating a screen
// width × height px at pixelRatio; both end with the test.
func New(t testing.TB, width, height int, pixelRatio float64) *Session {
	t.Helper()
	Require(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, ChromedriverPath, "--port="+strconv.Itoa(port))
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
	s := &Session{t: t, base: root}
	var created struct{ SessionID string }
	s.Call("POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": ChromiumPath,
			"args": []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
				"--user-data-dir=" + t.TempDir()},
			"mobileEmulation": map[string]any{"deviceMetrics": map[string]any{"width": width, "height": height, "pixelRatio": pixelRatio}},
		},
	}}}, &created)
	s.base = root + "/session/" + created.SessionID
	t.Cleanup(func() { s.Call("DELETE", "", nil, nil) })
	return s
}

// Call makes a WebDriver request of the session and decodes its value
// into out.
func (s *Session) Call(method, path string, body any, out any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var reply struct{ Value json.RawMessage }
	if err := json.NewDecoder(res.Body).Decode(&reply); err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	if res.StatusCode != 200 {
		s.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, reply.Value)
	}
	if out != nil {
		if err := json.Unmarshal(reply.Value, out); err != nil {
			s.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// Open loads url.
func (s *Session) Open(url string) {
	s.t.Helper()
	s.Call("POST", "/url", map[string]any{"url": url}, nil)
}

// Eval runs script (a function body; return gives the value) in the page.
func (s *Session) Eval(script string, out any) {
	s.t.Helper()
	s.Call("POST", "/execute/sync", map[string]any{"script": script, "args": []any{}}, out)
}

// Text is the page's visible text (document.body.innerText).
func (s *Session) Text() string {
	s.t.Helper()
	var text string
	s.Eval("return document.body.innerText;", &text)
	return text
}

// axeRun runs axe-core (injected first) and returns its violations, one
// line each: "rule (impact): targets".
const axeRun = `const done = arguments[arguments.length - 1];
axe.run(document, arguments[0]).then(res => done(res.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))), e => done(['axe failed: ' + e]));`

// Violations injects axe-core into the page open now and returns what it
// finds, by the given rules or (none given) all of them.
func (s *Session) Violations(axe string, rules ...string) []string {
	s.t.Helper()
	s.Eval(axe+"\n;return true;", nil)
	opts := map[string]any{}
	if len(rules) > 0 {
		opts["runOnly"] = rules
	}
	var out []string
	s.Call("POST", "/execute/async", map[string]any{"script": axeRun, "args": []any{opts}}, &out)
	return out
}

// Screenshot is a PNG of the viewport.
func (s *Session) Screenshot() []byte {
	s.t.Helper()
	var b64 string
	s.Call("GET", "/screenshot", nil, &b64)
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		s.t.Fatal(err)
	}
	return data
}

// WaitText waits until the page's visible text has every one of want,
// and returns it; it fails the test after timeout.
func (s *Session) WaitText(timeout time.Duration, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		text := s.Text()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(text, w)
		}
		if ok {
			return text
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the page never showed %q within %v; it shows:\n%s", want, timeout, text)
		}
		time.Sleep(100 * time.Millisecond) // polling the browser's DOM
	}
}

// WaitGone waits until the page's visible text no longer has gone.
func (s *Session) WaitGone(timeout time.Duration, gone string) error {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		text := s.Text()
		if !strings.Contains(text, gone) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the page still shows %q after %v:\n%s", gone, timeout, text)
		}
		time.Sleep(100 * time.Millisecond) // polling the browser's DOM
	}
}
