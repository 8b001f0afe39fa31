package main

// End-to-end tests of mail that must not stop or abuse hallway, against the
// real Dovecot (IMAP, LMTP, Sieve), OpenSMTPD and InspIRCd + Anope. Each
// test's hallway reads a mailbox of its own, bot+BOX@test.local (Dovecot
// delivers the detail to mailbox BOX), so tests running at once never take
// each other's mail; replies go to addresses of the test's own, read from
// their Maildir.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/mail/mailtest"
	"github.com/hallwayhq/hallway/store/storetest"
)

// mailEnv is hallway running against the real servers with a mailbox of
// its own.
type mailEnv struct {
	t          *testing.T
	ctx        context.Context
	m          *Main
	cfg        *config.Config
	tag        string // unique to this test run
	box        string // the bot's mailbox, reached as bot+box@test.local
	botAddr    string
	imap, smtp string
	ircAddr    string
	mailRoot   string
	db         *storetest.DB // the test's own look into hallway's database
	logs       *syncBuffer
}

// startMailEnv runs hallway with a mailbox, addresses, IRC nick, channel
// and database of its own, so tests on one may run in parallel; timeout
// counts from here.
func startMailEnv(t *testing.T, timeout time.Duration, change func(*config.Config)) *mailEnv {
	t.Helper()
	e := &mailEnv{t: t}
	e.imap = irctest.RequireEnv(t, irctest.EnvIMAP)
	e.smtp = irctest.RequireEnv(t, irctest.EnvSMTP)
	envDir := irctest.RequireEnv(t, irctest.EnvDir)
	e.ircAddr = irctest.TestEnv(t)
	var err error
	if e.mailRoot, err = mailtest.MailRoot(envDir); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	e.ctx = ctx
	e.tag = fmt.Sprintf("t%d", time.Now().UnixNano())
	e.box = "box-" + e.tag
	e.botAddr = "bot+" + e.box + "@test.local"
	e.cfg = testConfig(t, e.ircAddr, e.imap, e.smtp)
	e.cfg.Mail.From = "Test Day <" + e.botAddr + ">"
	e.cfg.Mail.Mailbox = e.box
	e.cfg.Mail.ProcessedMailbox = e.box + "-done"
	e.cfg.Mail.QuarantineMailbox = e.box + "-bad"
	if change != nil {
		change(e.cfg)
	}
	c, err := mailtest.Dial(e.imap)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(e.box, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	t.Cleanup(func() { mailtest.DeleteMailboxes(e.imap, e.box, e.box+"-done", e.box+"-bad") })
	e.m, e.logs = runHallway(t, ctx, e.cfg)
	e.db = storetest.OpenDB(t, e.cfg.Store.Source())
	return e
}

// addr is a test address of this run: name-TAG@test.local.
func (e *mailEnv) addr(name string) string { return name + "-" + e.tag + "@test.local" }

// send mails msg from from to the bot through OpenSMTPD.
func (e *mailEnv) send(from, msg string) {
	e.t.Helper()
	sendMail(e.t, e.smtp, from, e.botAddr, msg)
}

// appendMail puts a mail straight into the bot's mailbox (for mail
// OpenSMTPD would not take as it is, or would take too long to send).
func (e *mailEnv) appendMail(raw string) {
	e.t.Helper()
	c, err := mailtest.Dial(e.imap)
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	raw = strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n")
	cmd := c.Append(e.box, int64(len(raw)), nil)
	if _, err := cmd.Write([]byte(raw)); err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		e.t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		e.t.Fatal(err)
	}
}

// mails returns what Dovecot delivered to addr so far.
func (e *mailEnv) mails(addr string) []string {
	e.t.Helper()
	raw, err := mailtest.ReadMaildir(filepath.Join(e.mailRoot, addr, "Maildir"))
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(raw))
	for i, r := range raw {
		out[i] = string(r)
	}
	return out
}

