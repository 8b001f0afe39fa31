package irc_test

import (
	"github.com/hallwayhq/hallway/store/storetest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/bot/money"
	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/schedule"
)

// TestIRCHereOnEventDaysOnly: !here counts on the event's days; before
// them it says when it will count, after them that it no longer does.
func TestIRCHereOnEventDaysOnly(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 2*time.Minute)
	channel := "#" + unique("here")
	botNick := unique("hw")
	alice := unique("alice")
	account(t, ctx, addr, botNick).Close()
	aliceC := account(t, ctx, addr, alice)
	if err := aliceC.Join(ctx, channel); err != nil {
		t.Fatal(err)
	}
	zone, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	day1 := time.Date(2027, 3, 4, 9, 0, 0, 0, zone)
	day2 := day1.AddDate(0, 0, 2)
	var clock atomic.Int64 // the test's now, in Unix nanoseconds
	clock.Store(day1.AddDate(0, -3, 0).UnixNano())
	setup := botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(t), burst: 10, rate: 10,
		now: func() time.Time { return time.Unix(0, clock.Load()) },
		event: func(ev *bot.Event) {
			ev.Zone = zone
			ev.Grid = schedule.Grid{Slots: []schedule.GridSlot{
				{Start: day1, End: day1.Add(time.Hour), Kind: "break"},
				{Start: day2, End: day2.Add(time.Hour), Kind: "break"},
			}}
		}}
	b := startBot(t, setup)
	defer b.stop()
	waitJoined(t, ctx, aliceC, botNick, channel)
	for _, step := range []struct {
		at   time.Time
		want string
	}{
		{day1.AddDate(0, -3, 0), "attendance counts on the event's days only: E2E Day starts on Thu 4 Mar 2027; say !here then."},
		{day1.Add(-10 * time.Hour), "attendance counts on the event's days only: E2E Day starts on Thu 4 Mar 2027; say !here then."},
		{day1.Add(-8 * time.Hour), "checked in. Welcome to E2E Day!"},
		{day1.Add(24 * time.Hour), "attendance counts on the event's days only: the next day of E2E Day is Sat 6 Mar 2027; say !here then."},
		{day2.Add(14 * time.Hour), "you were checked in already. Enjoy E2E Day!"},
		{day2.Add(15*time.Hour + time.Minute), "attendance counts on the event's days only, and E2E Day was on Thu 4 Mar 2027 to Sat 6 Mar 2027: it no longer counts."},
	} {
		clock.Store(step.at.UnixNano())
		aliceC.Privmsg(channel, "!here")
		said(t, ctx, aliceC, botNick, alice+": "+step.want)
	}
}

// TestIRCPledgeExchangeRate: a EUR pledge counts toward a USD goal at the
// config's dated rate, exactly and rounded down, saying the rate; a GBP
// pledge, without a rate, is shown apart and not counted.
func TestIRCPledgeExchangeRate(t *testing.T) {
	addr := irctest.TestEnv(t)
	ctx := ctxFor(t, 2*time.Minute)
	channel := "#" + unique("rate")
	botNick, org, alice, bob := unique("hw"), unique("org"), unique("alice"), unique("bob")
	account(t, ctx, addr, botNick).Close()
	orgC := account(t, ctx, addr, org)
	aliceC := account(t, ctx, addr, alice)
	bobC := account(t, ctx, addr, bob)
	for _, c := range []*irctest.Client{orgC, aliceC, bobC} {
		if err := c.Join(ctx, channel); err != nil {
			t.Fatal(err)
		}
	}
	rate, err := money.ParseRate("EUR", "USD", "1.0837", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	b := startBot(t, botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(t), organizers: []string{org}, burst: 10, rate: 10,
		event: func(ev *bot.Event) { ev.Rates = []money.Rate{rate} }})
	defer b.stop()
	waitJoined(t, ctx, aliceC, botNick, channel)
	aliceC.Privmsg(channel, "!pledge 250 USD for ci-macs")
	said(t, ctx, aliceC, botNick, alice+`: thank you! Pledge #1: 250.00 USD to "Macs for CI testing" — 250.00 of 3,000.00 USD pledged (8%), 0.00 received.`)
	// 999.99 EUR × 1.0837 = 1,083.689163 USD: 1,083.68 counted.
	bobC.Privmsg(channel, "!pledge 999.99 EUR for ci-macs")
	said(t, ctx, bobC, botNick, bob+`: thank you! Pledge #2: 999.99 EUR to "Macs for CI testing" — 1,333.68 of 3,000.00 USD pledged (44%), 0.00 received; by currency: 250.00 USD, 999.99 EUR (counted as 1,083.68 USD at 1 EUR = 1.0837 USD of 30 Nov 2026).`)
	orgC.Privmsg(channel, "!pledge 40 GBP for ci-macs")
	said(t, ctx, orgC, botNick, org+`: thank you! Pledge #3: 40.00 GBP to "Macs for CI testing" — 1,333.68 of 3,000.00 USD pledged (44%), 0.00 received; by currency: 250.00 USD, 999.99 EUR (counted as 1,083.68 USD at 1 EUR = 1.0837 USD of 30 Nov 2026), 40.00 GBP (not counted: no exchange rate to USD).`)
	orgC.Privmsg(channel, "!received 2 500")
	said(t, ctx, orgC, botNick, org+`: pledge #2: 500.00 EUR received, 499.99 EUR still to come — Macs for CI testing: 1,333.68 of 3,000.00 USD pledged (44%), 541.85 received; by currency: 250.00 USD, 999.99 EUR (counted as 1,083.68 USD at 1 EUR = 1.0837 USD of 30 Nov 2026), 40.00 GBP (not counted: no exchange rate to USD).`)
	bobC.Privmsg(channel, "!campaign ci-macs")
	said(t, ctx, bobC, botNick, bob+`: Macs for CI testing: 1,333.68 of 3,000.00 USD pledged (44%), 541.85 received; by currency: 250.00 USD, 999.99 EUR (counted as 1,083.68 USD at 1 EUR = 1.0837 USD of 30 Nov 2026), 40.00 GBP (not counted: no exchange rate to USD).`)
}
