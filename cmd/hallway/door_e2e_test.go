package main

// End-to-end tests of registration and the door against the real Dovecot
// and OpenSMTPD: the waitlist as a queue, how long a freed seat is held,
// checking in people who registered by mail.

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
)

var mailSeq atomic.Int64

// ask mails subject (and body) from name's address to the bot and returns
// the answer, the mail that replies to it.
func (e *mailEnv) ask(name, from, subject, body string) string {
	e.t.Helper()
	id := fmt.Sprintf("%s-%d@test.local", e.tag, mailSeq.Add(1))
	if from == "" {
		from = e.addr(name)
	}
	e.send(e.addr(name), fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s>\n\n%s\n", from, e.botAddr, subject, id, body))
	return e.waitMail(e.addr(name), func(raw string) bool { return strings.Contains(raw, "In-Reply-To: <"+id+">") })
}

var codeRe = regexp.MustCompile(`confirm ([0-9A-Z]{4}-[0-9A-Z]{4})`)

// registerByMail registers name by mail and confirms the address, as the
// confirmation mail says; it returns the answer to the confirmation.
func (e *mailEnv) registerByMail(name, from string) string {
	e.t.Helper()
	code := e.pendingByMail(name, from)
	return e.ask(name, from, "confirm "+code, "")
}

// pendingByMail asks to register name by mail and returns the code of the
// confirmation mail, not confirming it yet.
func (e *mailEnv) pendingByMail(name, from string) string {
	e.t.Helper()
	conf := e.ask(name, from, "register", "")
	m := codeRe.FindStringSubmatch(conf)
	if m == nil {
		e.t.Fatalf("no code in the confirmation to %s:\n%s", name, conf)
	}
	return m[1]
}

// offered lists who is offered a seat now, by the name in their address.
func (e *mailEnv) offered() []string {
	e.t.Helper()
	rows, err := e.db.QueryContext(e.ctx, `SELECT email FROM registration WHERE status = 'offered' ORDER BY id`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var addr string
		if err := rows.Scan(&addr); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, strings.TrimSuffix(addr, "-"+e.tag+"@test.local"))
	}
	return out
}

// wantAnswer fails the test unless the answer says want.
func wantAnswer(t *testing.T, who, answer, want string) {
	t.Helper()
	if !strings.Contains(answer, want) {
		t.Errorf("%s's answer lacks %q:\n%s", who, want, answer)
	}
}

// offerTo waits for the offer of a seat to name and checks nobody else
// holds one.
func (e *mailEnv) offerTo(name string) string {
	e.t.Helper()
	offer := e.waitMail(e.addr(name), func(raw string) bool { return strings.Contains(raw, "A seat at Test Day is free") })
	if got := e.offered(); len(got) != 1 || got[0] != name {
		e.t.Fatalf("the seat is offered to %v, want [%s]", got, name)
	}
	return offer
}

// TestMailWaitlistIsAQueue replays the rehearsal: people join the waitlist
// in the order they confirm (not the order they first wrote), freed seats
// are offered in that order, and alice, who cancels and registers again,
// is told her true place and gets no seat before those ahead of her.
func TestMailWaitlistIsAQueue(t *testing.T) {
	t.Parallel() // its mailEnv is its own
	e := startMailEnv(t, 3*time.Minute, func(c *config.Config) { c.Events[0].RegistrationCapacity = 2 })
	wantAnswer(t, "alice", e.registerByMail("alice", ""), "You're registered (#1 of 2).")
	wantAnswer(t, "bob", e.registerByMail("bob", ""), "You're registered (#2 of 2).")
	// u3 writes first and confirms last.
	codes := map[string]string{}
	for _, name := range []string{"u3", "u2", "u1"} {
		codes[name] = e.pendingByMail(name, "")
	}
	for i, name := range []string{"u1", "u2", "u3"} {
		wantAnswer(t, name, e.ask(name, "", "confirm "+codes[name], ""), fmt.Sprintf("you are on the waitlist, #%d.", i+1))
	}
	wantAnswer(t, "u3", e.ask("u3", "", "register", ""), "you are on the waitlist, #3;")

	wantAnswer(t, "bob", e.ask("bob", "", "cancel", ""), "cancelled your registration")
	e.offerTo("u1")
	wantAnswer(t, "u1", e.ask("u1", "", "register", ""), "You're registered")
	wantAnswer(t, "u3", e.ask("u3", "", "register", ""), "you are on the waitlist, #2;")

	wantAnswer(t, "alice", e.ask("alice", "", "cancel", ""), "cancelled your registration")
	e.offerTo("u2")
	// alice comes back: behind u3, who waited longer.
	wantAnswer(t, "alice", e.ask("alice", "", "register", ""), "you are on the waitlist, #2.")
	wantAnswer(t, "u3", e.ask("u3", "", "register", ""), "you are on the waitlist, #1;")

	wantAnswer(t, "u2", e.ask("u2", "", "cancel", ""), "cancelled your registration")
	e.offerTo("u3")
	wantAnswer(t, "alice", e.ask("alice", "", "register", ""), "you are on the waitlist, #1;")
	wantAnswer(t, "u3", e.ask("u3", "", "cancel", ""), "cancelled your registration")
	e.offerTo("alice")
	wantAnswer(t, "alice", e.ask("alice", "", "register", ""), "You're registered")
}

// heldUntilRe reads how long an offer holds the seat.
var heldUntilRe = regexp.MustCompile(`before ([A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2} \d{2}:\d{2} \S+)\.`)

