package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/web"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/hallway -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./cmd/hallway -update rewrites it):\n%s", name, got)
	}
}

// TestPledgeReportsGolden: the reports people read about a drive, with a
// fixed clock: what the channel sees, the treasurer's CSV, the public page.
func TestPledgeReportsGolden(t *testing.T) {
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
	now := time.Date(2027, 3, 1, 17, 0, 0, 0, time.UTC)
	m.Store.Now = func() time.Time { now = now.Add(time.Minute); return now }
	var channel bytes.Buffer
	for _, step := range []struct{ who, text string }{
		{"alice", "pledge 1000 USD for ci-macs as anonymous"},
		{"bob", `pledge 600 USD for ci-macs as "Bob's shop"`},
		{"carol", `pledge "2 Mac minis (M2)" for ci-macs`},
		{"dave", "pledge 8h for infra-time"},
		{"erin", "pledge 250 EUR for ci-macs"},
		{"krum", "received 2 200"},
		{"krum", "received 3"},
		{"erin", "unpledge 5"},
		{"finn", "pledge 99.99 EUR for ci-macs"},
		{"gwen", "pledge 40 GBP for ci-macs"},
		{"x", "campaign"},
		{"x", "campaign ci-macs"},
	} {
		channel.WriteString("<" + step.who + "> !" + step.text + "\n")
		if err := m.Bot.Handle(ctx, bot.Request{Transport: bot.IRC, Can: bot.ChatCapabilities, Who: bot.IRCIdentity(step.who), Nick: step.who, Where: "#openinfra", Text: step.text}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := m.Store.Pending(ctx, "irc", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range msgs {
		channel.WriteString(msg.Body + "\n")
	}
	golden(t, "pledges-irc.golden", channel.Bytes())

	srv := web.New(m.Store, []web.Event{{Slug: "openinfra-day-2027", Name: cfg.Events[0].Name, Zone: cfg.Events[0].Location}},
		&web.Options{BaseURL: cfg.Web.BaseURL, Now: func() time.Time { return now }})
	srv.SetReports(reports{m.Bot})
	ts := httptest.NewServer(srv.Handler())
	res, err := ts.Client().Get(ts.URL + "/openinfra-day-2027/campaign/ci-macs")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	ts.Close()
	golden(t, "campaign-page.golden", page)
	m.Close()

	var csv, stderr bytes.Buffer
	if code := run(ctx, []string{"export", "pledges", "-config", cfgPath}, nil, &csv, &stderr); code != 0 {
		t.Fatalf("export pledges: %s", stderr.String())
	}
	golden(t, "pledges.csv.golden", csv.Bytes())

	// hallway check names what the goal does not count: the GBP pledge
	// (EUR has a rate in the example config).
	var out bytes.Buffer
	stderr.Reset()
	if code := run(ctx, []string{"check", "-config", cfgPath}, nil, &out, &stderr); code != 0 {
		t.Fatalf("check: %s", stderr.String())
	}
	warn := regexp.MustCompile(`(?m)^warning: .*\.toml:(\d+): key "event\[0\]\.campaign\[0\]\.goal": pledges to ci-macs in GBP do not count toward its goal in USD, for want of a rate: add \[\[event\.exchange_rate\]\] with from = "GBP", to = "USD", rate = "…", date = "…"$`)
	if m := warn.FindStringSubmatch(stderr.String()); m == nil || m[1] != strconv.Itoa(goalLine(t, cfgPath)) {
		t.Errorf("hallway check does not warn of the GBP pledge on the goal's line:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "in EUR") {
		t.Errorf("hallway check warns of EUR, which has a rate:\n%s", stderr.String())
	}
	if !strings.Contains(out.String(), `rate = "1.08"`) {
		t.Errorf("hallway check does not show the exchange rate:\n%s", out.String())
	}
}

// goalLine is the line of the first campaign's goal in a config file.
func goalLine(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "goal = ") {
			return i + 1
		}
	}
	t.Fatal("no goal in the config")
	return 0
}
