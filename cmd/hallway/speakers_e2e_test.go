package main

// End-to-end tests of what speakers and attendees are told privately,
// against the real InspIRCd + Anope, Dovecot and OpenSMTPD.

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/irc/irctest"
)

// inChannel waits until the bot is in channel, as c (in it) sees it.
func inChannel(t *testing.T, e *mailEnv, c *irctest.Client, botNick, channel string) {
	t.Helper()
	for e.ctx.Err() == nil {
		c.Raw("NAMES " + channel)
		in := false
		_, err := c.Expect(e.ctx, func(m irctest.Message) bool {
			if m.Command == "353" {
				for _, n := range strings.Fields(m.Last()) {
					in = in || strings.EqualFold(strings.TrimLeft(n, "~&@%+"), botNick)
				}
			}
			return m.Command == "366"
		})
		if err == nil && in {
			return
		}
		select {
		case <-e.ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s never joined %s", botNick, channel)
}

// TestSpeakersTold: speakers are told privately when their proposal is
// accepted or rejected, with the reason: on IRC to their account, and by
// mail to their confirmed address; once, however often it is said. An
// address or an anonymous pledge said in the channel is answered with a
// suggestion to use a private message.
func TestSpeakersTold(t *testing.T) {
	org, ann := uniqueNick("org"), uniqueNick("ann")
	e := startMailEnv(t, 3*time.Minute, func(cfg *config.Config) { cfg.Events[0].Organizers = []string{org} })
	botNick, channel := e.cfg.IRC.Nick, e.cfg.Events[0].Channel
	annC := ircPerson(t, e.ctx, e.ircAddr, ann)
	orgC := ircPerson(t, e.ctx, e.ircAddr, org)
	for _, c := range []*irctest.Client{annC, orgC} {
		if err := c.Join(e.ctx, channel); err != nil {
			t.Fatal(err)
		}
	}
	inChannel(t, e, annC, botNick, channel)

	// ann registers in the channel: the address is masked, and she is told
	// to say it privately next time.
	annAddr := e.addr("ann")
	annC.Privmsg(channel, "!register "+annAddr)
	got := fromBot(t, e.ctx, annC, botNick, "a confirmation mail is on its way")
	if want := ann + ": a confirmation mail is on its way to a***@test.local: reply to it, or say !confirm CODE here with the code it gives. If it bounces, I tell you here. Next time, say it to me in a private message (/msg " + botNick + " register ADDRESS): your address stays out of the channel."; got != want {
		t.Errorf("answer to register in the channel:\n got %q\nwant %q", got, want)
	}
	code := regexp.MustCompile(`confirm ([0-9A-Z]{4}-[0-9A-Z]{4})`).FindStringSubmatch(e.waitMail(annAddr, func(m string) bool { return strings.Contains(m, "To confirm your registration") }))
	if code == nil {
		t.Fatal("no code in the confirmation mail")
	}
	annC.Privmsg(botNick, "confirm "+code[1])
	fromBot(t, e.ctx, annC, botNick, "you're registered")
	annC.Privmsg(channel, "!pledge 20 USD as anonymous")
	if got := fromBot(t, e.ctx, annC, botNick, "(shown as anonymous)"); !strings.HasSuffix(got, "(shown as anonymous). Next time, pledge in a private message (/msg "+botNick+" pledge …): everyone here saw who pledged anonymously.") {
		t.Errorf("answer to an anonymous pledge in the channel: %q", got)
	}
	// Said privately, no hint.
	annC.Privmsg(botNick, "pledge 5 USD for ci-macs as anonymous")
	if got := fromBot(t, e.ctx, annC, botNick, "(shown as anonymous)"); strings.Contains(got, "Next time") {
		t.Errorf("a private pledge got the hint: %q", got)
	}

	annC.Privmsg(botNick, `propose talk "Ann's talk"`)
	fromBot(t, e.ctx, annC, botNick, "proposed #1")
	annC.Privmsg(botNick, `propose "Ann's session"`)
	fromBot(t, e.ctx, annC, botNick, "proposed #2")
	orgC.Privmsg(channel, "!accept 1")
	fromBot(t, e.ctx, orgC, botNick, `talk #1 "Ann's talk" accepted.`)
	orgC.Privmsg(channel, "!reject 2 -- out of scope this year")
	fromBot(t, e.ctx, orgC, botNick, `session #2 "Ann's session" rejected: out of scope this year.`)

	// On IRC, privately, to her account.
	private := func(want string) {
		t.Helper()
		if _, err := annC.Expect(e.ctx, func(m irctest.Message) bool {
			return m.Command == "PRIVMSG" && strings.EqualFold(m.Prefix.Nick, botNick) && strings.EqualFold(m.Param(0), ann) && m.Last() == want
		}); err != nil {
			t.Fatalf("ann was not told %q privately: %v", want, err)
		}
	}
	private(`your talk #1 "Ann's talk" is accepted for Test Day.`)
	private(`your session #2 "Ann's session" was not accepted for Test Day. The organizers said: out of scope this year`)
	// By mail, to her confirmed address.
	accepted := e.waitMail(annAddr, func(m string) bool { return strings.Contains(m, "Subject: Your talk is accepted for Test Day") })
	if !strings.Contains(flat(accepted), `your talk "Ann's talk" (#1) is accepted for Test Day.`) {
		t.Errorf("acceptance mail:\n%s", accepted)
	}
	rejected := e.waitMail(annAddr, func(m string) bool { return strings.Contains(m, "Subject: Your session for Test Day") })
	if !strings.Contains(flat(rejected), "The organizers did not accept it. Their reason: out of scope this year") {
		t.Errorf("rejection mail:\n%s", rejected)
	}

	// Said again, nothing more is told.
	orgC.Privmsg(channel, "!accept 1")
	fromBot(t, e.ctx, orgC, botNick, `talk #1 "Ann's talk" was already accepted.`)
	orgC.Privmsg(channel, "!reject 2 -- out of scope this year")
	fromBot(t, e.ctx, orgC, botNick, `session #2 "Ann's session" rejected: out of scope this year.`)
	annC.Privmsg(botNick, "votes")
	if _, err := annC.Expect(e.ctx, func(m irctest.Message) bool {
		if m.Command != "PRIVMSG" || !strings.EqualFold(m.Prefix.Nick, botNick) {
			return false
		}
		if strings.HasPrefix(m.Last(), "your talk") || strings.HasPrefix(m.Last(), "your session") {
			t.Errorf("ann was told again: %q", m.Last())
		}
		return strings.HasPrefix(m.Last(), "you have not voted")
	}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the mail sent", func() bool {
		return e.count(`SELECT count(*) FROM outbox WHERE channel = 'mail' AND sent_at IS NULL`) == 0
	})
	if n := e.count(`SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'decision:%'`); n != 4 {
		t.Errorf("%d decisions queued, want 4 (2 on IRC, 2 by mail)", n)
	}
	n := 0
	for _, m := range e.mails(annAddr) {
		if strings.Contains(m, "Subject: Your talk is accepted") || strings.Contains(m, "Subject: Your session for") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("ann got %d mails of decisions, want 2", n)
	}
}
