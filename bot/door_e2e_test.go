package bot_test

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/bot"
	"github.com/hallwayhq/hallway/bot/irctest"
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
		db: filepath.Join(t.TempDir(), "hallway.db"), burst: 10, rate: 10,
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