// waitMail waits until a mail to addr matches, and returns it.
func (e *mailEnv) waitMail(addr string, match func(string) bool) string {
	e.t.Helper()
	var found string
	e.waitFor("a mail to "+addr, func() bool {
		for _, m := range e.mails(addr) {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// waitFor polls cond until it holds or the test's time is up.
func (e *mailEnv) waitFor(what string, cond func() bool) {
	e.t.Helper()
	for !cond() {
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("waiting for %s: %v", what, e.ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// count runs a count query on hallway's database.
func (e *mailEnv) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowContext(e.ctx, query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// mailboxCount is how many mails are in one of the bot's mailboxes.
func (e *mailEnv) mailboxCount(name string) int {
	e.t.Helper()
	c, err := mailtest.Dial(e.imap)
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	n, err := mailtest.Count(c, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// irc says text as an IRC user (the bot's handling, without the wire).
func (e *mailEnv) irc(account, text string) {
	e.t.Helper()
	req := bot.Request{Transport: bot.IRC, Can: bot.ChatCapabilities, Who: bot.IRCIdentity(account), Nick: account, Text: text}
	if err := e.m.Bot.Handle(e.ctx, req); err != nil {
		e.t.Fatal(err)
	}
}

var (
	slowDownRe  = regexp.MustCompile(`^slow down: too many commands\. Try again in (\d+) s\.`)
	messageIDOf = regexp.MustCompile(`(?mi)^Message-Id:\s*<([^>]+)>`)
	subjectOf   = regexp.MustCompile(`(?mi)^Subject:\s*(.*?)\r?$`)
)

// flat is a mail's text with its lines wrapped back: every run of white
// space one space.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

func header(re *regexp.Regexp, raw string) string {
	if m := re.FindStringSubmatch(raw); m != nil {
		return m[1]
	}
	return ""
}

// TestMailSetAside: a mail whose handling keeps failing is set aside in
// the quarantine mailbox after 3 attempts while the mail behind it goes
// on; a mail that fails once gets its real answer on the retry (no
// apology in its place); display names that used to make replies
// impossible are answered; a mail over the size limit is told its size.
func TestMailSetAside(t *testing.T) {
	t.Parallel()            // its mailEnv is its own
	storetest.SQLiteOnly(t) // faults injected by SQLite triggers
	e := startMailEnv(t, 2*time.Minute, nil)
	// Faults injected in the real database: storing the Message-ID of
	// the "poison" mail always fails, of the "flaky" mail until one
	// failure of it was recorded.
	for _, q := range []string{
		`CREATE TRIGGER poison BEFORE INSERT ON inbox WHEN NEW.key LIKE 'msgid:poison-%'
			BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
		`CREATE TRIGGER flaky BEFORE INSERT ON inbox WHEN NEW.key LIKE 'msgid:flaky-%'
			AND NOT EXISTS (SELECT 1 FROM delivery_failure WHERE last_error LIKE '%injected flaky fault%')
			BEGIN SELECT RAISE(ABORT, 'injected flaky fault'); END`,
		// What the poison mail had been through when the last mail was
		// carried out.
		`CREATE TABLE witness (poison_attempts INTEGER)`,
		`CREATE TRIGGER witness AFTER INSERT ON inbox WHEN NEW.key LIKE 'msgid:plain-%'
			BEGIN INSERT INTO witness SELECT COALESCE((SELECT attempts FROM delivery_failure WHERE last_error LIKE '%injected fault%'), 0); END`,
	} {
		if _, err := e.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	poison, flaky, smith, enc, big, plain := e.addr("poison"), e.addr("flaky"), e.addr("smith"), e.addr("enc"), e.addr("big"), e.addr("plain")
	msg := func(from, id, subject, body string) string {
		return fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s-%s@test.local>\n\n%s\n", from, e.botAddr, subject, id, e.tag, body)
	}
	start := time.Now()
	e.appendMail(msg(poison, "poison", "register", "this one breaks"))
	e.appendMail(msg(`"Smith, John" <`+smith+`>`, "smith", "register", "comma in the name"))
	e.appendMail(msg(flaky, "flaky", "register", "fails once"))
	e.appendMail(msg(`=?utf-8?b?RXZpbA0KQmNjOiB4QGV2aWwuZXhhbXBsZQ==?= <`+enc+`>`, "enc", "register", "CRLF in an encoded name"))
	bigBody := strings.Repeat(strings.Repeat("x", 76)+"\n", 2<<20/77)
	e.appendMail(fmt.Sprintf("From: %s\nTo: %s\nSubject: register\nMessage-ID: <big-%s@test.local>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: text/plain\n\nregister\n--b1\nContent-Type: application/octet-stream\n\n%s\n--b1--\n", big, e.botAddr, e.tag, bigBody))
	e.appendMail(msg(plain, "plain", "register", "behind them all"))

	// The mail behind the bad one is answered before the bad one had its
	// second attempt (the first retry waits 2 s).
	plainAnswer := e.waitMail(plain, func(string) bool { return true })
	behind := time.Since(start)
	if !strings.Contains(plainAnswer, "Subject: Re: register") {
		t.Errorf("answer to the mail behind the bad one:\n%s", plainAnswer)
	}
	if n := e.count(`SELECT poison_attempts FROM witness`); n != 1 {
		t.Errorf("the bad mail was tried %d times before the mail behind it was carried out, want 1", n)
	}
	smithAnswer := e.waitMail(smith, func(string) bool { return true })
	if !strings.Contains(smithAnswer, `To: "Smith, John" <`+smith+`>`) || !strings.Contains(smithAnswer, "Thanks John!") {
		t.Errorf("answer to \"Smith, John\":\n%s", smithAnswer)
	}
	encAnswer := e.waitMail(enc, func(string) bool { return true })
	if head, _, _ := strings.Cut(encAnswer, "\r\n\r\n"); strings.Contains(head, "\r\nBcc:") {
		t.Errorf("header injection through an encoded name:\n%s", head)
	}
	bigAnswer := e.waitMail(big, func(string) bool { return true })
	if !strings.Contains(flat(bigAnswer), "too large (2.0 MB; the limit is 1.0 MB)") {
		t.Errorf("answer to a mail over the limit:\n%s", bigAnswer)
	}
	flakyAnswer := e.waitMail(flaky, func(string) bool { return true })
	if !strings.Contains(flakyAnswer, "To confirm your registration") {
		t.Errorf("the mail that failed once got, instead of its confirmation:\n%s", flakyAnswer)
	}
	// The poison mail ends in quarantine after its third attempt, its
	// sender told once; the mailbox is empty.
	poisonAnswer := e.waitMail(poison, func(string) bool { return true })
	setAside := time.Since(start)
	if !strings.Contains(flat(poisonAnswer), "It is kept for the organizers") {
		t.Errorf("answer to the mail set aside:\n%s", poisonAnswer)
	}
	e.waitFor("the bad mail in quarantine", func() bool { return e.mailboxCount(e.box+"-bad") == 1 && e.mailboxCount(e.box) == 0 })
	if n := e.mailboxCount(e.box + "-done"); n != 5 {
		t.Errorf("%d mails processed, want 5", n)
	}
	var export bytes.Buffer
	if err := exportMail(e.ctx, e.m.Store, false, &export); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`imap,` + regexp.QuoteMeta(poison) + `,"?set aside after 3 failed attempts: command failed: .*injected fault`).MatchString(export.String()) {
		t.Errorf("export mail does not list the mail set aside:\n%s", export.String())
	}
	// Every address got exactly one mail: a barrier first, a mail to
	// each sent after the first answers (same lane, in order).
	for _, a := range []string{poison, flaky, smith, enc, big, plain} {
		e.send(a, fmt.Sprintf("From: %s\nTo: %s\nSubject: help\nMessage-ID: <barrier-%s-%s>\n\n", a, e.botAddr, e.tag, a))
	}
	for _, a := range []string{poison, flaky, smith, enc, big, plain} {
		e.waitFor("the barrier answer to "+a, func() bool { return len(e.mails(a)) >= 2 })
		if got := e.mails(a); len(got) != 2 {
			t.Errorf("%s got %d mails, want its answer and the barrier's", a, len(got))
		}
	}
	if strings.Count(e.logs.String(), "injected fault") > 3+1 {
		t.Errorf("the poison mail's error was logged more than once per attempt:\n%s", e.logs.String())
	}
	t.Logf("mail behind a bad one answered %v after the bad one arrived; the bad one set aside after %v", behind.Round(time.Millisecond), setAside.Round(time.Millisecond))
}

// TestMailConfirmationIntent: over real IRC, a requester cannot flood an
// address with confirmation mails, a squatter holding the code cannot use
// it, an auto-reply does not confirm, "not me" refuses and stops further
// mail; a confirmation the server refuses is told to the requester and
// shows in !registrations and the exports.
func TestMailConfirmationIntent(t *testing.T) {
	t.Parallel() // its mailEnv is its own
	e := startMailEnv(t, 3*time.Minute, nil)
	ctx := e.ctx
	mallory := "mal" + e.tag[len(e.tag)-8:]
	squatter := "sq" + e.tag[len(e.tag)-8:]
	mc := irctest.DialT(t, e.ircAddr, mallory)
	if err := mc.Register(ctx, "pw-"+mallory, mallory+"@test.local"); err != nil {
		t.Fatal(err)
	}
	sc := irctest.DialT(t, e.ircAddr, squatter)
	if err := sc.Register(ctx, "pw-"+squatter, squatter+"@test.local"); err != nil {
		t.Fatal(err)
	}
	botNick := e.cfg.IRC.Nick
	// ask says text to the bot privately and returns its answer.
	ask := func(c *irctest.Client, text string) string {
		t.Helper()
		for {
			if err := c.Privmsg(botNick, text); err != nil {
				t.Fatal(err)
			}
			m, err := c.Expect(ctx, func(m irctest.Message) bool {
				return m.Command == "401" || (m.Command == "PRIVMSG" || m.Command == "NOTICE") && strings.EqualFold(m.Prefix.Nick, botNick)
			})
			if err != nil {
				t.Fatalf("%s: no answer to %q: %v", c.Nick(), text, err)
			}
			if wait := slowDownRe.FindStringSubmatch(m.Last()); wait != nil {
				// The bot's rate limit says when to ask again.
				n, _ := strconv.Atoi(wait[1])
				time.Sleep(time.Duration(n) * time.Second)
				continue
			}
			if m.Command != "401" {
				return m.Last()
			}
			// The bot is not on yet: ask again when it is.
			e.waitFor("the bot on IRC", func() bool {
				c.Raw("ISON " + botNick)
				r, err := c.Expect(ctx, func(m irctest.Message) bool { return m.Command == "303" })
				return err == nil && strings.EqualFold(strings.TrimSpace(r.Last()), botNick)
			})
		}
	}
	victim := e.addr("victim")
	first := ask(mc, "!register "+victim)
	if !strings.HasPrefix(first, "a confirmation mail is on its way to v***@test.local") {
		t.Fatalf("first register: %q", first)
	}
	for range 9 {
		if got := ask(mc, "!register "+victim); !strings.HasPrefix(got, "a confirmation mail is already on its way to v***@test.local, sent at ") {
			t.Errorf("repeated register: %q", got)
		}
	}
	conf := e.waitMail(victim, func(string) bool { return true })
	code := regexp.MustCompile(`confirm ([0-9A-Z]{4}-[0-9A-Z]{4})`).FindStringSubmatch(conf)
	if code == nil {
		t.Fatalf("no code in the confirmation:\n%s", conf)
	}
	confID := header(messageIDOf, conf)
	// The squatter who got hold of the code cannot use it.
	if got := ask(sc, "!confirm "+code[1]); !strings.Contains(got, "was asked for from another account") {
		t.Errorf("squatter's confirm: %q", got)
	}
	// An auto-reply without Auto-Submitted does not confirm; "STOP"
	// refuses.
	reply := func(id, body string) {
		e.send(victim, fmt.Sprintf("From: Victim <%s>\nTo: %s\nSubject: Re: %s\nMessage-ID: <%s-%s@test.local>\nIn-Reply-To: <%s>\n\n%s\n", victim, e.botAddr, header(subjectOf, conf), id, e.tag, confID, body))
	}
	reply("auto", "Thank you for your email. I am out of the office until Monday.")
	noAnswer := e.waitMail(victim, func(m string) bool { return strings.Contains(m, "auto-"+e.tag) })
	if !strings.Contains(flat(noAnswer), "I found no answer in your reply") {
		t.Errorf("answer to an auto-reply:\n%s", noAnswer)
	}
	if got := ask(mc, "!registrations"); !strings.Contains(got, "0 registered") || !strings.Contains(got, "1 still to confirm") {
		t.Errorf("after the auto-reply: %q", got)
	}
	reply("stop", "STOP. I never asked for this.")
	stopped := e.waitMail(victim, func(m string) bool { return strings.Contains(m, "stop-"+e.tag) })
	if !strings.Contains(flat(stopped), "no more confirmation mails will come to this address") {
		t.Errorf("answer to STOP:\n%s", stopped)
	}
	if got := ask(mc, "!register "+victim); !strings.Contains(got, "asked for no more confirmation mails") {
		t.Errorf("register after not me: %q", got)
	}
	if got := ask(mc, "!registrations"); !strings.Contains(got, "0 still to confirm") {
		t.Errorf("after not me: %q", got)
	}
	if n := len(e.mails(victim)); n != 3 {
		t.Errorf("the victim got %d mails, want 3: the confirmation and two answers", n)
	}

	// A confirmation to an address OpenSMTPD refuses.
	ghost := "ghost-" + e.tag + "@nowhere.invalid"
	ask(mc, "!register "+ghost)
	asked := time.Now() // the register answered (after any wait the rate limit asked for)
	notice, err := mc.Expect(ctx, func(m irctest.Message) bool {
		return strings.EqualFold(m.Prefix.Nick, botNick) && strings.Contains(m.Last(), "could not be delivered")
	})
	if err != nil {
		t.Fatalf("no word of the bounce: %v", err)
	}
	if !strings.Contains(notice.Last(), "g***@nowhere.invalid could not be delivered (550 ") || !strings.EqualFold(notice.Params[0], mallory) {
		t.Errorf("bounce notice: %s", notice.Raw)
	}
	t.Logf("10 registers of one address: %d confirmation mail; bounce told on IRC %v after the register's answer", 1, time.Since(asked).Round(time.Millisecond))
	if got := ask(mc, "!registrations"); !strings.Contains(got, "1 still to confirm their address (1 address bounced)") {
		t.Errorf("registrations after the bounce: %q", got)
	}
	var regs, mails bytes.Buffer
	if err := exportRegistrations(ctx, e.m.Store, &e.cfg.Events[0], &regs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(regs.String(), "address bounced: 550 ") {
		t.Errorf("registrations CSV:\n%s", regs.String())
	}
	if err := exportMail(ctx, e.m.Store, true, &mails); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mails.String(), ghost+",not delivered: 550 ") {
		t.Errorf("export mail -all:\n%s", mails.String())
	}
}

// responder answers every mail hallway sends to its address, the way a
// careless script does: a reply with no Auto-Submitted, threaded under
// the mail, whose first line is body.
type responder struct {
	e       *mailEnv
	addr    string
	body    string
	mu      sync.Mutex
	replied map[string]bool // Message-IDs answered
	sent    int             // mails it sent hallway
}

func (e *mailEnv) responder(name, body string) *responder {
	return &responder{e: e, addr: e.addr(name), body: body, replied: map[string]bool{}}
}

// run answers new mail until ctx is done.
func (r *responder) run(ctx context.Context) {
	for ctx.Err() == nil {
		for _, m := range r.e.mails(r.addr) {
			id := header(messageIDOf, m)
			r.mu.Lock()
			done := r.replied[id]
			r.mu.Unlock()
			if done {
				continue
			}
			sendMail(r.e.t, r.e.smtp, r.addr, r.e.botAddr, fmt.Sprintf("From: %s\nTo: %s\nSubject: Re: %s\nMessage-ID: <r%d-%s>\nIn-Reply-To: <%s>\n\n%s\n",
				r.addr, r.e.botAddr, header(subjectOf, m), time.Now().UnixNano(), r.addr, id, r.body))
			r.mu.Lock()
			r.replied[id] = true
			r.sent++
			r.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (r *responder) counts() (got, sent int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.replied), r.sent
}

// quiet waits until nothing more can happen between hallway and the
// responders: every mail they sent was taken in, nothing waits in the
// outbox, every mail hallway sent them was delivered and answered.
func (e *mailEnv) quiet(extra int, rs ...*responder) {
	e.t.Helper()
	e.waitFor("hallway and the responders to fall quiet", func() bool {
		if e.count(`SELECT count(*) FROM outbox WHERE channel = 'mail' AND sent_at IS NULL AND last_error NOT LIKE 'gave up:%'`) > 0 {
			return false
		}
		taken := e.count(`SELECT count(*) FROM inbox WHERE key LIKE 'imap:%'`)
		want := extra
		for _, r := range rs {
			got, sent := r.counts()
			delivered := len(e.mails(r.addr))
			toIt := e.count(`SELECT count(*) FROM outbox WHERE channel = 'mail' AND target = ? AND sent_at IS NOT NULL`, r.addr)
			if got != delivered || delivered != toIt {
				return false
			}
			want += sent
		}
		return taken == want && e.mailboxCount(e.box) == 0
	})
}

// TestMailLoops: responders that break RFC 3834 get at most 3 mails from
// hallway in all; one that answers with a command each time is cut off
// by the daily cap (after one notice); a real Sieve vacation never loops.
func TestMailLoops(t *testing.T) {
	e := startMailEnv(t, 3*time.Minute, func(c *config.Config) { c.Mail.AnswersPerDay = 3 })
	ctx, stop := context.WithCancel(e.ctx)
	defer stop()
	// A naive responder someone registered, and one that writes first.
	naive := e.responder("naive", "Thank you for your message! I will get back to you soon.")
	writer := e.responder("writer", "Thanks for writing. This mailbox is not monitored.")
	echo := e.responder("echo", "help")
	for _, r := range []*responder{naive, writer, echo} {
		go r.run(ctx)
	}
	e.irc("kicker"+e.tag, "register "+naive.addr)
	e.send(writer.addr, fmt.Sprintf("From: %s\nTo: %s\nSubject: Hello there\nMessage-ID: <w0-%s>\n\nAre you there?\n", writer.addr, e.botAddr, writer.addr))
	e.send(echo.addr, fmt.Sprintf("From: %s\nTo: %s\nSubject: help\nMessage-ID: <e0-%s>\n\nhelp\n", echo.addr, e.botAddr, echo.addr))

	// A real Sieve vacation (Dovecot's Pigeonhole) on an address someone
	// registered.
	vacation := e.addr("vacation")
	home := filepath.Join(e.mailRoot, vacation)
	if err := os.MkdirAll(home, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o777)
	script := "require [\"vacation\"];\nvacation :days 1 :subject \"Out of office\" \"I am away until Monday.\";\n"
	if err := os.WriteFile(filepath.Join(home, ".dovecot.sieve"), []byte(script), 0o666); err != nil {
		t.Fatal(err)
	}
	e.irc("kicker"+e.tag, "register "+vacation)
	e.waitMail(vacation, func(string) bool { return true })
	// A person's mail that came from hallway's address (as a list's
	// might) is answered by the vacation: that answer reaches hallway.
	sendMail(t, e.smtp, e.botAddr, vacation, fmt.Sprintf("From: %s\nTo: %s\nSubject: Lunch?\nMessage-ID: <lunch-%s>\n\nLunch at noon?\n", e.botAddr, vacation, vacation))

	e.quiet(3, naive, writer, echo) // 3: the first mails of writer and echo, the vacation's answer
	for _, r := range []*responder{naive, writer} {
		if got, _ := r.counts(); got > 3 || got == 0 {
			t.Errorf("%s got %d mails from hallway, want 1 to 3", r.addr, got)
		}
	}
	// echo: 3 answers, then the notice, then nothing.
	got := e.mails(echo.addr)
	if len(got) != 4 {
		t.Errorf("echo got %d mails, want 3 answers and the notice", len(got))
	}
	notices := 0
	for _, m := range got {
		if strings.Contains(flat(m), "the most I answer one address in a day") {
			notices++
		}
	}
	if notices != 1 {
		t.Errorf("echo got %d notices of the daily cap, want 1", notices)
	}
	if n := len(e.mails(vacation)); n != 2 {
		t.Errorf("the vacation address got %d mails, want the confirmation and the lunch mail", n)
	}
	// The vacation answered the lunch mail, not hallway's (Auto-Submitted),
	// and hallway did not answer the vacation.
	if n := e.count(`SELECT count(*) FROM inbox WHERE sender = ? AND outcome LIKE 'ignored: Auto-Submitted: auto-replied%'`, vacation); n != 1 {
		t.Errorf("hallway took in %d vacation answers, want 1, ignored", n)
	}
	log, err := os.ReadFile(filepath.Join(irctest.RequireEnv(t, irctest.EnvDir), "dovecot", "dovecot.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`lmtp\(` + regexp.QuoteMeta(vacation) + `\).*vacation action: discarding vacation response to auto-submitted message`).Match(log) {
		t.Errorf("Sieve did not see hallway's mail to %s (dovecot.log has no vacation action for it)", vacation)
	}
	n1, _ := naive.counts()
	n2, _ := writer.counts()
	t.Logf("mails from hallway: naive responder %d, responder writing first %d, echo of a command %d (cap 3 + notice), Sieve vacation 1 (its one answer, to another mail, not answered)", n1, n2, len(got))
}
