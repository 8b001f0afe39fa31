package main

// End-to-end tests of the mail side against the real Dovecot (IMAP, LMTP)
// and OpenSMTPD started by scripts/testenv.sh.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/store"
)

// testConfig is a config for the test servers, its database in a temp dir.
func testConfig(t *testing.T, ircAddr, imapAddr, smtpAddr string) *config.Config {
	t.Helper()
	host, port, _ := strings.Cut(ircAddr, ":")
	text := fmt.Sprintf(`
[store]
path = "hallway.db"
[web]
listen = "127.0.0.1:0"
base_url = "http://127.0.0.1:8080"
[irc]
server = %q
port = %s
tls = false
nick = "hw%d"
[mail]
imap = %q
imap_security = "none"
imap_user = "bot@test.local"
imap_password_env = "HALLWAY_TEST_IMAP_PASSWORD"
smtp = %q
smtp_security = "none"
from = "Test Day <bot@test.local>"
list = "list@test.local"
[[event]]
slug = "test-day"
name = "Test Day"
timezone = "Europe/Brussels"
channel = "#testday%d"
organizers = ["alice"]
registration_capacity = 1
[[event.campaign]]
slug = "ci-macs"
title = "Macs for CI testing"
goal = "3000 USD"
`, host, port, time.Now().UnixNano()%1e6, imapAddr, smtpAddr, time.Now().UnixNano()%1e6)
	return loadConfig(t, text, map[string]string{"HALLWAY_TEST_IMAP_PASSWORD": "botpass"})
}

// loadConfig writes text as a config file in a temp dir and loads it, its
// secrets from the environment variables in env (none when nil).
func loadConfig(t *testing.T, text string, env map[string]string) *config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hallway.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	onTestStore(t, cfg)
	if err := cfg.ResolveSecrets(func(name string) string { return env[name] }); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// runHallway opens hallway with cfg and runs it until the test ends; its
// log is shown when the test fails (or HALLWAY_TEST_DEBUG is set).
func runHallway(t *testing.T, ctx context.Context, cfg *config.Config) (*Main, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	m, err := Open(ctx, cfg, newLogger(logs, true), os.Getenv("HALLWAY_TEST_IRCDEBUG") != "")
	if err != nil {
		t.Fatal(err)
	}
	// Run stops when the test ends, not when its ctx does first.
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		m.Close()
		if t.Failed() || os.Getenv("HALLWAY_TEST_DEBUG") != "" {
			t.Logf("hallway's log:\n%s", logs.String())
		}
	})
	return m, logs
}

