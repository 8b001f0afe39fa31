package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc"
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
	onTestStore(t, cfg)
	ctx := context.Background()
	s, err := store.Open(ctx, cfg.Store.Source())
	if err != nil {
		t.Fatal(err)
	}
	b := bot.New(s, []*bot.Event{botEvent(cfg.Events[0], cfg.Web.BaseURL)}, nil)
	b.SetReplier(bot.IRC, irc.Replier{})
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
			if err := b.Handle(ctx, bot.Request{Transport: bot.IRC, Can: bot.ChatCapabilities, Who: bot.IRCIdentity(who), Nick: who, Text: text}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, text := range []string{"pledge 250 USD for ci-macs as anonymous", "pledge 8h for infra-time", `pledge "a rack server"`} {
		if err := b.Handle(ctx, bot.Request{Transport: bot.IRC, Can: bot.ChatCapabilities, Who: bot.IRCIdentity("alice"), Nick: "alice", Text: text}); err != nil {
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
	onTestStore(t, cfg)
	m, err := openCore(ctx, cfg, newLogger(&bytes.Buffer{}, false))
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ who, text string }{
		{"alice", `propose "Renting Macs for CI"`}, {"bob", "vote 1"}, {"pleia2", "schedule release"},
		{"alice", `propose "Withdrawn later"`}, {"carol", "vote 2"}, {"pleia2", "schedule release"}, {"alice", "withdraw 2"},
	} {
		if err := m.Bot.Handle(ctx, bot.Request{Transport: bot.IRC, Can: bot.ChatCapabilities, Who: bot.IRCIdentity(step.who), Nick: step.who, Text: step.text}); err != nil {
			t.Fatal(err)
		}
	}
	m.Close()
	// #2, withdrawn after version 2, is cancelled in every export.
	for format, want := range map[string]string{
		"ics": "STATUS:CANCELLED\r\n", "json": `"cancelled_in": 0`, "frab": "<schedule", "text": "Withdrawn later (was ",
	} {
		code, stdout, stderr := runCmd("export", "-config", cfgPath, "-format", format)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("export -format %s: exit %d, %s\n%.300s", format, code, stderr, stdout)
		}
	}
	if _, stdout, _ := runCmd("export", "-config", cfgPath, "-format", "frab"); strings.Contains(stdout, "Withdrawn later") {
		t.Errorf("frab lists the withdrawn #2:\n%s", stdout)
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

// TestExportMail: the mail not carried out is there for the organizers,
// with why and its text; -all lists every mail once.
func TestExportMail(t *testing.T) {
	cfg := exampleCopy(t)
	ctx := context.Background()
	for _, mail := range []string{
		"From: Jane Doe <jane@example.org>\nTo: bot@openinfra.test\nSubject: register\nMessage-ID: <r1@example.org>\n\nHi\n",
		"From: bob@example.org\nTo: bot@openinfra.test\nSubject: regster\nMessage-ID: <r2@example.org>\n\nplease let me in\n",
		"From: carol@example.org\nTo: bot@openinfra.test\nSubject: Out of office\nAuto-Submitted: auto-replied\nMessage-ID: <ooo@example.org>\n\nI am away.\n",
		"not a mail at all",
	} {
		var stdout, stderr bytes.Buffer
		if code := run(ctx, []string{"ingest", "-config", cfg}, strings.NewReader(strings.ReplaceAll(mail, "\n", "\r\n")), &stdout, &stderr); code != 0 {
			t.Fatalf("ingest: exit %d: %s", code, stderr.String())
		}
	}
	export := func(args ...string) [][]string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(ctx, append([]string{"export", "mail", "-config", cfg}, args...), nil, &stdout, &stderr); code != 0 {
			t.Fatalf("export mail %v: exit %d: %s", args, code, stderr.String())
		}
		rows, err := csv.NewReader(&stdout).ReadAll()
		if err != nil {
			t.Fatalf("export mail %v: %v\n%s", args, err, stdout.String())
		}
		return rows
	}
	rows := export()
	if len(rows) != 4 || strings.Join(rows[0], ",") != "received_at,via,sender,outcome,text" {
		t.Fatalf("export mail: %q", rows)
	}
	for i, want := range []struct{ sender, outcome, text string }{
		{"bob@example.org", `failed: there is no command "regster". Did you mean register?`, "please let me in"},
		{"carol@example.org", "ignored: ", "I am away."},
		{"", "unreadable: ", "not a mail at all"},
	} {
		r := rows[i+1]
		if r[1] != "ingest" || r[2] != want.sender || !strings.HasPrefix(r[3], want.outcome) || !strings.Contains(r[4], want.text) {
			t.Errorf("row %d: %q, want sender %q, outcome %q…, text with %q", i+1, r, want.sender, want.outcome, want.text)
		}
	}
	all := export("-all")
	if len(all) != 5 || len(all[0]) != 4 || all[1][2] != "jane@example.org" || all[1][3] != "carried out" {
		t.Errorf("export mail -all: %q", all)
	}
}
