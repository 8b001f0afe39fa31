package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/store"
)

type sinkMailer struct{ codes []string }

func (m *sinkMailer) Mail(_ *store.Tx, out bot.OutMail) error {
	m.codes = append(m.codes, strings.TrimPrefix(out.IDPrefix, "confirm-"))
	return nil
}

func TestExportRegistrations(t *testing.T) {
	dir := t.TempDir()
	example, err := os.ReadFile("../../examples/openinfra-day.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "hallway.toml")
	if err := os.WriteFile(cfgPath, example, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	b := bot.New(s, []*bot.Event{botEvent(cfg.Events[0], cfg.Web.BaseURL)}, nil)
	if err := b.Init(ctx); err != nil {
		t.Fatal(err)
	}
	m := &sinkMailer{}
	b.SetMailer(m)
	for _, who := range []string{"alice", "bob"} {
		for _, text := range []string{"register " + who + "@example.org", "confirm"} {
			if text == "confirm" {
				text += " " + m.codes[len(m.codes)-1]
			}
			if err := b.Handle(ctx, bot.Request{Transport: bot.IRC, Account: who, Nick: who, Text: text}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, text := range []string{"pledge 250 USD for ci-macs as anonymous", "pledge 8h for infra-time", `pledge "a rack server"`} {
		if err := b.Handle(ctx, bot.Request{Transport: bot.IRC, Account: "alice", Nick: "alice", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"export", "registrations", "-config", cfgPath, "-event", "openinfra-day-2027"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 3 || lines[0] != "number,status,name,email,irc_account,registered_at,updated_at" ||
		!strings.HasPrefix(lines[1], "1,registered,alice,alice@example.org,alice,") ||
		!strings.HasPrefix(lines[2], "2,registered,bob,bob@example.org,bob,") {
		t.Errorf("export:\n%s", stdout.String())
	}
	stdout.Reset()
	if code := run(ctx, []string{"export", "pledges", "-config", cfgPath}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("export pledges: exit %d: %s", code, stderr.String())
	}
	pledges := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(pledges) != 4 || !strings.HasPrefix(pledges[1], "1,ci-macs,pledged,money,250.00,USD,0.00,,anonymous,alice,alice,alice@example.org,0,") ||
		!strings.HasPrefix(pledges[2], "2,infra-time,pledged,time,8,hours,0,,alice,alice,alice,") ||
		!strings.HasPrefix(pledges[3], "3,,pledged,kind,,,,a rack server,alice,") {
		t.Errorf("export pledges:\n%s", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(ctx, []string{"export", "registrations", "-config", cfgPath, "-event", "nope"}, nil, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), `no event "nope"`) || !strings.Contains(stderr.String(), "openinfra-day-2027") {
		t.Errorf("unknown event: exit %d, %s", code, stderr.String())
	}
}

func TestExportScheduleAndWrapup(t *testing.T) {
	cfgPath := exampleCopy(t)
	ctx := context.Background()
	runCmd := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(ctx, args, nil, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, _, stderr := runCmd("export", "-config", cfgPath, "-format", "ics"); code != 1 || !strings.Contains(stderr, "no released schedule yet") {
		t.Errorf("export before a release: exit %d, %s", code, stderr)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	m, err := openCore(ctx, cfg, newLogger(&bytes.Buffer{}, false))
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ who, text string }{
		{"alice", `propose "Renting Macs for CI"`}, {"bob", "vote 1"}, {"pleia2", "schedule release"},
	} {
		if err := m.Bot.Handle(ctx, bot.Request{Transport: bot.IRC, Account: step.who, Nick: step.who, Text: step.text}); err != nil {
			t.Fatal(err)
		}
	}
	m.Close()
	for format, want := range map[string]string{
		"ics": "BEGIN:VCALENDAR\r\n", "json": `"format": "hallway-schedule/1"`, "frab": "<schedule", "text": "Renting Macs for CI",
	} {
		code, stdout, stderr := runCmd("export", "-config", cfgPath, "-format", format)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("export -format %s: exit %d, %s\n%.300s", format, code, stderr, stdout)
		}
	}
	if code, _, stderr := runCmd("export", "-config", cfgPath, "-format", "pdf"); code != 1 || !strings.Contains(stderr, `unknown format "pdf"`) {
		t.Errorf("export -format pdf: exit %d, %s", code, stderr)
	}
	code, stdout, stderr := runCmd("wrapup", "-config", cfgPath, "-post")
	if code != 0 || !strings.Contains(stdout, "# Open Source Infrastructure Day 2027: wrap-up") || !strings.Contains(stderr, "queued for the list") {
		t.Errorf("wrapup -post: exit %d, %s\n%s", code, stderr, stdout)
	}
	if code, _, stderr := runCmd("wrapup", "-config", cfgPath, "-post"); code != 0 || !strings.Contains(stderr, "posted before") {
		t.Errorf("second wrapup -post: exit %d, %s", code, stderr)
	}
}
