package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store"
)

// fakeMail records the mail the bot sends and its answers to mail.
type fakeMail struct {
	sent    []OutMail
	replies []string
}

func (m *fakeMail) Mail(_ *store.Tx, out OutMail) error {
	m.sent = append(m.sent, out)
	return nil
}

func (m *fakeMail) Reply(_ *store.Tx, req Request, r Reply) error {
	m.replies = append(m.replies, req.Who.Value+": "+strings.Join(r.Lines, "\n"))
	return nil
}

// token returns the confirmation code of the last mail to addr.
func (m *fakeMail) token(t *testing.T, addr string) string {
	t.Helper()
	for i := len(m.sent) - 1; i >= 0; i-- {
		if m.sent[i].To == addr && strings.HasPrefix(m.sent[i].IDPrefix, "confirm-") {
			return strings.TrimPrefix(m.sent[i].IDPrefix, "confirm-")
		}
	}
	t.Fatalf("no confirmation mail to %s", addr)
	return ""
}

// mailFixture sets up mail for f: what the bot mails, a way to send it a
// command by mail (returning its answers), and a check of a string.
func mailFixture(t *testing.T, f *fixture) (*fakeMail, func(from, text string, refs ...string) string, func(got, want string)) {
	mail := &fakeMail{}
	f.bot.SetMailer(mail)
	f.bot.SetReplier(Mail, mail)
	byMail := func(from, text string, refs ...string) string {
		t.Helper()
		mail.replies = nil
		req := Request{Transport: Mail, Who: AddressIdentity(from), Text: text, RefersTo: refs, Keys: []string{fmt.Sprintf("mail:%d", time.Now().UnixNano())}}
		if err := f.bot.Handle(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		return strings.Join(mail.replies, "\n")
	}
	check := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
	return mail, byMail, check
}

// channelHint ends answers to "register ADDRESS" said in a channel.
const channelHint = " Next time, say it to me in a private message (/msg hallway register ADDRESS): your address stays out of the channel."

func TestRegistration(t *testing.T) {
	f := newFixture(t)
	f.ev.Capacity = 2
	mail, byMail, check := mailFixture(t, f)

	check(f.say("alice", "alice", "register"), `alice: Say the address to send the confirmation to. Usage: !register [ADDRESS] (e.g. !register jane@example.org)`)
	check(f.say("alice", "alice", "register not-an-address"), `alice: "not-an-address" is not an email address; write it as jane@example.org.`)
	check(f.say("alice", "alice", "register Alice@Example.org"), "alice: a confirmation mail is on its way to a***@example.org: reply to it, or say !confirm CODE here with the code it gives. If it bounces, I tell you here."+channelHint)
	check(f.say("alice", "alice", "confirm ZZZZ-ZZZZ"), "alice: no registration waits for the code ZZZZ-ZZZZ: check the mail, or say !register again.")
	code := mail.token(t, "alice@example.org")
	check(f.say("alice", "alice", "confirm "+strings.ToLower(strings.ReplaceAll(code, "-", ""))), "alice: you're registered (#1 of 2). To cancel, say !cancel.")
	check(f.say("alice", "alice", "register"), "alice: you are already registered. To cancel, say !cancel.")

	// By mail: the answer is the confirmation mail, threaded under the request.
	check(byMail("jane@example.org", "register -- Hi, I'd like to come. Jane"), "")
	if last := mail.sent[len(mail.sent)-1]; last.To != "jane@example.org" || !strings.Contains(last.Body, "reply to this mail") {
		t.Errorf("confirmation mail: %+v", last)
	}
	// A forged "register" from jane's address does not confirm it, nor
	// send another mail while the first is on its way…
	check(byMail("jane@example.org", "register"), "jane@example.org: a confirmation mail is already on its way to j***@example.org, sent at 11:30 UTC: reply to it, or say !confirm CODE with its code. Another can be sent after 12:30 UTC.")
	// …a reply to the confirmation mail does.
	code = mail.token(t, "jane@example.org")
	check(byMail("jane@example.org", "register", "<confirm-"+code+".x1@openinfra.test>"), "jane@example.org: You're registered (#2 of 2).\nTo cancel, reply \"cancel\".")
	// An address that is not confirmed cannot propose.
	check(byMail("mallory@example.org", `propose session "Spam"`), "mallory@example.org: your address is not confirmed yet. Send \"register\" and reply to the confirmation mail first: proposals count only for confirmed addresses.")

	// Full: the next two wait.
	for _, who := range []string{"bob", "carol"} {
		f.say(who, who, "register "+who+"@example.org")
		check(f.say(who, who, "confirm "+mail.token(t, who+"@example.org")), fmt.Sprintf("%s: the event is full (2 seats): you are on the waitlist, #%d. We mail you when a seat frees up.", who, map[string]int{"bob": 1, "carol": 2}[who]))
	}
	check(f.say("x", "x", "registrations"), "x: 2 registered of 2 seats, 2 on the waitlist, 0 still to confirm their address.")

	// jane cancels by mail: bob is offered her seat, by mail.
	check(byMail("jane@example.org", "cancel"), "jane@example.org: cancelled your registration for Open Source Infrastructure Day 2027. Thanks for freeing the seat.")
	if last := mail.sent[len(mail.sent)-1]; last.To != "bob@example.org" || !strings.Contains(last.Body, "A seat at Open Source Infrastructure Day 2027 is free") {
		t.Errorf("offer mail: %+v", last)
	}
	check(f.say("x", "x", "registrations"), "x: 1 registered of 2 seats, 1 on the waitlist, 1 offered a freed seat, 0 still to confirm their address.")
	// bob lets the offer run out; it passes to carol, who takes it.
	if err := f.store.Do(context.Background(), func(tx *store.Tx) error { return f.bot.ExpireOffers(tx, f.now.Add(49*time.Hour)) }); err != nil {
		t.Fatal(err)
	}
	if last := mail.sent[len(mail.sent)-1]; last.To != "carol@example.org" {
		t.Errorf("after bob's offer expired, mail went to %s, want carol", last.To)
	}
	check(f.say("carol", "carol", "register"), "carol: you're registered (#2 of 2). To cancel, say !cancel.")
	check(f.say("bob", "bob", "cancel"), "bob: you are not registered for Open Source Infrastructure Day 2027.")

	// dave registers by mail, then links the address to his IRC account:
	// one person, one registration.
	byMail("dave@example.org", "register")
	byMail("dave@example.org", "register", "<confirm-"+mail.token(t, "dave@example.org")+".x@h>")
	check(f.say("dave", "dave", "register dave@example.org"), "dave: a confirmation mail is on its way to d***@example.org: reply to it, or say !confirm CODE here with the code it gives. If it bounces, I tell you here."+channelHint)
	check(f.say("dave", "dave", "confirm "+mail.token(t, "dave@example.org")), "dave: your address is confirmed and linked: you are on the waitlist.")
	check(f.say("x", "x", "registrations"), "x: 2 registered of 2 seats, 1 on the waitlist, 0 still to confirm their address.")
	// Said privately, no hint is needed.
	check(strings.Join(f.sayIn("", "erin", "erin", "register erin@example.org"), "\n"), "a confirmation mail is on its way to e***@example.org: reply to it, or say !confirm CODE here with the code it gives. If it bounces, I tell you here.")
}

// TestConfirmationNeedsIntent: a code works only from the account that
// asked for it; the owner of the address can refuse, after which nobody
// else gets mail sent there; limits stop a flood of confirmation mails.
func TestConfirmationNeedsIntent(t *testing.T) {
	f := newFixture(t)
	mail, byMail, check := mailFixture(t, f)
	// mallory asks for victim's address; the squatter who saw the code
	// cannot use it from his own account, nor can mallory without it.
	f.say("mallory", "mallory", "register victim@example.org")
	code := mail.token(t, "victim@example.org")
	check(f.say("squatter", "squatter", "confirm "+code), "squatter: the code "+code+" was asked for from another account: to link an address to yours, say !register ADDRESS from it and use the code of that mail.")
	// 100 more requests send no more mail: one is on its way.
	sent := len(mail.sent)
	for range 100 {
		f.say("mallory", "mallory", "register victim@example.org")
	}
	check(f.say("mallory", "mallory", "register victim@example.org"), "mallory: a confirmation mail is already on its way to v***@example.org, sent at 11:30 UTC: reply to it, or say !confirm CODE with its code. Another can be sent after 12:30 UTC."+channelHint)
	if len(mail.sent) != sent {
		t.Errorf("%d more confirmation mails to the victim", len(mail.sent)-sent)
	}
	// The victim says "not me": the request is cancelled, no more mail.
	check(byMail("victim@example.org", "notme", "<confirm-"+code+".x@h>"), "victim@example.org: Sorry for the mail. The request is cancelled, and no more confirmation mails will come to this address. If you want to register one day, send \"register\" from this address.")
	f.now = f.now.Add(2 * time.Hour)
	check(f.say("mallory", "mallory", "register victim@example.org"), "mallory: the owner of v***@example.org asked for no more confirmation mails from us. If the address is yours, send \"register\" by mail from it."+channelHint)
	check(f.say("mallory", "mallory", "confirm "+code), "mallory: that code was already used: you are cancelled.")
	if len(mail.sent) != sent {
		t.Errorf("%d more confirmation mails to the victim after not me", len(mail.sent)-sent)
	}
	// The owner registering from the address lifts the refusal.
	byMail("victim@example.org", "register")
	if len(mail.sent) != sent+1 || mail.sent[len(mail.sent)-1].To != "victim@example.org" {
		t.Errorf("the owner's own register sent no confirmation")
	}
	// One person asks for at most 5 a day (the victim was the first).
	for i := range 5 {
		f.say("mallory", "mallory", fmt.Sprintf("register x%d@example.org", i))
	}
	check(f.say("mallory", "mallory", "register x9@example.org"), "mallory: you asked for 5 confirmation mails in the last 24 hours, the most I send for one person; try again after Fri 5 Mar 11:30 UTC."+channelHint)
}

// TestBounceIsVisible: a confirmation mail the server refused shows in
// !registrations, and the IRC requester is told privately.
func TestBounceIsVisible(t *testing.T) {
	f := newFixture(t)
	mail := &fakeMail{}
	f.bot.SetMailer(mail)
	f.say("alice", "alice", "register alice@nowhere.invalid")
	last := mail.sent[len(mail.sent)-1]
	err := f.bot.MailUndelivered(context.Background(), Undelivered{OutboxID: 7, To: "alice@nowhere.invalid", DedupeKey: last.DedupeKey, Reason: "550 Invalid recipient"})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := f.store.Pending(context.Background(), store.IRC, f.last, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Target != "alice" || msgs[0].Body != "the confirmation mail to a***@nowhere.invalid could not be delivered (550 Invalid recipient). Check the address and say !register ADDRESS again." {
		t.Errorf("notice to the requester: %+v", msgs)
	}
	f.last = msgs[len(msgs)-1].ID
	if got := f.say("x", "x", "registrations"); got != "x: 0 registered, 0 on the waitlist, 1 still to confirm their address (1 address bounced)." {
		t.Errorf("registrations: %q", got)
	}
}
