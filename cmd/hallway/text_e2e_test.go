package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/mail"
	"github.com/hallwayhq/hallway/mail/mailtest"
)

// TestMailHostileText: an attendee's mails pass through the real
// OpenSMTPD and Dovecot into a mailbox of this test's own (another test may
// be reading bot@test.local's INBOX right now), the bot reads them over
// IMAP and answers through OpenSMTPD into the attendee's Maildir. A title
// with a bidi override in an encoded subject is refused, saying where; an
// abstract holding a DCC offer, a NUL, colours, a bidi override and a zero
// width space is kept cleaned, with a note; and an IRC client reading it
// back with !show on the real InspIRCd gets no CTCP and no control
// character from the bot.
func TestMailHostileText(t *testing.T) {
	envDir := irctest.RequireEnv(t, irctest.EnvDir)
	imapAddr := irctest.RequireEnv(t, "HALLWAY_TEST_IMAP")
	smtpAddr := irctest.RequireEnv(t, "HALLWAY_TEST_SMTP")
	ircAddr := irctest.TestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mailRoot, err := mailtest.MailRoot(envDir)
	if err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("x%x", time.Now().UnixNano()%(1<<40))
	mailbox, processed := "text-"+tag, "text-"+tag+"-done"
	person := "text-" + tag + "@test.local" // the bot's answers land in its Maildir
	relay := "in-" + tag + "@test.local"    // the attendee's mails pass through it
	c, err := mailtest.Dial(imapAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range []string{mailbox, processed} {
		if err := c.Create(m, nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		mailtest.DeleteMailboxes(imapAddr, mailbox, processed)
		if !t.Failed() {
			os.RemoveAll(filepath.Join(mailRoot, person))
			os.RemoveAll(filepath.Join(mailRoot, relay))
		}
	})

	cfg := testConfig(t, ircAddr, imapAddr, smtpAddr)
	cfg.Mail.Mailbox, cfg.Mail.ProcessedMailbox = mailbox, processed
	runHallway(t, ctx, cfg)

	// waitMaildir waits for a mail in addr's Maildir holding want.
	waitMaildir := func(addr, want string) []byte {
		t.Helper()
		for ctx.Err() == nil {
			mails, err := mailtest.ReadMaildir(filepath.Join(mailRoot, addr, "Maildir"))
			if err != nil {
				t.Fatal(err)
			}
			for _, raw := range mails {
				if bytes.Contains(raw, []byte(want)) {
					return raw
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no mail holding %q reached %s", want, addr)
		return nil
	}
	n := 0
	// ask sends a mail from the attendee and returns the text of the bot's answer.
	ask := func(subject, header, body string) string {
		t.Helper()
		n++
		id := fmt.Sprintf("%s-%d@test.local", tag, n)
		sendMail(t, smtpAddr, person, relay, fmt.Sprintf("From: Text Tester <%s>\nTo: bot@test.local\nSubject: %s\nMessage-ID: <%s>\n%s\n%s", person, subject, id, header, body))
		raw := waitMaildir(relay, "<"+id+">")
		app := c.Append(mailbox, int64(len(raw)), nil)
		if _, err := app.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := app.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Wait(); err != nil {
			t.Fatal(err)
		}
		answer, err := mail.Parse(bytes.NewReader(waitMaildir(person, "In-Reply-To: <"+id+">")), nil)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Fields(answer.Plain), " ")
	}

	conf := ask("register", "", "please\n")
	code := regexp.MustCompile(`confirm ([0-9A-Z]{4}-[0-9A-Z]{4})`).FindStringSubmatch(conf)
	if code == nil {
		t.Fatalf("no code in the confirmation: %s", conf)
	}
	if got := ask("confirm "+code[1], "", "\n"); !strings.Contains(got, "registered") {
		t.Fatalf("confirm answered: %s", got)
	}
	// A title with a right-to-left override, in an encoded subject.
	got := ask("=?utf-8?q?propose_=22Evil=E2=80=AEtitle=22?=", "", "\n")
	if want := `has an invisible right-to-left override (U+202E), which reorders the text shown after it, at character 5`; !strings.Contains(got, want) {
		t.Errorf("a title with a bidi override answered: %s\nwant: %s", got, want)
	}
	// An abstract with a DCC offer, a NUL, colours, an override, a zero
	// width space, in quoted-printable.
	got = ask(`propose "Mail hostile `+tag+`"`, "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n",
		"Get it: =01DCC SEND evil.exe 2130706433 6667 1337=01 =00NUL =0304red=03 =E2=80=AEevil =E2=80=8Bzero\nsecond line\n")
	if !strings.Contains(got, `(unconference session) "Mail hostile `+tag+`"`) || !strings.Contains(got, "(Removed 7 control, formatting or invisible characters from your mail's text.)") {
		t.Errorf("the hostile abstract answered: %s", got)
	}
	number := regexp.MustCompile(`proposed #(\d+)`).FindStringSubmatch(got)
	if number == nil {
		t.Fatalf("no proposal number in: %s", got)
	}

	// On IRC, the abstract comes back clean.
	botNick, channel := cfg.IRC.Nick, cfg.Events[0].Channel
	watcher := irctest.DialT(t, ircAddr, "w"+tag)
	if err := watcher.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	var abstract string
	for abstract == "" && ctx.Err() == nil {
		watcher.Privmsg(channel, "!show "+number[1])
		sync, err := watcher.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range sync {
			if !strings.EqualFold(msg.Prefix.Nick, botNick) {
				continue
			}
			if bad := notPlain(msg.Raw); bad != "" {
				t.Errorf("the watcher received from the bot a line with %s: %q", bad, msg.Raw)
			}
			if strings.Contains(msg.Last(), "Get it:") {
				abstract = msg.Last()
			}
		}
		if abstract == "" {
			time.Sleep(200 * time.Millisecond) // the bot may not have joined yet
		}
	}
	if want := "Get it: DCC SEND evil.exe 2130706433 6667 1337 NUL red evil zero second line"; !strings.HasSuffix(abstract, want) {
		t.Errorf("!show %s said the abstract as %q; want %q", number[1], abstract, want)
	}
}

// notPlain names what no line from the bot may hold: control characters
// (NUL, CR, LF, the CTCP marker, IRC formatting), bidi overrides and
// isolates, zero-width characters, bytes that are not UTF-8.
func notPlain(s string) string {
	if !utf8.ValidString(s) {
		return "bytes that are not UTF-8"
	}
	for i, r := range s {
		if r < 0x20 || r >= 0x7f && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 ||
			r >= 0x200b && r <= 0x200d || r == 0x2060 || r == 0xfeff {
			return fmt.Sprintf("%U at byte %d", r, i)
		}
	}
	return ""
}
