package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/internal/browser"
	"github.com/hallwayhq/hallway/web"
)

// TestReportPages: the minutes, the wrap-up and a campaign are published
// at the addresses the bot gives out, with user text escaped and anonymous
// pledgers hidden.
func TestReportPages(t *testing.T) {
	ts := reportServer(t)
	get := func(path string) (int, string) {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, tc := range []struct {
		path   string
		code   int
		want   []string
		absent []string
	}{
		{"/openinfra-day-2027/notes/1", 200, []string{"Renting &lt;b&gt;Macs&lt;/b&gt;", "AGREED", "rent, &lt;i&gt;don&#39;t&lt;/i&gt; buy"}, []string{"<b>Macs"}},
		{"/openinfra-day-2027/notes/2", 404, nil, nil},
		{"/openinfra-day-2027/wrapup", 200, []string{"Wrap-up", "rent, &lt;i&gt;don&#39;t&lt;/i&gt; buy", "1 decision,"}, nil},
		{"/openinfra-day-2027/campaign/ci-macs", 200, []string{"Macs for CI testing", "anonymous", "2,000.00 USD", `value="66"`, "a &lt;script&gt;Mac&lt;/script&gt; mini"}, []string{"alice", "<script>Mac"}},
		{"/openinfra-day-2027/campaign/nope", 404, nil, nil},
	} {
		code, body := get(tc.path)
		if code != tc.code {
			t.Errorf("GET %s: %d, want %d", tc.path, code, tc.code)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", tc.path, w)
			}
		}
		for _, a := range tc.absent {
			if strings.Contains(body, a) {
				t.Errorf("GET %s shows %q", tc.path, a)
			}
		}
	}
}

// reportServer serves the example event's report pages after a proposal,
// two pledges (one anonymous) and a run of notes with hostile text.
func reportServer(t *testing.T) *httptest.Server {
	t.Helper()
	cfgPath := exampleCopy(t)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	onTestStore(t, cfg)
	ctx := context.Background()
	m, err := openCore(ctx, cfg, newLogger(&bytes.Buffer{}, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	channel := cfg.Events[0].Channel
	for _, step := range []struct {
		who, text string
		raw       bool
	}{
		{"alice", `propose "Renting <b>Macs</b>"`, false},
		{"alice", "pledge 2000 USD for ci-macs as anonymous", false},
		{"bob", `pledge "a <script>Mac</script> mini" for ci-macs`, false},
		{"alice", "notes start 1", false},
		{"alice", "#agreed rent, <i>don't</i> buy", true},
		{"alice", "#endmeeting", true},
	} {
		req := bot.Request{Transport: bot.IRC, Can: bot.ChatCapabilities, Who: bot.IRCIdentity(step.who), Nick: step.who, Where: channel, Text: step.text, Raw: step.raw}
		if err := m.Bot.Handle(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	srv := web.New(m.Store, []web.Event{{Slug: "openinfra-day-2027", Name: cfg.Events[0].Name, Zone: cfg.Events[0].Location}},
		&web.Options{BaseURL: cfg.Web.BaseURL})
	srv.SetReports(reports{m.Bot})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// TestReportPagesAccessible: the notes index, the minutes, the wrap-up and
// a campaign page in headless Chromium on a phone, light and dark: they
// show their content and axe-core finds nothing.
func TestReportPagesAccessible(t *testing.T) {
	axe := browser.Axe(t)
	ts := reportServer(t)
	s := browser.New(t, 390, 844, 2)
	for _, tc := range []struct{ path, want string }{
		{"/openinfra-day-2027/notes", "Renting <b>Macs</b>"},
		{"/openinfra-day-2027/notes/1", "rent, <i>don't</i> buy"},
		{"/openinfra-day-2027/wrapup", "Wrap-up"},
		{"/openinfra-day-2027/campaign/ci-macs", "Macs for CI testing"},
	} {
		for _, dark := range []string{"light", "dark"} {
			s.Call("POST", "/goog/cdp/execute", map[string]any{"cmd": "Emulation.setEmulatedMedia",
				"params": map[string]any{"features": []map[string]string{{"name": "prefers-color-scheme", "value": dark}}}}, nil)
			s.Open(ts.URL + tc.path)
			if text := s.Text(); !strings.Contains(text, tc.want) {
				t.Errorf("%s lacks %q:\n%s", tc.path, tc.want, text)
			}
			var rules []string
			if dark == "dark" {
				rules = []string{"color-contrast"}
			}
			for _, v := range s.Violations(axe, rules...) {
				t.Errorf("%s, %s: axe: %s", tc.path, dark, v)
			}
		}
	}
}