// offerHeld frees capacity 1's seat for bob and returns until when the
// offer mail says it is held, and when the cancellation was sent.
func (e *mailEnv) offerHeld() (until string, cancelled time.Time) {
	e.t.Helper()
	wantAnswer(e.t, "alice", e.registerByMail("alice", ""), "You're registered (#1 of 1).")
	wantAnswer(e.t, "bob", e.registerByMail("bob", ""), "you are on the waitlist, #1.")
	cancelled = time.Now()
	wantAnswer(e.t, "alice", e.ask("alice", "", "cancel", ""), "cancelled your registration")
	offer := e.offerTo("bob")
	m := heldUntilRe.FindStringSubmatch(strings.Join(strings.Fields(offer), " ")) // the body is wrapped
	if m == nil {
		e.t.Fatalf("the offer says no time:\n%s", offer)
	}
	return m[1], cancelled
}

// eventOn gives the event one day, date's, with a slot at hh:mm.
func eventOn(c *config.Config, date time.Time, hh, mm int) {
	z := c.Events[0].Location
	day := time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, z)
	c.Events[0].RegistrationCapacity = 1
	c.Events[0].Days = []config.Day{{Date: day, Slots: []config.Slot{{Start: day.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute),
		Minutes: 60, Kind: config.SlotBreak, Title: "Doors open"}}}}
}

// TestMailOfferHeldUntilStart: a seat offered the day before the event is
// held until the doors open, not 48 hours; on the event's day it is held
// for registration_day_hold.
func TestMailOfferHeldUntilStart(t *testing.T) {
	t.Parallel() // its mailEnv is its own
	t.Run("day before", func(t *testing.T) {
		var start time.Time
		e := startMailEnv(t, 2*time.Minute, func(c *config.Config) {
			// Tomorrow, even if the test runs across midnight.
			tomorrow := time.Now().In(c.Events[0].Location).Add(10*time.Minute).AddDate(0, 0, 1)
			eventOn(c, tomorrow, 0, 30)
			start = c.Events[0].Days[0].Slots[0].Start
		})
		until, _ := e.offerHeld()
		if want := start.Format("Mon 2 Jan 15:04 MST"); until != want {
			t.Errorf("the seat is held until %s, want the event's start, %s", until, want)
		}
	})
	t.Run("on the day", func(t *testing.T) {
		e := startMailEnv(t, 2*time.Minute, func(c *config.Config) {
			eventOn(c, time.Now().In(c.Events[0].Location), 0, 0)
			c.Events[0].RegistrationDayHold = 20 * time.Minute
		})
		until, cancelled := e.offerHeld()
		z := e.cfg.Events[0].Location
		// The mail gives the day and the minute in the event's zone.
		f := strings.Fields(until)
		clock, err := time.Parse("15:04", f[3])
		if err != nil {
			t.Fatal(err)
		}
		now := cancelled.In(z)
		got := time.Date(now.Year(), now.Month(), now.Day(), clock.Hour(), clock.Minute(), 0, 0, z)
		if got.Before(now.Add(-time.Hour)) {
			got = got.AddDate(0, 0, 1) // past midnight
		}
		if lo, hi := now.Add(19*time.Minute), now.Add(22*time.Minute); got.Before(lo) || got.After(hi) {
			t.Errorf("on the event's day the seat is held until %s, want 20 minutes after %s", until, now.Format("15:04:05"))
		}
	})
}

// TestMailCheckinByAddress: people who registered only by mail are checked
// in at the door over the real InspIRCd, by address or registration
// number; the name in their mail is kept (the export and the answer say
// it); someone on the waitlist or not registered is checked in with a
// warning saying what to do; someone unknown is named as such.
func TestMailCheckinByAddress(t *testing.T) {
	t.Parallel() // its mailEnv is its own
	org := uniqueNick("org")
	e := startMailEnv(t, 2*time.Minute, func(c *config.Config) {
		c.Events[0].Organizers = []string{org}
		c.Events[0].RegistrationCapacity = 1
	})
	dana := e.registerByMail("dana", "Dana Smith <"+e.addr("dana")+">")
	wantAnswer(t, "dana", dana, "You're registered (#1 of 1).")
	wantAnswer(t, "eve", e.registerByMail("eve", ""), "you are on the waitlist, #1.")
	e.pendingByMail("finn", "")

	orgC := ircPerson(t, e.ctx, e.ircAddr, org)
	botNick := e.cfg.IRC.Nick
	waitOnline(t, e.ctx, orgC, botNick)
	masked := func(name string) string { return name[:1] + "***@test.local" }
	for _, step := range []struct{ say, want string }{
		{"checkin " + e.addr("dana"), "checked in " + masked("dana") + " (Dana Smith)."},
		{"checkin #1", "#1 (Dana Smith) was checked in already."},
		{"checkin " + strings.ToUpper(e.addr("eve")), "checked in " + masked("eve") + " [warning: on the waitlist, #1, with no seat: let them in only if there is room]."},
		{"checkin " + e.addr("finn"), "checked in " + masked("finn") + " [warning: not registered, their address is not confirmed yet: they can reply to the confirmation mail now]."},
		{"checkin " + e.addr("nobody"), "nobody known as " + e.addr("nobody") + " (give an account, a nick in the channel, a mail address or a registration number like #12)."},
		{"checkin #7", "nobody known as #7"},
	} {
		orgC.Privmsg(botNick, step.say)
		fromBot(t, e.ctx, orgC, botNick, step.want)
	}
	var csv, stderr bytes.Buffer
	if code := run(e.ctx, []string{"export", "registrations", "-config", e.cfg.File}, nil, &csv, &stderr); code != 0 {
		t.Fatalf("export registrations: %s", stderr.String())
	}
	if !strings.Contains(csv.String(), "1,registered,Dana Smith,"+e.addr("dana")) {
		t.Errorf("the registrations export lost the name from the mail:\n%s", csv.String())
	}
}
