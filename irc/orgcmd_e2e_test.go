package irc_test

// End-to-end tests of the organizers' commands against the real InspIRCd
// + Anope: several numbers in one command, speakers told of decisions,
// pins broken by a change of the config.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/schedule"
	"github.com/hallwayhq/hallway/store/storetest"
)

// privately waits for the bot's private line to c that starts with
// prefix, and fails if one of the lines before it starts with never.
func privately(t *testing.T, ctx context.Context, c *irctest.Client, botNick, prefix, never string) {
	t.Helper()
	var before []string
	_, err := c.Expect(ctx, func(m irctest.Message) bool {
		if m.Command != "PRIVMSG" || !strings.EqualFold(m.Prefix.Nick, botNick) || !strings.EqualFold(m.Param(0), c.Nick()) {
			return false
		}
		if strings.HasPrefix(m.Last(), prefix) {
			return true
		}
		before = append(before, m.Last())
		return false
	})
	if err != nil {
		t.Fatalf("waiting for %s to tell %s privately %q…: %v (it said %q)", botNick, c.Nick(), prefix, err, before)
	}
	for _, l := range before {
		if never != "" && strings.HasPrefix(l, never) {
			t.Errorf("%s was told %q again", c.Nick(), l)
		}
	}
}

// TestIRCSeveralNumbers: organizer commands take several numbers (or
// people), with one answer line each; the speakers are told privately of
// each decision, once.
func TestIRCSeveralNumbers(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 3*time.Minute)
	channel := "#" + unique("several")
	botNick := unique("hw")
	org, alice, bob := unique("org"), unique("alice"), unique("bob")
	account(t, ctx, addr, botNick).Close()
	orgC := account(t, ctx, addr, org)
	aliceC := account(t, ctx, addr, alice)
	bobC := account(t, ctx, addr, bob)
	for _, c := range []*irctest.Client{orgC, aliceC, bobC} {
		if err := c.Join(ctx, channel); err != nil {
			t.Fatal(err)
		}
	}
	b := startBot(t, botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(t), organizers: []string{org}, burst: 10, rate: 10})
	defer b.stop()
	waitJoined(t, ctx, aliceC, botNick, channel)

	aliceC.Privmsg(botNick, `propose talk "Zero to 2500"`)
	said(t, ctx, aliceC, botNick, `proposed #1 (talk) "Zero to 2500". Vote with !vote 1.`)
	aliceC.Privmsg(botNick, `propose "Renting Macs"`)
	said(t, ctx, aliceC, botNick, `proposed #2 (unconference session) "Renting Macs". Vote with !vote 2.`)
	aliceC.Privmsg(botNick, `propose "Containers"`)
	said(t, ctx, aliceC, botNick, `proposed #3 (unconference session) "Containers". Vote with !vote 3.`)
	bobC.Privmsg(botNick, `propose "Containers too"`)
	said(t, ctx, bobC, botNick, `proposed #4 (unconference session) "Containers too". Vote with !vote 4.`)
	aliceC.Privmsg(botNick, "pledge 100 USD for ci-macs")
	saidPrefix(t, ctx, aliceC, botNick, "thank you! Pledge #1")
	bobC.Privmsg(botNick, "pledge 50 USD for ci-macs")
	saidPrefix(t, ctx, bobC, botNick, "thank you! Pledge #2")

	orgC.Privmsg(channel, "!accept 1 2 9")
	said(t, ctx, orgC, botNick, org+`: talk #1 "Zero to 2500" accepted.`)
	said(t, ctx, orgC, botNick, org+`: session #2 "Renting Macs" accepted.`)
	said(t, ctx, orgC, botNick, org+": there is no proposal #9. Say !proposals for the list.")
	privately(t, ctx, aliceC, botNick, `your talk #1 "Zero to 2500" is accepted for E2E Day.`, "")
	privately(t, ctx, aliceC, botNick, `your session #2 "Renting Macs" is accepted for E2E Day.`, "")

	// One reason for all.
	orgC.Privmsg(channel, "!reject 3 4 -- one session on containers is enough")
	said(t, ctx, orgC, botNick, org+`: session #3 "Containers" rejected: one session on containers is enough.`)
	said(t, ctx, orgC, botNick, org+`: session #4 "Containers too" rejected: one session on containers is enough.`)
	privately(t, ctx, aliceC, botNick, `your session #3 "Containers" was not accepted for E2E Day. The organizers said: one session on containers is enough`, "")
	privately(t, ctx, bobC, botNick, `your session #4 "Containers too" was not accepted for E2E Day. The organizers said: one session on containers is enough`, "")

	// Said again, a decision is not told again.
	orgC.Privmsg(channel, "!accept 1")
	said(t, ctx, orgC, botNick, org+`: talk #1 "Zero to 2500" was already accepted.`)
	orgC.Privmsg(channel, "!reject 4 -- one session on containers is enough")
	said(t, ctx, orgC, botNick, org+`: session #4 "Containers too" rejected: one session on containers is enough.`)
	aliceC.Privmsg(botNick, "votes")
	privately(t, ctx, aliceC, botNick, "you have not voted", "your talk #1")
	bobC.Privmsg(botNick, "votes")
	privately(t, ctx, bobC, botNick, "you have not voted", "your session #4")

	orgC.Privmsg(channel, "!received 1 2")
	saidPrefix(t, ctx, orgC, botNick, org+": pledge #1 received in full")
	saidPrefix(t, ctx, orgC, botNick, org+": pledge #2 received in full")
	orgC.Privmsg(channel, "!checkin "+alice+" "+bob+" nobody"+alice)
	// Neither registered: checked in, with a warning saying so.
	saidPrefix(t, ctx, orgC, botNick, org+": checked in "+alice+" [warning: not registered")
	saidPrefix(t, ctx, orgC, botNick, org+": checked in "+bob+" [warning: not registered")
	said(t, ctx, orgC, botNick, org+": nobody known as nobody"+alice+" (give an account, a nick in the channel, a mail address or a registration number like #12).")
}

