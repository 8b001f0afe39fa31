package irc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/irc/irctest"
	"github.com/hallwayhq/hallway/store/storetest"
)

// BenchmarkIRCFairAck measures, against the real IRC server, how long
// one person's acknowledgement takes while another person asks for long
// answers faster than their allowance, with the bot at its default pace
// (4 lines at once, then 1 a second). One iteration is one !vote (or
// !unvote) and its answer; run it with -benchtime=20x. The goal: under 3 s.
func BenchmarkIRCFairAck(b *testing.B) {
	addr := irctest.TestEnv(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	channel := "#" + unique("bench")
	botNick, hog, bob := unique("hw"), unique("hog"), unique("bob")
	reg := func(nick string) *irctest.Client {
		c := irctest.DialT(b, addr, nick)
		if err := c.Register(ctx, "pw-"+nick, nick+"@test.local"); err != nil {
			b.Fatal(err)
		}
		return c
	}
	reg(botNick).Close()
	hogC, bobC := reg(hog), reg(bob)
	for _, c := range []*irctest.Client{hogC, bobC} {
		if err := c.Join(ctx, channel); err != nil {
			b.Fatal(err)
		}
	}
	r := startBot(b, botSetup{addr: addr, nick: botNick, account: botNick, password: "pw-" + botNick, channel: channel,
		db: storetest.Source(b), burst: 4, rate: 1})
	defer r.stop()
	if _, err := bobC.Expect(ctx, func(m irctest.Message) bool { return m.Command == "JOIN" && strings.EqualFold(m.Prefix.Nick, botNick) }); err != nil {
		b.Fatal(err)
	}
	hogC.Privmsg(channel, `!propose "Long one" -- `+strings.Repeat("An abstract that goes on and on. ", 60))
	if _, err := hogC.Expect(ctx, fromBot(botNick, channel)); err != nil {
		b.Fatal(err)
	}
	// The hog asks for the long answer twice a second, for as long as the
	// benchmark runs, and reads what comes back.
	hogDone := make(chan struct{})
	defer close(hogDone)
	saturated := make(chan struct{})
	go func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-hogDone:
				return
			case <-tick.C:
				hogC.Privmsg(channel, "!show 1")
			}
		}
	}()
	go func() {
		for {
			m, err := hogC.Expect(ctx, fromBot(botNick, channel))
			if err != nil {
				return
			}
			if strings.HasPrefix(m.Last(), hog+": slow down") {
				select {
				case <-saturated:
				default:
					close(saturated)
				}
			}
		}
	}()
	select {
	case <-saturated: // the hog has used up their allowance
	case <-ctx.Done():
		b.Fatal("the hog never hit the rate limit")
	}
	var worst, total time.Duration
	b.ResetTimer()
	for i := range b.N {
		cmd := "!vote 1"
		if i%2 == 1 {
			cmd = "!unvote 1"
		}
		start := time.Now()
		bobC.Privmsg(channel, cmd)
		if _, err := bobC.Expect(ctx, func(m irctest.Message) bool {
			return fromBot(botNick, channel)(m) && strings.HasPrefix(m.Last(), bob+": ")
		}); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		total += d
		worst = max(worst, d)
		// Bob stays within his own allowance (a command per 2 s): this
		// paces the load, it is no barrier.
		time.Sleep(2500*time.Millisecond - d)
	}
	b.StopTimer()
	b.ReportMetric(worst.Seconds(), "worst-ack-s")
	b.ReportMetric(total.Seconds()/float64(b.N), "mean-ack-s")
}