// sendMail submits a message through the test OpenSMTPD.
func sendMail(t *testing.T, addr, from, to, msg string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail(from, []string{to}, strings.NewReader(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		t.Fatalf("send mail to %s: %v", to, err)
	}
}

// inbox reads a Dovecot user's INBOX, seeing only mail that arrived after
// it was opened: the mailboxes outlive test runs.
type inbox struct {
	t          *testing.T
	addr, user string
	pass       string
	from       imap.UID
}

func openInbox(t *testing.T, addr, user, pass string) *inbox {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return &inbox{t: t, addr: addr, user: user, pass: pass, from: sel.UIDNext}
}

// wait polls the INBOX until a new message matching match arrives, and
// returns it whole.
func (b *inbox) wait(ctx context.Context, match func(string) bool) string {
	t := b.t
	t.Helper()
	c, err := imapclient.DialInsecure(b.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(b.user, b.pass).Wait(); err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil {
		for _, raw := range b.read(c) {
			if match(raw) {
				return raw
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no matching mail for %s: %v", b.user, ctx.Err())
	return ""
}

// read returns every mail that arrived since the inbox was opened.
func (b *inbox) read(c *imapclient.Client) []string {
	t := b.t
	t.Helper()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var uids imap.UIDSet
	uids.AddRange(b.from, 0)
	found, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{uids}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(found.AllUIDs()) == 0 {
		return nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(found.AllUIDs()...), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.FindBodySection(section)))
	}
	return out
}

// none checks that no mail that arrived so far matches.
func (b *inbox) none(match func(string) bool) {
	t := b.t
	t.Helper()
	c, err := imapclient.DialInsecure(b.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(b.user, b.pass).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, raw := range b.read(c) {
		if match(raw) {
			t.Errorf("unexpected mail to %s:\n%s", b.user, raw)
		}
	}
}

var messageIDRe = regexp.MustCompile(`(?mi)^Message-Id:\s*<([^>]+)>`)

// notAnswered tells whether a mail from addr was recorded as a reply to
// one of our answers, not answered.
func notAnswered(t *testing.T, m *Main, addr string) bool {
	t.Helper()
	var found bool
	err := m.Store.View(context.Background(), func(tx *store.Tx) error {
		mails, err := tx.Mails(false)
		for _, r := range mails {
			found = found || r.Sender == addr && strings.Contains(r.Outcome, "not answered")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestMailRegistration(t *testing.T) {
	imapAddr := irctest.RequireEnv(t, "HALLWAY_TEST_IMAP")
	smtpAddr := irctest.RequireEnv(t, "HALLWAY_TEST_SMTP")
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig(t, ircAddr, imapAddr, smtpAddr)
	m, logs := runHallway(t, ctx, cfg)

	tag := fmt.Sprintf("t%d", time.Now().UnixNano())
	alice := openInbox(t, imapAddr, "alice@test.local", "alicepass")
	bob := openInbox(t, imapAddr, "bob@test.local", "bobpass")
	start := time.Now()
	sendMail(t, smtpAddr, "alice@test.local", "bot@test.local", fmt.Sprintf(
		"From: Alice Test <alice@test.local>\nTo: bot@test.local\nSubject: register\nMessage-ID: <%s-1@test.local>\n\nHello! %s\n", tag, tag))
	confirmation := alice.wait(ctx, func(raw string) bool {
		return strings.Contains(raw, "In-Reply-To: <"+tag+"-1@test.local>")
	})
	for _, want := range []string{"Subject: Re: register", "Auto-Submitted: auto-replied", "Thanks Alice!", "reply to this mail"} {
		if !strings.Contains(confirmation, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, confirmation)
		}
	}
	id := messageIDRe.FindStringSubmatch(confirmation)
	if id == nil {
		t.Fatalf("confirmation has no Message-ID:\n%s", confirmation)
	}
	// Alice replies; her client quotes the mail, and the reply is threaded.
	sendMail(t, smtpAddr, "alice@test.local", "bot@test.local", fmt.Sprintf(
		"From: Alice Test <alice@test.local>\nTo: bot@test.local\nSubject: Re: register\nMessage-ID: <%s-2@test.local>\nIn-Reply-To: <%s>\nReferences: <%s-1@test.local> <%s>\n\nYes please.\n\nOn Thu, bot wrote:\n> To confirm your registration\n", tag, id[1], tag, id[1]))
	registered := alice.wait(ctx, func(raw string) bool {
		return strings.Contains(raw, "In-Reply-To: <"+tag+"-2@test.local>")
	})
	if !strings.Contains(registered, "You're registered (#1 of 1).") || !strings.Contains(registered, `To cancel, reply "cancel".`) {
		t.Errorf("registration answer:\n%s", registered)
	}
	// The event is full: bob is put on the waitlist once he confirms; an
	// auto-reply from him is never answered.
	sendMail(t, smtpAddr, "bob@test.local", "bot@test.local", fmt.Sprintf(
		"From: bob@test.local\nTo: bot@test.local\nSubject: Automatic reply: register\nAuto-Submitted: auto-replied\nMessage-ID: <%s-3@test.local>\n\nI am away.\n", tag))
	sendMail(t, smtpAddr, "bob@test.local", "bot@test.local", fmt.Sprintf(
		"From: bob@test.local\nTo: bot@test.local\nSubject: register\nMessage-ID: <%s-4@test.local>\n\nme too\n", tag))
	bobConf := bob.wait(ctx, func(raw string) bool {
		return strings.Contains(raw, "In-Reply-To: <"+tag+"-4@test.local>")
	})
	code := regexp.MustCompile(`confirm ([0-9A-Z]{4}-[0-9A-Z]{4})`).FindStringSubmatch(bobConf)
	if code == nil {
		t.Fatalf("no code in bob's confirmation:\n%s", bobConf)
	}
	// bob confirms by quoting the code in a new mail's subject.
	sendMail(t, smtpAddr, "bob@test.local", "bot@test.local", fmt.Sprintf(
		"From: bob@test.local\nTo: bot@test.local\nSubject: confirm %s\nMessage-ID: <%s-5@test.local>\n\n\n", code[1], tag))
	waitlisted := bob.wait(ctx, func(raw string) bool {
		return strings.Contains(raw, "In-Reply-To: <"+tag+"-5@test.local>")
	})
	if !strings.Contains(waitlisted, "waitlist") {
		t.Errorf("bob's answer:\n%s", waitlisted)
	}
	// alice answers the registration mail with a thank-you: no command in
	// it, and "Re: register" is not taken for one. A reply to an answer
	// without a command is not answered (no mail loops).
	regID := messageIDRe.FindStringSubmatch(registered)[1]
	sendMail(t, smtpAddr, "alice@test.local", "bot@test.local", fmt.Sprintf(
		"From: alice@test.local\nTo: bot@test.local\nSubject: Re: Re: register\nMessage-ID: <%s-7@test.local>\nIn-Reply-To: <%s>\n\nThanks!\n", tag, regID))
	// alice cancels by replying "cancel", as the mail says: bob is offered
	// her seat.
	sendMail(t, smtpAddr, "alice@test.local", "bot@test.local", fmt.Sprintf(
		"From: alice@test.local\nTo: bot@test.local\nSubject: Re: Re: register\nMessage-ID: <%s-6@test.local>\nIn-Reply-To: <%s>\n\ncancel\n\nOn Thu, bot wrote:\n> You're registered\n", tag, regID))
	cancelled := alice.wait(ctx, func(raw string) bool { return strings.Contains(raw, "In-Reply-To: <"+tag+"-6@test.local>") })
	if !strings.Contains(cancelled, "cancelled your registration") {
		t.Errorf("answer to cancel:\n%s", cancelled)
	}
	// The thank-you was recorded as not answered; any answer to it would
	// have been queued with the record, to the same address, before the
	// answer to cancel if it was taken in first.
	for ctx.Err() == nil && !notAnswered(t, m, "alice@test.local") {
		time.Sleep(50 * time.Millisecond)
	}
	alice.none(func(raw string) bool { return strings.Contains(raw, "In-Reply-To: <"+tag+"-7@test.local>") })
	bob.wait(ctx, func(raw string) bool {
		return strings.Contains(raw, "A seat at Test Day is free")
	})
	// Pledging by mail takes a confirmed address: bob's is, from his
	// confirmation above.
	sendMail(t, smtpAddr, "bob@test.local", "bot@test.local", fmt.Sprintf(
		"From: bob@test.local\nTo: bot@test.local\nSubject: pledge 250 USD for ci-macs as anonymous\nMessage-ID: <%s-8@test.local>\n\n", tag))
	pledged := bob.wait(ctx, func(raw string) bool { return strings.Contains(raw, "In-Reply-To: <"+tag+"-8@test.local>") })
	if !strings.Contains(pledged, `Pledge #1: 250.00 USD to "Macs for CI testing"`) || !strings.Contains(pledged, "(shown as anonymous)") {
		t.Errorf("answer to a pledge by mail:\n%s", pledged)
	}
	// A bad amount gets the right form back.
	sendMail(t, smtpAddr, "bob@test.local", "bot@test.local", fmt.Sprintf(
		"From: bob@test.local\nTo: bot@test.local\nSubject: pledge 5 dollars for ci-macs\nMessage-ID: <%s-9@test.local>\n\n", tag))
	bad := bob.wait(ctx, func(raw string) bool { return strings.Contains(raw, "In-Reply-To: <"+tag+"-9@test.local>") })
	if !strings.Contains(bad, "write the currency as its ISO 4217 code: 5 USD, not dollars.") {
		t.Errorf("answer to a bad pledge:\n%s", bad)
	}
	t.Logf("ten mails in, eight answers out in %s", time.Since(start).Round(time.Millisecond))
	if !regexp.MustCompile(`mail not carried out.*from=bob@test.local outcome="ignored: `).MatchString(logs.String()) {
		t.Errorf("the auto-reply was not recorded as ignored")
	}
}

// TestMailMinutesAndWrapup: the minutes of a session reach a list
// subscriber's mailbox; an answer to them on the list joins the session's
// notes; the wrap-up reaches the list once.
func TestMailMinutesAndWrapup(t *testing.T) {
	imapAddr := irctest.RequireEnv(t, "HALLWAY_TEST_IMAP")
	smtpAddr := irctest.RequireEnv(t, "HALLWAY_TEST_SMTP")
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig(t, ircAddr, imapAddr, smtpAddr)
	list := openInbox(t, imapAddr, "list@test.local", "listpass")
	m, _ := runHallway(t, ctx, cfg)
	channel := cfg.Events[0].Channel
	say := func(account, text string, raw bool) {
		t.Helper()
		req := bot.Request{Transport: bot.IRC, Can: bot.ChatCapabilities, Who: bot.IRCIdentity(account), Nick: account, Where: channel, Text: text, Raw: raw}
		if err := m.Bot.Handle(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	tag := fmt.Sprintf("t%d", time.Now().UnixNano())
	say("alice", `propose "Renting Macs `+tag+`"`, false)
	say("alice", "notes start 1", false)
	say("alice", "#agreed rent, don't buy", true)
	say("alice", "#endmeeting", true)
	minutes := list.wait(ctx, func(raw string) bool { return strings.Contains(raw, "Subject: Minutes: #1 Renting Macs "+tag) })
	id := messageIDRe.FindStringSubmatch(minutes)
	if id == nil || !strings.HasPrefix(id[1], "minutes-1.") || !strings.Contains(minutes, "AGREED: rent, don't buy") {
		t.Fatalf("minutes on the list:\n%s", minutes)
	}
	// Bob answers on the list (his mail comes back through the list).
	sendMail(t, smtpAddr, "bob@test.local", "bot@test.local", fmt.Sprintf(
		"From: Bob <bob@test.local>\nTo: list@test.local\nSubject: Re: Minutes: #1 Renting Macs\nList-Id: <list.test.local>\nMessage-ID: <%s-n@test.local>\nIn-Reply-To: <%s>\n\nAlso: MacStadium gives open source projects a discount.\n\n> AGREED: rent\n", tag, id[1]))
	for ctx.Err() == nil {
		mins, err := m.Bot.Minutes(ctx, cfg.Events[0].Slug, 1)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(mins.Text(), "INFO: Also: MacStadium gives open source projects a discount. (Bob (by mail)") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ctx.Err() != nil {
		t.Fatal("the answer on the list never reached the notes")
	}
	say("nobody", "wrapup", false) // not an organizer: refused
	md, posted, err := m.Bot.Wrapup(ctx, cfg.Events[0].Slug, true)
	if err != nil || !posted || !strings.Contains(md, "AGREED: rent, don't buy") || !strings.Contains(md, "2 people spoke") {
		t.Fatalf("wrapup: posted=%v, %v\n%s", posted, err, md)
	}
	if _, again, _ := m.Bot.Wrapup(ctx, cfg.Events[0].Slug, true); again {
		t.Error("the wrap-up was posted twice")
	}
	wrap := list.wait(ctx, func(raw string) bool { return strings.Contains(raw, "Subject: Test Day: wrap-up") })
	if !strings.Contains(wrap, "References: <event-test-day@test.local>") || !strings.Contains(wrap, "Renting Macs "+tag) {
		t.Errorf("wrap-up on the list:\n%s", wrap)
	}
}