// TestIRCBrokenPins: the config's slots and rooms change after pins were
// made; a preview and a release tell the organizer of every broken pin
// at once and how to fix each, not "internal error".
func TestIRCBrokenPins(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 3*time.Minute)
	channel := "#" + unique("pins")
	botNick := unique("hw")
	org, alice := unique("org"), unique("alice")
	account(t, ctx, addr, botNick).Close()
	orgC := account(t, ctx, addr, org)
	aliceC := account(t, ctx, addr, alice)
	at := func(hm string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04", "2027-03-04 "+hm)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	grid := func(talks []string, rooms ...string) func(*bot.Event) {
		return func(ev *bot.Event) {
			for _, r := range rooms {
				ev.Grid.Rooms = append(ev.Grid.Rooms, schedule.GridRoom{Name: r})
			}
			for _, hm := range talks {
				ev.Grid.Slots = append(ev.Grid.Slots, schedule.GridSlot{Start: at(hm), End: at(hm).Add(40 * time.Minute), Kind: schedule.KindTalk, Rooms: rooms[:1]})
			}
			for _, hm := range []string{"13:00", "14:00"} {
				ev.Grid.Slots = append(ev.Grid.Slots, schedule.GridSlot{Start: at(hm), End: at(hm).Add(50 * time.Minute), Kind: schedule.KindSession, Rooms: rooms})
			}
		}
	}
	setup := botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(t), organizers: []string{org}, burst: 10, rate: 10, rateBurst: 100,
		event: grid([]string{"09:00", "10:00"}, "Room A", "Room B")}
	b := startBot(t, setup)
	waitOnline(t, ctx, orgC, botNick)

	aliceC.Privmsg(botNick, `propose talk "Keynote"`)
	saidPrefix(t, ctx, aliceC, botNick, "proposed #1")
	aliceC.Privmsg(botNick, `propose "Renting Macs"`)
	saidPrefix(t, ctx, aliceC, botNick, "proposed #2")
	aliceC.Privmsg(botNick, `propose "Containers"`)
	saidPrefix(t, ctx, aliceC, botNick, "proposed #3")
	aliceC.Privmsg(botNick, "vote 2 3")
	saidPrefix(t, ctx, aliceC, botNick, "voted for #2, #3")
	orgC.Privmsg(botNick, "accept 1")
	said(t, ctx, orgC, botNick, `talk #1 "Keynote" accepted.`)
	for _, pin := range []string{`pin 1 "Room A" 09:00`, `pin 2 "Room B" 13:00`, `pin 3 "Room A" 14:00`} {
		orgC.Privmsg(botNick, pin)
		saidPrefix(t, ctx, orgC, botNick, "pinned #")
	}
	// Two pins to one room and slot are refused when made.
	orgC.Privmsg(botNick, `pin 2 "Room A" 14:00`)
	said(t, ctx, orgC, botNick, "#3 is pinned there already: !unpin 3 first, or pick another room or slot.")

	// The talks move by half an hour and Room B becomes Room C.
	b.stop()
	setup.event = grid([]string{"09:30", "10:30"}, "Room A", "Room C")
	b = startBot(t, setup)
	defer b.stop()
	waitOnline(t, ctx, orgC, botNick)
	// Times say the year when it is not this one, and the zone.
	day := "Thu 4 Mar"
	if time.Now().Year() != 2027 {
		day += " 2027"
	}
	broken := []string{
		"2 pins no longer fit the event's slots and rooms (the config changed since, or pins clash). Fix each, then try again:",
		`#1 "Keynote" is pinned to Room A, ` + day + ` 09:00 UTC, but no talk slot starts then: say !unpin 1, or pin it again to a talk slot (they start at 2027-03-04 09:30, 2027-03-04 10:30).`,
		`#2 "Renting Macs" is pinned to Room B, ` + day + ` 13:00 UTC, but there is no room "Room B" any more: say !unpin 2, or pin it again to a room open then: Room A, Room C.`,
		"To let the scheduler place them all: !unpin 1 2",
	}
	for _, cmd := range []string{"schedule preview", "schedule release"} {
		orgC.Privmsg(botNick, cmd)
		for i, line := range broken {
			if i == 0 && cmd == "schedule release" {
				line = "the schedule was not released: " + line
			}
			said(t, ctx, orgC, botNick, line)
		}
	}
	orgC.Privmsg(botNick, `pin 1 "Room A" 09:30`)
	said(t, ctx, orgC, botNick, `pinned #1 "Keynote" to Room A, `+day+` 09:30 UTC. It takes effect at the next release.`)
	orgC.Privmsg(botNick, "unpin 2")
	said(t, ctx, orgC, botNick, `unpinned #2 "Renting Macs": the scheduler places it at the next release.`)
	orgC.Privmsg(botNick, "schedule release")
	saidPrefix(t, ctx, orgC, botNick, "Schedule version 1")
}

// waitOnline waits until nick is connected, as ISON sees it from c.
func waitOnline(t *testing.T, ctx context.Context, c *irctest.Client, nick string) {
	t.Helper()
	for ctx.Err() == nil {
		c.Raw("ISON " + nick)
		m, err := c.Expect(ctx, func(m irctest.Message) bool { return m.Command == "303" })
		if err == nil && strings.EqualFold(strings.TrimSpace(m.Last()), nick) {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s never came online: %v", nick, ctx.Err())
}
