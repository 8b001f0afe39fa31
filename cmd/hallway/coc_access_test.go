package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/mail"
)

// TestReportsNotInAnyOutput is the access test of what is not a command:
// with reports filed (by IRC and by mail), notes taken and a schedule
// released, no page, feed, export, metric, wrap-up or printed config
// shows a report, to anyone outside the team. (The commands are tried in
// bot's TestReportStaysWithTeam; hallway coc is the team's.)
func TestReportsNotInAnyOutput(t *testing.T) {
	const secret = "rq5 pushed me at the coffee stand"
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
	if err := cfg.ResolveSecrets(func(string) string { return "x" }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var logs syncBuffer
	m, err := Open(ctx, cfg, newLogger(&logs, true), false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ev := cfg.Events[0]
	say := func(account, where, text string) {
		t.Helper()
		if err := m.Bot.Handle(ctx, bot.Request{Transport: bot.IRC, Can: bot.ChatCapabilities, Who: bot.IRCIdentity(account), Nick: account, Where: where, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	org := ev.Organizers[0]
	say("alice", ev.Channel, `propose "Coffee stand etiquette"`)
	say("bob", ev.Channel, "vote 1")
	say(org, ev.Channel, "accept 1")
	say(org, ev.Channel, "notes start 1")
	say("bob", "", "report "+secret)
	say("bob", ev.Channel, "report "+secret)
	if err := m.Bot.Handle(ctx, bot.Request{Transport: bot.IRC, Can: bot.ChatCapabilities, Who: bot.IRCIdentity("bob"), Nick: "bob", Where: ev.Channel, Raw: true, Text: "!report " + secret}); err != nil {
		t.Fatal(err)
	}
	if err := m.Desk.Deliver(ctx, mailDelivery("report-1", "From: mal@example.org\r\nTo: bot@openinfra.test\r\nSubject: report\r\nMessage-ID: <r1@example.org>\r\n\r\n"+secret+"\r\n")); err != nil {
		t.Fatal(err)
	}
	say(org, ev.Channel, "notes stop")
	say(org, ev.Channel, "schedule release")
	if _, _, err := m.Bot.Wrapup(ctx, ev.Slug, false); err != nil {
		t.Fatal(err)
	}

	var outputs []string
	// Every page, feed and export of the web, and its metrics.
	h := m.Web.Handler()
	base := "/" + ev.Slug
	for _, path := range []string{"/", "/healthz", "/metrics", base, base + "/", base + "/schedule", base + "/proposals", base + "/releases",
		base + "/session/1", base + "/room/" + ev.Rooms[0].Name, base + "/room/" + ev.Rooms[0].Name + "/screen", base + "/board", base + "/wall",
		base + "/notes", base + "/notes/1", base + "/wrapup", base + "/campaign/" + ev.Campaigns[0].Slug, base + "/mydata/x",
		base + "/schedule.ics", base + "/talks.ics", base + "/sessions.ics", base + "/schedule.json", base + "/schedule.xml",
		base + "/schedule.txt", base + "/schedule.c3voc.json"} {
		req := httptest.NewRequest("GET", strings.ReplaceAll(path, " ", "%20"), nil)
		req.RemoteAddr = "127.0.0.1:5000" // metrics answer loopback
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Errorf("GET %s: %d", path, rec.Code)
		}
		b, _ := io.ReadAll(rec.Body)
		outputs = append(outputs, "GET "+path+"\n"+string(b))
	}
	// Every export and printout of the command line.
	for _, args := range [][]string{
		{"export", "-format", "ics"}, {"export", "-format", "json"}, {"export", "-format", "frab"}, {"export", "-format", "text"},
		{"export", "-format", "c3voc"}, {"export", "registrations"}, {"export", "pledges"}, {"export", "mail"}, {"export", "mail", "-all"},
		{"wrapup"}, {"check"},
	} {
		var out, errs bytes.Buffer
		code := run(ctx, append(args, "-config", cfgPath), nil, &out, &errs)
		if code != 0 {
			t.Errorf("hallway %s: exit %d: %s", strings.Join(args, " "), code, errs.String())
		}
		outputs = append(outputs, "hallway "+strings.Join(args, " ")+"\n"+out.String()+errs.String())
	}
	// And what hallway said and logged.
	msgs, err := m.Store.Pending(ctx, "irc", 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range msgs {
		if msg.Account == "" || !strings.Contains(msg.Body, "New code-of-conduct report") {
			outputs = append(outputs, "IRC to "+msg.Target+": "+msg.Body)
		}
	}
	mails, err := m.Store.Pending(ctx, "mail", 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range mails {
		if msg.Target != "pleia2" && !strings.Contains(msg.Body, "code-of-conduct report #") {
			outputs = append(outputs, "mail to "+msg.Target+": "+msg.Body)
		}
	}
	outputs = append(outputs, "log\n"+logs.String())
	for _, o := range outputs {
		if strings.Contains(o, "rq5") {
			t.Errorf("a report shows in %s", o[:min(len(o), 2000)])
		}
	}
	if len(outputs) < 40 {
		t.Errorf("only %d outputs looked at", len(outputs))
	}
}

// mailDelivery is a mail as the intake hands it over.
func mailDelivery(key, raw string) mail.Delivery {
	return mail.Delivery{Key: "imap:1:" + key, Raw: []byte(raw), Size: int64(len(raw))}
}
