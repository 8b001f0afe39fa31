package main

// End-to-end tests of registration and the door against the real Dovecot
// and OpenSMTPD: the waitlist as a queue, how long a freed seat is held,
// checking in people who registered by mail.

import (
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
